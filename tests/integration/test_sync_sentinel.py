"""`cairn sync --to sentinel://WORKSPACE`: Microsoft Sentinel's STIX objects upload API.

Sentinel cannot be reached from here, so the peer is a fake written from Microsoft's
documentation of the API (learn.microsoft.com/azure/sentinel/stix-objects-api): the OAuth 2.0
client-credentials token endpoint of Entra ID, and the upload endpoint with its limits (100
objects a request, the `sourcesystem`/`stixobjects` body, per-record `errors` by
`recordIndex`, 429 with Retry-After). It checks every request the way the real API documents
it, and keeps what it accepted."""
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from stix2validator import ValidationOptions, validate_parsed_json

from conftest import BIN, DATA, assert_no_sanitizer

WS = "6c4f9a1e-2b7d-4c1e-9f3a-5d8e7b6a4c21"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0b5f2a3c-1d4e-4f6a-8b7c-9d0e1f2a3b4c"
SECRET = "s3cr3t~value"
AMNESTY = DATA / "stix21" / "amnesty-investigations"


class FakeSentinel:
    def __init__(self):
        self.lock = threading.Lock()
        self.objects = {}          # (id, modified) -> object
        self.requests = []         # (path, n objects)
        self.tokens = {}           # token -> expiry
        self.token_ttl = 3600
        self.throttle_next = 0     # answer 429 to this many uploads
        self.reject_marker = None  # objects whose name contains it are refused by index
        self.last_upload = 0.0
        self.min_gap = None
        fake = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, code, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(n)
                u = urllib.parse.urlsplit(self.path)
                if u.path == f"/{TENANT}/oauth2/v2.0/token":
                    assert self.headers["Content-Type"].startswith("application/x-www-form-urlencoded")
                    form = dict(urllib.parse.parse_qsl(raw.decode()))
                    if (form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT
                            or form.get("client_secret") != SECRET
                            or form.get("scope") != "https://management.azure.com/.default"):
                        return self.reply(401, {"error": "invalid_client",
                                                "error_description": "AADSTS7000215: Invalid client secret"})
                    tok = f"tok{random.random()}"
                    with fake.lock:
                        fake.tokens[tok] = time.time() + fake.token_ttl
                    return self.reply(200, {"token_type": "Bearer", "expires_in": fake.token_ttl,
                                            "access_token": tok})
                if u.path != f"/workspaces/{WS}/threat-intelligence-stix-objects:upload":
                    return self.reply(404, {"error": {"code": "NotFound"}})
                q = dict(urllib.parse.parse_qsl(u.query))
                auth = self.headers.get("Authorization", "")
                with fake.lock:
                    ok = auth.startswith("Bearer ") and fake.tokens.get(auth[7:], 0) > time.time()
                    now = time.time()
                    if fake.last_upload:
                        gap = now - fake.last_upload
                        fake.min_gap = gap if fake.min_gap is None else min(fake.min_gap, gap)
                    fake.last_upload = now
                if not ok:
                    return self.reply(401, {"error": {"code": "InvalidAuthenticationToken"}})
                if q.get("api-version") != "2024-02-01-preview":
                    return self.reply(400, {"error": {"code": "InvalidApiVersion"}})
                with fake.lock:
                    if fake.throttle_next:
                        fake.throttle_next -= 1
                        return self.reply(429, {"error": {"code": "TooManyRequests"}}, [("Retry-After", "1")])
                body = json.loads(raw)
                objs = body["stixobjects"]
                assert body["sourcesystem"] and 1 <= len(objs) <= 100, len(objs)
                errors = []
                with fake.lock:
                    fake.requests.append((u.path, len(objs)))
                    for i, o in enumerate(objs):
                        assert o["type"] in ("indicator", "attack-pattern", "threat-actor", "identity",
                                             "relationship"), o["type"]
                        if fake.reject_marker and fake.reject_marker in o.get("name", ""):
                            errors.append({"recordIndex": i, "errorMessages": ["Invalid pattern"]})
                            continue
                        fake.objects[(o["id"], o.get("modified"))] = o
                return self.reply(200, {"errors": errors} if errors else {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def sentinel():
    s = FakeSentinel()
    yield s
    s.close()


def args(s, src, state, *extra):
    return [BIN, "sync", "--once", "--from", str(src), "--to", f"sentinel://{WS}", "--state", str(state),
            "--sentinel-tenant", TENANT, "--sentinel-client-id", CLIENT,
            "--sentinel-login-url", s.url, "--sentinel-api-url", s.url, *map(str, extra)]


def run(s, src, state, *extra, env=None, check=True):
    e = dict(os.environ, CAIRN_SYNC_SENTINEL_SECRET=SECRET)
    e.update(env or {})
    p = subprocess.run(args(s, src, state, *extra), capture_output=True, text=True, env=e, timeout=600)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def counts(p):
    line = [l for l in p.stderr.splitlines() if l.startswith("cairn sync: fetched")][-1]
    parts = line[len("cairn sync: "):].split(",")[:5]
    return {k: int(v) for k, v in (x.strip().split(" ", 1) for x in parts)}


@pytest.fixture
def upstream(make_cairn):
    c = make_cairn("access_log: ''\ntiers:\n  pro:\n    requests_per_minute: 100000\n")
    c.import_text("\n".join(f"10.9.{i // 256}.{i % 256}" for i in range(3000)) + "\n", "--feed", "up")
    c.key_ = c.key("pro")
    c.start()
    return c


def test_bundle_upload_sends_the_types_sentinel_takes(sentinel, tmp_path):
    src = sorted(AMNESTY.glob("*.json"))[0]
    objs = json.loads(src.read_text())["objects"]
    taken = [o for o in objs if o["type"] in ("indicator", "attack-pattern", "threat-actor", "identity",
                                                "relationship")]
    p = run(sentinel, src, tmp_path / "state")
    c = counts(p)
    assert c["fetched"] == len(objs) and c["written"] == len(taken) and c["skipped"] == len(objs) - len(taken)
    assert len(sentinel.objects) == len({(o["id"], o.get("modified")) for o in taken})
    # Objects go as they came: the same JSON values.
    for o in taken:
        assert sentinel.objects[(o["id"], o.get("modified"))] == o
    assert all(n <= 100 for _, n in sentinel.requests)
    # 100 requests a minute at most: requests are paced.
    assert sentinel.min_gap is None or sentinel.min_gap >= 0.55


def test_refused_objects_are_dead_letters_and_429_is_retried(sentinel, tmp_path):
    src = tmp_path / "in.ndjson"
    lines = []
    for i in range(5):
        lines.append(json.dumps({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--0000000{i}-0000-4000-8000-000000000000",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "name": "bad one" if i == 2 else f"good {i}", "pattern": f"[ipv4-addr:value = '198.51.100.{i}']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}))
    src.write_text("\n".join(lines) + "\n")
    sentinel.reject_marker = "bad"
    sentinel.throttle_next = 1
    state = tmp_path / "state"
    p = run(sentinel, src, state)
    c = counts(p)
    assert c["written"] == 4 and c["failed"] == 1
    assert len(sentinel.objects) == 4
    dead = [json.loads(l) for l in (state / "dead-letter.ndjson").read_text().splitlines()]
    assert len(dead) == 1 and "bad one" in dead[0]["object"] and "Invalid pattern" in dead[0]["reason"]


def test_wrong_secret_stops_with_entra_reason(sentinel, tmp_path):
    src = sorted(AMNESTY.glob("*.json"))[0]
    p = run(sentinel, src, tmp_path / "state", env={"CAIRN_SYNC_SENTINEL_SECRET": "wrong"}, check=False)
    assert p.returncode == 1
    assert "AADSTS7000215" in p.stderr and SECRET not in p.stderr and "wrong" not in p.stderr
    assert not sentinel.objects


def test_missing_credentials_and_bad_workspace_are_refused(sentinel, tmp_path):
    src = sorted(AMNESTY.glob("*.json"))[0]
    e = dict(os.environ)
    e.pop("CAIRN_SYNC_SENTINEL_SECRET", None)
    p = subprocess.run(args(sentinel, src, tmp_path / "s"), capture_output=True, text=True, env=e, timeout=60)
    assert p.returncode == 1 and "CAIRN_SYNC_SENTINEL_SECRET" in p.stderr
    a = args(sentinel, src, tmp_path / "s")
    a[a.index(f"sentinel://{WS}")] = "sentinel://not a workspace"
    p = subprocess.run(a, capture_output=True, text=True, env=dict(e, CAIRN_SYNC_SENTINEL_SECRET=SECRET),
                       timeout=60)
    assert p.returncode == 1 and "WORKSPACE_ID" in p.stderr


def test_taxii_to_sentinel_killed_twice_loses_nothing(sentinel, upstream, tmp_path):
    url = f"{upstream.base}/api/taxii2/api/collections/ips/"
    state = tmp_path / "state"
    env = dict(os.environ, CAIRN_SYNC_SENTINEL_SECRET=SECRET, CAIRN_SYNC_USER="apikey",
               CAIRN_SYNC_PASSWORD=upstream.key_)
    a = args(sentinel, url, state, "--limit", 200)
    rnd = random.Random(11)
    for _ in range(2):
        proc = subprocess.Popen(a, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline and not sentinel.objects:
            time.sleep(0.02)
        time.sleep(rnd.uniform(0.2, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = len(sentinel.objects)
    assert 0 < before < 3000
    p = subprocess.run(a, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    values = {o["pattern"] for o in sentinel.objects.values()}
    assert len(values) == 3000
    # What Sentinel receives is valid STIX 2.1, every object of it.
    for o in sentinel.objects.values():
        res = validate_parsed_json(o, ValidationOptions(version="2.1"))
        assert res.is_valid, (o["id"], [e.message for e in res.errors])
    # The saved cursor: a further run sends nothing.
    n = len(sentinel.requests)
    p = subprocess.run(a, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0 and len(sentinel.requests) == n
