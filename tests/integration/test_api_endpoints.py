"""Every REST endpoint besides the list: one record, search, lookup (single and bulk), submit and
merge, revoke, stats, keys, usage, health and metrics (DESIGN.md section 3)."""
import base64
import gc
import hashlib
import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Cairn, error_of

CONFIG = """
limits:
  max_lookup_values: 5
tiers:
  free: {requests_per_minute: 100000, requests_per_day: 10000000}
"""

REPORT = "https://reports.example/apt-x"
FEED = [
    {"value": "evil.example", "tags": ["c2"], "mitre_techniques": ["T1071"], "confidence": 80,
     "context": "C2 of campaign X", "source": {"reference_url": REPORT}},
    {"value": "203.0.113.50", "confidence": "high", "tags": ["c2", "apt-x"],
     "source": {"reference_url": REPORT}},
    {"value": "hxxps://malware-drop[.]example/payload.exe", "confidence": "medium",
     "source": {"reference_url": REPORT}},
    {"value": "malware-drop.example", "confidence": "low"},
    {"value": "44d88612fea8a8f36de82e1278abb02f", "tags": ["eicar"]},
    {"value": "CVE-2024-3094", "confidence": "high"},
    {"value": "billing@invoice-update.example"},
]


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(s):
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", s), s
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("endpoints"), CONFIG)
    c.import_text(json.dumps(FEED), "--feed", "intel-a", "--category", "threat-intel", name="a.json")
    c.admin = c.key("admin")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.writer = c.key("pro", name="writer", scopes=["write:iocs"])
    c.start()
    yield c
    gc.collect()  # close idle keep-alive connections held by dropped responses
    assert c.stop() == 0


def rec_by_value(srv, value, key=None):
    r = srv.get("/api/v1/iocs/search", key or srv.pro, params={"q": value, "include_related": "false"})
    assert r.status_code == 200, r.text
    m = r.json()["data"]["matches"]
    assert len(m) == 1, m
    return m[0]


# ---- GET /api/v1/iocs/{id} ----

def test_get_by_id(srv):
    rec = rec_by_value(srv, "evil.example")
    r = srv.get(f"/api/v1/iocs/{rec['id']}", srv.pro)
    assert r.status_code == 200
    body = r.json()
    got = body["data"]
    assert got["id"] == rec["id"]
    assert got["value"] == "evil.example"
    assert got["type"] == "domain"
    assert got["confidence"] == "high"
    assert got["context"] == "C2 of campaign X"
    assert got["mitre_techniques"] == ["T1071"]
    assert got["source"]["feed_name"] == "intel-a"
    assert got["source"]["reference_url"] == REPORT
    assert body["meta"]["source"] == "cairn"
    # Upper-case UUIDs name the same record.
    assert srv.get(f"/api/v1/iocs/{rec['id'].upper()}", srv.pro).json()["data"]["id"] == rec["id"]


def test_get_by_id_is_stable_across_servers(srv, tmp_path):
    """The id is derived from type and value: the same indicator has the same id everywhere."""
    other = Cairn(tmp_path)
    other.import_text("evil.example\n", "--feed", "somewhere-else", name="x.txt")
    there = json.loads(other.run("lookup", "evil.example").stdout)
    assert there["id"] == rec_by_value(srv, "evil.example")["id"]


def test_get_unknown_id_is_404(srv):
    error_of(srv.get(f"/api/v1/iocs/{uuid.uuid4()}", srv.pro), 404, "not_found")


@pytest.mark.parametrize("bad", ["not-a-uuid", "12345", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"])
def test_get_non_uuid_is_400(srv, bad):
    err = error_of(srv.get(f"/api/v1/iocs/{bad}", srv.pro), 400, "invalid_parameter")
    assert err["details"].get("parameter") == "id"


# ---- search ----

def search(srv, q, **params):
    r = srv.get("/api/v1/iocs/search", srv.pro, params={"q": q, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    d = body["data"]
    assert set(d) >= {"found", "query", "matches", "relatedIOCs", "meta"}
    assert set(d["meta"]) >= {"total_matches", "related_count", "search_time_ms"}
    assert d["meta"]["total_matches"] == len(d["matches"])
    assert d["meta"]["related_count"] == len(d["relatedIOCs"])
    assert isinstance(d["meta"]["search_time_ms"], (int, float))
    assert d["query"] == q
    assert body["meta"]["feed_version"] == "1.0"
    return d


@pytest.mark.parametrize("q", ["EVIL[.]example", "evil.example", "EVIL.EXAMPLE.", "evil(.)example"])
def test_search_exact_after_normalising(srv, q):
    d = search(srv, q, include_related="false")
    assert d["found"] is True
    assert [m["value"] for m in d["matches"]] == ["evil.example"]


def test_search_refanged_url(srv):
    d = search(srv, "hxxps://MALWARE-DROP[.]example/payload.exe", include_related="false")
    assert [m["value"] for m in d["matches"]] == ["https://malware-drop.example/payload.exe"]


def test_search_trigram_substring(srv):
    d = search(srv, "ware-dro", include_related="false")
    assert d["found"] is True
    assert sorted(m["value"] for m in d["matches"]) == [
        "https://malware-drop.example/payload.exe", "malware-drop.example"]


def test_search_trigram_three_characters(srv):
    d = search(srv, "-dr", include_related="false")
    assert sorted(m["value"] for m in d["matches"]) == [
        "https://malware-drop.example/payload.exe", "malware-drop.example"]


def test_search_two_characters_is_exact_only(srv):
    d = search(srv, "ev", include_related="false")
    assert d["found"] is False and d["matches"] == []


def test_search_type_narrows(srv):
    d = search(srv, "malware-drop", type="domain", include_related="false")
    assert [m["value"] for m in d["matches"]] == ["malware-drop.example"]


def test_search_not_found(srv):
    d = search(srv, "nothing-like-this-anywhere.example")
    assert d["found"] is False
    assert d["matches"] == [] and d["relatedIOCs"] == []
    assert d["meta"]["total_matches"] == 0


def test_search_related_by_shared_report(srv):
    default = search(srv, "evil.example")  # include_related defaults to true
    d = search(srv, "evil.example", include_related="true")
    assert d["relatedIOCs"] == default["relatedIOCs"]
    assert [m["value"] for m in d["matches"]] == ["evil.example"]
    related = sorted(i["value"] for i in d["relatedIOCs"])
    assert related == ["203.0.113.50", "https://malware-drop.example/payload.exe"]
    assert all(i["source"]["reference_url"] == REPORT for i in d["relatedIOCs"])
    d = search(srv, "evil.example", include_related="false")
    assert d["relatedIOCs"] == []
    assert d["meta"]["related_count"] == 0


def test_search_requires_q(srv):
    err = error_of(srv.get("/api/v1/iocs/search", srv.pro), 400, "invalid_parameter")
    assert err["details"].get("parameter") == "q"


# ---- lookup ----

LOOKUP_FIELDS = {"found", "ioc_value", "ioc_type", "confidence", "first_seen", "last_seen",
                 "total_occurrences", "reporting_sources", "tags", "mitre_techniques", "risk",
                 "hunting", "sources"}


def lookup(srv, key=None, **params):
    r = srv.get("/api/v1/lookup", key or srv.pro, params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


@pytest.mark.parametrize("param", ["value", "ioc"])
def test_lookup_found(srv, param):
    d = lookup(srv, **{param: "203[.]0[.]113[.]50"})
    assert LOOKUP_FIELDS <= set(d)
    assert d["found"] is True
    assert d["ioc_value"] == "203.0.113.50"
    assert d["ioc_type"] == "ipv4"
    assert d["confidence"] == "high"
    parse_time(d["first_seen"])
    parse_time(d["last_seen"])
    assert d["total_occurrences"] == 1
    assert d["reporting_sources"] == 1
    assert sorted(d["tags"]) == ["apt-x", "c2"]
    assert d["mitre_techniques"] == []
    assert 70 <= d["risk"]["score"] <= 100
    assert d["risk"]["level"] in ("high", "critical")
    h = d["hunting"]
    assert h["detection_guidance"]
    assert "203.0.113.50" in h["splunk_query"]
    assert "203.0.113.50" in h["kql_query"]
    [s] = d["sources"]
    assert s["source_feed"] == "intel-a"
    assert s["source_category"] == "threat-intel"
    assert s["reference_url"] == REPORT


def test_lookup_works_on_free_tier(srv):
    assert lookup(srv, srv.free, value="evil.example")["found"] is True


def test_lookup_type_override(srv):
    # A bare name looks like a domain; type=url reads it as a URL.
    d = lookup(srv, value="malware-drop.example")
    assert (d["found"], d["ioc_type"]) == (True, "domain")
    d = lookup(srv, value="malware-drop.example", type="url")
    assert d["ioc_type"] == "url"
    assert d["found"] is False
    # An MD5-length value forced to another hash type is not that hash.
    r = srv.get("/api/v1/lookup", srv.pro, params={"value": "44d88612fea8a8f36de82e1278abb02f",
                                                    "type": "sha1"})
    error_of(r, 400, "invalid_parameter")


def test_lookup_unknown_is_found_false_with_hunting(srv):
    d = lookup(srv, value="198.51.100.99")
    assert d["found"] is False
    assert d["ioc_value"] == "198.51.100.99"
    assert d["ioc_type"] == "ipv4"
    assert "198.51.100.99" in d["hunting"]["splunk_query"]
    assert "198.51.100.99" in d["hunting"]["kql_query"]
    assert d["hunting"]["detection_guidance"]


@pytest.mark.parametrize("value", ["hello", "not an indicator at all", "1.2.3"])
def test_lookup_non_indicator_is_400(srv, value):
    err = error_of(srv.get("/api/v1/lookup", srv.pro, params={"value": value}), 400,
                   "invalid_parameter")
    assert err["details"].get("parameter") == "value"


def test_lookup_requires_a_value(srv):
    error_of(srv.get("/api/v1/lookup", srv.pro), 400, "invalid_parameter")


def test_lookup_bad_type_is_400(srv):
    err = error_of(srv.get("/api/v1/lookup", srv.pro, params={"value": "evil.example", "type": "x"}),
                   400, "invalid_parameter")
    assert err["details"].get("parameter") == "type"


# ---- bulk lookup ----

def bulk(srv, payload, key=None):
    return srv.post("/api/v1/lookup", key or srv.pro, json=payload)


def test_bulk_lookup_values_object(srv):
    r = bulk(srv, {"values": ["evil.example", "198.51.100.99", "CVE-2024-3094"]})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [d["found"] for d in data] == [True, False, True]
    assert [d["ioc_value"] for d in data] == ["evil.example", "198.51.100.99", "CVE-2024-3094"]
    assert data[0]["ioc_type"] == "domain" and data[2]["ioc_type"] == "cve"
    assert "hunting" in data[1]


def test_bulk_lookup_bare_array(srv):
    r = bulk(srv, ["EVIL[.]example", "44d88612fea8a8f36de82e1278abb02f"])
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [(d["found"], d["ioc_value"]) for d in data] == [
        (True, "evil.example"), (True, "44d88612fea8a8f36de82e1278abb02f")]


def test_bulk_lookup_mixed_valid_and_invalid(srv):
    r = bulk(srv, {"values": ["evil.example", "not an indicator", 42, "203.0.113.50"]})
    assert r.status_code == 200, r.text
    body = r.json()
    data = body["data"]
    assert len(data) == 4
    assert data[0]["found"] is True and data[3]["found"] is True
    for bad in (data[1], data[2]):
        assert bad["found"] is False
        assert bad.get("error")
    assert body["meta"]["total"] == 4
    assert body["meta"]["found"] == 2
    assert body["meta"]["invalid"] == 2


def test_bulk_lookup_over_the_limit_is_413(srv):
    err = error_of(bulk(srv, {"values": [f"198.51.100.{i}" for i in range(6)]}), 413,
                   "payload_too_large")
    assert "5" in err["message"]
    assert bulk(srv, {"values": [f"198.51.100.{i}" for i in range(5)]}).status_code == 200


@pytest.mark.parametrize("payload", [{"nothing": 1}, "just a string", 12])
def test_bulk_lookup_wrong_shape_is_400(srv, payload):
    error_of(bulk(srv, payload), 400, "invalid_parameter")


# ---- submit ----

def submit(srv, payload, key=None):
    return srv.post("/api/v1/iocs", key or srv.admin, json=payload)


def lookup_found(srv, value):
    return lookup(srv, value=value)["found"]


def test_submit_single_object(srv):
    r = submit(srv, {"value": "submitted-one.example", "confidence": "high", "tags": ["x"]})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert [d["value"] for d in data] == ["submitted-one.example"]
    assert data[0]["type"] == "domain"
    assert data[0]["confidence"] == "high"
    assert data[0]["tags"] == ["x"]
    assert lookup_found(srv, "submitted-one.example")


def test_submit_array(srv):
    r = submit(srv, [{"value": "192.0.2.61"}, {"value": "192.0.2.62", "type": "ipv4"}])
    assert r.status_code == 201, r.text
    assert sorted(d["value"] for d in r.json()["data"]) == ["192.0.2.61", "192.0.2.62"]
    assert lookup_found(srv, "192.0.2.61") and lookup_found(srv, "192.0.2.62")


def test_submit_iocs_wrapper(srv):
    r = submit(srv, {"iocs": [{"value": "hxxp://submitted-two[.]example/a"}]})
    assert r.status_code == 201, r.text
    [d] = r.json()["data"]
    assert (d["type"], d["value"]) == ("url", "http://submitted-two.example/a")
    assert d["source"]["origin"] == "submission"
    rec = srv.get(f"/api/v1/iocs/{d['id']}", srv.pro)
    assert rec.status_code == 200


def test_submit_with_write_scope_key(srv):
    r = submit(srv, {"value": "written-by-scope.example"}, srv.writer)
    assert r.status_code == 201, r.text
    assert lookup_found(srv, "written-by-scope.example")


@pytest.mark.parametrize("who", ["pro", "free"])
def test_submit_without_write_scope_is_403(srv, who):
    err = error_of(submit(srv, {"value": f"never-{who}.example"}, getattr(srv, who)), 403,
                   "insufficient_scope")
    assert "write:iocs" in err["message"]
    assert not lookup_found(srv, f"never-{who}.example")


def test_submit_invalid_items_store_nothing(srv):
    payload = [{"value": "would-be-stored.example"}, {"value": "not an indicator"},
               {"value": "192.0.2.63", "confidence": "extreme"}, {"novalue": 1}]
    err = error_of(submit(srv, payload), 400, "invalid_parameter")
    errors = err["details"].get("errors")
    assert [e["index"] for e in errors] == [1, 2, 3]
    assert not lookup_found(srv, "would-be-stored.example")
    assert not lookup_found(srv, "192.0.2.63")


@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b"[1, 2]"])
def test_submit_bad_body_is_400(srv, body):
    r = srv.post("/api/v1/iocs", srv.admin, data=body, headers={"Content-Type": "application/json"})
    error_of(r, 400, "invalid_parameter")


def test_submit_merges_reports_of_the_same_indicator(srv):
    v = "merge-me.example"
    now = datetime.now(timezone.utc)
    t1, t2, t3, t4 = (iso(now - timedelta(days=d)) for d in (10, 9, 3, 1))
    r1 = submit(srv, {"value": v, "tags": ["phishing"], "confidence": 40,
                      "first_seen": t1, "last_seen": t2,
                      "source": {"feed_name": "feed-one", "category": "community"}})
    assert r1.status_code == 201, r1.text
    first = r1.json()["data"][0]
    r2 = submit(srv, {"value": "MERGE-ME[.]example", "tags": ["credential-theft"], "confidence": 60,
                      "first_seen": t3, "last_seen": t4,
                      "source": {"feed_name": "feed-two", "category": "commercial"}})
    assert r2.status_code in (200, 201), r2.text
    assert r2.json()["meta"]["added"] == 0
    assert r2.json()["meta"]["updated"] == 1
    merged = r2.json()["data"][0]
    assert merged["id"] == first["id"]
    assert sorted(merged["tags"]) == ["credential-theft", "phishing"]
    assert sorted(s["feed_name"] for s in merged["sources"]) == ["feed-one", "feed-two"]
    assert parse_time(merged["last_seen"]) == parse_time(t4)
    assert parse_time(merged["first_seen"]) == parse_time(t1)
    assert merged["score"] >= 60
    # One record, not two.
    body = srv.get("/api/v1/iocs", srv.pro, params={"type": "domain", "limit": 1000}).json()
    assert [i["value"] for i in body["data"]].count(v) == 1
    d = lookup(srv, value=v)
    assert d["total_occurrences"] == 2
    assert d["reporting_sources"] == 2
    assert sorted(s["source_feed"] for s in d["sources"]) == ["feed-one", "feed-two"]
    # The same feed again: still two sources, one more occurrence.
    r3 = submit(srv, {"value": v, "tags": ["phishing"], "source": {"feed_name": "feed-two"}})
    assert r3.status_code in (200, 201)
    d = lookup(srv, value=v)
    assert d["reporting_sources"] == 2
    assert d["total_occurrences"] == 3


# ---- revoke ----

def test_revoke(srv):
    r = submit(srv, {"value": "false-positive.example"})
    rid = r.json()["data"][0]["id"]
    listed = srv.get("/api/v1/iocs", srv.pro, params={"type": "domain", "limit": 1000}).json()
    assert "false-positive.example" in [i["value"] for i in listed["data"]]
    r = srv.post(f"/api/v1/iocs/{rid}/revoke", srv.admin, json={"reason": "benign CDN"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["revoked"] is True
    listed = srv.get("/api/v1/iocs", srv.pro, params={"type": "domain", "limit": 1000}).json()
    assert "false-positive.example" not in [i["value"] for i in listed["data"]]
    listed = srv.get("/api/v1/iocs", srv.pro, params={"type": "domain", "limit": 1000,
                                                       "include_expired": "true"}).json()
    [rec] = [i for i in listed["data"] if i["value"] == "false-positive.example"]
    assert rec["revoked"] is True
    assert lookup(srv, value="false-positive.example")["revoked"] is True


def test_revoke_unknown_is_404(srv):
    error_of(srv.post(f"/api/v1/iocs/{uuid.uuid4()}/revoke", srv.admin), 404, "not_found")


def test_revoke_needs_write_scope(srv):
    rid = rec_by_value(srv, "malware-drop.example")["id"]
    error_of(srv.post(f"/api/v1/iocs/{rid}/revoke", srv.pro), 403, "insufficient_scope")
    assert lookup(srv, value="malware-drop.example")["revoked"] is False


# ---- stats ----

def test_stats(make_cairn):
    c = make_cairn("tiers:\n  free: {requests_per_minute: 1000}\n")
    c.import_text("192.0.2.1\n192.0.2.2\n192.0.2.3\nstats.example\n", "--feed", "gov-feed",
                  "--category", "government", name="s1.txt")
    c.import_text("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
                  "stats2.example\n", "--feed", "community-feed", "--category", "community",
                  name="s2.txt")
    pro, free = c.key("pro"), c.key("free")
    c.start()
    r = c.get("/api/v1/iocs/stats", pro)
    assert r.status_code == 200, r.text
    updated = r.headers["X-Cache-Updated-At"]
    assert parse_time(updated) <= datetime.now(timezone.utc)
    totals = r.json()["data"]["totals"]
    assert totals["by_type"] == {"ipv4": 3, "domain": 2, "sha256": 1}
    assert totals["by_category"] == {"government": 4, "community": 2}
    assert totals["by_source"] == {"gov-feed": 4, "community-feed": 2}
    err = error_of(c.get("/api/v1/iocs/stats", free), 403, "tier_required")
    assert "pro" in err["message"]
    del r
    gc.collect()
    assert c.stop() == 0


# ---- keys ----

def test_keys_need_admin(srv):
    for k in (srv.pro, srv.free, srv.writer):
        error_of(srv.get("/api/v1/keys", k), 403, "insufficient_scope")
        error_of(srv.post("/api/v1/keys", k, json={"name": "x"}), 403, "insufficient_scope")


def test_key_list_never_shows_secrets(srv):
    r = srv.get("/api/v1/keys", srv.admin)
    assert r.status_code == 200
    body = r.json()
    assert body["meta"]["total"] == len(body["data"]) >= 4
    for k in (srv.admin, srv.pro, srv.free, srv.writer):
        assert k not in r.text
        assert k[8:] not in r.text
        digest = hashlib.sha256(k.encode()).digest()
        for form in (digest.hex(), base64.b64encode(digest).decode(), digest.hex().upper()):
            assert form not in r.text
    for item in body["data"]:
        assert "key" not in item
        assert not any("hash" in f for f in item)
        assert re.fullmatch(r"sk_live_[0-9A-Za-z]{4}", item["key_prefix"])
        assert {"id", "name", "tier", "scopes", "created_at", "expires_at", "revoked_at",
                "total_requests", "last_used_at"} <= set(item)
    prefixes = {i["key_prefix"] for i in body["data"]}
    assert srv.pro[:12] in prefixes


def test_key_create_use_and_revoke(srv):
    r = srv.post("/api/v1/keys", srv.admin, json={"name": "ci poller", "tier": "pro",
                                                  "scopes": ["read:iocs"], "expires_in_days": 30})
    assert r.status_code == 201, r.text
    body = r.json()
    d = body["data"]
    secret = d["key"]
    assert re.fullmatch(r"sk_live_[0-9A-Za-z]{32,}", secret)
    assert body["meta"]["warning"]
    assert d["name"] == "ci poller" and d["tier"] == "pro" and d["scopes"] == ["read:iocs"]
    assert d["key_prefix"] == secret[:12]
    days = (parse_time(d["expires_at"]) - datetime.now(timezone.utc)).days
    assert 28 <= days <= 30
    # The new key works, with the scopes it was given.
    assert srv.get("/api/v1/iocs?limit=1", secret).status_code == 200
    error_of(srv.post("/api/v1/iocs", secret, json={"value": "x.example"}), 403, "insufficient_scope")
    # Shown once: never again.
    one = srv.get(f"/api/v1/keys/{d['id']}", srv.admin)
    assert one.status_code == 200
    assert secret not in one.text
    assert one.json()["data"]["name"] == "ci poller"
    assert "key" not in one.json()["data"]
    assert secret not in srv.get("/api/v1/keys", srv.admin).text
    # Revoked: 401 invalid_api_key from then on.
    r = srv.delete(f"/api/v1/keys/{d['id']}", srv.admin, json={"reason": "rotated"})
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    error_of(srv.get("/api/v1/iocs?limit=1", secret), 401, "invalid_api_key")
    one = srv.get(f"/api/v1/keys/{d['id']}", srv.admin).json()["data"]
    assert one["revoked_at"] is not None
    parse_time(one["revoked_at"])


def test_key_create_defaults_and_validation(srv):
    r = srv.post("/api/v1/keys", srv.admin, json={"name": "plain"})
    assert r.status_code == 201, r.text
    d = r.json()["data"]
    assert d["expires_at"] is None
    assert "read:iocs" in d["scopes"]
    for bad in ({}, {"name": ""}, {"name": "x" * 101}, {"name": "x", "tier": "gold"},
                {"name": "x", "scopes": ["read:everything"]}, {"name": "x", "expires_in_days": 0},
                {"name": "x", "expires_in_days": 366}, {"name": "x", "expires_in_days": "7"}):
        error_of(srv.post("/api/v1/keys", srv.admin, json=bad), 400, "invalid_parameter")


def test_key_get_unknown_and_bad_id(srv):
    error_of(srv.get(f"/api/v1/keys/{uuid.uuid4()}", srv.admin), 404, "not_found")
    error_of(srv.get("/api/v1/keys/nope", srv.admin), 400, "invalid_parameter")
    error_of(srv.delete(f"/api/v1/keys/{uuid.uuid4()}", srv.admin), 404, "not_found")


def test_key_usage(srv):
    r = srv.post("/api/v1/keys", srv.admin, json={"name": "usage probe", "tier": "pro"})
    d = r.json()["data"]
    secret = d["key"]
    for _ in range(3):
        assert srv.get("/api/v1/iocs?limit=1", secret).status_code == 200
    assert srv.get(f"/api/v1/iocs/{uuid.uuid4()}", secret).status_code == 404
    r = srv.get(f"/api/v1/keys/{d['id']}/usage", srv.admin)
    assert r.status_code == 200, r.text
    u = r.json()["data"]
    assert u["key_id"] == d["id"]
    assert u["total_requests"] == 4
    assert u["successful"] == 3
    assert u["client_errors"] == 1
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert [(x["date"], x["requests"], x["errors"]) for x in u["daily"]] == [(today, 4, 1)]
    paths = {e["path"]: e["count"] for e in u["top_endpoints"]}
    assert paths.get("/api/v1/iocs") == 3
    listed = {k["id"]: k for k in srv.get("/api/v1/keys", srv.admin).json()["data"]}
    assert listed[d["id"]]["total_requests"] == 4
    assert listed[d["id"]]["last_used_at"] is not None
    error_of(srv.get(f"/api/v1/keys/{d['id']}/usage?days=0", srv.admin), 400, "invalid_parameter")
    error_of(srv.get(f"/api/v1/keys/{d['id']}/usage", srv.pro), 403, "insufficient_scope")


# ---- usage, health, metrics ----

def test_usage_shows_own_tier_and_limits(srv):
    r = srv.get("/api/v1/usage", srv.free)
    assert r.status_code == 200
    d = r.json()["data"]
    assert d["tier"] == "free"
    assert d["key_prefix"] == srv.free[:12]
    assert srv.free not in r.text
    lim = d["limits"]
    assert lim["max_results"] == 100
    assert lim["lookback_days"] == 1
    assert lim["formats"] == ["json"]
    assert lim["requests_per_minute"] == 100000
    u = d["usage"]
    assert u["minute"]["used"] + u["minute"]["remaining"] == lim["requests_per_minute"]
    assert u["day"]["used"] + u["day"]["remaining"] == lim["requests_per_day"]
    p = srv.get("/api/v1/usage", srv.pro).json()["data"]
    assert p["tier"] == "pro" and set(p["limits"]["formats"]) == {"json", "csv", "txt", "hosts", "rpz"}


def test_healthz(srv):
    r = srv.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert "X-Request-Id" in r.headers


def test_metrics(srv):
    srv.get("/api/v1/iocs?limit=1", srv.pro)
    r = srv.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "# TYPE cairn_http_requests_total counter" in r.text
    samples = {}
    for line in r.text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)',
                         line)
        assert m, f"not Prometheus text: {line!r}"
        float(m.group(3))
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    list_ok = [v for k, v in samples.items()
               if k.startswith("cairn_http_requests_total{") and 'route="/api/v1/iocs"' in k
               and 'code="2xx"' in k]
    assert list_ok and list_ok[0] >= 1
