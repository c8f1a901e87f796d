"""`cairn sync` into Splunk's HTTP Event Collector, and the Splunk ES threat-intel CSV
(GET /api/v1/iocs/splunk, `cairn export --format splunk`) — issue 6, the splunk output.

The HEC peer is tests/peers/hec/hec_fake.py, a Python server with Splunk's documented answers:
the OpenTelemetry Collector's splunkhecreceiver could not be built here (the Go module proxy
refuses its modules; docs/testing.md). The TAXII source is a real `cairn serve`."""
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from conftest import BIN, DATA, ROOT, assert_no_sanitizer, error_of

sys.path.insert(0, str(ROOT / "tests" / "peers" / "hec"))
from hec_fake import HEC, Token  # noqa: E402

AMNESTY = sorted((DATA / "stix21" / "amnesty-investigations").glob("*.json"))[0]
TOKEN = "11111111-2222-3333-4444-555555555555"
ACK_TOKEN = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
OFF_TOKEN = "00000000-0000-0000-0000-000000000000"


def sync(*args, token=TOKEN, env=None, check=True):
    e = dict(os.environ)
    e.pop("CAIRN_SYNC_SPLUNK_TOKEN", None)
    if token is not None:
        e["CAIRN_SYNC_SPLUNK_TOKEN"] = token
    if env:
        e.update(env)
    p = subprocess.run([BIN, "sync", *map(str, args)], capture_output=True, text=True, env=e,
                       timeout=600)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def summary(p):
    line = [l for l in p.stderr.splitlines() if l.startswith("cairn sync: fetched")][-1]
    parts = dict(x.strip().split(" ", 1) for x in line[len("cairn sync: "):].split(",")[:4])
    return {k: int(v) for k, v in parts.items()}


def reason(p):
    """The one-line error of a failed run (the summary line aside)."""
    lines = [l for l in p.stderr.splitlines() if l.startswith("cairn sync:") and "fetched" not in l]
    assert len(lines) == 1, p.stderr
    return lines[0]


def stix_id(ev):
    return json.loads(ev["event"]["event"]["original"])["id"]


def epoch(rfc3339):
    return datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


@pytest.fixture
def hec(tmp_path):
    h = HEC(tmp_path / "hec-received.ndjson", [
        Token(TOKEN, indexes=("main", "threat")),
        Token(ACK_TOKEN, indexes=("main",), ack=True),
        Token(OFF_TOKEN, disabled=True),
    ])
    h.dst = "splunk+" + h.url
    yield h
    h.close()


@pytest.fixture
def upstream(make_cairn):
    """A cairn server with 20,000 indicators and a pro key."""
    c = make_cairn("access_log: ''\ntiers:\n  pro:\n    requests_per_minute: 100000\n")
    lines = [f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(10000)]
    lines += [f"h{i}.splunk-test.example" for i in range(10000)]
    c.import_text("\n".join(lines) + "\n", "--feed", "upstream")
    c.key_ = c.key("pro")
    c.start()
    c.taxii = f"{c.base}/api/taxii2/api/collections/all/"
    c.env = {"CAIRN_SYNC_USER": "apikey", "CAIRN_SYNC_PASSWORD": c.key_}
    return c


# ---- HEC ----

def test_taxii_into_hec_delivers_every_indicator_as_events(upstream, hec, tmp_path):
    state = tmp_path / "state"
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state,
             "--splunk-index", "threat", "--splunk-source", "cairn-test", "--splunk-host", "sync-host",
             env=upstream.env)
    s = summary(p)
    assert s["fetched"] == 20000 and s["written"] == 20000 and s["failed"] == 0
    got = hec.indexed()
    assert len({stix_id(e) for e in got}) == 20000
    # Batched: several events a request, 500 at most.
    assert 40 <= hec.requests < 200
    for e in got[:50] + got[-50:]:
        assert e["index"] == "threat" and e["sourcetype"] == "cairn:ti:ecs"
        assert e["source"] == "cairn-test" and e["host"] == "sync-host"
        doc = e["event"]
        assert doc["event"]["kind"] == "enrichment" and doc["threat"]["indicator"]["type"]
        # time is the document's @timestamp, to the millisecond
        assert abs(e["time"] - epoch(doc["@timestamp"])) < 0.0005
        assert len(e["fields"]["cairn_doc_id"]) >= 20
    # The cursor moved: the next run has nothing new.
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state,
             "--splunk-index", "threat", env=upstream.env)
    assert summary(p)["fetched"] == 0 and len(hec.indexed()) == 20000


@pytest.mark.parametrize("ack", [False, True], ids=["no-ack", "indexer-ack"])
def test_killed_twice_loses_nothing(upstream, hec, tmp_path, ack):
    state = tmp_path / "state"
    token = ACK_TOKEN if ack else TOKEN
    extra = ["--splunk-ack"] if ack else []
    args = [BIN, "sync", "--once", "--from", upstream.taxii, "--to", hec.dst, "--state", str(state),
            "--limit", "500", "--splunk-batch", "200", *extra]
    env = dict(os.environ, CAIRN_SYNC_SPLUNK_TOKEN=token, **upstream.env)
    rnd = random.Random(11 + ack)
    for _ in range(2):
        before = hec.requests
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Kill it once it has sent something, at a random moment after that.
        deadline = time.time() + 60
        while time.time() < deadline and hec.requests == before and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(rnd.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert len({stix_id(e) for e in hec.indexed()}) < 20000, "a kill came after the end: no test"
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state, *extra,
             token=token, env=upstream.env)
    assert summary(p)["failed"] == 0
    assert len({stix_id(e) for e in hec.indexed()}) == 20000


def test_busy_answers_are_retried_honouring_retry_after(hec, tmp_path):
    hec.busy = [(503, 1), (429, 0), (503, None)]
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", tmp_path / "state")
    assert hec.busy_answered == 3
    assert "server busy; retrying in 1000 ms" in p.stderr, p.stderr
    assert "retrying in 0 ms" in p.stderr
    s = summary(p)
    assert s["written"] == len(hec.indexed()) > 0 and s["failed"] == 0


def test_busy_beyond_the_retries_stops_and_the_next_run_delivers(hec, tmp_path):
    state = tmp_path / "state"
    hec.busy = [(503, 0)] * 9          # the first attempt and eight retries
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", state, check=False)
    assert p.returncode == 1
    assert "Server is busy (code 9, HTTP 503)" in reason(p)
    assert hec.busy_answered == 9 and hec.indexed() == []
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", state)
    assert summary(p)["written"] == len(hec.indexed()) > 0


@pytest.mark.parametrize("token,args,why", [
    ("not-a-token", [], "Invalid token (code 4, HTTP 403)"),
    (OFF_TOKEN, [], "Token disabled (code 1, HTTP 403)"),
    (None, [], "token is missing"),
    (TOKEN, ["--splunk-index", "secret"], "Incorrect index (code 7, HTTP 400)"),
    (ACK_TOKEN, [], "Data channel is missing (code 10, HTTP 400): this token requires indexer acknowledgement"),
    (TOKEN, ["--splunk-ack"], "gave no ackId"),
])
def test_refusals_stop_the_run_with_splunks_reason(hec, tmp_path, token, args, why):
    state = tmp_path / "state"
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", state, *args, token=token, check=False)
    assert p.returncode == 1
    assert why in reason(p), p.stderr
    # Nothing acknowledged, so no cursor and no dead letter.
    assert not state.exists() or not any(state.glob("cursor-*"))
    assert not (state / "dead-letter.ndjson").exists()


def test_token_from_another_variable(hec, tmp_path):
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--splunk-token-env", "MY_HEC_TOKEN",
             token=None, env={"MY_HEC_TOKEN": TOKEN})
    assert summary(p)["written"] == len(hec.indexed()) > 0


def test_a_refused_event_goes_to_the_dead_letters_and_the_rest_is_delivered(upstream, hec, tmp_path):
    state = tmp_path / "state"
    hec.refuse = {"h77.splunk-test.example", "10.0.9.9'"}
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state, env=upstream.env)
    s = summary(p)
    assert s["failed"] == 2 and s["written"] == 19998
    dead = [json.loads(l) for l in (state / "dead-letter.ndjson").read_text().splitlines()]
    assert len(dead) == 2
    for d in dead:
        assert d["reason"] == "Splunk HEC refused the event: Invalid data format (code 6)"
        doc = json.loads(d["object"])      # the ECS document that was refused
        assert doc["threat"]["indicator"]["type"]
    refused = {json.loads(json.loads(d["object"])["event"]["original"])["id"] for d in dead}
    delivered = {stix_id(e) for e in hec.indexed()}
    # Splunk indexes the events before a bad one, and cairn sends them again: at least once.
    assert len(delivered) == 19998 and not refused & delivered


def test_a_body_over_the_receivers_limit_is_split_and_oversized_events_dead_lettered(hec, tmp_path):
    # The events cairn would send, as --dry-run prints them (no token needed, nothing sent).
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--dry-run", token=None)
    assert hec.requests == 0
    events = [l + "\n" for l in p.stdout.splitlines()]
    for line in events:
        ev = json.loads(line)
        assert ev["sourcetype"] == "cairn:ti:ecs" and "event" in ev
    sizes = sorted(len(e.encode()) for e in events)
    hec.max_content_length = sizes[len(sizes) // 2]
    too_big = sum(1 for n in sizes if n > hec.max_content_length)
    assert too_big > 0
    state = tmp_path / "state"
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", state)
    s = summary(p)
    assert s["failed"] == too_big and s["written"] == len(events) - too_big == len(hec.indexed())
    dead = [json.loads(l) for l in (state / "dead-letter.ndjson").read_text().splitlines()]
    assert {d["reason"] for d in dead} == {"Splunk HEC refused the event: larger than the receiver accepts (HTTP 413)"}


def test_indexer_acknowledgement_moves_the_cursor_only_once_acknowledged(hec, tmp_path):
    state = tmp_path / "state"
    hec.ack_after = 2                  # each ackId answers false twice before true
    p = sync("--once", "--from", AMNESTY, "--to", hec.dst, "--state", state, "--splunk-ack",
             "--splunk-batch", "7", token=ACK_TOKEN)
    n = summary(p)["written"]
    assert n == len(hec.indexed()) > 7 and hec.ack_polls >= 3


def test_acks_that_never_come_fail_the_run_and_keep_the_cursor(upstream, hec, tmp_path):
    state = tmp_path / "state"
    hec.ack_never = True
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state, "--splunk-ack",
             "--splunk-ack-timeout", "1", token=ACK_TOKEN, env=upstream.env, check=False)
    assert p.returncode == 1
    assert "did not acknowledge" in reason(p) and "the cursor stays" in reason(p)
    assert not any(state.glob("cursor-*"))
    first = len(hec.indexed())
    assert first > 0
    hec.ack_never = False
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state, "--splunk-ack",
             token=ACK_TOKEN, env=upstream.env)
    assert summary(p)["written"] == 20000
    assert len({stix_id(e) for e in hec.indexed()}) == 20000
    assert any(state.glob("cursor-*"))
    # Acknowledged now: a run after it has nothing to send.
    p = sync("--once", "--from", upstream.taxii, "--to", hec.dst, "--state", state, "--splunk-ack",
             token=ACK_TOKEN, env=upstream.env)
    assert summary(p)["fetched"] == 0


@pytest.mark.parametrize("args,why", [
    (["--to", "splunk+ftp://127.0.0.1:1"], "splunk+http://HOST:PORT"),
    (["--to", "splunk+http://"], "host is missing"),
    (["--to", "splunk+http://127.0.0.1:1", "--splunk-batch", "0"], "--splunk-batch"),
    (["--to", "splunk+http://127.0.0.1:1", "--splunk-ack-timeout", "x"], "--splunk-ack-timeout"),
    (["--to", "-", "--splunk-index=main"], "--splunk-index applies to a splunk+http(s):// --to"),
])
def test_bad_splunk_invocations(args, why):
    p = sync("--once", "--from", AMNESTY, *args, check=False)
    assert p.returncode in (1, 2)
    assert why in reason(p)


# ---- the Splunk ES threat-intel CSV ----

KIND_COLUMN = {"ip": "ip", "domain": "domain", "file": "file_hash", "url": "url", "email": "src_user"}
TAIL = ["weight", "threat_key", "confidence", "first_seen", "last_seen", "tlp", "cairn_id"]
NASTY = [
    ("203.0.113.77", 'Contacted by "Loader", then by stage 2'),
    ("nasty.example", "line one\nline two, with a comma"),
    ("http://quote.example/a,b?q=\"x\"", 'a "quoted" path\r\nand CRLF'),
    ("0123456789abcdef0123456789abcdef", ""),
    ("ceo@phish.example", "plain"),
]


@pytest.fixture(scope="module")
def csvsrv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("splunkcsv"))
    c.run("import", "--feed", "demo", "--tlp", "green", ROOT / "examples" / "demo-feed.csv")
    c.run("import", "--feed", "demo-list", ROOT / "examples" / "demo-list.txt")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["value", "description"])
    for v, d in NASTY:
        w.writerow([v, d])
    c.import_text(buf.getvalue(), "--feed", 'feed, "quoted"', name="nasty.csv")
    c.import_text("".join(f"bulk{i}.splunk-csv.example\n" for i in range(1500)), "--feed", "bulk",
                  name="bulk.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.start()
    yield c
    assert c.stop() == 0


def parse(body):
    text = body.decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def listed(srv, types):
    out, cursor = [], None
    while True:
        q = f"/api/v1/iocs?type={types}&limit=1000" + (f"&cursor={cursor}" if cursor else "")
        j = srv.get(q, srv.pro).json()
        out += j["data"]
        cursor = j["meta"].get("next_cursor")
        if not cursor:
            return out


@pytest.mark.parametrize("kind,types", [("ip", "ipv4,ipv6"), ("domain", "domain"),
                                        ("file", "md5,sha1,sha256,sha512"), ("url", "url"), ("email", "email")])
def test_one_row_per_indicator_of_the_kind(csvsrv, kind, types):
    r = csvsrv.get(f"/api/v1/iocs/splunk?kind={kind}&limit=10000", csvsrv.pro)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["Content-Type"].startswith("text/csv")
    header, rows = parse(r.content)
    assert header == ["description", KIND_COLUMN[kind], *TAIL]
    want = {x["value"]: x for x in listed(csvsrv, types)}
    assert len(rows) == len(want) == int(r.headers["X-Total-Count"]) > 0
    got = {row[1]: dict(zip(header, row)) for row in rows}
    assert set(got) == set(want)
    for v, row in got.items():
        rec = want[v]
        assert row["cairn_id"] == rec["id"] and row["threat_key"] == rec["source"]["feed_name"]
        assert row["confidence"] == rec["confidence"] and int(row["weight"]) == rec["score"]
        assert row["first_seen"] == rec["first_seen"] and row["last_seen"] == rec["last_seen"]
        assert row["tlp"] == rec["tlp"]
    # RFC 4180: CRLF after every record, including the last.
    assert r.content.endswith(b"\r\n") and r.content.count(b"\r\n") >= len(rows) + 1


def test_commas_quotes_and_newlines_are_escaped_per_rfc_4180(csvsrv):
    seen = {}
    for kind in KIND_COLUMN:
        body = csvsrv.get(f"/api/v1/iocs/splunk?kind={kind}&limit=10000", csvsrv.pro).content
        header, rows = parse(body)
        for row in rows:
            assert len(row) == len(header)
            seen[row[1]] = (dict(zip(header, row)), body)
    for value, context in NASTY:
        row, body = seen[value]
        assert row["threat_key"] == 'feed, "quoted"'
        want = context or 'md5 indicator from feed, "quoted"'
        assert row["description"] == want
        # The bytes: quoted when a comma, quote or line break is in it, inner quotes doubled,
        # line breaks kept inside the quotes; as it is otherwise.
        special = any(ch in want for ch in ',"\r\n')
        raw = '"' + want.replace('"', '""') + '"' if special else want
        assert ("\r\n" + raw + ",").encode() in body
    # a value with a comma and quotes, quoted too
    assert b'"http://quote.example/a,b?q=""x"""' in csvsrv.get(
        "/api/v1/iocs/splunk?kind=url&limit=10000", csvsrv.pro).content


def test_type_narrows_the_kind_and_the_cli_writes_the_same_bytes(csvsrv):
    r = csvsrv.get("/api/v1/iocs/splunk?kind=file&type=md5&limit=10000", csvsrv.pro)
    header, rows = parse(r.content)
    assert rows and all(len(row[1]) == 32 for row in rows)
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = {}
    for kind in KIND_COLUMN:
        q = f"/api/v1/iocs/splunk?kind={kind}&limit=1200&since={since}"
        a, b = csvsrv.get(q, csvsrv.pro).content, csvsrv.get(q, csvsrv.pro).content
        assert a == b
        out = csvsrv.tmp / f"splunk-{kind}.csv"
        csvsrv.run("export", "--format", "splunk", "--kind", kind, "--limit", "1200", "--since", since,
                   "-o", out)
        assert out.read_bytes() == a
        rows[kind] = len(parse(a)[1])
    assert rows["domain"] == 1200 and min(rows.values()) >= 1
    # a domain export of 1,500+ rows, whole, on stdout
    p = csvsrv.run("export", "--format", "splunk", "--kind", "domain")
    assert len(parse(p.stdout.encode())[1]) >= 1500


def test_pages_follow_the_next_cursor(csvsrv):
    want = {x["value"] for x in listed(csvsrv, "domain")}
    got, url, pages = [], "/api/v1/iocs/splunk?kind=domain&limit=400", 0
    while url:
        r = csvsrv.get(url, csvsrv.pro)
        header, rows = parse(r.content)
        assert header[1] == "domain"
        got += [row[1] for row in rows]
        pages += 1
        nxt = r.headers.get("X-Next-Cursor")
        assert (nxt is None) == ("Link" not in r.headers)
        url = f"/api/v1/iocs/splunk?kind=domain&limit=400&cursor={nxt}" if nxt else None
    assert pages == (len(want) + 399) // 400
    assert len(got) == len(set(got)) and set(got) == want


def test_tiers_and_bad_parameters(csvsrv):
    error_of(csvsrv.get("/api/v1/iocs/splunk?kind=ip", csvsrv.free), 403, "tier_required")
    error_of(csvsrv.get("/api/v1/iocs/splunk?kind=ip"), 401, "missing_api_key")
    for bad, param in (("", "kind"), ("kind=cve", "kind"), ("kind=ip&type=domain", "type"),
                       ("kind=ip&type=bogus", "type"), ("kind=ip&limit=0", "limit")):
        e = error_of(csvsrv.get(f"/api/v1/iocs/splunk?{bad}", csvsrv.pro), 400, "invalid_parameter")
        assert e["details"]["parameter"] == param
    assert csvsrv.post("/api/v1/iocs/splunk?kind=ip", csvsrv.pro, data="x").status_code == 405
    for args, why in ((["--format", "splunk"], "--kind"), (["--format", "splunk", "--kind", "cve"], "--kind"),
                      (["--format", "ecs", "--kind", "ip"], "--kind applies"),
                      (["--format", "splunk", "--kind", "ip", "--type", "domain"], "kind ip")):
        p = csvsrv.run("export", *args, check=False)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and why in p.stderr, p.stderr
