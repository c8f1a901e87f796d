"""GET /api/v1/iocs: the feed every poller reads (DESIGN.md section 3, SOCDEFENDERS.md 2.1).

One server for the module, over a database with known records:
  alpha   (government, tag apt28, score 90)   3 IPv4s and a domain
  beta    (commercial, JSON)                  records with confidences, industries, tags
  attack  (JSON)                              ATT&CK ids and a CVE
  expired-json / expired-csv                  records whose valid_until is in the past
  old     (first/last seen in 2020)           added to cairn today
  aged    (updated_at moved 3 days back)      outside a free key's 1-day lookback
  bulk    150 IPv4s                           for paging
  win-a / win-b                               imported on both sides of a known instant
"""
import csv
import io
import gc
import json
import re
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import Cairn, error_of

# Free keys keep the default record cap (100) and lookback (1 day) but may make many requests.
CONFIG = """
tiers:
  free: {requests_per_minute: 100000, requests_per_day: 10000000}
"""

ALPHA = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "evil-alpha.example"]
BETA = [
    {"value": "198.51.100.10", "confidence": "high", "industries": ["energy"], "tags": ["c2", "shared"]},
    {"value": "198.51.100.11", "confidence": "medium", "industries": ["healthcare"], "tags": ["shared"]},
    {"value": "198.51.100.12", "confidence": "low", "tags": ["scanner"]},
    {"value": "beta-phish.example", "confidence": 75, "industries": ["energy", "healthcare"]},
    {"value": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "confidence": "high"},
    {"value": "http://comma.example/a,b?x=1,2", "tags": ["needs quoting"]},  # CSV must quote it
]
ATTACK = [
    {"value": "T1059.001", "type": "mitre_attack"},
    {"value": "TA0001", "type": "mitre-attack"},
    {"value": "CVE-2024-3094"},
]
EXPIRED_JSON = "192.0.2.201"
EXPIRED_CSV = "192.0.2.202"
OLD = "old-report.example"
AGED = "aged.example"
BULK = [f"198.18.{i // 200}.{i % 200 + 1}" for i in range(150)]
WIN_A = ["win-a1.example", "win-a2.example"]
WIN_B = ["win-b1.example", "win-b2.example"]

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def iso(dt):
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(s):
    assert RFC3339.fullmatch(s), s
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("list"), CONFIG)
    c.import_text("\n".join(ALPHA) + "\n", "--feed", "alpha", "--category", "government",
                  "--tag", "apt28", "--confidence", "90", name="alpha.txt")
    c.import_text(json.dumps(BETA), "--feed", "beta", "--category", "commercial", name="beta.json")
    c.import_text(json.dumps(ATTACK), "--feed", "attack", name="attack.json")
    # Expired on arrival: a valid_until in the past, once through JSON and once through CSV.
    c.import_text(json.dumps([{"value": EXPIRED_JSON, "valid_until": "2021-01-01T00:00:00Z"}]),
                  "--feed", "expired-json", name="expired.json")
    c.import_text(f"value,type,valid_until\n{EXPIRED_CSV},ipv4,2021-01-01T00:00:00Z\n",
                  "--feed", "expired-csv", name="expired.csv")
    c.import_text(json.dumps([{"value": OLD, "first_seen": "2020-03-01T00:00:00Z",
                               "last_seen": "2020-03-02T00:00:00Z",
                               "valid_until": "2099-01-01T00:00:00Z"}]),
                  "--feed", "old", name="old.json")
    c.import_text(AGED + "\n", "--feed", "aged", name="aged.txt")
    c.import_text("\n".join(BULK) + "\n", "--feed", "bulk", name="bulk.txt")
    c.import_text("\n".join(WIN_A) + "\n", "--feed", "win-a", name="wina.txt")
    time.sleep(0.02)
    c.window_at = datetime.now(timezone.utc)
    time.sleep(0.02)
    c.import_text("\n".join(WIN_B) + "\n", "--feed", "win-b", name="winb.txt")
    # A record cairn last touched three days ago (outside a free key's 1-day lookback).
    with sqlite3.connect(c.db) as db:
        n = db.execute("UPDATE iocs SET updated_at = updated_at - ? WHERE value = ?",
                       (3 * 86400 * 10**6, AGED)).rowcount
        assert n == 1
    db.close()
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.admin = c.key("admin")
    c.start()
    yield c
    gc.collect()  # close idle keep-alive connections held by dropped responses
    assert c.stop() == 0


def listing(srv, query="", key=None, status=200):
    r = srv.get("/api/v1/iocs" + (("?" + query) if query else ""), key or srv.pro)
    assert r.status_code == status, (r.status_code, r.text[:500])
    return r.json()


def values(body):
    return [i["value"] for i in body["data"]]


def all_of(srv, query=""):
    """Every matching record, in one pro request."""
    body = listing(srv, "limit=10000" + ("&" + query if query else ""))
    assert body["meta"]["total"] == len(body["data"])
    return body


# ---- the envelope ----

def test_default_answer_has_soc_defenders_envelope(srv):
    before = datetime.now(timezone.utc)
    r = srv.get("/api/v1/iocs?source=alpha", srv.pro)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    meta = body["meta"]
    assert meta["total"] == 4
    assert meta["limit"] == 100
    assert meta["offset"] == 0
    assert meta["feed_version"] == "1.0"
    assert meta["source"] == "cairn"
    gen = parse_time(meta["generated_at"])
    assert before - timedelta(seconds=5) <= gen <= datetime.now(timezone.utc) + timedelta(seconds=5)
    f = meta["filters"]
    assert f["type"] == "all" and f["confidence"] == "all" and f["category"] == "all"
    assert f["source"] == "alpha"
    parse_time(f["since"])
    parse_time(f["until"])
    assert f["include_expired"] is False
    assert meta.get("next_cursor") is None
    assert sorted(values(body)) == sorted(ALPHA)
    links = body["links"]
    assert links["self"].startswith(srv.base + "/api/v1/iocs")
    assert parse_qs(urlsplit(links["self"]).query).get("source") == ["alpha"]
    assert "next" not in links
    rec = next(i for i in body["data"] if i["value"] == "203.0.113.1")
    assert rec["type"] == "ipv4"
    assert rec["confidence"] == "high"
    assert rec["score"] == 90
    assert rec["source"]["feed_name"] == "alpha"
    assert rec["source"]["category"] == "government"
    assert rec["tags"] == ["apt28"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rec["id"])
    for field in ("first_seen", "last_seen", "created_at", "updated_at", "valid_until"):
        parse_time(rec[field])


def test_default_list_excludes_expired_and_has_the_rest(srv):
    body = listing(srv)
    got = set(values(body))
    assert body["meta"]["total"] > 100  # the bulk feed alone has 150
    assert len(body["data"]) == 100
    assert EXPIRED_JSON not in got and EXPIRED_CSV not in got
    for rec in body["data"]:
        assert rec["revoked"] is False
        assert parse_time(rec["valid_until"]) > datetime.now(timezone.utc)


# ---- filters ----

def test_type_single(srv):
    body = all_of(srv, "type=domain")
    assert body["meta"]["filters"]["type"] == "domain"
    assert {i["type"] for i in body["data"]} == {"domain"}
    got = set(values(body))
    assert {"evil-alpha.example", "beta-phish.example", OLD} <= got
    assert "203.0.113.1" not in got


def test_type_comma_list(srv):
    body = all_of(srv, "type=sha256,domain")
    assert {i["type"] for i in body["data"]} == {"sha256", "domain"}
    assert set(body["meta"]["filters"]["type"].split(",")) == {"sha256", "domain"}
    assert BETA[4]["value"] in values(body)


@pytest.mark.parametrize("spelling", ["mitre_attack", "mitre-attack"])
def test_type_mitre_attack_and_its_alias(srv, spelling):
    body = all_of(srv, "type=" + spelling)
    assert sorted(values(body)) == ["T1059.001", "TA0001"]
    assert {i["type"] for i in body["data"]} == {"mitre-attack"}
    assert body["meta"]["filters"]["type"] == "mitre-attack"


def test_type_list_with_alias(srv):
    body = all_of(srv, "type=cve,mitre_attack")
    assert sorted(values(body)) == ["CVE-2024-3094", "T1059.001", "TA0001"]


def test_confidence_single(srv):
    body = all_of(srv, "confidence=low")
    assert {i["confidence"] for i in body["data"]} == {"low"}
    assert "198.51.100.12" in values(body)
    assert body["meta"]["filters"]["confidence"] == "low"
    for rec in body["data"]:
        assert 1 <= rec["score"] <= 29


def test_confidence_comma_list(srv):
    body = all_of(srv, "confidence=high,low")
    assert {i["confidence"] for i in body["data"]} == {"high", "low"}
    got = set(values(body))
    assert {"198.51.100.10", "198.51.100.12", "203.0.113.1"} <= got
    assert "198.51.100.11" not in got  # medium
    assert set(body["meta"]["filters"]["confidence"].split(",")) == {"high", "low"}


def test_min_score(srv):
    body = all_of(srv, "min_score=80")
    assert body["data"]
    assert all(i["score"] >= 80 for i in body["data"])
    got = set(values(body))
    assert set(ALPHA) <= got          # 90
    assert "beta-phish.example" not in got  # 75
    assert body["meta"]["filters"]["min_score"] == 80


def test_category(srv):
    body = all_of(srv, "category=government")
    assert sorted(values(body)) == sorted(ALPHA)
    assert body["meta"]["filters"]["category"] == "government"
    body = all_of(srv, "category=commercial")
    assert sorted(values(body)) == sorted(b["value"] for b in BETA)


def test_industry(srv):
    body = all_of(srv, "industry=energy")
    assert sorted(values(body)) == sorted(["198.51.100.10", "beta-phish.example"])
    assert all("energy" in i["industries"] for i in body["data"])
    assert body["meta"]["filters"]["industry"] == "energy"


def test_tag(srv):
    body = all_of(srv, "tag=shared")
    assert sorted(values(body)) == ["198.51.100.10", "198.51.100.11"]
    assert all("shared" in i["tags"] for i in body["data"])
    body = all_of(srv, "tag=apt28")
    assert sorted(values(body)) == sorted(ALPHA)


def test_source(srv):
    body = all_of(srv, "source=attack")
    assert sorted(values(body)) == ["CVE-2024-3094", "T1059.001", "TA0001"]
    for rec in body["data"]:
        assert "attack" in [s["feed_name"] for s in rec["sources"]]
    assert all_of(srv, "source=no-such-feed")["data"] == []


def test_filters_combine(srv):
    body = all_of(srv, "type=ipv4&source=beta&confidence=high,medium")
    assert sorted(values(body)) == ["198.51.100.10", "198.51.100.11"]


def test_since_and_until_window_on_time_added(srv):
    t = iso(srv.window_at)
    after = set(values(all_of(srv, "since=" + t)))
    assert set(WIN_B) <= after
    assert not set(WIN_A) & after
    assert not set(ALPHA) & after
    before = set(values(all_of(srv, "until=" + t)))
    assert set(WIN_A) <= before
    assert not set(WIN_B) & before
    body = all_of(srv, f"since={t}&until={iso(datetime.now(timezone.utc) + timedelta(minutes=1))}")
    assert set(WIN_B) <= set(values(body))
    assert parse_time(body["meta"]["filters"]["since"]) == parse_time(t)


def test_since_counts_time_added_not_first_seen(srv):
    """A record first seen in 2020 but added to cairn today is in today's delta."""
    since = iso(datetime.now(timezone.utc) - timedelta(hours=6))
    for key in (srv.pro, srv.free):
        body = listing(srv, f"since={since}&type=domain&limit=100", key)
        rec = next(i for i in body["data"] if i["value"] == OLD)
        assert rec["first_seen"].startswith("2020-03-01")


def test_include_expired_shows_expired_records(srv):
    default = set(values(all_of(srv, "type=ipv4")))
    assert EXPIRED_JSON not in default and EXPIRED_CSV not in default
    body = all_of(srv, "type=ipv4&include_expired=true")
    assert body["meta"]["filters"]["include_expired"] is True
    recs = {i["value"]: i for i in body["data"]}
    now = datetime.now(timezone.utc)
    for v in (EXPIRED_JSON, EXPIRED_CSV):
        assert v in recs
        assert parse_time(recs[v]["valid_until"]) < now
        assert recs[v]["valid_until"].startswith("2021-01-01")
    assert default <= set(recs)


def test_revoked_record_only_with_include_expired(srv):
    srv.import_text("192.0.2.203\n", "--feed", "to-revoke", name="rev.txt")
    rec = all_of(srv, "source=to-revoke")["data"][0]
    r = srv.post(f"/api/v1/iocs/{rec['id']}/revoke", srv.admin, json={"reason": "false positive"})
    assert r.status_code == 200, r.text
    assert all_of(srv, "source=to-revoke")["data"] == []
    assert "192.0.2.203" not in values(all_of(srv, "type=ipv4"))
    body = all_of(srv, "source=to-revoke&include_expired=true")
    assert [(i["value"], i["revoked"]) for i in body["data"]] == [("192.0.2.203", True)]


# ---- limit, offset, cursor ----

def test_limit_default_is_100(srv):
    body = listing(srv, "source=bulk")
    assert body["meta"]["limit"] == 100
    assert len(body["data"]) == 100
    assert body["meta"]["total"] == 150
    assert "limit_clamped_from" not in body["meta"]


def test_limit_is_clamped_to_the_tier_maximum(srv):
    body = listing(srv, "source=bulk&limit=500", srv.free)
    assert len(body["data"]) == 100
    assert body["meta"]["limit"] == 100
    assert body["meta"]["limit_clamped_from"] == 500
    assert body["meta"]["total"] == 150
    body = listing(srv, "source=bulk&limit=500", srv.pro)
    assert len(body["data"]) == 150
    assert body["meta"]["limit"] == 500
    assert "limit_clamped_from" not in body["meta"]


def test_small_limit(srv):
    body = listing(srv, "source=bulk&limit=7")
    assert len(body["data"]) == 7
    assert body["meta"]["limit"] == 7
    assert body["meta"]["total"] == 150


def test_offset_paging_covers_everything_once(srv):
    want = set(values(all_of(srv, "source=bulk")))
    assert want == set(BULK)
    seen = []
    for offset in range(0, 160, 40):
        body = listing(srv, f"source=bulk&limit=40&offset={offset}")
        assert body["meta"]["offset"] == offset
        assert body["meta"]["limit"] == 40
        seen += values(body)
    assert len(seen) == len(want)
    assert set(seen) == want
    assert listing(srv, "source=bulk&limit=40&offset=150")["data"] == []


def test_cursor_paging_walks_every_record_exactly_once(srv):
    want = set(values(all_of(srv, "source=bulk")))
    url = "/api/v1/iocs?source=bulk&limit=40"
    seen, pages = [], 0
    while True:
        r = srv.get(url, srv.pro)
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        seen += values(body)
        nxt = body["links"].get("next")
        if nxt is None:
            assert body["meta"]["next_cursor"] is None
            break
        cursor = body["meta"]["next_cursor"]
        assert isinstance(cursor, str) and cursor
        assert nxt.startswith(srv.base + "/api/v1/iocs?")
        q = parse_qs(urlsplit(nxt).query)
        assert q["cursor"] == [cursor]
        assert q["source"] == ["bulk"] and q["limit"] == ["40"]
        url = nxt[len(srv.base):]
        assert pages < 20
    assert pages == 4
    assert len(seen) == len(set(seen)) == len(want)
    assert set(seen) == want


def test_cursor_paging_has_no_gaps_or_repeats_while_records_arrive(srv):
    feed = "arriving"
    first = [f"198.19.0.{i}" for i in range(1, 31)]
    srv.import_text("\n".join(first) + "\n", "--feed", feed, name="arriving.txt")
    url = f"/api/v1/iocs?source={feed}&limit=10"
    seen, n = [], 0
    while url:
        body = srv.get(url, srv.pro).json()
        seen += values(body)
        n += 1
        if n == 1:
            # New records and a re-report of one already seen arrive mid-walk.
            items = [{"value": f"198.19.1.{i}", "source": {"feed_name": feed}} for i in range(1, 6)]
            items.append({"value": seen[0], "source": {"feed_name": feed}, "tags": ["again"]})
            r = srv.post("/api/v1/iocs", srv.admin, json=items)
            assert r.status_code in (200, 201), r.text
        nxt = body["links"].get("next")
        url = nxt[len(srv.base):] if nxt else None
        assert n < 20
    assert len(seen) == len(set(seen)), "a record was served twice"
    assert set(first) <= set(seen), "a record was skipped"


# ---- formats ----

CSV_HEADER = ["id", "type", "value", "confidence", "first_seen", "last_seen", "source_article",
              "source_feed", "category", "tags"]


def test_csv_format(srv):
    r = srv.get("/api/v1/iocs?source=beta&format=csv", srv.pro)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.text.splitlines()[0] == ",".join(CSV_HEADER)
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == CSV_HEADER
    body = all_of(srv, "source=beta")
    by_value = {i["value"]: i for i in body["data"]}
    assert sorted(row[2] for row in rows[1:]) == sorted(by_value)
    for row in rows[1:]:
        assert len(row) == 10
        rec = by_value[row[2]]
        assert row[0] == rec["id"]
        assert row[1] == rec["type"]
        assert row[3] == rec["confidence"]
        assert parse_time(row[4]) == parse_time(rec["first_seen"])
        assert parse_time(row[5]) == parse_time(rec["last_seen"])
        assert row[7] == "beta"
        assert row[8] == "commercial"
    tagged = next(row for row in rows[1:] if row[2] == "198.51.100.10")
    assert set(re.split(r"[;,|]", tagged[9])) == {"c2", "shared"}


def test_csv_of_an_empty_result_is_just_the_header(srv):
    r = srv.get("/api/v1/iocs?source=nothing-here&format=csv", srv.pro)
    assert r.status_code == 200
    assert list(csv.reader(io.StringIO(r.text))) == [CSV_HEADER]


def test_txt_format(srv):
    r = srv.get("/api/v1/iocs?source=alpha&format=txt", srv.pro)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    assert sorted(r.text.splitlines()) == sorted(ALPHA)
    assert r.text.endswith("\n")


def test_json_format_explicit(srv):
    assert sorted(values(listing(srv, "source=alpha&format=json"))) == sorted(ALPHA)


@pytest.mark.parametrize("fmt", ["csv", "txt"])
def test_free_tier_gets_json_only(srv, fmt):
    err = error_of(srv.get(f"/api/v1/iocs?format={fmt}", srv.free), 403, "tier_required")
    assert "pro" in err["message"]


def test_free_tier_json_works(srv):
    body = listing(srv, "source=alpha", srv.free)
    assert sorted(values(body)) == sorted(ALPHA)


# ---- lookback ----

def test_free_lookback_clamps_since(srv):
    now = datetime.now(timezone.utc)
    body = listing(srv, "since=2020-01-01T00:00:00Z&type=domain", srv.free)
    since = parse_time(body["meta"]["filters"]["since"])
    assert since >= now - timedelta(days=1, seconds=5)
    assert since <= datetime.now(timezone.utc)
    got = set(values(body))
    assert AGED not in got
    assert OLD in got and "evil-alpha.example" in got


def test_free_lookback_applies_without_since(srv):
    assert AGED not in values(listing(srv, "type=domain", srv.free))
    assert AGED not in values(listing(srv, "source=aged", srv.free))


def test_pro_lookback_is_longer(srv):
    since = iso(datetime.now(timezone.utc) - timedelta(days=10))
    body = listing(srv, f"since={since}&source=aged", srv.pro)
    assert values(body) == [AGED]
    assert parse_time(body["meta"]["filters"]["since"]) == parse_time(since)
    body = listing(srv, "since=2000-01-01T00:00:00Z&source=aged", srv.pro)
    assert parse_time(body["meta"]["filters"]["since"]) >= \
        datetime.now(timezone.utc) - timedelta(days=365, seconds=5)
    assert values(body) == [AGED]


def test_free_key_cannot_fetch_an_aged_record_by_id(srv):
    rec = listing(srv, "source=aged", srv.pro)["data"][0]
    error_of(srv.get(f"/api/v1/iocs/{rec['id']}", srv.free), 403, "lookback_exceeded")
    assert srv.get(f"/api/v1/iocs/{rec['id']}", srv.pro).status_code == 200


# ---- links never carry the key ----

def test_links_never_carry_the_api_key(srv):
    r = srv.get(f"/api/v1/iocs?api_key={srv.pro}&source=bulk&limit=10")
    assert r.status_code == 200
    body = r.json()
    for link in body["links"].values():
        assert srv.pro not in link
        assert "api_key" not in link
    q = parse_qs(urlsplit(body["links"]["self"]).query)
    assert q == {"source": ["bulk"], "limit": ["10"]}
    assert srv.pro not in r.text


# ---- invalid values ----

INVALID = [
    ("type=bogus", "type"),
    ("type=ipv4,bogus", "type"),
    ("type=", "type"),
    ("confidence=critical", "confidence"),
    ("confidence=high,bogus", "confidence"),
    ("confidence=", "confidence"),
    ("min_score=101", "min_score"),
    ("min_score=-1", "min_score"),
    ("min_score=high", "min_score"),
    ("limit=0", "limit"),
    ("limit=-1", "limit"),
    ("limit=abc", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("limit=10000000000", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("offset=-1", "offset"),
    ("offset=abc", "offset"),
    ("since=yesterday", "since"),
    ("since=2026-13-45T00:00:00Z", "since"),
    ("since=1700000000", "since"),
    ("until=notatime", "until"),
    ("cursor=abc", "cursor"),
    ("cursor=c1.zz", "cursor"),
    ("cursor=c1.0", "cursor"),
    ("cursor=", "cursor"),
    ("cursor=c1.5&offset=10", "offset"),
    ("include_expired=maybe", "include_expired"),
    ("format=xml", "format"),
    ("format=stix", "format"),
    # a parameter given twice is ambiguous: refused, never silently one of them
    ("type=ipv4&type=domain", "type"),
    ("confidence=high&confidence=low", "confidence"),
    ("limit=1&limit=2", "limit"),
    ("offset=1&offset=2", "offset"),
    ("since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z", "since"),
    ("category=a&category=b", "category"),
    ("source=a&source=b", "source"),
    ("tag=a&tag=b", "tag"),
    ("industry=a&industry=b", "industry"),
    ("min_score=1&min_score=2", "min_score"),
    ("format=json&format=csv", "format"),
    ("cursor=c1.5&cursor=c1.6", "cursor"),
    ("include_expired=true&include_expired=false", "include_expired"),
]


@pytest.mark.parametrize("query,param", INVALID, ids=[q for q, _ in INVALID])
def test_invalid_value_is_400_naming_the_parameter(srv, query, param):
    err = error_of(srv.get("/api/v1/iocs?" + query, srv.pro), 400, "invalid_parameter")
    assert err["details"].get("parameter") == param, err
    assert param in err["message"], err
