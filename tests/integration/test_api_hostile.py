"""Hostile and broken clients: malformed and malicious input, oversized requests, too many
connections, slow senders. The server answers with a 4xx (never a 5xx), loses nothing, keeps
serving everyone else, and still stops cleanly on SIGTERM."""
import gc
import json
import selectors
import signal
import socket
import sqlite3
import time
import uuid

import pytest
import requests

from conftest import Cairn, assert_no_sanitizer, error_of

CONFIG = """
limits:
  max_header_bytes: 2048
  max_body_bytes: 65536
  max_connections: 50
  request_timeout: 2
tiers:
  pro: {requests_per_minute: 1000000, requests_per_day: 100000000}
  admin: {requests_per_minute: 1000000, requests_per_day: 100000000}
"""

VALUES = ["203.0.113.21", "203.0.113.22", "hostile-test.example", "http://hostile-test.example/x",
          "44d88612fea8a8f36de82e1278abb02f", "CVE-2021-44228"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("hostile"), CONFIG)
    c.import_text("\n".join(VALUES) + "\n", "--feed", "hostile", "--tag", "t1",
                  "--category", "community", name="h.txt")
    c.pro = c.key("pro")
    c.admin = c.key("admin")
    c.start()
    c.snapshot = snapshot(c)
    yield c
    gc.collect()
    if c.proc is not None:
        assert c.stop() == 0


def snapshot(c):
    r = c.get("/api/v1/iocs?include_expired=true&limit=1000", c.pro)
    assert r.status_code == 200
    return sorted((i["id"], i["value"], i["revoked"]) for i in r.json()["data"])


def raw(c, request: bytes, timeout=5.0):
    """Sends bytes as they are and returns (status, headers, body) or (None, {}, b'') when the
    server closed the connection without an answer."""
    s = socket.create_connection(("127.0.0.1", c.port), timeout=timeout)
    try:
        s.sendall(request)
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None, {}, b""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
    return status, headers, body


def raw_get(c, target: bytes, key=None, extra=b""):
    req = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if key:
        req += b"Authorization: Bearer " + key.encode() + b"\r\n"
    return raw(c, req + extra + b"\r\n")


def json_error(status, headers, body, want_status, code=None):
    assert status == want_status, (status, body[:300])
    assert headers["content-type"].startswith("application/json")
    err = json.loads(body)["error"]
    if code:
        assert err["code"] == code, err
    assert err["message"]
    assert headers["x-request-id"] == err["request_id"]
    return err


# ---- malformed query strings ----

MALFORMED = [b"%zz", b"%4", b"%", b"%00", b"a%00b", b"%ff%fe", b"%c0%af", b"%ed%a0%80", b"%01",
             b"%1b%5b31m", b"%7f", b"%0d%0aSet-Cookie:%20x=1", b"\xff\xfe"]


@pytest.mark.parametrize("value", MALFORMED, ids=[v.decode("latin-1") for v in MALFORMED])
def test_malformed_query_value_is_400(srv, value):
    status, headers, body = raw_get(srv, b"/api/v1/iocs?category=" + value, srv.pro)
    err = json_error(status, headers, body, 400, "invalid_parameter")
    assert "category" in err["message"]
    assert "set-cookie" not in headers


def test_malformed_query_value_error_names_the_parameter_in_details(srv):
    """Like every other invalid_parameter answer, details.parameter says what to fix."""
    for value in (b"%zz", b"%00", b"%ff%fe", b"%01"):
        status, headers, body = raw_get(srv, b"/api/v1/iocs?tag=" + value, srv.pro)
        err = json_error(status, headers, body, 400, "invalid_parameter")
        assert err["details"].get("parameter") == "tag", (value, err)


@pytest.mark.parametrize("target", [b"/api/v1/iocs?%zz=1", b"/api/v1/iocs?a%00=1",
                                    b"/api/v1/iocs/search?q=%ff%fe", b"/api/v1/lookup?value=%00",
                                    b"/api/v1/lookup?value=1.2.3.4%01"])
def test_malformed_query_anywhere_is_400(srv, target):
    status, headers, body = raw_get(srv, target, srv.pro)
    json_error(status, headers, body, 400, "invalid_parameter")


def test_malformed_path_is_4xx(srv):
    for target in (b"/api/v1/iocs/%ff%fe", b"/api/v1/iocs/%00", b"/\xff\xfe", b"/api/v1/iocs/%zz"):
        status, headers, body = raw_get(srv, target, srv.pro)
        assert status is not None and 400 <= status < 500, (target, status, body[:200])


# ---- injection ----

INJECTIONS = ["' OR 1=1 --", "\"; DROP TABLE iocs; --", "1; DELETE FROM api_keys",
              "%' OR '%'='", "') UNION SELECT * FROM api_keys --", "*", "%", "_"]
FILTERS = ["type", "confidence", "category", "industry", "tag", "source", "since", "until",
           "min_score", "limit", "offset", "cursor", "format", "include_expired"]


@pytest.mark.parametrize("param", FILTERS)
def test_sql_metacharacters_in_list_filters(srv, param):
    for payload in INJECTIONS:
        r = srv.get("/api/v1/iocs", srv.pro, params={param: payload})
        assert r.status_code in (200, 400), (param, payload, r.status_code, r.text[:300])
        if r.status_code == 200:
            assert r.json()["data"] == [], (param, payload)
        else:
            assert r.json()["error"]["code"] == "invalid_parameter"


def test_sql_metacharacters_elsewhere(srv):
    for payload in INJECTIONS:
        r = srv.get("/api/v1/iocs/search", srv.pro, params={"q": payload})
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            assert r.json()["data"]["found"] is False
        r = srv.get("/api/v1/lookup", srv.pro, params={"value": payload})
        assert r.status_code == 400, r.text
        r = srv.get("/api/v1/iocs/" + requests.utils.quote(payload, safe=""), srv.pro)
        assert r.status_code in (400, 404), r.text
        r = srv.post("/api/v1/lookup", srv.pro, json={"values": [payload]})
        assert r.status_code == 200 and r.json()["data"][0]["found"] is False
        r = srv.post("/api/v1/iocs", srv.admin, json={"value": payload})
        assert r.status_code == 400, r.text
        r = srv.post("/api/v1/keys", srv.admin, json={"name": payload, "tier": "free"})
        assert r.status_code == 201, r.text
        assert r.json()["data"]["name"] == payload


def test_data_intact_after_injection(srv):
    assert snapshot(srv) == srv.snapshot
    assert srv.get("/api/v1/keys", srv.admin).status_code == 200
    r = srv.get("/api/v1/iocs?tag=t1", srv.pro)
    assert sorted(i["value"] for i in r.json()["data"]) == sorted(VALUES)


# ---- oversized requests ----

def test_header_over_the_limit_is_431(srv):
    r = srv.get("/api/v1/iocs", srv.pro, headers={"X-Padding": "a" * 4000})
    error_of(r, 431, "request_headers_too_large")
    r = srv.get("/healthz", headers={"X-Padding": "a" * 60000})
    assert r.status_code == 431


def test_many_small_headers_over_the_limit_are_431(srv):
    # 90 fields: under h2o's parser cap of 100 fields, over the configured byte limit.
    headers = {f"X-H{i}": "v" * 40 for i in range(90)}
    error_of(srv.get("/api/v1/iocs", srv.pro, headers=headers), 431, "request_headers_too_large")


def test_more_header_fields_than_the_parser_takes_are_refused(srv):
    # Over 100 header fields, h2o's parser refuses the request before cairn sees it
    # (docs/api.md, "Limits"): a 400, and the server goes on serving.
    headers = {f"X-H{i}": "v" * 5 for i in range(120)}
    assert srv.get("/api/v1/iocs", srv.pro, headers=headers).status_code == 400
    assert srv.get("/healthz").status_code == 200


def test_enormous_header_is_refused(srv):
    # Over h2o's 408 KiB request-head cap the parser answers 400 itself; under it, cairn 431.
    r = srv.get("/api/v1/iocs", srv.pro, headers={"X-Padding": "a" * 500_000})
    assert r.status_code == 400, r.text[:200]
    error_of(srv.get("/api/v1/iocs", srv.pro, headers={"X-Padding": "a" * 100_000}), 431,
             "request_headers_too_large")
    assert srv.get("/healthz").status_code == 200


def test_header_just_under_the_limit_is_served(srv):
    r = srv.get("/api/v1/iocs?limit=1", srv.pro, headers={"X-Padding": "a" * 1000})
    assert r.status_code == 200


def test_long_query_string_is_414(srv):
    r = srv.get("/api/v1/iocs?tag=" + "a" * 9000, srv.pro)
    error_of(r, 414, "uri_too_long")
    status, headers, body = raw_get(srv, b"/api/v1/iocs?tag=" + b"b" * 60000, srv.pro)
    assert status == 414, (status, body[:200])


def test_long_path_is_4xx(srv):
    r = srv.get("/api/v1/iocs/" + "a" * 20000, srv.pro)
    assert 400 <= r.status_code < 500, r.status_code
    assert r.json()["error"]["code"] in ("invalid_parameter", "not_found", "uri_too_long")


def test_too_many_parameters(srv):
    q = "&".join(f"p{i}=1" for i in range(65))
    r = srv.get("/api/v1/iocs?" + q, srv.pro)
    assert r.status_code in (400, 414), r.text[:200]
    assert r.json()["error"]["code"] in ("invalid_parameter", "uri_too_long")
    q = "&".join(f"p{i}=1" for i in range(2000))
    r = srv.get("/api/v1/iocs?" + q, srv.pro)
    assert r.status_code in (400, 414)


@pytest.mark.parametrize("path", ["/api/v1/iocs", "/api/v1/lookup"])
def test_body_over_the_limit_is_413(srv, path):
    big = json.dumps({"values": ["203.0.113.21"] * 6000}).encode()
    assert len(big) > 65536
    r = srv.post(path, srv.admin, data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_chunked_body_over_the_limit_is_413(srv):
    def chunks():
        for _ in range(100):
            yield b" " * 1000
    r = srv.post("/api/v1/lookup", srv.pro, data=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("body", [b"{", b"{\"values\": [}", b"\xff\xfe{}", b"nul", b"[1,]",
                                  b"{\"values\": [\"a\"], \"values\": [\"b\"]}", b"\"\\ud800\"",
                                  b"{\"values\": \"1.2.3.4\"}"])
def test_invalid_json_body_is_400(srv, body):
    for path in ("/api/v1/lookup", "/api/v1/iocs"):
        r = srv.post(path, srv.admin, data=body, headers={"Content-Type": "application/json"})
        error_of(r, 400, "invalid_parameter")


def test_deeply_nested_json_is_400(srv):
    deep = b"[" * 30000 + b"]" * 30000
    error_of(srv.post("/api/v1/lookup", srv.pro, data=deep), 400, "invalid_parameter")
    wrapped = b'{"iocs":' + b"[" * 30000 + b"]" * 30000 + b"}"
    error_of(srv.post("/api/v1/iocs", srv.admin, data=wrapped), 400, "invalid_parameter")
    obj = b'{"a":' * 10000 + b"1" + b"}" * 10000
    error_of(srv.post("/api/v1/keys", srv.admin, data=obj), 400, "invalid_parameter")


# ---- unknown paths and wrong methods ----

@pytest.mark.parametrize("target", [b"/", b"/api", b"/api/v2/iocs", b"/api/v1/nope", b"/api/v1/",
                                    b"/api/v1/iocs/a/b/c", b"/../../etc/passwd",
                                    b"/api/v1/iocs/../keys", b"/healthz/extra", b"/metrics.php"])
def test_unknown_path_is_404_json(srv, target):
    status, headers, body = raw_get(srv, target)
    json_error(status, headers, body, 404, "not_found")


METHODS = [
    ("DELETE", "/api/v1/iocs", {"GET", "POST"}),
    ("PUT", "/api/v1/iocs", {"GET", "POST"}),
    ("PUT", "/api/v1/iocs/stats", {"GET"}),
    ("POST", "/api/v1/iocs/search", {"GET"}),
    ("PATCH", "/api/v1/keys", {"GET", "POST"}),
    ("PUT", f"/api/v1/keys/{uuid.uuid4()}", {"GET", "DELETE"}),
    ("GET", f"/api/v1/iocs/{uuid.uuid4()}/revoke", {"POST"}),
    ("DELETE", f"/api/v1/iocs/{uuid.uuid4()}", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("DELETE", "/metrics", {"GET"}),
    ("PUT", "/api/v1/usage", {"GET"}),
]


@pytest.mark.parametrize("method,path,allow", METHODS, ids=[f"{m} {p[:30]}" for m, p, _ in METHODS])
def test_wrong_method_is_405_with_allow(srv, method, path, allow):
    r = requests.request(method, srv.base + path, headers={"Authorization": f"Bearer {srv.admin}"},
                         timeout=30)
    error_of(r, 405, "method_not_allowed")
    assert {m.strip() for m in r.headers["Allow"].split(",")} == allow


@pytest.mark.parametrize("garbage", [b"\x00\xff\xfe garbage\r\n\r\n", b"GET\r\n\r\n",
                                     b"GET / HTTP/9.9\r\n\r\n",
                                     b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                                     b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
                                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_broken_http_gets_4xx_or_a_close(srv, garbage):
    status, _, _ = raw(srv, garbage, timeout=8)
    assert status is None or 400 <= status < 500
    assert requests.get(srv.base + "/healthz", timeout=10).status_code == 200


# ---- connections ----

def test_many_concurrent_connections(srv):
    """200 clients at once against max_connections 50: each is answered in turn, none gets a
    5xx, and the server is fine afterwards."""
    socks = [socket.create_connection(("127.0.0.1", srv.port), timeout=10) for _ in range(200)]
    sel = selectors.DefaultSelector()
    got = {}
    try:
        for s in socks:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            got[s] = b""
        open_ = set(socks)
        deadline = time.monotonic() + 60
        while open_ and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    chunk = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    got[s] += chunk
                else:
                    sel.unregister(s)
                    open_.discard(s)
    finally:
        for s in socks:
            s.close()
        sel.close()
    statuses = [data.split(b"\r\n", 1)[0] for data in got.values()]
    answered = [st for st in statuses if st]
    assert all(st == b"HTTP/1.1 200 OK" for st in answered), set(statuses)
    assert len(answered) == 200
    assert srv.get("/healthz").status_code == 200
    assert srv.get("/api/v1/iocs?limit=1", srv.pro).status_code == 200


def test_slowloris_does_not_block_others_and_is_disconnected(srv):
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    slow.settimeout(0.25)
    closed = False
    start = time.monotonic()
    try:
        while time.monotonic() - start < 12:
            # Others are served while the slow client dribbles.
            assert requests.get(srv.base + "/healthz", timeout=5).status_code == 200
            try:
                slow.sendall(b"X-Slow: 1\r\n")
                data = slow.recv(4096)
                if data == b"" or data.startswith(b"HTTP/1.1 4"):
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
    finally:
        slow.close()
    assert closed, "a client that never finishes its headers keeps its connection"


def test_client_that_disconnects_mid_request(srv):
    for part in (b"GET /api/v1/iocs HTTP/1.1\r\nHo", b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 1000\r\nAuthorization: Bearer " + srv.pro.encode() + b"\r\n\r\n[\"1."):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
        s.sendall(part)
        s.close()
    assert srv.get("/healthz").status_code == 200


# ---- still standing ----

def test_still_healthy_and_stops_cleanly(srv):
    assert srv.get("/healthz").json()["status"] == "ok"
    assert snapshot(srv) == srv.snapshot
    gc.collect()
    assert srv.stop() == 0  # SIGTERM: exit code 0 and no sanitizer report
    # What the API served is what the file holds (read with SQLite directly, server stopped).
    with sqlite3.connect(srv.db) as db:
        rows = db.execute("SELECT value FROM iocs").fetchall()
        assert sorted(v for (v,) in rows) == sorted(v for _, v, _ in srv.snapshot)
        assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] >= 2
    db.close()


def test_idle_keepalive_client_does_not_hold_up_shutdown(make_cairn):
    """SIGTERM finishes requests in flight; an idle keep-alive connection is not one, so the
    server closes it and exits at once instead of waiting for its 10-second fallback."""
    c = make_cairn()
    c.start()
    s = socket.create_connection(("127.0.0.1", c.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    assert data.startswith(b"HTTP/1.1 200")
    c.proc.send_signal(signal.SIGTERM)
    try:
        c.proc.wait(timeout=5)
        exited = True
    except Exception:
        exited = False
    s.close()
    rc = c.stop()
    assert exited, "an idle keep-alive connection delayed shutdown"
    assert rc == 0
    assert_no_sanitizer(c.stderr_path.read_text())
