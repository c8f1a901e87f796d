"""The behaviours the OASIS reference TAXII server's own test suite checks, re-created case by
case against cairn and written from the TAXII 2.1 specification.

The fixture is the reference suite's shape: one collection holding a relationship, a marking
definition, a malware object with a STIX 2.1 version followed by a STIX 2.0 version, an indicator
with three versions, a STIX 2.0 indicator and a malware-analysis, each version added by its own
request so that their date_added values follow the posting order. Beside it, a write-only
collection and one only admins see (collections come from configuration).
"""
import json
import uuid

import pytest
import requests
from stix2validator import ValidationOptions, validate_parsed_json

from conftest import Cairn

TAXII = "application/taxii+json;version=2.1"
API = "/api/taxii2/api/"
TRUST = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
DROPBOX = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
ADMINS = "52892447-4d7e-4f70-b94d-d7f22742ff63"
CONFIG = f"""tiers:
  pro: {{requests_per_minute: 1000000, requests_per_day: 100000000}}
  admin: {{requests_per_minute: 1000000, requests_per_day: 100000000}}
taxii:
  default_page: 20
  max_page: 20
  collections:
    - {{id: {TRUST}, alias: trustgroup, title: "Trust group 1", description: "What the group shares"}}
    - {{id: {DROPBOX}, alias: drop-box, title: "Drop box", read: admin, write: pro}}
    - {{id: {ADMINS}, alias: admins, title: "Admins only", read: admin, write: admin}}
"""
OBJ = f"{API}collections/{TRUST}/objects/"
MAN = f"{API}collections/{TRUST}/manifest/"
ERROR_KEYS = {"title", "description", "error_id", "error_code", "http_status", "external_details",
              "details"}

R = {"type": "relationship", "spec_version": "2.1", "id": "relationship--2f9a9aa9-108a-4333-83e2-4fb25add0463",
     "created": "2014-05-08T09:00:00.000Z", "modified": "2014-05-08T09:00:00.000Z", "relationship_type": "indicates",
     "source_ref": "indicator--cd981c25-8042-4166-8945-51178443bdac",
     "target_ref": "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"}
I2 = {"type": "indicator", "spec_version": "2.1", "id": "indicator--cd981c25-8042-4166-8945-51178443bdac",
      "created": "2014-05-08T09:00:00.000Z", "modified": "2014-05-08T09:00:00.000Z", "name": "Setup file",
      "indicator_types": ["malicious-activity"], "pattern": "[file:name = 'setup.exe']", "pattern_type": "stix",
      "valid_from": "2014-05-08T09:00:00.000000Z"}
MD = {"type": "marking-definition", "spec_version": "2.1",
      "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "created": "2017-01-20T00:00:00.000Z",
      "definition_type": "statement", "definition": {"statement": "Copyright 2017, Example Corp"}}
M21 = {"type": "malware", "spec_version": "2.1", "id": "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec",
       "created": "2017-01-27T13:49:53.997Z", "modified": "2017-01-27T13:49:53.997Z", "name": "Poison Ivy",
       "description": "Poison Ivy", "malware_types": ["remote-access-trojan"], "is_family": True}
I1 = {"type": "indicator", "spec_version": "2.1", "id": "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e",
      "created": "2016-11-03T12:30:59.000Z", "modified": "2016-11-03T12:30:59.000Z",
      "name": "Malicious site hosting downloader", "indicator_types": ["malicious-activity"],
      "pattern": "[file:name = 'downloader.exe']", "pattern_type": "stix", "valid_from": "2017-01-27T13:49:53.935382Z"}
I1A = I1
I1B = dict(I1, modified="2016-12-25T12:30:59.444Z", description="Second version")
I3 = {"type": "indicator", "id": "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
      "created": "2014-05-08T09:00:00.000Z", "modified": "2014-05-08T09:00:00.000Z", "labels": ["file-hash-watchlist"],
      "pattern": "[file:name = 'foo.dll']", "valid_from": "2014-05-08T09:00:00.000000Z"}
M20 = {"type": "malware", "id": "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec", "created": "2017-01-27T13:49:53.997Z",
       "modified": "2018-02-23T18:30:00.000Z", "name": "Poison Ivy", "labels": ["remote-access-trojan"]}
I1C = dict(I1, modified="2017-01-27T13:49:53.935Z", description="Third version")
MA = {"type": "malware-analysis", "spec_version": "2.1", "id": "malware-analysis--084a658c-a7ef-4581-a21d-1f600908741b",
      "created": "2021-12-11T07:17:44.542582Z", "modified": "2021-12-11T07:17:44.542582Z", "product": "microsoft",
      "result": "malicious", "sample_ref": "file--ffd7c9b4-7d3a-5c0e-a25e-40d9d2d6b0ad"}
# The order they are added in, one request each: date_added follows it.
POSTED = [R, I2, MD, M21, I1A, I1B, I3, M20, I1C, MA]
COA = {"type": "course-of-action", "spec_version": "2.1", "id": "course-of-action--68794cd5-28db-429d-ab1e-1256704ef906",
       "created": "2014-01-27T13:49:53.935Z", "modified": "2014-01-27T13:49:53.935Z", "name": "Test object"}


def version_of(o):
    v = o.get("modified") or o["created"]
    return v


def us(s):
    """Timestamp text → a comparable (date-time, microseconds) key, precision-independent."""
    main, _, frac = s.rstrip("Z").partition(".")
    return main, int((frac + "000000")[:6])


def key(o):
    return o["id"], us(version_of(o))


def validate(objs):
    for o in objs:
        res = validate_parsed_json(o, ValidationOptions(version=o.get("spec_version", "2.0")))
        assert res.is_valid, (o.get("id"), [e.message for e in res.errors])
    return objs


class Client:
    def __init__(self, c, k):
        self.c = c
        self.s = requests.Session()
        self.s.auth = ("apikey", k)
        self.s.headers["Accept"] = TAXII

    def get(self, path, params=None, **kw):
        return self.s.get(self.c.base + path, params=params, timeout=60, **kw)

    def post(self, path, body):
        return self.s.post(self.c.base + path, data=body if isinstance(body, str) else json.dumps(body),
                           headers={"Content-Type": TAXII}, timeout=60)

    def delete(self, path, params=None):
        return self.s.delete(self.c.base + path, params=params, timeout=60)


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == TAXII
    return r.json() if r.content else None


def err(r, status):
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == TAXII
    e = r.json()
    assert ERROR_KEYS <= set(e) and e["http_status"] == str(status), e
    return e


def serve(tmp_path_factory, name):
    c = Cairn(tmp_path_factory.mktemp(name), CONFIG)
    c.admin, c.reader, c.writer, c.free = (c.key("admin"), c.key("pro"),
                                           c.key("pro", name="writer", scopes=["read:taxii", "write:iocs"]),
                                           c.key("free"))
    c.start()
    c.a, c.r, c.w = Client(c, c.admin), Client(c, c.reader), Client(c, c.writer)
    c.added = {}
    for o in POSTED:
        st = ok(c.a.post(OBJ, {"objects": [o]}), 202)
        assert st["success_count"] == 1, st
    for e in ok(c.a.get(MAN, {"match[version]": "all", "match[spec_version]": "2.0,2.1"}))["objects"]:
        c.added[(e["id"], us(e["version"]))] = e["date_added"]
    assert len(c.added) == len(POSTED)
    c.status_id = st["id"]
    return c


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """The fixture, only read."""
    c = serve(tmp_path_factory, "taxii-ref")
    yield c
    assert c.stop() == 0


@pytest.fixture(scope="module")
def mut(tmp_path_factory):
    """The same fixture, for the tests that add and delete."""
    c = serve(tmp_path_factory, "taxii-ref-mut")
    yield c
    assert c.stop() == 0


def added(ref, o):
    return ref.added[key(o)]


def objects(ref, params=None, path=OBJ, client=None):
    body = ok((client or ref.r).get(path, params))
    validate(body.get("objects", []))
    return body


def ids_versions(body):
    return [key(o) for o in body.get("objects", [])]


# --- discovery, API root, collections ------------------------------------------------------

def test_server_discovery(ref):
    d = ok(ref.r.get("/api/taxii2/"))
    assert d["api_roots"][0] == ref.base + API and d["default"] == ref.base + API


def test_get_api_root_information(ref):
    root = ok(ref.r.get(API))
    assert root["title"] and root["versions"] == [TAXII] and root["max_content_length"] > 0


def test_get_api_root_information_not_existent(ref):
    err(ref.r.get("/api/taxii2/trustgroup2/"), 404)
    err(ref.r.get("/api/taxii2/carbon1/collections/"), 404)
    err(ref.r.get(f"/api/taxii2/carbon1/collections/{TRUST}/"), 404)


def test_get_collections(ref):
    seen = {c["id"]: c for c in ok(ref.a.get(API + "collections/"))["collections"]}
    assert set(seen) == {TRUST, DROPBOX, ADMINS}
    for c in seen.values():
        assert c["can_read"] is True and c["can_write"] is True
    writer = {c["id"]: (c["can_read"], c["can_write"]) for c in ok(ref.w.get(API + "collections/"))["collections"]}
    assert writer == {TRUST: (True, False), DROPBOX: (False, True)}
    reader = {c["id"]: (c["can_read"], c["can_write"]) for c in ok(ref.r.get(API + "collections/"))["collections"]}
    assert reader == {TRUST: (True, False)}


def test_get_collection(ref):
    c = ok(ref.r.get(f"{API}collections/{TRUST}/"))
    assert c["id"] == TRUST and c["title"] == "Trust group 1" and c["alias"] == "trustgroup"
    assert c["media_types"] == ["application/stix+json;version=2.1"]
    assert ok(ref.r.get(f"{API}collections/trustgroup/")) == c


def test_get_collection_not_existent(ref):
    err(ref.r.get(f"{API}collections/{uuid.uuid4()}/"), 404)
    err(ref.r.get(f"{API}collections/24042009/manifest/"), 404)


# --- objects, object, manifest, versions ---------------------------------------------------

DEFAULT = [R, I2, MD, M21, I3, I1C, MA]


def test_get_objects_in_date_added_order(ref):
    r = ref.r.get(OBJ)
    body = ok(r)
    validate(body["objects"])
    assert body["more"] is False and "next" not in body
    assert ids_versions(body) == [key(o) for o in DEFAULT]
    assert r.headers["X-TAXII-Date-Added-First"] == added(ref, R)
    assert r.headers["X-TAXII-Date-Added-Last"] == added(ref, MA)
    # Stored as posted.
    assert body["objects"] == DEFAULT


def test_get_object(ref):
    r = ref.r.get(OBJ + M21["id"] + "/")
    body = ok(r)
    assert body["objects"] == [M21] and body["more"] is False
    assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"] == added(ref, M21)


def test_get_object_not_existent(ref):
    err(ref.r.get(OBJ + "malware--cee60c30-a68c-11e3-b0c1-a01aac20d000/"), 404)


def test_get_objects_added_after(ref):
    body = objects(ref, {"added_after": added(ref, I1A)})
    assert ids_versions(body) == [key(o) for o in (I3, I1C, MA)]
    body = objects(ref, {"added_after": "2000-01-01T00:00:00Z"})
    assert len(body["objects"]) == 7


def test_get_objects_limit_and_next(ref):
    r = ref.r.get(OBJ, params={"limit": 4})
    p1 = ok(r)
    assert p1["more"] is True and p1["next"]
    assert ids_versions(p1) == [key(o) for o in DEFAULT[:4]]
    assert r.headers["X-TAXII-Date-Added-First"] == added(ref, R)
    assert r.headers["X-TAXII-Date-Added-Last"] == added(ref, M21)
    r = ref.r.get(OBJ, params={"limit": 3, "next": p1["next"]})
    p2 = ok(r)
    assert p2["more"] is False and "next" not in p2
    assert ids_versions(p2) == [key(o) for o in DEFAULT[4:]]
    assert r.headers["X-TAXII-Date-Added-First"] == added(ref, I3)
    assert r.headers["X-TAXII-Date-Added-Last"] == added(ref, MA)


def test_get_objects_id(ref):
    body = objects(ref, {"match[id]": M21["id"]})
    assert ids_versions(body) == [key(M21)] and body["more"] is False


def test_get_objects_type(ref):
    body = objects(ref, {"match[type]": "indicator"})
    assert ids_versions(body) == [key(I2), key(I3), key(I1C)]
    assert all(o["type"] == "indicator" for o in body["objects"])


def test_objects_version_match_specific_date(ref):
    body = objects(ref, {"match[version]": "2016-12-25T12:30:59.444Z"})
    assert ids_versions(body) == [key(I1B)]


def test_objects_version_match_first(ref):
    body = objects(ref, {"match[version]": "first"})
    assert ids_versions(body) == [key(o) for o in (R, I2, MD, M21, I1A, I3, MA)]


def test_objects_version_match_last(ref):
    body = objects(ref, {"match[version]": "last"})
    assert ids_versions(body) == [key(o) for o in DEFAULT]


def test_objects_version_match_all(ref):
    body = objects(ref, {"match[version]": "all"})
    assert ids_versions(body) == [key(o) for o in (R, I2, MD, M21, I1A, I1B, I3, I1C, MA)]
    body = objects(ref, {"match[version]": "all", "match[spec_version]": "2.0,2.1"})
    assert ids_versions(body) == [key(o) for o in POSTED]


def test_get_objects_spec_version_20(ref):
    body = objects(ref, {"match[spec_version]": "2.0"})
    assert ids_versions(body) == [key(I3), key(M20)]
    assert all("spec_version" not in o for o in body["objects"])


def test_get_objects_spec_version_21_20(ref):
    body = objects(ref, {"match[spec_version]": "2.0,2.1"})
    assert ids_versions(body) == [key(o) for o in (R, I2, MD, I3, M20, I1C, MA)]


def test_get_objects_spec_version_21(ref):
    body = objects(ref, {"match[spec_version]": "2.1"})
    assert ids_versions(body) == [key(o) for o in (R, I2, MD, M21, I1C, MA)]
    assert all(o["spec_version"] == "2.1" for o in body["objects"])


def test_get_objects_spec_version_default(ref):
    """Without match[spec_version], each object comes in the newest STIX version it exists in."""
    body = objects(ref)
    assert len(body["objects"]) == 7
    mal = [o for o in body["objects"] if o["type"] == "malware"]
    assert mal == [M21]


def test_get_object_added_after(ref):
    path = OBJ + M21["id"] + "/"
    r = ref.r.get(path, params={"added_after": "2999-01-27T13:49:59.997000Z"})
    assert ok(r) == {"more": False}
    body = objects(ref, {"added_after": "2000-01-27T13:49:59Z"}, path=path)
    assert body["more"] is False and len(body["objects"]) == 1


def test_get_object_limit_and_next(ref):
    path = OBJ + I1["id"] + "/"
    r = ref.r.get(path, params={"limit": 1})
    body = ok(r)
    assert body["more"] is False and ids_versions(body) == [key(I1C)]
    assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"] == added(ref, I1C)
    r = ref.r.get(path, params={"match[version]": "all", "limit": 2})
    p1 = ok(r)
    assert p1["more"] is True and ids_versions(p1) == [key(I1A), key(I1B)]
    assert r.headers["X-TAXII-Date-Added-First"] == added(ref, I1A)
    assert r.headers["X-TAXII-Date-Added-Last"] == added(ref, I1B)
    r = ref.r.get(path, params={"match[version]": "all", "limit": 2, "next": p1["next"]})
    p2 = ok(r)
    assert p2["more"] is False and ids_versions(p2) == [key(I1C)]
    assert r.headers["X-TAXII-Date-Added-First"] == added(ref, I1C)


@pytest.mark.parametrize("flt, want", [("2016-12-25T12:30:59.444Z", I1B), ("first", I1A), ("last", I1C)])
def test_get_object_version_single(ref, flt, want):
    body = objects(ref, {"match[version]": flt}, path=OBJ + I1["id"] + "/")
    assert body["more"] is False and body["objects"] == [want]


def test_get_object_version_match_all(ref):
    body = objects(ref, {"match[version]": "all"}, path=OBJ + I1["id"] + "/")
    assert body["objects"] == [I1A, I1B, I1C]


@pytest.mark.parametrize("spec, want", [("2.0", [M20]), ("2.1", [M21]), ("2.0,2.1", [M20]), (None, [M21])])
def test_get_object_spec_version(ref, spec, want):
    body = objects(ref, {"match[spec_version]": spec} if spec else None, path=OBJ + M21["id"] + "/")
    assert body["objects"] == want


def test_get_object_manifests(ref):
    r = ref.r.get(MAN)
    body = ok(r)
    assert [(e["id"], us(e["version"])) for e in body["objects"]] == [key(o) for o in DEFAULT]
    for e, o in zip(body["objects"], DEFAULT):
        assert e["date_added"] == added(ref, o)
        assert e["media_type"] == "application/stix+json;version=" + o.get("spec_version", "2.0")
    dates = [e["date_added"] for e in body["objects"]]
    assert dates == sorted(dates)
    assert r.headers["X-TAXII-Date-Added-First"] == dates[0]
    assert r.headers["X-TAXII-Date-Added-Last"] == dates[-1]


def test_get_manifest_added_after(ref):
    body = ok(ref.r.get(MAN, params={"added_after": added(ref, M20)}))
    assert [e["id"] for e in body["objects"]] == [I1C["id"], MA["id"]] and body["more"] is False


def test_get_manifest_limit(ref):
    got, params, sizes = [], {"limit": 2}, []
    for limit in (2, 2, 3):
        params["limit"] = limit
        r = ref.r.get(MAN, params=params)
        body = ok(r)
        sizes.append(len(body["objects"]))
        assert r.headers["X-TAXII-Date-Added-First"] == body["objects"][0]["date_added"]
        assert r.headers["X-TAXII-Date-Added-Last"] == body["objects"][-1]["date_added"]
        got += [e["id"] for e in body["objects"]]
        if not body["more"]:
            break
        params = {"next": body["next"]}
    assert sizes == [2, 2, 3] and body["more"] is False
    assert got == [o["id"] for o in DEFAULT]


def test_get_manifest_id_and_type(ref):
    body = ok(ref.r.get(MAN, params={"match[id]": M21["id"]}))
    assert [e["id"] for e in body["objects"]] == [M21["id"]]
    body = ok(ref.r.get(MAN, params={"match[type]": "indicator"}))
    assert [e["id"] for e in body["objects"]] == [I2["id"], I3["id"], I1["id"]]


@pytest.mark.parametrize("flt, want", [
    ("2016-12-25T12:30:59.444Z", [I1B]),
    ("first", [R, I2, MD, M21, I1A, I3, MA]),
    ("last", DEFAULT),
    ("all", [R, I2, MD, M21, I1A, I1B, I3, I1C, MA])])
def test_get_manifest_version(ref, flt, want):
    body = ok(ref.r.get(MAN, params={"match[version]": flt}))
    assert body["more"] is False
    assert [(e["id"], us(e["version"])) for e in body["objects"]] == [key(o) for o in want]


@pytest.mark.parametrize("spec, want", [
    ("2.0", [I3, M20]),
    ("2.1", [R, I2, MD, M21, I1C, MA]),
    ("2.0,2.1", [R, I2, MD, I3, M20, I1C, MA]),
    (None, DEFAULT)])
def test_manifest_spec_version(ref, spec, want):
    body = ok(ref.r.get(MAN, params={"match[spec_version]": spec} if spec else None))
    assert [(e["id"], us(e["version"]), e["media_type"]) for e in body["objects"]] == [
        key(o) + ("application/stix+json;version=" + o.get("spec_version", "2.0"),) for o in want]


def test_get_versions(ref):
    r = ref.r.get(OBJ + R["id"] + "/versions")
    body = ok(r)
    assert body == {"more": False, "versions": ["2014-05-08T09:00:00.000000Z"]}
    assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"] == added(ref, R)
    # The version of an object without `modified` is its `created`.
    assert ok(ref.r.get(OBJ + MD["id"] + "/versions/"))["versions"] == ["2017-01-20T00:00:00.000000Z"]


def test_get_version_added_after(ref):
    path = OBJ + R["id"] + "/versions/"
    assert ok(ref.r.get(path, params={"added_after": added(ref, R)})) == {"more": False}
    body = ok(ref.r.get(path, params={"added_after": "2014-05-08T08:00:00Z"}))
    assert body["more"] is False and len(body["versions"]) == 1


def test_get_version_limit(ref):
    path = OBJ + I1["id"] + "/versions/"
    params, got = {"limit": 1}, []
    for o in (I1A, I1B, I1C):
        r = ref.r.get(path, params=params)
        body = ok(r)
        assert [us(v) for v in body["versions"]] == [us(o["modified"])]
        assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"] == added(ref, o)
        got.append(body["more"])
        params = {"limit": 1, "next": body.get("next")}
    assert got == [True, True, False]


@pytest.mark.parametrize("spec, want", [("2.0", [M20]), ("2.1", [M21]), ("2.0,2.1", [M21, M20]), (None, [M21])])
def test_get_version_spec_version(ref, spec, want):
    body = ok(ref.r.get(OBJ + M21["id"] + "/versions/", params={"match[spec_version]": spec} if spec else None))
    assert body["more"] is False
    assert [us(v) for v in body["versions"]] == [us(o["modified"]) for o in want]


def test_get_objects_match_type_version(ref):
    body = objects(ref, {"match[type]": "indicator", "match[version]": "2017-01-27T13:49:53.935Z"})
    assert body["objects"] == [I1C]


def test_get_objects_match_type_spec_version(ref):
    assert ids_versions(objects(ref, {"match[type]": "indicator", "match[spec_version]": "2.1"})) == [key(I2), key(I1C)]
    assert ids_versions(objects(ref, {"match[type]": "indicator", "match[spec_version]": "2.0"})) == [key(I3)]


# --- add, status, delete ---------------------------------------------------------------------

def test_add_and_delete_object(mut):
    obj = dict(COA, id=f"course-of-action--{uuid.uuid4()}")
    st = ok(mut.a.post(OBJ, {"objects": [obj]}), 202)
    assert st["success_count"] == 1 and st["status"] == "complete"
    assert obj in ok(mut.r.get(OBJ, params={"added_after": added(mut, MA)}))["objects"]
    assert ok(mut.r.get(OBJ, params={"match[id]": obj["id"]}))["objects"] == [obj]
    s2 = ok(mut.a.get(f"{API}status/{st['id']}/"))
    assert s2["success_count"] == 1 and {"successes", "failures", "pendings"} <= set(s2)
    assert [e["id"] for e in ok(mut.r.get(MAN, params={"match[id]": obj["id"]}))["objects"]] == [obj["id"]]
    r = mut.a.delete(OBJ + obj["id"] + "/")
    assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
    err(mut.r.get(OBJ + obj["id"] + "/"), 404)
    err(mut.r.get(OBJ + obj["id"] + "/versions/"), 404)
    assert ok(mut.r.get(MAN, params={"match[id]": obj["id"]})) == {"more": False}


def test_get_status(ref):
    s = ok(ref.a.get(f"{API}status/{ref.status_id}"))
    assert s["id"] == ref.status_id and s["status"] == "complete"
    assert {"successes", "failures", "pendings"} <= set(s)
    assert s["total_count"] == s["success_count"] + s["failure_count"] + s["pending_count"]


def test_add_existing_objects(mut):
    st = ok(mut.a.post(OBJ, {"objects": [R, dict(R)]}), 202)
    assert st["failure_count"] == 0 and st["success_count"] == 2
    assert [(s["id"], us(s["version"])) for s in st["successes"]] == [key(R), key(R)]
    assert ok(mut.r.get(OBJ + R["id"] + "/versions/"))["versions"] == ["2014-05-08T09:00:00.000000Z"]
    assert ok(mut.r.get(OBJ, params={"match[id]": R["id"]}))["objects"] == [R]


def test_client_object_versioning(mut):
    oid = f"indicator--{uuid.uuid4()}"
    first = dict(I1, id=oid, modified="2017-01-27T13:49:53.935Z")
    assert ok(mut.a.post(OBJ, {"objects": [first]}), 202)["success_count"] == 1
    mods = [f"2018-0{i}-01T00:00:00.{i}00Z" for i in range(1, 6)]
    for m in mods:
        assert ok(mut.a.post(OBJ, {"objects": [dict(first, modified=m)]}), 202)["success_count"] == 1
    q = {"match[id]": oid}
    every = ok(mut.r.get(OBJ, params=dict(q, **{"match[version]": "all"})))["objects"]
    assert [o["modified"] for o in every] == ["2017-01-27T13:49:53.935Z"] + mods
    assert ok(mut.r.get(OBJ, params=dict(q, **{"match[version]": "first"})))["objects"][0]["modified"] == \
        "2017-01-27T13:49:53.935Z"
    assert ok(mut.r.get(OBJ, params=dict(q, **{"match[version]": "last"})))["objects"][0]["modified"] == mods[-1]
    assert [o["modified"] for o in ok(mut.r.get(OBJ, params=dict(q, **{"match[version]": mods[2]})))["objects"]] == \
        [mods[2]]
    man = ok(mut.r.get(MAN, params=dict(q, **{"match[version]": "all"})))["objects"]
    assert [us(e["version"]) for e in man] == [us(o["modified"]) for o in every]


def test_delete_objects_version(mut):
    coa = dict(COA, id=f"course-of-action--{uuid.uuid4()}")
    mods = ["2014-01-27T13:49:53.935Z", "2015-01-27T13:49:53.935Z", "2016-01-27T13:49:53.935Z",
            "2018-01-27T13:49:53.935Z", "2019-01-27T13:49:53.935Z"]
    st = ok(mut.a.post(OBJ, {"objects": [dict(coa, modified=m) for m in mods]}), 202)
    assert st["success_count"] == 5
    path = OBJ + coa["id"] + "/"

    def versions():
        return [us(v) for v in ok(mut.r.get(path + "versions/"))["versions"]]

    assert versions() == [us(m) for m in mods]
    for flt, gone in (("2018-01-27T13:49:53.935Z", mods[3]), ("first", mods[0]), ("last", mods[4])):
        r = mut.a.delete(path, params={"match[version]": flt})
        assert r.status_code == 200 and r.headers["Content-Type"] == TAXII
        assert us(gone) not in versions()
    assert versions() == [us(mods[1]), us(mods[2])]
    assert mut.a.delete(path, params={"match[version]": "all"}).status_code == 200
    err(mut.r.get(path + "versions/"), 404)


def test_delete_objects_spec_version(mut):
    coa = dict(COA, id=f"course-of-action--{uuid.uuid4()}")
    old = {k: v for k, v in coa.items() if k != "spec_version"}
    old["modified"] = "2019-01-27T13:49:53.935Z"
    assert ok(mut.a.post(OBJ, {"objects": [coa, old]}), 202)["success_count"] == 2
    path = OBJ + coa["id"] + "/"
    both = {"match[spec_version]": "2.0,2.1"}
    assert len(ok(mut.r.get(path + "versions/", params=both))["versions"]) == 2
    assert mut.a.delete(path, params={"match[spec_version]": "2.0"}).status_code == 200
    assert [us(v) for v in ok(mut.r.get(path + "versions/", params=both))["versions"]] == [us(coa["modified"])]
    assert mut.a.delete(path, params={"match[spec_version]": "2.1"}).status_code == 200
    err(mut.r.get(path + "versions/", params=both), 404)


def test_sco_versioning(mut):
    sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "198.51.100.3"}
    st = ok(mut.a.post(OBJ, {"objects": [sco]}), 202)
    assert st["success_count"] == 1, st
    path = OBJ + sco["id"] + "/"
    for flt in ("all", "first", "last"):
        assert ok(mut.r.get(path, params={"match[version]": flt}))["objects"] == [sco]
    assert ok(mut.r.get(path, params={"added_after": "2017-01-27T13:49:53.935Z"}))["objects"] == [sco]
    assert ok(mut.r.get(path, params={"added_after": "2999-01-01T00:00:00Z"})) == {"more": False}
    assert len(ok(mut.r.get(path + "versions/"))["versions"]) == 1


# --- 401, 403, 404, 422, 400 --------------------------------------------------------------------

def test_401_without_credentials(ref):
    anon = requests.Session()
    for path in (API + "collections/", OBJ, MAN, OBJ + M21["id"] + "/", f"{API}status/{ref.status_id}/",
                 f"{API}status/2223/", f"{API}collections/24042009/manifest/"):
        r = anon.get(ref.base + path, headers={"Accept": TAXII}, timeout=30)
        err(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Basic")
    err(anon.post(ref.base + OBJ, data=json.dumps({"objects": [COA]}), headers={"Content-Type": TAXII}, timeout=30),
        401)
    err(requests.get(ref.base + OBJ, auth=("apikey", "Password0"), timeout=30), 401)


def test_403(mut):
    dropbox = f"{API}collections/{DROPBOX}/"
    # A write-only collection: it is listed, but reading it is forbidden; writing is not.
    for path in (dropbox + "objects/", dropbox + "manifest/", dropbox + f"objects/{I2['id']}/",
                 dropbox + f"objects/{I2['id']}/versions/"):
        err(mut.w.get(path), 403)
    coa = dict(COA, id=f"course-of-action--{uuid.uuid4()}")
    st = ok(mut.w.post(dropbox + "objects/", {"objects": [coa]}), 202)
    assert st["success_count"] == 1
    assert ok(mut.w.get(f"{API}status/{st['id']}/"))["id"] == st["id"]
    # A read-only collection: adding and deleting are forbidden.
    err(mut.r.post(OBJ, {"objects": [COA]}), 403)
    err(mut.r.delete(OBJ + R["id"] + "/"), 403)
    err(mut.w.delete(OBJ + R["id"] + "/"), 403)
    assert ok(mut.r.get(OBJ + R["id"] + "/"))["objects"] == [R]
    # Free keys: the tier.
    free = Client(mut, mut.free)
    e = err(free.get(OBJ), 403)
    assert e["error_code"] == "tier_required" and "pro" in e["description"]


def test_404_does_not_leak_what_exists(ref):
    hidden = ref.r.get(f"{API}collections/{ADMINS}/objects/")
    missing = ref.r.get(f"{API}collections/{uuid.uuid4()}/objects/")
    eh, em = err(hidden, 404), err(missing, 404)
    assert eh["error_code"] == em["error_code"] and eh["title"] == em["title"]
    assert eh["description"].replace(ADMINS, "X") == em["description"].replace(missing.url.split("/")[-3], "X")
    # DELETE without read or write: 404, as for a collection that does not exist.
    err(ref.r.delete(f"{API}collections/{ADMINS}/objects/{R['id']}/"), 404)
    err(ref.r.post(f"{API}collections/{ADMINS}/objects/", {"objects": [COA]}), 404)
    # The admin sees it.
    assert ok(ref.a.get(f"{API}collections/{ADMINS}/objects/", params={"match[id]": R["id"]}))["objects"] == [R]


def test_404(ref):
    err(ref.a.get(f"{API}status/22101993/"), 404)
    err(ref.a.get(f"{API}status/{uuid.uuid4()}/"), 404)
    missing = f"{API}collections/{uuid.uuid4()}/objects/"
    err(ref.a.get(missing), 404)
    err(ref.a.post(missing, {"objects": [COA]}), 404)
    err(ref.a.get(OBJ + "malware--cee60c30-a68c-11e3-b0c1-a01aac20d000/versions/"), 404)


def test_get_or_add_objects_422(ref):
    e = err(ref.a.post(OBJ, COA), 422)
    assert e["title"] and e["description"]
    err(ref.a.post(OBJ, {"type": "bundle", "id": f"bundle--{uuid.uuid4()}"}), 422)


def test_object_pagination_bad_limit_value_400(ref):
    err(ref.r.get(OBJ, params={"limit": -20}), 400)
    err(ref.r.get(OBJ, params={"limit": 0}), 400)


def test_object_pagination_changing_params_400(ref):
    p1 = ok(ref.r.get(OBJ, params={"match[version]": "all", "limit": 2}))
    assert len(p1["objects"]) == 2 and p1["more"]
    p2 = ok(ref.r.get(OBJ, params={"match[version]": "all", "limit": 2, "next": p1["next"]}))
    assert len(p2["objects"]) == 2 and p2["more"]
    assert ids_versions(p1) + ids_versions(p2) == [key(o) for o in (R, I2, MD, M21)]
    err(ref.r.get(OBJ, params={"match[version]": "first", "limit": 2, "next": p2["next"]}), 400)


def test_every_version_is_stored_as_posted(ref):
    body = objects(ref, {"match[version]": "all", "match[spec_version]": "2.0,2.1"})
    assert body["objects"] == POSTED
