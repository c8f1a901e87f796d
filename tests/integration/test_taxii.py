"""The TAXII 2.1 server (/api/taxii2/), driven by the OASIS taxii2-client against a running cairn.

Two servers per module: `big` holds 50,000 indicator records (25,000 IPv4, 25,000 domains,
interleaved) and is only read; `w` holds the demo feed and takes the writes (add, delete,
revoke); `scratch` takes the objects a wrong answer would leave behind. Every object a test
receives is checked with the OASIS stix2-validator (of the 50,000, every distinct shape and a
1-in-20 sample).
"""
import bisect
import json
import re
import uuid
from base64 import b64encode
from datetime import datetime, timezone

import pytest
import requests
from requests.exceptions import HTTPError
from stix2validator import ValidationOptions, validate_parsed_json
from taxii2client.v21 import ApiRoot, Collection, Server, Status, as_pages

from conftest import ROOT, Cairn

TAXII = "application/taxii+json;version=2.1"
API = "/api/taxii2/api/"
COLLECTIONS = {
    "all": "41105b76-00fd-42b2-9671-86470f727d96",
    "ips": "b3fdd87f-c3d8-4409-a9bc-af8879a2685e",
    "hashes": "27f5f81d-4a5d-4ba6-9584-d59c68fad466",
    "cves": "abcd511c-10f2-4355-ae8d-8b6e4a9bb339",
    "domains": "c4c8bc52-7442-4625-af0c-95151afcbd2a",
    "urls": "9bfd18ce-6664-423f-afda-db14f4c935b4",
}
# Generous request budgets: the suite makes a few thousand requests per key.
RATE = """tiers:
  free: {requests_per_minute: 1000000, requests_per_day: 100000000}
  pro: {requests_per_minute: 1000000, requests_per_day: 100000000}
  admin: {requests_per_minute: 1000000, requests_per_day: 100000000}
"""
N = 25_000
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
ERROR_KEYS = {"title", "description", "error_id", "error_code", "http_status", "external_details",
              "details"}
PATTERN = re.compile(r"\[(ipv4-addr|ipv6-addr|domain-name):value = '([^']+)'\]")


def ip(i):
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


def dom(i):
    return f"h{i}.taxii-walk.example"


def coll_path(name, rest="objects/"):
    return f"{API}collections/{name}/{rest}"


def ts(s):
    """A TAXII timestamp → microseconds since the epoch."""
    d = datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    frac = s[19:].rstrip("Z")
    us = int((frac[1:] + "000000")[:6]) if frac.startswith(".") else 0
    return int(d.timestamp()) * 1_000_000 + us


def fmt(us, digits=6, zone="Z"):
    d = datetime.fromtimestamp(us // 1_000_000, tz=timezone.utc)
    s = d.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{us % 1_000_000:06d}"
    if digits:
        s += "." + (frac + "000")[:digits]
    return s + zone


def validate(objs):
    """Every object served validates with the OASIS validator, in its own spec version."""
    for o in objs:
        res = validate_parsed_json(o, ValidationOptions(version=o.get("spec_version", "2.0")))
        assert res.is_valid, (o.get("id"), [e.message for e in res.errors])
    return objs


def taxii_error(resp, status, code=None):
    """Asserts a TAXII 2.1 error message in TAXII's media type, and returns it."""
    assert resp.status_code == status, (resp.status_code, resp.text[:400])
    assert resp.headers["Content-Type"] == TAXII
    err = resp.json()
    assert ERROR_KEYS <= set(err), err
    assert err["http_status"] == str(status)
    assert isinstance(err["title"], str) and err["title"]
    assert isinstance(err["description"], str) and err["description"]
    assert isinstance(err["details"], dict)
    assert "<html" not in resp.text.lower()
    if code:
        assert err["error_code"] == code, err
    return err


def ok(resp, status=200):
    assert resp.status_code == status, (resp.status_code, resp.text[:400])
    assert resp.headers["Content-Type"] == TAXII
    return resp.json() if resp.content else None


def basic(key, user="apikey"):
    return {"Authorization": "Basic " + b64encode(f"{user}:{key}".encode()).decode()}


class Taxii:
    """requests against one server with one key (HTTP Basic, as TAXII clients do)."""

    def __init__(self, c, key):
        self.c, self.key = c, key
        self.s = requests.Session()
        self.s.auth = ("apikey", key)

    def get(self, path, params=None, headers=None):
        return self.s.get(self.c.base + path, params=params, headers=headers or {}, timeout=60)

    def post(self, path, body, content_type=TAXII, headers=None):
        h = {"Content-Type": content_type, **(headers or {})}
        data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else json.dumps(body)
        return self.s.post(self.c.base + path, data=data, headers=h, timeout=60)

    def delete(self, path, params=None):
        return self.s.delete(self.c.base + path, params=params, timeout=60)

    def objects(self, coll="all", **params):
        return ok(self.get(coll_path(coll), params))

    def manifest(self, coll="all", **params):
        return ok(self.get(coll_path(coll, "manifest/"), params))

    def add(self, objs, coll="all"):
        st = ok(self.post(coll_path(coll), {"objects": objs}), 202)
        return st


# ---------------------------------------------------------------------------------------------
# fixtures

@pytest.fixture(scope="module")
def big(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("taxii-big"), RATE)
    lines = []
    for i in range(N):
        lines += [ip(i), dom(i)]
    p = c.import_text("\n".join(lines) + "\n", "--feed", "walk", name="walk.txt")
    assert "new 50000" in p.stdout + p.stderr, p.stdout + p.stderr
    c.pro = c.key("pro")
    c.pro2 = c.key("pro", name="second-pro")
    c.admin = c.key("admin")
    c.free = c.key("free")
    c.start()
    c.t = Taxii(c, c.pro)
    yield c
    assert c.stop() == 0


@pytest.fixture(scope="module")
def big_manifest(big):
    """The whole manifest of `all`, walked with limit=10000: (entries, [(headers, page)])."""
    entries, pages = [], []
    params = {"limit": 10000}
    while True:
        r = big.t.get(coll_path("all", "manifest/"), params)
        body = ok(r)
        pages.append((r.headers, body.get("objects", [])))
        entries += body.get("objects", [])
        if not body["more"]:
            break
        params = {"limit": 10000, "next": body["next"]}
    return entries, pages


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("taxii-w"), RATE + "taxii:\n  max_content_length: 65536\n")
    c.run("import", "--config", c.config, "--feed", "demo", ROOT / "examples" / "demo-feed.csv")
    c.import_text("value,type,first_seen,valid_until\n"
                  "192.0.2.200,ipv4,2019-01-01T00:00:00Z,2020-01-01T00:00:00Z\n",
                  "--feed", "old", name="old.csv")
    c.pro = c.key("pro")
    c.admin = c.key("admin")
    c.admin2 = c.key("admin", name="second-admin")
    c.free = c.key("free")
    c.start()
    c.t = Taxii(c, c.pro)
    c.a = Taxii(c, c.admin)
    yield c
    assert c.stop() == 0


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A server of its own for objects that a wrong answer would leave in `w`."""
    c = Cairn(tmp_path_factory.mktemp("taxii-scratch"), RATE)
    c.pro, c.admin = c.key("pro"), c.key("admin")
    c.start()
    c.t, c.a = Taxii(c, c.pro), Taxii(c, c.admin)
    yield c
    assert c.stop() == 0


def new_id(t):
    return f"{t}--{uuid.uuid4()}"


def malware(oid=None, modified="2024-01-01T00:00:00.000Z", name="Wiper", spec="2.1"):
    o = {"type": "malware", "id": oid or new_id("malware"), "created": "2024-01-01T00:00:00.000Z",
         "modified": modified, "name": name}
    if spec == "2.1":
        o.update(spec_version="2.1", is_family=True)
    else:
        o["labels"] = ["trojan"]
    return o


def indicator(oid=None, modified="2024-01-01T00:00:00.000Z", pattern="[file:name = 'dropper.exe']"):
    return {"type": "indicator", "spec_version": "2.1", "id": oid or new_id("indicator"),
            "created": "2024-01-01T00:00:00.000Z", "modified": modified, "name": "test indicator",
            "pattern": pattern, "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}


def attack_pattern():
    return {"type": "attack-pattern", "spec_version": "2.1", "id": new_id("attack-pattern"),
            "created": "2024-02-01T00:00:00.000Z", "modified": "2024-02-01T00:00:00.000Z",
            "name": "Spearphishing Attachment"}


# ---------------------------------------------------------------------------------------------
# discovery, API root, collections

def test_discovery_and_api_root_through_taxii2_client(big):
    server = Server(big.base + "/api/taxii2/", user="apikey", password=big.pro)
    assert server.title and server.description
    assert [r.url for r in server.api_roots] == [big.base + API]
    assert server.default is not None and server.default.url == big.base + API
    root = server.default
    assert root.title and root.description
    assert root.versions == [TAXII]
    assert isinstance(root.max_content_length, int) and root.max_content_length == 10 * 1024 * 1024
    # Without the trailing slash too (taxii2-client adds one; other clients do not).
    assert ok(big.t.get("/api/taxii2")) == server._raw
    assert ok(big.t.get("/api/taxii2/api")) == root._raw


def test_api_roots_are_absolute_from_the_host_header_or_base_url(big, make_cairn):
    d = ok(big.t.get("/api/taxii2/", headers={"Host": "cti.example.net:8443"}))
    assert d["api_roots"] == ["http://cti.example.net:8443/api/taxii2/api/"]
    assert d["default"] == "http://cti.example.net:8443/api/taxii2/api/"
    c = make_cairn(RATE + "base_url: https://intel.example.org/\n")
    key = c.key("pro")
    c.start()
    server = Server(c.base + "/api/taxii2/", user="apikey", password=key)
    assert server._raw["api_roots"] == ["https://intel.example.org/api/taxii2/api/"]
    assert server._raw["default"] == "https://intel.example.org/api/taxii2/api/"


def test_collections_have_uuid4_ids_aliases_and_rights(big):
    root = ApiRoot(big.base + API, user="apikey", password=big.pro)
    cols = root.collections
    assert {c.alias: c.id for c in cols} == COLLECTIONS
    for c in cols:
        u = uuid.UUID(c.id)
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == c.id
        assert c.title and c.description
        assert c.can_read is True and c.can_write is False
        assert c.media_types == ["application/stix+json;version=2.1"]
    # A stable order.
    again = ok(big.t.get(API + "collections/"))["collections"]
    assert [c["id"] for c in again] == [c.id for c in cols]
    admin = ApiRoot(big.base + API, user="apikey", password=big.admin).collections
    assert all(c.can_read is True and c.can_write is True for c in admin)


def test_a_collection_by_id_or_by_alias(big):
    for alias, cid in COLLECTIONS.items():
        by_id = ok(big.t.get(f"{API}collections/{cid}/"))
        assert by_id == ok(big.t.get(f"{API}collections/{alias}/"))
        assert by_id == ok(big.t.get(f"{API}collections/{alias}"))
        assert by_id["id"] == cid and by_id["alias"] == alias
        col = Collection(f"{big.base}{API}collections/{cid}/", user="apikey", password=big.pro)
        assert col.alias == alias and col.can_read
    a = big.t.objects("ips", limit=7)
    b = big.t.objects(COLLECTIONS["ips"], limit=7)
    assert a["objects"] == b["objects"] and len(a["objects"]) == 7


# ---------------------------------------------------------------------------------------------
# the 50,000-object walk

def shape(o):
    return (o["type"], tuple(sorted(o)), re.sub(r"'[^']*'", "''", o.get("pattern", "")))


def test_as_pages_walks_50000_objects_once_in_date_added_order(big, big_manifest):
    root = ApiRoot(big.base + API, user="apikey", password=big.pro)
    col = next(c for c in root.collections if c.alias == "all")
    heads = []
    col._conn.session.hooks["response"].append(lambda r, *a, **k: heads.append(r.headers))
    seen, pages = [], 0
    for env in as_pages(col.get_objects, per_request=1000):
        pages += 1
        objs = env.get("objects", [])
        assert len(objs) == 1000
        assert ("next" in env) == env["more"]
        seen += objs
    assert pages == 50 and len(heads) == 50
    ids = [o["id"] for o in seen]
    assert len(set(ids)) == len(ids) == 2 * N
    values = {PATTERN.fullmatch(o["pattern"]).group(2) for o in seen}
    assert values == {ip(i) for i in range(N)} | {dom(i) for i in range(N)}
    # date_added order: the pages' header ranges are ordered and disjoint, and the walk is
    # the manifest's order, whose date_added values strictly increase.
    firsts = [ts(h["X-TAXII-Date-Added-First"]) for h in heads]
    lasts = [ts(h["X-TAXII-Date-Added-Last"]) for h in heads]
    assert all(STAMP.fullmatch(h["X-TAXII-Date-Added-First"]) for h in heads)
    assert all(f <= l for f, l in zip(firsts, lasts))
    assert all(lasts[i] < firsts[i + 1] for i in range(len(heads) - 1))
    entries, _ = big_manifest
    assert [e["id"] for e in entries] == ids
    added = [ts(e["date_added"]) for e in entries]
    assert all(a < b for a, b in zip(added, added[1:]))
    assert firsts[0] == added[0] and lasts[-1] == added[-1]
    for p in range(50):
        assert firsts[p] == added[1000 * p] and lasts[p] == added[1000 * p + 999]
    # The OASIS validator over every distinct shape of object, and a 1-in-20 sample of values
    # (all 50,000 would take minutes: the validator costs about 4 ms an object).
    shapes = {}
    sample = [o for i, o in enumerate(seen) if i % 20 == 0 or shapes.setdefault(shape(o), i) == i]
    assert len(shapes) >= 2
    validate(sample)
    for o in sample:
        assert o["spec_version"] == "2.1" and o["type"] == "indicator"
        assert o["valid_until"] > o["valid_from"]


def test_the_manifest_walk(big, big_manifest):
    entries, pages = big_manifest
    assert len(entries) == 2 * N and len(pages) == 5
    for headers, page in pages:
        assert len(page) == 10000
        assert headers["X-TAXII-Date-Added-First"] == page[0]["date_added"]
        assert headers["X-TAXII-Date-Added-Last"] == page[-1]["date_added"]
    for e in entries[:200] + entries[-200:]:
        assert set(e) == {"id", "date_added", "version", "media_type"}
        assert STAMP.fullmatch(e["date_added"]) and STAMP.fullmatch(e["version"])
        assert e["media_type"] == "application/stix+json;version=2.1"
        assert e["id"].startswith("indicator--")


def test_type_collections_hold_their_own_records(big):
    col = Collection(f"{big.base}{API}collections/{COLLECTIONS['ips']}/", user="apikey",
                     password=big.pro)
    got = [o for env in as_pages(col.get_objects, per_request=5000) for o in env.get("objects", [])]
    assert len(got) == N
    assert {PATTERN.fullmatch(o["pattern"]).groups() for o in got} == {("ipv4-addr", ip(i)) for i in range(N)}
    dom_ids = []
    params = {"limit": 10000}
    while True:
        m = big.t.manifest("domains", **params)
        dom_ids += [e["id"] for e in m["objects"]]
        if not m["more"]:
            break
        params = {"limit": 10000, "next": m["next"]}
    assert len(set(dom_ids)) == N
    assert set(dom_ids).isdisjoint(o["id"] for o in got)
    for alias in ("hashes", "cves", "urls"):
        r = big.t.get(coll_path(alias))
        assert ok(r) == {"more": False}


# ---------------------------------------------------------------------------------------------
# added_after, limit, match[]

def test_added_after_is_strictly_greater_than_date_added(big, big_manifest):
    entries, _ = big_manifest
    added = [ts(e["date_added"]) for e in entries]
    k = 31_337
    d = added[k]
    assert added.count(d) == 1 and added[k - 1] < d < added[k + 1]
    r = big.t.get(coll_path("all"), {"added_after": entries[k]["date_added"], "limit": 3})
    body = ok(r)
    assert [o["id"] for o in body["objects"]] == [e["id"] for e in entries[k + 1:k + 4]]
    assert r.headers["X-TAXII-Date-Added-First"] == entries[k + 1]["date_added"]
    validate(body["objects"])
    r = big.t.get(coll_path("all", "manifest/"), {"added_after": fmt(d - 1), "limit": 2})
    assert [e["id"] for e in ok(r)["objects"]] == [entries[k]["id"], entries[k + 1]["id"]]
    # Every RFC 3339 form: 0 to 9 fraction digits, Z or +00:00.
    for digits in (0, 1, 3, 6, 9):
        for zone in ("Z", "+00:00"):
            after = fmt(d, digits, zone)
            want = bisect.bisect_right(added, ts(fmt(d, digits)))
            m = ok(big.t.get(coll_path("all", "manifest/"), {"added_after": after, "limit": 1}))
            assert m["objects"][0]["id"] == entries[want]["id"], after


def test_bad_timestamps_and_repeated_parameters_are_400(big):
    for bad in ("2026-11-23", "yesterday", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z",
                "2026-11-23T25:00:00Z", "1700000000", ""):
        taxii_error(big.t.get(coll_path("all"), {"added_after": bad}), 400)
    taxii_error(big.t.get(coll_path("all") + "?added_after=2020-01-01T00:00:00Z"
                          "&added_after=2021-01-01T00:00:00Z"), 400)
    taxii_error(big.t.get(coll_path("all") + "?limit=5&limit=5"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[type]=indicator&match[type]=malware"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[id]=a--b&match[id]=c--d"), 400)
    taxii_error(big.t.get(coll_path("all", "manifest/") + "?match[version]=last&match[version]=first"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[version]=all,last"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[version]=first,all"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[version]=2024-13-01T00:00:00Z"), 400)
    taxii_error(big.t.get(coll_path("all") + "?match[version]=newest"), 400)
    first = big.t.objects(limit=1)
    taxii_error(big.t.get(coll_path("all") + f"?next={first['next']}&next={first['next']}"), 400)


def test_limit(big):
    body = big.t.objects(limit=1)
    assert len(body["objects"]) == 1 and body["more"] is True and body["next"]
    assert len(big.t.objects()["objects"]) == 1000           # taxii.default_page
    body = big.t.objects(limit=20000)                         # clamped to max_page 10000
    assert len(body["objects"]) == 10000 and body["more"] is True
    body = big.t.objects(limit=10 ** 30)                      # a positive integer, clamped too
    assert len(body["objects"]) == 10000
    for bad in ("0", "-1", "abc", "1.5", "", "10x", "+5", " 5", "0x10", "1e3"):
        err = taxii_error(big.t.get(coll_path("all"), {"limit": bad}), 400)
        assert "limit" in err["description"]


def test_limit_is_clamped_to_max_page_and_the_tier_maximum(make_cairn):
    c = make_cairn("""tiers:
  free: {requests_per_minute: 1000000, requests_per_day: 100000000}
  pro: {max_results: 7, requests_per_minute: 1000000, requests_per_day: 100000000}
  admin: {requests_per_minute: 1000000, requests_per_day: 100000000}
taxii:
  default_page: 5
  max_page: 50
""")
    c.import_text("".join(f"clamp{i}.example\n" for i in range(120)), name="clamp.txt")
    pro, admin = c.key("pro"), c.key("admin")
    c.start()
    tp, ta = Taxii(c, pro), Taxii(c, admin)
    assert len(tp.objects()["objects"]) == 5
    assert len(tp.objects(limit=100)["objects"]) == 7
    assert len(ta.objects(limit=100)["objects"]) == 50
    assert len(ta.objects(limit=3)["objects"]) == 3
    # Clamped pages still walk everything.
    seen, params = [], {"limit": 100}
    while True:
        b = tp.manifest(**params)
        seen += [e["id"] for e in b["objects"]]
        if not b["more"]:
            break
        params = {"limit": 100, "next": b["next"]}
    assert len(seen) == len(set(seen)) == 120


def test_match_filters(w):
    m1, m2, a1 = malware(), malware(spec="2.0"), attack_pattern()
    i1 = indicator()
    st = w.a.add([m1, m2, a1, i1])
    assert st["success_count"] == 4
    ids = [m1["id"], m2["id"], a1["id"], i1["id"]]
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.pro)

    def got(**kw):
        env = col.get_objects(**kw)
        return validate(env.get("objects", []))

    assert {o["id"] for o in got(id=ids)} == set(ids)
    assert {o["id"] for o in got(id=ids, type="malware")} == {m1["id"], m2["id"]}
    assert {o["id"] for o in got(id=ids, type=["malware", "attack-pattern"])} == {m1["id"], m2["id"], a1["id"]}
    assert {o["id"] for o in got(id=[m1["id"], a1["id"]], type="indicator")} == set()
    assert {o["id"] for o in got(id=ids, spec_version="2.0")} == {m2["id"]}
    assert {o["id"] for o in got(id=ids, spec_version="2.1")} == {m1["id"], a1["id"], i1["id"]}
    assert {o["id"] for o in got(id=ids, spec_version="2.0,2.1", type="malware")} == {m1["id"], m2["id"]}
    # Spaces after commas are allowed in lists.
    body = w.t.objects(**{"match[id]": f"{m1['id']}, {a1['id']}"})
    assert {o["id"] for o in body["objects"]} == {m1["id"], a1["id"]}
    # An unknown type is an empty result, not an error.
    r = w.t.get(coll_path("all"), {"match[type]": "no-such-type"})
    assert ok(r) == {"more": False}
    r = w.t.get(coll_path("all"), {"match[id]": "indicator--" + str(uuid.uuid4())})
    assert ok(r) == {"more": False}
    # The manifest takes the same filters.
    man = w.t.manifest(**{"match[id]": ",".join(ids), "match[type]": "malware"})
    assert {e["id"]: e["media_type"] for e in man["objects"]} == {
        m1["id"]: "application/stix+json;version=2.1", m2["id"]: "application/stix+json;version=2.0"}


def test_type_collections_take_the_type_filter(big):
    body = big.t.objects("ips", **{"match[type]": "indicator", "limit": 5})
    assert len(body["objects"]) == 5
    assert ok(big.t.get(coll_path("ips"), {"match[type]": "malware"})) == {"more": False}


# ---------------------------------------------------------------------------------------------
# next tokens

def test_next_token_rules(big, big_manifest):
    entries, _ = big_manifest
    t, t2 = big.t, Taxii(big, big.pro2)
    p1 = t.manifest(limit=10)
    tok = p1["next"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", tok)
    # The next page, and limit may change between pages.
    assert [e["id"] for e in t.manifest(next=tok, limit=25)["objects"]] == [e["id"] for e in entries[10:35]]
    # The later of next and added_after is used.
    assert [e["id"] for e in t.manifest(next=tok, limit=5, added_after=entries[19]["date_added"])["objects"]] == \
        [e["id"] for e in entries[20:25]]
    assert [e["id"] for e in t.manifest(next=tok, limit=5, added_after=entries[2]["date_added"])["objects"]] == \
        [e["id"] for e in entries[10:15]]
    # Bound to the key, the collection and the resource.
    taxii_error(t2.get(coll_path("all", "manifest/"), {"next": tok}), 400)
    taxii_error(t.get(coll_path("ips", "manifest/"), {"next": tok}), 400)
    taxii_error(t.get(coll_path("all"), {"next": tok}), 400)
    # Tampered or made up.
    flipped = tok[:20] + ("A" if tok[20] != "A" else "B") + tok[21:]
    for bad in (flipped, tok[:-1], tok + "A", "abc", "!!!!", "A" * 400):
        taxii_error(t.get(coll_path("all", "manifest/"), {"next": bad}), 400)


def test_next_carries_the_match_filters(big):
    t = big.t
    flt = {"match[type]": "indicator", "match[version]": "last", "match[spec_version]": "2.1"}
    full = t.objects("ips", limit=30, **flt)["objects"]
    p1 = t.objects("ips", limit=10, **flt)
    assert p1["objects"] == full[:10]
    # With the filters repeated, or with next alone.
    assert t.objects("ips", limit=10, next=p1["next"], **flt)["objects"] == full[10:20]
    assert t.objects("ips", limit=10, next=p1["next"])["objects"] == full[10:20]
    # Filters that differ from the token's: 400.
    taxii_error(t.get(coll_path("ips"), {"next": p1["next"], "match[type]": "malware"}), 400)
    taxii_error(t.get(coll_path("ips"), {"next": p1["next"], "match[spec_version]": "2.0"}), 400)
    # A sparse filter keeps the walk going even when a page comes back short.
    target = [o["id"] for o in t.objects("ips", limit=3)["objects"]]
    seen, params = [], {"limit": 1, "match[id]": ",".join(target)}
    for _ in range(10):
        b = t.objects("ips", **params)
        seen += [o["id"] for o in b.get("objects", [])]
        if not b["more"]:
            break
        params = {"limit": 1, "next": b["next"]}
    assert seen == target


def test_an_unescaped_plus_in_added_after(big, big_manifest):
    """`+00:00` left unescaped in a query string arrives as a space: it is taken back."""
    entries, _ = big_manifest
    d = ts(entries[100]["date_added"])
    r = big.t.get(coll_path("all", "manifest/") + f"?limit=1&added_after={fmt(d, 6, '+00:00')}")
    assert ok(r)["objects"][0]["id"] == entries[101]["id"]


def test_next_keeps_its_place_while_objects_are_added(w):
    ids = [malware()["id"] for _ in range(6)]
    w.a.add([malware(i) for i in ids[:4]])
    flt = {"match[id]": ",".join(ids), "limit": 3}
    p1 = w.t.objects(**flt)
    assert [o["id"] for o in p1["objects"]] == ids[:3] and p1["more"] is True
    w.a.add([malware(i) for i in ids[4:]])
    p2 = w.t.objects(next=p1["next"], limit=3)
    assert [o["id"] for o in p2["objects"]] == ids[3:] and p2["more"] is False


def test_next_alone_after_a_long_match_id_list(w):
    """A token stands for its filters however long they are: a client that sends only next and
    limit (as Elastic does) continues the walk after a 100-id match[id]."""
    objs = [malware() for _ in range(100)]
    assert w.a.add(objs)["success_count"] == 100
    ids = ",".join(o["id"] for o in objs)
    p1 = w.t.objects(**{"match[id]": ids, "limit": 40})
    assert [o["id"] for o in p1["objects"]] == [o["id"] for o in objs[:40]]
    p2 = w.t.objects(**{"match[id]": ids, "limit": 40, "next": p1["next"]})
    assert [o["id"] for o in p2["objects"]] == [o["id"] for o in objs[40:80]]
    alone = w.t.objects(limit=40, next=p1["next"])
    assert alone["objects"] == p2["objects"]


def test_an_empty_page_echoes_added_after(big, big_manifest):
    entries, _ = big_manifest
    last = entries[-1]["date_added"]
    for path in (coll_path("all"), coll_path("all", "manifest/")):
        r = big.t.get(path, {"added_after": last})
        assert ok(r) == {"more": False}
        assert r.headers["X-TAXII-Date-Added-First"] == last
        assert r.headers["X-TAXII-Date-Added-Last"] == last
    r = big.t.get(coll_path("all"), {"added_after": "2099-01-01T00:00:00Z"})
    assert ok(r) == {"more": False}
    assert r.headers["X-TAXII-Date-Added-Last"] == "2099-01-01T00:00:00.000000Z"


def test_collections_from_configuration(make_cairn):
    c = make_cairn(RATE + """taxii:
  collections:
    - {id: 0b1e4a32-3f7c-4c89-9d3c-2f6c1d0e5a77, alias: edr-feed, title: EDR feed, types: [sha256, md5]}
    - {id: 7d4f8c1e-9b2a-4e3f-a1c5-6b7e8f9a0b1c, alias: secret, read: admin}
""")
    c.import_text("44d88612fea8a8f36de82e1278abb02f\nevil.example\n", name="mixed.txt")
    pro, admin = c.key("pro"), c.key("admin")
    c.start()
    tp = Taxii(c, pro)
    cols = ok(tp.get(API + "collections/"))["collections"]
    assert [(x["id"], x["alias"], x["title"]) for x in cols] == [
        ("0b1e4a32-3f7c-4c89-9d3c-2f6c1d0e5a77", "edr-feed", "EDR feed")]
    objs = validate(tp.objects("edr-feed")["objects"])
    assert [o["pattern"] for o in objs] == ["[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']"]
    taxii_error(tp.get(coll_path("all")), 404)           # the defaults are replaced
    taxii_error(tp.get(coll_path("secret")), 404)        # invisible to pro
    assert len(Taxii(c, admin).objects("secret")["objects"]) == 2


def test_no_collections_is_an_empty_object(make_cairn):
    c = make_cairn(RATE + "taxii:\n  collections: []\n")
    key = c.key("admin")
    c.start()
    assert ok(Taxii(c, key).get(API + "collections/")) == {}


def test_a_collection_id_that_is_not_a_uuid4_stops_start_up(make_cairn):
    c = make_cairn("taxii:\n  collections:\n    - {id: 12345678-1234-1234-1234-123456789012, alias: x}\n")
    with pytest.raises(AssertionError) as e:
        c.start()
    assert c.proc.wait() != 0
    c.err.close(), c.out.close()
    c.proc = None
    assert "taxii.collections[0].id" in str(e.value) and "UUIDv4" in str(e.value)


def test_empty_objects_switch(make_cairn):
    c = make_cairn(RATE + "taxii:\n  empty_objects: true\n")
    key = c.key("pro")
    c.start()
    t = Taxii(c, key)
    assert t.objects() == {"more": False, "objects": []}
    assert t.manifest() == {"more": False, "objects": []}


# ---------------------------------------------------------------------------------------------
# add, status, versions, manifest, delete

def test_add_objects_and_poll_the_status(w):
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.admin)
    good = [malware(), attack_pattern(), indicator(), malware(spec="2.0")]
    bad = dict(indicator(), pattern="[ipv4-addr:value = ")
    no_name = malware()
    del no_name["name"]
    for o in (bad, no_name):   # the OASIS validator agrees they are invalid
        assert not validate_parsed_json(o, ValidationOptions(version="2.1")).is_valid
    status = col.add_objects({"objects": good + [bad, no_name]}, wait_for_completion=True,
                             poll_interval=0.1, timeout=10)
    assert status.status == "complete"
    u = uuid.UUID(status.id)
    assert u.version == 4 and str(u) == status.id
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (6, 4, 2, 0)
    assert status.pendings == []
    assert {(s["id"], s["version"]) for s in status.successes} == {
        (o["id"], fmt(ts(o["modified"]))) for o in good}
    assert {f["id"] for f in status.failures} == {bad["id"], no_name["id"]}
    assert all(isinstance(f["message"], str) and f["message"] for f in status.failures)
    assert STAMP.fullmatch(status.request_timestamp)
    # Polling the status: taxii2-client's URL has no trailing slash; with one too.
    polled = Status(f"{w.base}{API}status/{status.id}", user="apikey", password=w.admin)
    assert polled._raw == status._raw
    assert ok(w.a.get(f"{API}status/{status.id}/")) == status._raw
    root = ApiRoot(w.base + API, user="apikey", password=w.admin)
    assert root.get_status(status.id)._raw == status._raw
    # Another key does not see it; an unknown status is 404.
    taxii_error(Taxii(w, w.admin2).get(f"{API}status/{status.id}/"), 404)
    taxii_error(w.a.get(f"{API}status/{uuid.uuid4()}/"), 404)
    taxii_error(w.a.get(f"{API}status/not-a-uuid/"), 404)
    # The good objects are stored as posted; the bad ones are not.
    for o in good:
        env = col.get_object(o["id"])
        assert env["objects"] == [o]
        validate(env["objects"])
    taxii_error(w.t.get(coll_path("all", f"objects/{bad['id']}/")), 404)
    taxii_error(w.t.get(coll_path("all", f"objects/{no_name['id']}/")), 404)
    # Adding the same id and version again is a success and makes no new version.
    again = col.add_objects({"objects": good}, poll_interval=0.1, timeout=10)
    assert (again.total_count, again.success_count, again.failure_count) == (4, 4, 0)
    assert again.id != status.id
    for o in good:
        assert col.object_versions(o["id"])["versions"] == [fmt(ts(o["modified"]))]


def test_add_reports_every_item_of_the_envelope(w):
    """Each item of `objects` is counted: what is not a STIX object is a failure with a reason,
    and does not stop the good objects around it from being stored."""
    m1, m2 = malware(), malware()
    st = w.a.add([42, m1, "text", {"foo": 1}, m2])
    assert st["total_count"] == 5, st
    assert st["success_count"] == 2 and st["failure_count"] == 3, st
    assert len(st["failures"]) == 3 and all(f["message"] for f in st["failures"])
    for o in (m1, m2):
        assert w.t.objects(**{"match[id]": o["id"]})["objects"] == [o]


def _bad_indicator():
    return dict(indicator(), valid_from="2024-01-01T00:00:00Z", valid_until="2023-01-01T00:00:00Z")


# Objects that break a STIX 2.1 rule on a common property, a timestamp or a property of their
# type: the OASIS validator rejects each, so a server that stored them would serve invalid STIX.
BROKEN = {
    "created_by_ref not an identifier": lambda: malware() | {"created_by_ref": "identity--nope"},
    "object_marking_refs not a list": lambda: malware() | {"object_marking_refs": "marking-definition--x"},
    "labels not a list": lambda: malware() | {"labels": "trojan"},
    "confidence over 100": lambda: malware() | {"confidence": 150},
    "revoked not a boolean": lambda: malware() | {"revoked": "yes"},
    "lang not a string": lambda: malware() | {"lang": 5},
    "external reference without source_name": lambda: malware() | {"external_references": [{"url": "x"}]},
    "property name with a space": lambda: malware() | {"Foo Bar": "x"},
    "name not a string": lambda: malware() | {"name": 5},
    "is_family not a boolean": lambda: malware() | {"is_family": "yes"},
    "valid_until before valid_from": _bad_indicator,
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_objects_breaking_stix_rules_are_failures(scratch, case):
    o = BROKEN[case]()
    assert not validate_parsed_json(o, ValidationOptions(version="2.1")).is_valid
    good = malware()
    st = scratch.a.add([o, good])
    assert st["success_count"] == 1 and st["failure_count"] == 1, st
    assert st["failures"][0]["id"] == o["id"] and st["failures"][0]["message"]
    taxii_error(scratch.t.get(coll_path("all", f"objects/{o['id']}/")), 404)
    assert scratch.t.objects(**{"match[id]": good["id"]})["objects"] == [good]


@pytest.mark.parametrize("stamp", ["1969-07-20T20:17:40.000Z", "1970-01-01T00:00:00.000Z", "1601-01-01T00:00:00.000Z"])
def test_objects_dated_at_or_before_the_epoch_are_stored(scratch, stamp):
    """STIX timestamps are RFC 3339: any year. An object created at the Unix epoch is not
    'missing' its created."""
    o = malware(modified=stamp) | {"created": stamp}
    assert validate_parsed_json(o, ValidationOptions(version="2.1")).is_valid
    st = scratch.a.add([o])
    assert st["success_count"] == 1, st
    assert [s["version"] for s in st["successes"]] == [stamp[:-1] + "000Z"]
    assert ok(scratch.t.get(coll_path("all", f"objects/{o['id']}/versions/")))["versions"] == [stamp[:-1] + "000Z"]
    assert ok(scratch.t.get(coll_path("all", f"objects/{o['id']}/"), {"match[version]": stamp}))["objects"] == [o]


def test_added_after_takes_any_rfc3339_date(scratch):
    """A first poll 'from the beginning' names an early date; it gets everything."""
    scratch.a.add([malware()])
    everything = scratch.t.manifest(limit=5)["objects"]
    for start in ("1970-01-01T00:00:00Z", "1900-01-01T00:00:00Z", "0001-01-01T00:00:00Z"):
        r = scratch.t.get(coll_path("all", "manifest/"), {"added_after": start, "limit": 5})
        assert ok(r)["objects"] == everything, start


def test_posted_indicators_join_the_type_collections_and_the_rest_api(w):
    ind = indicator(pattern="[ipv4-addr:value = '198.18.7.77']")
    ind["indicator_types"] = ["malicious-activity"]
    assert w.a.add([ind])["success_count"] == 1
    # In `all` as posted, and as cairn's record; in `ips` as the record.
    recs = [o for o in w.t.objects("ips", **{"match[version]": "all"}).get("objects", [])
            if o["pattern"] == "[ipv4-addr:value = '198.18.7.77']"]
    assert len(recs) == 1 and recs[0]["id"] != ind["id"]
    validate(recs)
    both = w.t.objects(**{"match[id]": f"{ind['id']},{recs[0]['id']}"})["objects"]
    assert {o["id"] for o in both} == {ind["id"], recs[0]["id"]}
    r = w.get("/api/v1/lookup?value=198.18.7.77", w.pro)
    assert r.status_code == 200 and r.json()["data"]["found"] is True
    assert r.json()["data"]["id"] == recs[0]["id"].split("--", 1)[1]
    r = w.get("/api/v1/iocs?source=taxii&type=ipv4", w.pro)
    assert "198.18.7.77" in {d["value"] for d in r.json()["data"]}
    # A STIX 2.0 indicator too.
    old = {"type": "indicator", "id": new_id("indicator"), "created": "2017-01-27T13:49:53.935Z",
           "modified": "2017-01-27T13:49:53.935Z", "labels": ["malicious-activity"],
           "pattern": "[domain-name:value = 'stix20.taxii-post.example']", "valid_from": "2017-01-27T13:49:53.935Z"}
    assert w.a.add([old])["success_count"] == 1
    recs = [o for o in w.t.objects("domains").get("objects", [])
            if o["pattern"] == "[domain-name:value = 'stix20.taxii-post.example']"]
    assert len(recs) == 1 and recs[0]["spec_version"] == "2.1"
    validate(recs)
    assert w.t.manifest(**{"match[id]": old["id"]})["objects"][0]["media_type"] == "application/stix+json;version=2.0"
    assert w.get("/api/v1/lookup?value=stix20.taxii-post.example", w.pro).json()["data"]["found"] is True


def test_versions_and_manifest_of_one_object(w):
    oid = new_id("indicator")
    mods = ["2024-03-01T10:00:00.000Z", "2024-03-02T10:00:00.000Z", "2024-03-03T10:00:00.123Z"]
    for m in mods:   # three requests, so the versions get distinct, increasing date_added
        assert w.a.add([indicator(oid, m)])["success_count"] == 1
    want = [fmt(ts(m)) for m in mods]
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.pro)
    v = col.object_versions(oid)
    assert v == {"more": False, "versions": want}
    r = w.t.get(coll_path("all", f"objects/{oid}/versions/"))
    assert STAMP.fullmatch(r.headers["X-TAXII-Date-Added-First"])
    assert ts(r.headers["X-TAXII-Date-Added-First"]) < ts(r.headers["X-TAXII-Date-Added-Last"])
    assert ok(w.t.get(coll_path("all", f"objects/{oid}/versions"))) == v
    # Versions page like everything else.
    p = w.t.get(coll_path("all", f"objects/{oid}/versions/"), {"limit": 2}).json()
    assert p["versions"] == want[:2] and p["more"] is True
    p2 = ok(w.t.get(coll_path("all", f"objects/{oid}/versions/"), {"limit": 2, "next": p["next"]}))
    assert p2 == {"more": False, "versions": want[2:]}

    def modified(**kw):
        env = col.get_object(oid, **kw)
        validate(env.get("objects", []))
        return [fmt(ts(o["modified"])) for o in env.get("objects", [])]

    assert modified() == want[2:]
    assert modified(version="last") == want[2:]
    assert modified(version="first") == want[:1]
    assert modified(version="all") == want
    assert modified(version="first,last") == [want[0], want[2]]
    assert modified(version=mods[1]) == [want[1]]
    assert modified(version=[mods[0], "2024-03-03T10:00:00.123000000Z"]) == [want[0], want[2]]
    r = w.t.get(coll_path("all", f"objects/{oid}/"))
    assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"]
    man = col.get_manifest(id=oid, version="all")["objects"]
    assert [e["version"] for e in man] == want
    assert all(e["id"] == oid and e["media_type"] == "application/stix+json;version=2.1" for e in man)
    assert [ts(e["date_added"]) for e in man] == sorted(ts(e["date_added"]) for e in man)
    assert [e["version"] for e in col.get_manifest(id=oid)["objects"]] == want[2:]
    taxii_error(w.t.get(coll_path("all", f"objects/{new_id('indicator')}/versions/")), 404)


def test_delete_by_version_and_entirely(w):
    oid = new_id("malware")
    for m in ("2024-05-01T00:00:00.000Z", "2024-05-02T00:00:00.000Z", "2024-05-03T00:00:00.000Z"):
        w.a.add([malware(oid, m)])
    path = coll_path("all", f"objects/{oid}/")
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.admin)
    # A reader may not delete.
    taxii_error(w.t.delete(path), 403)
    r = w.a.delete(path, {"match[version]": "first"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["Content-Type"] == TAXII
    assert col.object_versions(oid)["versions"] == ["2024-05-02T00:00:00.000000Z", "2024-05-03T00:00:00.000000Z"]
    col.delete_object(oid, version="2024-05-03T00:00:00Z")
    assert col.object_versions(oid)["versions"] == ["2024-05-02T00:00:00.000000Z"]
    assert [o["modified"] for o in col.get_object(oid)["objects"]] == ["2024-05-02T00:00:00.000Z"]
    col.delete_object(oid)
    taxii_error(w.t.get(path), 404)
    taxii_error(w.t.get(path + "versions/"), 404)
    assert ok(w.t.get(coll_path("all", "manifest/"), {"match[id]": oid})) == {"more": False}
    assert ok(w.t.get(coll_path("all"), {"match[id]": oid})) == {"more": False}
    taxii_error(w.a.delete(path), 404)
    taxii_error(w.a.delete(coll_path("all", f"objects/{new_id('malware')}/")), 404)
    taxii_error(w.a.delete(coll_path("all", "objects/not-an-id/")), 404)


def test_delete_by_spec_version(w):
    oid = new_id("malware")
    w.a.add([malware(oid, "2024-06-01T00:00:00.000Z", spec="2.0"),
             malware(oid, "2024-06-02T00:00:00.000Z", spec="2.1")])
    path = coll_path("all", f"objects/{oid}/")
    man = w.t.manifest(**{"match[id]": oid, "match[version]": "all", "match[spec_version]": "2.0,2.1"})["objects"]
    assert [e["media_type"][-3:] for e in man] == ["2.0", "2.1"]
    assert [o.get("spec_version", "2.0") for o in ok(w.t.get(path))["objects"]] == ["2.1"]
    assert [o.get("spec_version", "2.0") for o in ok(w.t.get(path, {"match[spec_version]": "2.0"}))["objects"]] == ["2.0"]
    r = w.a.delete(path, {"match[spec_version]": "2.1"})
    assert r.status_code == 200
    left = ok(w.t.get(path, {"match[spec_version]": "2.0,2.1", "match[version]": "all"}))["objects"]
    assert [o["modified"] for o in left] == ["2024-06-01T00:00:00.000Z"]
    validate(left)


def test_deleting_a_record_removes_it_from_the_rest_api(w):
    got = [o for o in w.t.objects("domains", limit=1000)["objects"]
           if o["pattern"] == "[domain-name:value = 'malware-drop.example']"]
    assert len(got) == 1
    sid = got[0]["id"]
    rid = sid.split("--", 1)[1]
    assert w.get(f"/api/v1/iocs/{rid}", w.pro).status_code == 200
    r = w.a.delete(coll_path("domains", f"objects/{sid}/"))
    assert r.status_code == 200
    taxii_error(w.t.get(coll_path("domains", f"objects/{sid}/")), 404)
    taxii_error(w.t.get(coll_path("all", f"objects/{sid}/")), 404)
    assert w.get(f"/api/v1/iocs/{rid}", w.pro).status_code == 404
    assert w.get("/api/v1/lookup?value=malware-drop.example", w.pro).json()["data"]["found"] is False


def test_a_revoked_record_is_served_as_a_new_version(w):
    got = [o for o in w.t.objects("ips")["objects"] if o["pattern"] == "[ipv4-addr:value = '203.0.113.10']"]
    assert len(got) == 1 and not got[0].get("revoked")
    sid = got[0]["id"]
    r = w.post(f"/api/v1/iocs/{sid.split('--', 1)[1]}/revoke", w.admin, json={"reason": "false positive"})
    assert r.ok, r.text
    vers = ok(w.t.get(coll_path("ips", f"objects/{sid}/versions/")))["versions"]
    assert len(vers) == 2 and vers[0] < vers[1]
    last = ok(w.t.get(coll_path("ips", f"objects/{sid}/")))["objects"]
    assert len(last) == 1 and last[0]["revoked"] is True
    assert fmt(ts(last[0]["modified"])) == vers[1]
    every = ok(w.t.get(coll_path("ips", f"objects/{sid}/"), {"match[version]": "all"}))["objects"]
    assert [bool(o.get("revoked")) for o in every] == [False, True]
    validate(every)
    # A poller that already had the first version gets the revocation.
    first_added = w.t.manifest("ips", **{"match[id]": sid, "match[version]": "first"})["objects"][0]["date_added"]
    later = w.t.objects("ips", added_after=first_added)["objects"]
    assert any(o["id"] == sid and o.get("revoked") is True for o in later)


def test_an_expired_record_is_served_with_its_valid_until(w):
    got = [o for o in w.t.objects("ips")["objects"] if o["pattern"] == "[ipv4-addr:value = '192.0.2.200']"]
    assert len(got) == 1, "an expired record must stay visible to TAXII consumers"
    assert got[0]["valid_until"].startswith("2020-01-01T00:00:00")
    validate(got)


def test_type_collections_hold_only_their_kinds(w):
    want = {
        "ips": {"[ipv4-addr:value = '198.51.100.0/24']", "[ipv6-addr:value = '2001:db8::dead:beef']"},
        "hashes": {"[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
                   "[file:hashes.'SHA-1' = '3395856ce81f2b7382dee72602f798b642f14140']",
                   "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']"},
        "domains": {"[domain-name:value = 'phish-login.example']"},
        "urls": {"[url:value = 'http://malware-drop.example/payload.exe']"},
    }
    kinds = {"ips": ("[ipv4-addr:value = ", "[ipv6-addr:value = "), "hashes": ("[file:hashes.",),
             "domains": ("[domain-name:value = ",), "urls": ("[url:value = ",)}
    seen = {}
    for alias in COLLECTIONS:
        objs = validate(w.t.objects(alias).get("objects", []))
        seen[alias] = objs
        if alias in kinds:
            assert all(o["type"] == "indicator" and o["pattern"].startswith(kinds[alias]) for o in objs), alias
            assert want[alias] <= {o["pattern"] for o in objs}, alias
    assert [(o["type"], o["name"]) for o in seen["cves"]] == [("vulnerability", "CVE-2021-44228")]
    every = {o["id"] for o in seen["all"]}
    for alias in kinds:
        assert {o["id"] for o in seen[alias]} <= every
    patterns = {o.get("pattern") for o in seen["all"]}
    assert "[email-addr:value = 'billing@invoice-update.example']" in patterns
    assert "attack-pattern" in {o["type"] for o in seen["all"]}

def test_real_stix_bundle_round_trips_verbatim(w):
    bundle = json.loads((ROOT.parent / "shared" / "data" / "stix21" / "oasis-stix2-examples" /
                         "poisonivy.json").read_text())
    objs = bundle["objects"]
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.admin)
    # 90 kB: a client splits it under the API root's max_content_length (64 KiB here).
    limit = ApiRoot(w.base + API, user="apikey", password=w.admin).max_content_length
    batches, cur = [], []
    for o in objs:
        if cur and len(json.dumps({"objects": cur + [o]})) > limit:
            batches.append(cur)
            cur = []
        cur.append(o)
    batches.append(cur)
    assert len(batches) >= 2
    for b in batches:
        st = col.add_objects(json.dumps({"objects": b}), poll_interval=0.1, timeout=10)
        assert st.success_count == len(b) and st.failure_count == 0
    back = {}
    for i in range(0, len(objs), 50):
        env = col.get_objects(id=[o["id"] for o in objs[i:i + 50]], limit=100)
        assert env["more"] is False
        for o in env["objects"]:
            back.setdefault(o["id"], []).append(o)
    assert all(back[o["id"]] == [o] for o in objs)
    validate([o for v in back.values() for o in v])


# ---------------------------------------------------------------------------------------------
# authentication, authorization, negotiation, errors

ALL_URLS = ["/api/taxii2/", API, API + "collections/", API + "collections/all/",
            coll_path("all"), coll_path("all", "manifest/"),
            coll_path("all", f"objects/indicator--{uuid.uuid4()}/"),
            coll_path("all", f"objects/indicator--{uuid.uuid4()}/versions/"),
            f"{API}status/{uuid.uuid4()}/"]


def test_authentication_forms(big):
    url = big.base + API + "collections/"
    for headers in (basic(big.pro), basic(big.pro, user=""), {"Authorization": f"Bearer {big.pro}"},
                    {"X-API-Key": big.pro}):
        ok(requests.get(url, headers=headers, timeout=30))
    for path in ALL_URLS:
        r = requests.get(big.base + path, timeout=30)
        taxii_error(r, 401)
        assert r.headers["WWW-Authenticate"] == 'Basic realm="cairn"'
    bad = "sk_live_" + "x" * 40
    for headers in (basic(bad), {"Authorization": f"Bearer {bad}"}, {"X-API-Key": bad},
                    {"Authorization": "Basic !!!"}):
        taxii_error(requests.get(url, headers=headers, timeout=30), 401)
    with pytest.raises(HTTPError) as e:
        Server(big.base + "/api/taxii2/", user="apikey", password=bad).title
    assert e.value.response.status_code == 401


def test_revoked_keys_and_missing_scope(big):
    key = big.key("pro", name="to-revoke")
    t = Taxii(big, key)
    ok(t.get(API))
    line = next(l for l in big.run("keys", "list").stdout.splitlines() if "to-revoke" in l)
    big.run("keys", "revoke", line.split()[0])
    taxii_error(t.get(API), 401)
    narrow = Taxii(big, big.key("pro", name="no-taxii", scopes=["read:iocs"]))
    err = taxii_error(narrow.get(coll_path("all")), 403, "insufficient_scope")
    assert "read:taxii" in err["description"]


def test_rate_limits_answer_429_as_taxii_errors(make_cairn):
    c = make_cairn("tiers:\n  pro: {requests_per_minute: 3}\n")
    t = Taxii(c, c.key("pro"))
    c.start()
    for _ in range(3):
        ok(t.get(API))
    r = t.get(coll_path("all"))
    taxii_error(r, 429)
    assert int(r.headers["Retry-After"]) > 0


def test_free_keys_get_403_naming_the_tier_everywhere(big):
    f = Taxii(big, big.free)
    for path in ALL_URLS:
        err = taxii_error(f.get(path), 403, "tier_required")
        assert "pro" in err["description"]
    taxii_error(f.post(coll_path("all"), {"objects": []}), 403, "tier_required")
    taxii_error(f.delete(coll_path("all", f"objects/malware--{uuid.uuid4()}/")), 403, "tier_required")
    with pytest.raises(HTTPError) as e:
        ApiRoot(big.base + API, user="apikey", password=big.free).collections
    assert e.value.response.status_code == 403


def test_pro_keys_read_but_do_not_write(w):
    taxii_error(w.t.post(coll_path("all"), {"objects": [malware()]}), 403)
    taxii_error(w.t.post(coll_path("ips"), {"objects": [malware()]}), 403)
    taxii_error(w.t.delete(coll_path("all", f"objects/malware--{uuid.uuid4()}/")), 403)
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.pro)
    assert col.can_write is False
    # An admin writes into any collection.
    m = malware()
    assert w.a.add([m], coll="ips")["success_count"] == 1


def test_unknown_collections_and_objects_are_404(big):
    for name in (str(uuid.uuid4()), "nope", "41105b76-00fd-42b2-9671-86470f727d97"):
        taxii_error(big.t.get(f"{API}collections/{name}/"), 404)
        taxii_error(big.t.get(coll_path(name)), 404)
        taxii_error(big.t.get(coll_path(name, "manifest/")), 404)
    taxii_error(big.t.get(coll_path("all", f"objects/indicator--{uuid.uuid4()}/")), 404)
    taxii_error(big.t.get(coll_path("all", "objects/nonsense/")), 404)
    taxii_error(big.t.get("/api/taxii2/other/"), 404)
    taxii_error(big.t.get(API + "collections/all/objects/x/y/z/"), 404)
    col = Collection(f"{big.base}{API}collections/{uuid.uuid4()}/", user="apikey", password=big.pro)
    with pytest.raises(HTTPError) as e:
        col.title
    assert e.value.response.status_code == 404


ACCEPTED = [None, "*/*", "application/json", "application/taxii+json",
            "application/taxii+json;version=2.1", "application/taxii+json; version=2.1",
            "application/taxii+json ; version = 2.1", "APPLICATION/TAXII+JSON;VERSION=2.1",
            'application/taxii+json;version="2.1"', "text/html, application/taxii+json;version=2.1",
            "application/taxii+json;version=2.0, application/taxii+json;version=2.1;q=0.5",
            "application/taxii+json;q=0.9;version=2.1", "text/html;q=0.9, */*;q=0.1",
            "application/*"]
REFUSED = ["application/taxii+json;version=2.0", "application/vnd.oasis.taxii+json; version=2.0",
           "text/html", "application/xml", "application/stix+json;version=2.1",
           "application/taxii+json;version=2.1;q=0", "text/html, application/xml;q=0.5"]


def test_accept_negotiation(big):
    for path in (API, coll_path("ips"), coll_path("ips", "manifest/")):
        for acc in ACCEPTED:
            h = {} if acc is None else {"Accept": acc}
            r = big.t.get(path, {"limit": 1} if "collections" in path else None, headers=h)
            ok(r)
        for acc in REFUSED:
            taxii_error(big.t.get(path, headers={"Accept": acc}), 406)
    with pytest.raises(HTTPError) as e:
        ApiRoot(big.base + API, user="apikey", password=big.pro).refresh_information(
            accept="application/taxii+json;version=2.0")
    assert e.value.response.status_code == 406


def test_post_content_types(w):
    for ct in (TAXII, "application/taxii+json", "application/taxii+json; version=2.1",
               "application/taxii+json;version=2.1;charset=utf-8",
               "application/taxii+json; charset=UTF-8"):
        assert ok(w.a.post(coll_path("all"), {"objects": [malware()]}, content_type=ct), 202)["success_count"] == 1
    for ct in ("application/json", "application/stix+json;version=2.1", "text/plain",
               "application/taxii+json;version=2.0", "application/x-www-form-urlencoded"):
        taxii_error(w.a.post(coll_path("all"), {"objects": [malware()]}, content_type=ct), 415)
    r = w.a.s.post(w.base + coll_path("all"), data=json.dumps({"objects": [malware()]}), timeout=30)
    taxii_error(r, 415)
    taxii_error(w.a.post(coll_path("all"), {"objects": [malware()]},
                         headers={"Accept": "application/taxii+json;version=2.0"}), 406)
    col = Collection(f"{w.base}{API}collections/{COLLECTIONS['all']}/", user="apikey", password=w.admin)
    with pytest.raises(HTTPError) as e:
        col.add_objects({"objects": [malware()]}, content_type="application/json")
    assert e.value.response.status_code == 415


def test_post_body_size_limit(w):
    root = ApiRoot(w.base + API, user="apikey", password=w.admin)
    limit = root.max_content_length
    assert limit == 65536

    def padded(n):
        body = json.dumps({"objects": [malware()]})
        return body[:-1] + " " * (n - len(body)) + "}"

    assert len(padded(limit)) == limit
    assert ok(w.a.post(coll_path("all"), padded(limit)), 202)["success_count"] == 1
    taxii_error(w.a.post(coll_path("all"), padded(limit + 1)), 413)
    big_env = {"objects": [malware(name="x" * 200) for _ in range(400)]}
    taxii_error(w.a.post(coll_path("all"), big_env), 413)
    # Chunked: the bytes actually read count.
    data = padded(limit + 5000).encode()
    chunks = (data[i:i + 4096] for i in range(0, len(data), 4096))
    taxii_error(w.a.post(coll_path("all"), chunks), 413)
    small = padded(2000).encode()
    r = w.a.post(coll_path("all"), (small[i:i + 500] for i in range(0, len(small), 500)))
    assert ok(r, 202)["success_count"] == 1


def test_post_bodies_that_are_not_envelopes(w):
    for body in ("{\"objects\": [", "not json", "", "{\"objects\": [] } trailing"):
        taxii_error(w.a.post(coll_path("all"), body), 400)
    for body in ([], {"objects": {}}, {"foo": []}, {"objects": None}, [{"type": "malware"}]):
        taxii_error(w.a.post(coll_path("all"), json.dumps(body)), 422)


def test_json_scalars_are_not_envelopes(w):
    """`42` and `"objects"` are valid JSON (RFC 8259) but not envelopes: 422, not 400."""
    for body in ("42", '"objects"', "null", "true"):
        taxii_error(w.a.post(coll_path("all"), body), 422)


def test_wrong_methods_get_405_with_allow(w):
    cases = {"/api/taxii2/": "GET", API: "GET", API + "collections/": "GET",
             API + "collections/all/": "GET", coll_path("all"): "GET, POST",
             coll_path("all", "manifest/"): "GET",
             coll_path("all", f"objects/malware--{uuid.uuid4()}/"): "GET, DELETE",
             coll_path("all", f"objects/malware--{uuid.uuid4()}/versions/"): "GET",
             f"{API}status/{uuid.uuid4()}/": "GET"}
    for path, allow in cases.items():
        for method in ("PUT", "PATCH", "POST", "DELETE"):
            if method in allow:
                continue
            r = w.a.s.request(method, w.base + path, data=b"{}", headers={"Content-Type": TAXII}, timeout=30)
            taxii_error(r, 405)
            assert {m.strip() for m in r.headers["Allow"].split(",")} == {m.strip() for m in allow.split(",")}


def test_every_path_without_its_trailing_slash(w):
    m = malware()
    w.a.add([m])
    st = w.a.add([m])
    for path in ("/api/taxii2/", API, API + "collections/", API + "collections/all/", coll_path("all"),
                 coll_path("all", "manifest/"), coll_path("all", f"objects/{m['id']}/"),
                 coll_path("all", f"objects/{m['id']}/versions/"), f"{API}status/{st['id']}/"):
        a, b = w.a.get(path, {"limit": 5} if "objects" in path or "manifest" in path else None), \
            w.a.get(path.rstrip("/"), {"limit": 5} if "objects" in path or "manifest" in path else None)
        ja, jb = ok(a), ok(b)
        ja.pop("next", None), jb.pop("next", None)
        assert ja == jb, path
    st2 = ok(w.a.post(coll_path("all").rstrip("/"), {"objects": [malware()]}), 202)
    assert st2["success_count"] == 1
    r = w.a.delete(coll_path("all", f"objects/{m['id']}"))
    assert r.status_code == 200
    taxii_error(w.t.get(coll_path("all", f"objects/{m['id']}")), 404)


def test_headers_on_every_page_resource(w):
    m = malware()
    w.a.add([m])
    for path in (coll_path("all"), coll_path("all", "manifest/"), coll_path("all", f"objects/{m['id']}/"),
                 coll_path("all", f"objects/{m['id']}/versions/")):
        r = w.t.get(path)
        ok(r)
        assert STAMP.fullmatch(r.headers["X-TAXII-Date-Added-First"]), path
        assert STAMP.fullmatch(r.headers["X-TAXII-Date-Added-Last"]), path


def test_tactics_only_with_include_custom(make_cairn):
    plain = make_cairn(RATE)
    plain.import_text("TA0001\nT1059.001\n", "--feed", "attack", name="attack.txt")
    custom = make_cairn(RATE + "taxii:\n  include_custom: true\n")
    custom.import_text("TA0001\nT1059.001\n", "--feed", "attack", name="attack.txt")
    kp, kc = plain.key("pro"), custom.key("pro")
    plain.start()
    custom.start()
    objs = validate(Taxii(plain, kp).objects()["objects"])
    assert {o["type"] for o in objs} == {"attack-pattern"}
    assert ok(Taxii(plain, kp).get(coll_path("all"), {"match[type]": "x-mitre-tactic"})) == {"more": False}
    objs = Taxii(custom, kc).objects()["objects"]
    assert {o["type"] for o in objs} == {"attack-pattern", "x-mitre-tactic"}
    validate([o for o in objs if o["type"] == "attack-pattern"])
