"""`cairn sync --to elasticsearch+http://…`: the `_bulk` output, against a real OpenSearch 2.19 node
(tests/integration/opensearch_peer.py; one node for the module, about 20-40 s to start).

What a user relies on: every indicator of a TAXII collection ends up in the raw stream exactly
once however often sync is killed; the latest index holds exactly the unexpired indicators, in
their newest version; documents the cluster refuses for good are dead letters with its reason
(and can be replayed), documents it refuses for now (429) are sent again, and a cluster that
does not answer leaves the cursor where it was. Authentication and TLS are checked against a
small recording server, since the OpenSearch node runs without its security plugin."""
import base64
import http.server
import json
import os
import random
import signal
import ssl
import subprocess
import threading
import time

import pytest

from conftest import BIN, Cairn, assert_no_sanitizer, free_port
from opensearch_peer import OpenSearch
from test_sync import AMNESTY, summary

N_PLAIN, N_EXPIRED = 19500, 500
DS = "logs-ti_cairn.indicator-default"   # the default raw target: a data stream here
LATEST = "cairn-indicators-latest"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    # A write queue of 2 behind 2 write threads: a bulk request spread over many shards
    # overflows it (per-item 429s), while one over single-shard indices never does.
    os_ = OpenSearch(tmp_path_factory.mktemp("opensearch"), {"thread_pool.write.queue_size": 2})
    # The default raw target becomes a data stream, as Elasticsearch 8's logs-*-* template makes it.
    os_.req("PUT", "/_index_template/cairn-ds", json={
        "index_patterns": ["logs-ti_cairn*"], "data_stream": {}, "priority": 200,
        "template": {"settings": {"number_of_shards": 1, "number_of_replicas": 0}}})
    yield os_
    os_.stop()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """A cairn server with 20,000 indicators, 500 of them already expired (valid_until past)."""
    c = Cairn(tmp_path_factory.mktemp("upstream"), "access_log: ''\ntiers:\n  pro:\n    requests_per_minute: 1000000\n")
    plain = [f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(N_PLAIN // 2)]
    plain += [f"h{i}.es-test.example" for i in range(N_PLAIN - len(plain))]
    c.import_text("\n".join(plain) + "\n", "--feed", "upstream")
    expired = [f"x{i}.expired.example" for i in range(N_EXPIRED)]
    c.import_text("value,valid_until\n" + "".join(f"{v},2020-01-01T00:00:00Z\n" for v in expired),
                  "--feed", "old", name="old.csv")
    c.plain, c.expired = set(plain), set(expired)
    c.key_ = c.key("pro")
    c.admin = c.key("admin", scopes=["write:iocs"])
    c.start()
    c.url = f"{c.base}/api/taxii2/api/collections/all/"
    c.env = {"CAIRN_SYNC_USER": "apikey", "CAIRN_SYNC_PASSWORD": c.key_}
    yield c
    assert c.stop() == 0


def sync(*args, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN, "sync", "--once", *map(str, args)], capture_output=True, text=True, env=e, timeout=900)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return p


def value_of(src):
    ind = src["threat"]["indicator"]
    return (ind.get("ip") or ind["url"]["domain"])[0]


def dead_letters(state):
    path = state / "dead-letter.ndjson"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


def test_killed_twice_everything_lands_once_and_latest_holds_exactly_the_unexpired(node, upstream, tmp_path):
    state = tmp_path / "state"
    dst = f"elasticsearch+{node.url}"
    args = [BIN, "sync", "--once", "--from", upstream.url, "--to", dst, "--state", str(state), "--limit", "500"]
    rnd = random.Random(11)
    seen = 0
    for _ in range(2):
        proc = subprocess.Popen(args, env=dict(os.environ, **upstream.env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        # Once it has written more than before, at a random moment after that: SIGKILL.
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            r = node.req("GET", f"/{DS}/_count", ok=(200, 404, 503))  # 503: shards starting
            if r and r.get("count", 0) > seen:
                break
            time.sleep(0.1)
        time.sleep(rnd.uniform(0.05, 1.0))
        assert proc.poll() is None, "sync ended before it could be killed: " + proc.stderr.read()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
        seen = node.count(DS)
    assert 0 < seen < N_PLAIN + N_EXPIRED
    p = sync("--from", upstream.url, "--to", dst, "--state", state, env=upstream.env)
    assert summary(p)["failed"] == 0

    # The raw stream: every indicator, each once (create under a deterministic _id).
    assert node.req("GET", f"/_data_stream/{DS}")["data_streams"][0]["name"] == DS
    raw = node.all_docs(DS, ["threat.indicator"])
    assert len(raw) == N_PLAIN + N_EXPIRED
    assert {value_of(d["_source"]) for d in raw} == upstream.plain | upstream.expired
    # The latest index: exactly the unexpired ones, one document per STIX id.
    latest = node.all_docs(LATEST, ["threat.indicator", "stix.modified"])
    assert {value_of(d["_source"]) for d in latest} == upstream.plain
    assert len(latest) == N_PLAIN
    assert all(d["_id"] == d["_source"]["threat"]["indicator"]["id"] for d in latest)

    # Revoking is a new version: it lands in the raw stream, and the next run deletes the
    # indicator from the latest index (which holds indicators in force), although its valid_until
    # (cairn's type lifetime) is still ahead and so, by MAPPING.md §7, its expiry.
    revoked = sorted(latest, key=lambda d: d["_id"])[:100]
    for d in revoked:
        uuid = d["_id"].split("--", 1)[1]
        r = upstream.post(f"/api/v1/iocs/{uuid}/revoke", key=upstream.admin, json={"reason": "test"})
        assert r.status_code == 200, r.text
    p = sync("--from", upstream.url, "--to", dst, "--state", state, env=upstream.env)
    s = summary(p)
    assert s["fetched"] == 100 and s["failed"] == 0
    assert node.count(DS) == N_PLAIN + N_EXPIRED + 100
    gone = {value_of(d["_source"]) for d in revoked}
    latest = node.all_docs(LATEST, ["threat.indicator"])
    assert {value_of(d["_source"]) for d in latest} == upstream.plain - gone
    # Nothing new: a run changes nothing.
    p = sync("--from", upstream.url, "--to", dst, "--state", state, env=upstream.env)
    assert summary(p)["fetched"] == 0
    assert node.count(LATEST) == N_PLAIN - 100


def indicator(id_, modified, ip, **extra):
    o = {"type": "indicator", "spec_version": "2.1", "id": id_, "created": "2024-01-01T00:00:00.000Z",
         "modified": modified, "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}
    o.update(extra)
    return json.dumps(o)


def test_latest_index_keeps_the_newest_version_whatever_the_order(node, tmp_path):
    iid = "indicator--0b1c2d3e-0000-4000-8000-000000000001"
    v1 = indicator(iid, "2024-01-01T00:00:00.000Z", "198.51.100.1", valid_until="2099-01-01T00:00:00Z")
    v2 = indicator(iid, "2024-02-01T00:00:00.000Z", "198.51.100.2", valid_until="2099-01-01T00:00:00Z")
    v3 = indicator(iid, "2024-03-01T00:00:00.000Z", "198.51.100.2", revoked=True)   # expired: modified
    args = ["--to", f"elasticsearch+{node.url}", "--es-index", "order-raw", "--es-latest-index", "order-latest"]
    src = tmp_path / "a.ndjson"
    # The newer version first, then the older one: the older one must not overwrite it.
    src.write_text(v2 + "\n" + v1 + "\n")
    sync("--from", src, *args)
    doc = node.req("GET", f"/order-latest/_doc/{iid}")
    assert doc["_source"]["threat"]["indicator"]["ip"] == ["198.51.100.2"]
    assert doc["_version"] == 1706745600000000   # external version: `modified` in µs
    assert node.count("order-raw") == 2          # profile ecs: each version is its own document
    # The revoked version deletes it; an older version arriving after that does not bring it back.
    src.write_text(v3 + "\n" + v1 + "\n")
    s = summary(sync("--from", src, *args))
    assert s["expired"] == 1
    node.req("GET", f"/order-latest/_doc/{iid}", ok=(404,))
    assert node.count("order-raw") == 3


def test_write_block_gives_dead_letters_and_the_cursor_moves_on(node, upstream, tmp_path):
    node.req("PUT", "/blocked-raw", json={"settings": {"number_of_shards": 1, "number_of_replicas": 0}})
    node.req("PUT", "/blocked-raw/_settings", json={"index.blocks.write": True})
    state = tmp_path / "state"
    args = ["--from", upstream.url, "--to", f"elasticsearch+{node.url}", "--state", state,
            "--es-index", "blocked-raw", "--es-latest-index", "blocked-latest", "--limit", 300, "--max-pages", 1]
    for run in (1, 2):
        p = sync(*args, env=upstream.env)
        s = summary(p)
        # Each document refused with a 403 is a dead letter: counted as failed, never dropped;
        # with every document accounted for, the cursor moves on to the next page.
        assert s["fetched"] == 300 and s["failed"] == 300 and s["written"] == 0, p.stderr[-2000:]
        assert "cluster_block_exception" in p.stderr
        assert len(dead_letters(state)) == 300 * run
    dead = dead_letters(state)
    for d in dead:
        assert "blocked-raw refused the document: 403 cluster_block_exception" in d["reason"], d["reason"]
        assert d["source"] == upstream.url
    originals = [json.loads(d["object"])["event"]["original"] for d in dead]
    ids = {json.loads(o)["id"] for o in originals}
    assert len(ids) == 600                      # two pages, two different sets
    assert node.count("blocked-raw") == 0
    assert node.count("blocked-latest") == 600  # the latest index was not blocked
    # Lift the block and replay the dead letters (their event.original is the STIX text).
    node.req("PUT", "/blocked-raw/_settings", json={"index.blocks.write": False})
    replay = tmp_path / "replay.ndjson"
    replay.write_text("\n".join(originals) + "\n")
    s = summary(sync("--from", replay, "--to", f"elasticsearch+{node.url}", "--es-index", "blocked-raw",
                     "--es-latest-index", "blocked-latest"))
    assert s["written"] == 600 and s["failed"] == 0
    got = node.all_docs("blocked-raw", ["threat.indicator.id"])
    assert {d["_source"]["threat"]["indicator"]["id"] for d in got} == ids


def test_mapping_errors_are_dead_letters_with_both_places_named(node, tmp_path):
    node.req("PUT", "/strict-latest", json={"settings": {"number_of_replicas": 0},
                                            "mappings": {"dynamic": "strict", "properties": {"x": {"type": "long"}}}})
    src = AMNESTY / "2021-12-16_cytrox.stix2.json"
    state = tmp_path / "state"
    p = sync("--from", src, "--to", f"elasticsearch+{node.url}", "--state", state, "--es-index", "strict-raw",
             "--es-latest-index", "strict-latest", "--expiration-duration", "36500d")
    s = summary(p)
    dead = dead_letters(state)
    assert s["failed"] == len(dead) > 300 and s["written"] == 0
    assert node.count("strict-raw") == len(dead)   # the raw stream took them
    for d in dead:
        assert d["reason"].startswith("strict-latest refused the document: 400 strict_dynamic_mapping_exception")
        assert json.loads(d["object"])["event"]["kind"] == "enrichment"


def test_429s_from_a_full_write_queue_are_sent_again_until_all_land(node, upstream, tmp_path):
    # One bulk request: 8 shard-level requests for the raw index at once, 2 threads, a queue of 2.
    node.req("PUT", "/busy-raw", json={"settings": {"number_of_shards": 8, "number_of_replicas": 0}})
    before = node.write_rejections()
    state = tmp_path / "state"
    p = sync("--from", upstream.url, "--to", f"elasticsearch+{node.url}", "--state", state, "--es-index", "busy-raw",
             "--es-latest-index", "busy-latest", "--limit", 1000, "--max-pages", 2, env=upstream.env)
    s = summary(p)
    assert node.write_rejections() > before, "the write queue overflowed nowhere: the test proved nothing"
    assert "refused for now (429" in p.stderr
    assert s["fetched"] == 2000 and s["written"] == 2000 and s["failed"] == 0
    assert not dead_letters(state)
    raw = node.all_docs("busy-raw", ["threat.indicator.id"])
    assert len(raw) == len({d["_source"]["threat"]["indicator"]["id"] for d in raw}) == 2000


def test_a_cluster_that_does_not_answer_leaves_the_cursor(upstream, tmp_path):
    state = tmp_path / "state"
    p = sync("--from", upstream.url, "--to", f"elasticsearch+http://127.0.0.1:{free_port()}", "--state", state,
             "--max-pages", 1, env=upstream.env, check=False)
    assert p.returncode == 1
    err = [l for l in p.stderr.splitlines() if l.startswith("cairn sync:") and "fetched" not in l]
    assert len(err) == 1 and "127.0.0.1" in err[0], p.stderr
    assert not list(state.glob("cursor-*"))


# --- authentication and TLS, against a recording server ---

class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers _bulk as a cluster that takes everything, and records each request's headers."""
    seen = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen.append((self.path, dict(self.headers)))
        if Recorder.status != 200:
            out = {"error": {"type": "security_exception", "reason": "missing authentication credentials"}}
        elif "_delete_by_query" in self.path:
            out = {"deleted": 0, "failures": []}
        else:
            lines = [json.loads(l) for l in body.decode().splitlines() if l]
            ops = [next(iter(l)) for l in lines if set(l) <= {"create", "index", "delete"} and len(l) == 1]
            out = {"errors": False, "items": [{op: {"status": 201}} for op in ops]}
        data = json.dumps(out).encode()
        self.send_response(Recorder.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


@pytest.fixture
def recorder(tmp_path):
    def start(tls=None):
        Recorder.seen, Recorder.status = [], 200
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        if tls:
            srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv.server_address[1]
    servers = []
    yield start
    for s in servers:
        s.shutdown()


def openssl_cert(dir_, name):
    key, crt = dir_ / f"{name}.key", dir_ / f"{name}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    return crt, key


def test_api_key_and_basic_credentials_come_from_the_environment(recorder, tmp_path):
    src = AMNESTY / "2021-12-16_cytrox.stix2.json"
    port = recorder()
    sync("--from", src, "--to", f"elasticsearch+http://127.0.0.1:{port}", env={"CAIRN_SYNC_ES_API_KEY": "aWQ6a2V5"})
    assert {h["Authorization"] for _, h in Recorder.seen} == {"ApiKey aWQ6a2V5"}
    assert any(p.startswith("/_bulk") for p, _ in Recorder.seen)
    assert Recorder.seen[0][0].startswith(f"/{LATEST}/_delete_by_query")
    Recorder.seen.clear()
    sync("--from", src, "--to", f"opensearch+http://127.0.0.1:{port}/", "--es-user", "elastic",
         "--es-password-env", "MY_ES_PW", env={"MY_ES_PW": "s3cret"})
    assert {h["Authorization"] for _, h in Recorder.seen} == {"Basic " + base64.b64encode(b"elastic:s3cret").decode()}
    assert {h["Content-Type"] for p, h in Recorder.seen if p.startswith("/_bulk")} == {"application/x-ndjson"}
    # A cluster that refuses the credentials: one line naming its reason, exit 1.
    Recorder.status = 401
    p = sync("--from", src, "--to", f"elasticsearch+http://127.0.0.1:{port}", check=False)
    assert p.returncode == 1 and "HTTP 401 security_exception: missing authentication credentials" in p.stderr


def test_tls_with_a_ca_bundle_and_a_client_certificate(recorder, tmp_path):
    srv_crt, srv_key = openssl_cert(tmp_path, "server")
    cli_crt, cli_key = openssl_cert(tmp_path, "client")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(srv_crt, srv_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cli_crt)
    port = recorder(ctx)
    src = AMNESTY / "2021-12-16_cytrox.stix2.json"
    dst = f"elasticsearch+https://127.0.0.1:{port}"
    # The server's certificate is not trusted without the CA bundle.
    p = sync("--from", src, "--to", dst, "--es-cert", cli_crt, "--es-key", cli_key, check=False)
    assert p.returncode == 1 and "certificate" in p.stderr.lower()
    sync("--from", src, "--to", dst, "--es-ca-file", srv_crt, "--es-cert", cli_crt, "--es-key", cli_key)
    assert any(p.startswith("/_bulk") for p, _ in Recorder.seen)


@pytest.mark.parametrize("args,reason", [
    (["--to", "elasticsearch+ftp://127.0.0.1:9"], "elasticsearch+http"),
    (["--to", "elasticsearch+http://127.0.0.1:9", "--es-index", "Upper"], "--es-index"),
    (["--to", "elasticsearch+http://127.0.0.1:9", "--es-latest-index", "a,b"], "--es-latest-index"),
    (["--to", "elasticsearch+http://127.0.0.1:9", "--es-index", "x", "--es-latest-index", "x"], "differ"),
    (["--to", "elasticsearch+http://127.0.0.1:9", "--es-batch", "0"], "--es-batch"),
    (["--to", "elasticsearch+http://127.0.0.1:9", "--es-batch-mb", "1000"], "--es-batch-mb"),
])
def test_bad_elasticsearch_invocations_fail_with_one_line(args, reason):
    p = sync("--from", AMNESTY / "2021-12-16_cytrox.stix2.json", *args, check=False)
    assert p.returncode != 0
    err = [l for l in p.stderr.splitlines() if not l.startswith("cairn sync: fetched")]
    assert len(err) == 1 and reason in err[0], p.stderr
