"""Authentication, scopes, rate limits and the access log (DESIGN.md section 3, "Authentication,
tiers and limits"; SOCDEFENDERS.md sections 4 and 5)."""
import base64
import gc
import json
import re
import secrets
import sqlite3
import string
import time

import pytest
import requests

from conftest import Cairn, error_of

GOOD = "/api/v1/iocs?limit=1"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("auth"))
    c.import_text("203.0.113.77\nauth-test.example\n", "--feed", "auth", name="a.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.admin = c.key("admin")
    c.start()
    yield c
    gc.collect()
    assert c.stop() == 0


def b64(s):
    return base64.b64encode(s.encode()).decode()


def random_key():
    return "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40))


# ---- the ways to send a key ----

@pytest.mark.parametrize("how", ["bearer", "bearer-lowercase", "x-api-key", "query", "basic-apikey",
                                 "basic-empty-user"])
def test_key_is_accepted_every_documented_way(srv, how):
    k = srv.pro
    headers, path = {}, GOOD
    if how == "bearer":
        headers["Authorization"] = f"Bearer {k}"
    elif how == "bearer-lowercase":
        headers["Authorization"] = f"bearer {k}"
    elif how == "x-api-key":
        headers["X-API-Key"] = k
    elif how == "query":
        path += f"&api_key={k}"
    elif how == "basic-apikey":
        headers["Authorization"] = "Basic " + b64(f"apikey:{k}")
    else:
        headers["Authorization"] = "Basic " + b64(f":{k}")
    r = srv.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["total"] == 2
    assert r.headers["X-RateLimit-Limit"] == "1000"


def test_basic_auth_via_requests_tuple(srv):
    r = requests.get(srv.base + GOOD, auth=("apikey", srv.pro), timeout=30)
    assert r.status_code == 200


# ---- 401s ----

def test_missing_key(srv):
    for path in (GOOD, "/api/v1/lookup?value=1.2.3.4", "/api/v1/iocs/stats", "/api/v1/keys",
                 "/api/v1/usage"):
        err = error_of(srv.get(path), 401, "missing_api_key")
        assert "Bearer" in err["message"]


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer garbage"},
    {"Authorization": "Bearer sk_live_short"},
    {"X-API-Key": "not-a-key-at-all"},
    {"Authorization": "Basic " + b64("apikey:wrong")},
    {"Authorization": "Basic !!!notbase64"},
], ids=["garbage", "short", "x-api-key-garbage", "basic-wrong-password", "basic-undecodable"])
def test_garbage_key_is_invalid(srv, headers):
    error_of(srv.get(GOOD, headers=headers), 401, "invalid_api_key")


def test_well_formed_but_unknown_key_is_invalid(srv):
    error_of(srv.get(GOOD, random_key()), 401, "invalid_api_key")
    error_of(srv.get(GOOD + "&api_key=" + random_key()), 401, "invalid_api_key")


def test_basic_with_another_user_name_is_refused(srv):
    r = srv.get(GOOD, headers={"Authorization": "Basic " + b64(f"alice:{srv.pro}")})
    assert r.status_code == 401


def test_key_revoked_from_the_cli_stops_working(srv):
    k = srv.key("pro", name="to-revoke")
    assert srv.get(GOOD, k).status_code == 200
    out = srv.run("keys", "revoke", k[:12], "--reason", "leaked").stdout
    assert k[:12] in out
    assert k not in out
    error_of(srv.get(GOOD, k), 401, "invalid_api_key")
    error_of(srv.get(GOOD, headers={"X-API-Key": k}), 401, "invalid_api_key")


def test_expired_key(srv):
    k = srv.key("pro", name="to-expire", expires_in_days=1)
    assert srv.get(GOOD, k).status_code == 200
    now_us = int(time.time() * 1_000_000)
    with sqlite3.connect(srv.db, timeout=10) as db:
        n = db.execute("UPDATE api_keys SET expires_at = ? WHERE name = 'to-expire'",
                       (now_us - 1_000_000,)).rowcount
        assert n == 1
    db.close()
    err = error_of(srv.get(GOOD, k), 401, "expired_api_key")
    assert "expire" in err["message"]
    error_of(srv.get("/api/v1/usage", k), 401, "expired_api_key")


def test_key_with_future_expiry_works(srv):
    k = srv.key("free", name="future", expires_in_days=30)
    r = srv.get("/api/v1/usage", k)
    assert r.status_code == 200
    assert r.json()["data"]["expires_at"] is not None


# ---- scopes and tiers ----

def test_read_only_scope_cannot_submit(srv):
    k = srv.key("pro", name="reader", scopes=["read:iocs"])
    assert srv.get(GOOD, k).status_code == 200
    err = error_of(srv.post("/api/v1/iocs", k, json={"value": "scoped.example"}), 403,
                   "insufficient_scope")
    assert "write:iocs" in err["message"]
    r = srv.get("/api/v1/lookup?value=scoped.example", srv.pro)
    assert r.json()["data"]["found"] is False


def test_write_only_scope_cannot_read(srv):
    k = srv.key("pro", name="writer-only", scopes=["write:iocs"])
    error_of(srv.get(GOOD, k), 403, "insufficient_scope")


def test_admin_can_do_everything(srv):
    assert srv.get(GOOD, srv.admin).status_code == 200
    assert srv.get("/api/v1/keys", srv.admin).status_code == 200
    assert srv.get("/api/v1/iocs/stats", srv.admin).status_code == 200
    r = srv.post("/api/v1/iocs", srv.admin, json={"value": "admin-submitted.example"})
    assert r.status_code == 201


def test_free_key_on_pro_endpoint(srv):
    err = error_of(srv.get("/api/v1/iocs/stats", srv.free), 403, "tier_required")
    assert "pro" in err["message"]


# ---- headers on every response ----

def test_request_id_on_every_response(srv):
    responses = [
        srv.get(GOOD, srv.pro), srv.get(GOOD), srv.get(GOOD, random_key()),
        srv.get("/no/such/path"), srv.get("/healthz"), srv.get("/metrics"),
        requests.put(srv.base + "/healthz", timeout=30),
    ]
    ids = [r.headers.get("X-Request-Id") for r in responses]
    for rid in ids:
        assert rid and re.fullmatch(r"req_[0-9a-f]+", rid), ids
    assert len(set(ids)) == len(ids), "request ids repeat"


def test_rate_limit_headers_on_authenticated_responses_and_errors(srv):
    k = srv.key("pro", name="headers")
    cases = [
        (srv.get(GOOD, k), 200),
        (srv.get("/api/v1/iocs?limit=0", k), 400),
        (srv.get("/api/v1/iocs/00000000-0000-0000-0000-000000000000", k), 404),
        (srv.post("/api/v1/iocs", k, json={"value": "x.example"}), 403),
        (srv.delete("/api/v1/iocs", k), 405),
        (srv.get("/api/v1/keys", k), 403),
    ]
    remaining = []
    now = time.time()
    for r, status in cases:
        assert r.status_code == status, r.text
        assert r.headers["X-Request-Id"]
        assert r.headers["X-RateLimit-Limit"] == "1000"
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
        reset = int(r.headers["X-RateLimit-Reset"])
        assert now - 5 <= reset <= now + 61
    assert remaining == sorted(remaining, reverse=True)
    assert remaining[0] == 999
    assert remaining[0] > remaining[-1]


# ---- rate limits ----

LIMITS = """
tiers:
  free: {requests_per_minute: 50, requests_per_day: 8}
  pro: {requests_per_minute: 3}
"""


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("limits"), LIMITS)
    c.import_text("203.0.113.88\n", "--feed", "rl", name="rl.txt")
    c.start()
    yield c
    gc.collect()
    assert c.stop() == 0


def check_429(r, limit, max_wait):
    now = time.time()
    err = error_of(r, 429, "rate_limit_exceeded")
    assert "X-RateLimit-Reset" in err["message"] or "retry" in err["message"].lower()
    retry = int(r.headers["Retry-After"])
    assert 1 <= retry <= max_wait
    assert r.headers["X-RateLimit-Limit"] == str(limit)
    assert r.headers["X-RateLimit-Remaining"] == "0"
    reset = int(r.headers["X-RateLimit-Reset"])
    assert now - 5 <= reset <= now + max_wait + 5


def test_per_minute_quota(limited):
    k = limited.key("pro", name="minute")
    other = limited.key("pro", name="minute-other")
    seen = []
    for _ in range(3):
        r = limited.get(GOOD, k)
        assert r.status_code == 200, r.text
        assert r.headers["X-RateLimit-Limit"] == "3"
        seen.append(int(r.headers["X-RateLimit-Remaining"]))
    assert seen == [2, 1, 0]
    check_429(limited.get(GOOD, k), 3, 60)
    # Every endpoint counts against the same key's quota.
    check_429(limited.get("/api/v1/lookup?value=203.0.113.88", k), 3, 60)
    # Another key is unaffected.
    r = limited.get(GOOD, other)
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Remaining"] == "2"


def test_per_day_quota(limited):
    k = limited.key("free", name="day")
    other = limited.key("free", name="day-other")
    seen = []
    for _ in range(8):
        r = limited.get(GOOD, k)
        assert r.status_code == 200, r.text
        assert r.headers["X-RateLimit-Limit"] == "8"  # the window closest to running out
        seen.append(int(r.headers["X-RateLimit-Remaining"]))
    assert seen == [7, 6, 5, 4, 3, 2, 1, 0]
    check_429(limited.get(GOOD, k), 8, 86400 + 3600)
    check_429(limited.get(GOOD, headers={"X-API-Key": k}), 8, 86400 + 3600)
    assert limited.get(GOOD, other).status_code == 200


def test_refused_requests_do_not_extend_the_window(limited):
    k = limited.key("pro", name="refused")
    for _ in range(3):
        assert limited.get(GOOD, k).status_code == 200
    first = limited.get(GOOD, k)
    for _ in range(5):
        r = limited.get(GOOD, k)
        assert r.status_code == 429
    assert int(r.headers["X-RateLimit-Reset"]) == int(first.headers["X-RateLimit-Reset"])


def test_unauthenticated_requests_do_not_use_a_keys_quota(limited):
    k = limited.key("pro", name="unauth")
    for _ in range(5):
        assert limited.get(GOOD).status_code == 401
    r = limited.get(GOOD, k)
    assert r.status_code == 200
    assert r.headers["X-RateLimit-Remaining"] == "2"


def test_usage_costs_nothing(limited):
    k = limited.key("pro", name="usage-free")
    for _ in range(5):
        r = limited.get("/api/v1/usage", k)
        assert r.status_code == 200
        assert r.json()["data"]["usage"]["minute"]["remaining"] == 3
    for _ in range(3):
        assert limited.get(GOOD, k).status_code == 200


def test_usage_answers_when_the_quota_is_spent(limited):
    """/api/v1/usage tells a key what is left; that matters most once nothing is."""
    k = limited.key("pro", name="usage-spent")
    for _ in range(3):
        assert limited.get(GOOD, k).status_code == 200
    assert limited.get(GOOD, k).status_code == 429
    r = limited.get("/api/v1/usage", k)
    assert r.status_code == 200, r.text
    u = r.json()["data"]["usage"]["minute"]
    assert (u["used"], u["remaining"]) == (3, 0)
    assert r.headers["X-RateLimit-Remaining"] == "0"


# ---- the access log ----

def test_access_log_is_json_lines_without_keys(srv):
    admin, pro = srv.admin, srv.pro
    stray = random_key()
    sent = [
        srv.get(f"/api/v1/iocs?api_key={pro}&limit=1"),
        srv.get(f"/api/v1/iocs?limit=1&api_key={stray}"),
        srv.get(f"/api/v1/keys/{pro}", admin),
        srv.get(f"/{pro}"),
        srv.get(f"/api/v1/lookup?value={pro}", admin),
        srv.get(GOOD, headers={"X-API-Key": pro}),
        srv.get(GOOD, headers={"Authorization": "Basic " + b64(f"apikey:{pro}")}),
        srv.get(GOOD, headers={"User-Agent": f"poller/1.0 key={pro}"}),
        srv.get("/api/v1/iocs?api_key=mysecretvalue&limit=1"),
    ]
    ids = {r.headers["X-Request-Id"] for r in sent}
    text = srv.access_log.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    logged = {rec.get("request_id") for rec in records}
    assert ids <= logged, "a request is missing from the access log"
    for k in (admin, pro, srv.free, stray):
        assert k not in text
        assert k[8:] not in text
    assert "mysecretvalue" not in text
    mine = [rec for rec in records if rec.get("request_id") in ids]
    for rec in mine:
        assert {"status", "path", "method"} <= set(rec)
