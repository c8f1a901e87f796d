"""The habits of real TAXII consumers against cairn's TAXII 2.1 server: Elastic's polling
(added_after without a fraction, then only next and limit, the cursor kept from
X-TAXII-Date-Added-Last), Microsoft Sentinel's connector (a collection by UUID, HTTP Basic,
taxii2-client paging), OpenCTI's Accept header, clients without User-Agent or Accept, and a
Content-Type sent on a GET.
"""
import http.client
import json
import re
import threading
import uuid
from base64 import b64encode
from datetime import datetime, timedelta, timezone

import pytest
import requests
from requests.auth import HTTPBasicAuth
from stix2validator import ValidationOptions, validate_parsed_json
from taxii2client.v21 import Collection, as_pages

from conftest import Cairn

TAXII = "application/taxii+json;version=2.1"
API = "/api/taxii2/api/"
ALL = "41105b76-00fd-42b2-9671-86470f727d96"
IPS = "b3fdd87f-c3d8-4409-a9bc-af8879a2685e"
CONFIG = """tiers:
  pro: {requests_per_minute: 1000000, requests_per_day: 100000000}
  admin: {requests_per_minute: 1000000, requests_per_day: 100000000}
"""
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
VALUE = re.compile(r"\[(?:ipv4-addr|domain-name):value = '([^']+)'\]")
DOMAINS = [f"poll{i}.consumer.example" for i in range(300)]
ADDRS = [f"10.77.{i // 250}.{i % 250 + 1}" for i in range(200)]


def validate(objs):
    for o in objs:
        res = validate_parsed_json(o, ValidationOptions(version=o.get("spec_version", "2.0")))
        assert res.is_valid, (o.get("id"), [e.message for e in res.errors])
    return objs


def value(o):
    return VALUE.fullmatch(o["pattern"]).group(1)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("taxii-consumers"), CONFIG)
    lines = [v for pair in zip(DOMAINS, ADDRS) for v in pair] + DOMAINS[len(ADDRS):]
    c.import_text("\n".join(lines) + "\n", "--feed", "bulk", name="bulk.txt")
    c.pro = c.key("pro")
    c.admin = c.key("admin")
    c.start()
    yield c
    assert c.stop() == 0


def raw(c, method, path, headers, body=None):
    """One request through http.client, which adds no User-Agent and no Accept."""
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def basic(key, user="apikey"):
    return "Basic " + b64encode(f"{user}:{key}".encode()).decode()


# ---------------------------------------------------------------------------------------------

class ElasticPoller:
    """What Elastic's threat-intel TAXII input does: the first request names added_after (from
    the configured initial interval, without a fraction) and limit; later pages send only next
    and limit; the next run starts from the X-TAXII-Date-Added-Last it kept. Its HTTP client
    also sends a Content-Type on GET."""

    def __init__(self, c, key, limit=100):
        self.c, self.limit = c, limit
        self.s = requests.Session()
        self.s.auth = ("apikey", key)
        self.s.headers.update({"Accept": TAXII, "Content-Type": "application/json",
                               "User-Agent": "Elastic-Filebeat/8.12.0"})
        self.url = f"{c.base}{API}collections/{ALL}/objects/"
        self.cursor = None
        self.pages = 0

    def run(self, initial_added_after):
        after = self.cursor or initial_added_after
        got = []
        r = self.s.get(self.url, params={"added_after": after, "limit": self.limit}, timeout=60)
        while True:
            assert r.status_code == 200, r.text[:300]
            assert r.headers["Content-Type"] == TAXII
            self.pages += 1
            body = r.json()
            objs = body.get("objects", [])
            got += objs
            if objs:
                self.cursor = r.headers["X-TAXII-Date-Added-Last"]
            if not body.get("next"):
                assert body["more"] is False
                break
            assert body["more"] is True
            r = self.s.get(self.url, params={"next": body["next"], "limit": self.limit}, timeout=60)
        return got


def test_elastic_style_poll(srv):
    start = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    poller = ElasticPoller(srv, srv.pro, limit=64)
    first = poller.run(start)
    validate(first[::25])
    assert len(first) == 500 and len({o["id"] for o in first}) == 500
    assert {value(o) for o in first} == set(DOMAINS) | set(ADDRS)
    assert poller.pages == 8
    assert STAMP.fullmatch(poller.cursor)
    cursor = poller.cursor
    # New data: two new indicators and a change to a known one (a new version of its object).
    r = srv.post("/api/v1/iocs", srv.admin, json={"iocs": [
        {"value": "fresh-1.consumer.example"}, {"value": "10.77.9.9"},
        {"value": DOMAINS[7], "tags": ["phishing"], "confidence": 90}]})
    assert r.status_code in (200, 201), r.text
    second = poller.run(start)
    validate(second)
    assert sorted(value(o) for o in second) == sorted(["fresh-1.consumer.example", "10.77.9.9", DOMAINS[7]])
    changed = next(o for o in second if value(o) == DOMAINS[7])
    before = next(o for o in first if o["id"] == changed["id"])
    assert changed["modified"] > before["modified"]
    assert poller.cursor > cursor
    # Nothing new: an empty page keeps the cursor where it was.
    kept = poller.cursor
    assert poller.run(start) == []
    assert poller.cursor == kept
    r = poller.s.get(poller.url, params={"added_after": kept, "limit": 64}, timeout=60)
    assert r.json() == {"more": False}
    assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"] == kept


def test_elastic_poll_while_objects_are_added_loses_nothing(srv):
    """A poller that pages by its cursor while objects are being added sees every object once:
    date_added follows commit order."""
    start = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    poller = ElasticPoller(srv, srv.pro, limit=7)
    posted, done = [], threading.Event()
    errors = []

    def writer():
        s = requests.Session()
        s.auth = ("apikey", srv.admin)
        try:
            for b in range(25):
                objs = [{"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}",
                         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                         "name": f"batch {b} item {i}", "is_family": False} for i in range(12)]
                r = s.post(f"{srv.base}{API}collections/{ALL}/objects/", data=json.dumps({"objects": objs}),
                           headers={"Content-Type": TAXII}, timeout=60)
                if r.status_code != 202 or r.json()["success_count"] != 12:
                    errors.append(r.text[:300])
                    return
                posted.extend(o["id"] for o in objs)
        finally:
            done.set()

    t = threading.Thread(target=writer)
    t.start()
    seen = []
    while not done.is_set():
        seen += [o["id"] for o in poller.run(start)]
    t.join()
    seen += [o["id"] for o in poller.run(start)]
    assert not errors, errors
    assert len(posted) == 300
    mine = [i for i in seen if i.startswith("malware--")]
    assert sorted(mine) == sorted(posted)           # every one, exactly once


def test_sentinel_style_poll(srv):
    """Sentinel's connector: the API root and a collection *id* (a UUIDv4), HTTP Basic, and
    taxii2-client paging from a look-back time."""
    col = Collection(f"{srv.base}{API}collections/{IPS}/", user="apikey", password=srv.pro)
    assert uuid.UUID(col.id).version == 4 and col.can_read
    lookback = datetime.now(timezone.utc) - timedelta(days=7)
    got = []
    for env in as_pages(col.get_objects, per_request=37, added_after=lookback, type="indicator"):
        got += env.get("objects", [])
    assert len({o["id"] for o in got}) == len(got)
    assert {value(o) for o in got} >= set(ADDRS)
    assert all(o["type"] == "indicator" and o["pattern_type"] == "stix" and o["valid_from"] for o in got)
    validate(got)
    # The empty user name works too (some connectors leave it blank).
    col2 = Collection(f"{srv.base}{API}collections/{IPS}/", auth=HTTPBasicAuth("", srv.pro))
    env = col2.get_objects(limit=5)
    assert len(env["objects"]) == 5


def test_opencti_accept_header(srv):
    s = requests.Session()
    s.headers["Accept"] = "application/json, text/plain, */*"
    for auth in ({"Authorization": basic(srv.pro)}, {"Authorization": f"Bearer {srv.pro}"}):
        for path in ("/api/taxii2/", API, API + "collections/", f"{API}collections/{ALL}/objects/?limit=3",
                     f"{API}collections/{ALL}/manifest/?limit=3"):
            r = s.get(srv.base + path, headers=auth, timeout=60)
            assert r.status_code == 200, (path, r.text[:200])
            assert r.headers["Content-Type"] == TAXII
            r.json()
    body = s.get(f"{srv.base}{API}collections/{ALL}/objects/?limit=3", headers={"Authorization": basic(srv.pro)},
                 timeout=60).json()
    assert len(body["objects"]) == 3 and body["more"] is True
    nxt = s.get(f"{srv.base}{API}collections/{ALL}/objects/", params={"limit": 3, "next": body["next"]},
                headers={"Authorization": basic(srv.pro)}, timeout=60).json()
    assert {o["id"] for o in nxt["objects"]}.isdisjoint(o["id"] for o in body["objects"])


def test_no_user_agent_and_no_accept(srv):
    for path in ("/api/taxii2/", API, API + "collections/", f"{API}collections/{ALL}/objects/?limit=2",
                 f"{API}collections/{IPS}/manifest/?limit=2"):
        status, headers, data = raw(srv, "GET", path, {"Authorization": basic(srv.pro)})
        assert status == 200, (path, data[:200])
        assert headers["content-type"] == TAXII
        json.loads(data)
    status, headers, data = raw(srv, "GET", f"{API}collections/{ALL}/objects/?limit=2", {"X-API-Key": srv.pro})
    assert status == 200 and len(json.loads(data)["objects"]) == 2
    # Without credentials: still a TAXII 401, not an HTML page.
    status, headers, data = raw(srv, "GET", API, {})
    assert status == 401 and headers["content-type"] == TAXII
    assert headers["www-authenticate"] == 'Basic realm="cairn"'
    assert json.loads(data)["http_status"] == "401"


def test_content_type_on_get_and_delete_is_ignored(srv):
    for ct in ("application/json", "text/plain", "application/x-www-form-urlencoded", TAXII):
        status, headers, data = raw(srv, "GET", f"{API}collections/{ALL}/objects/?limit=2",
                                    {"Authorization": basic(srv.pro), "Content-Type": ct, "Accept": TAXII})
        assert status == 200 and len(json.loads(data)["objects"]) == 2, (ct, data[:200])
    oid = f"malware--{uuid.uuid4()}"
    obj = {"type": "malware", "spec_version": "2.1", "id": oid, "created": "2024-01-01T00:00:00.000Z",
           "modified": "2024-01-01T00:00:00.000Z", "name": "to delete", "is_family": True}
    status, _, data = raw(srv, "POST", f"{API}collections/{ALL}/objects/",
                          {"Authorization": basic(srv.admin), "Content-Type": TAXII}, json.dumps({"objects": [obj]}))
    assert status == 202, data[:200]
    status, headers, data = raw(srv, "DELETE", f"{API}collections/{ALL}/objects/{oid}/",
                                {"Authorization": basic(srv.admin), "Content-Type": "application/json"})
    assert status == 200, data[:200]
    status, _, _ = raw(srv, "GET", f"{API}collections/{ALL}/objects/{oid}/", {"Authorization": basic(srv.pro)})
    assert status == 404


def test_a_client_that_keeps_paging_on_next_stops(srv):
    """Consumers (Elastic among them) page while `next` is non-empty: the last page has none,
    and no page claims more without one."""
    s = requests.Session()
    s.auth = ("apikey", srv.pro)
    url = f"{srv.base}{API}collections/{IPS}/manifest/"
    params, pages = {"limit": 50}, 0
    while True:
        body = s.get(url, params=params, timeout=60).json()
        pages += 1
        assert bool(body.get("next")) == body["more"]
        if not body.get("next"):
            break
        params = {"limit": 50, "next": body["next"]}
        assert pages < 100
    assert pages >= 4


def test_manifest_then_objects_by_id_sync(srv):
    """Sync tools read the manifest for what changed, then fetch those objects in batches of
    match[id]: the result is the same as walking the objects."""
    s = requests.Session()
    s.auth = ("apikey", srv.pro)
    base = f"{srv.base}{API}collections/{ALL}/"
    want, params = [], {"limit": 120}
    while True:
        m = s.get(base + "manifest/", params=params, timeout=60).json()
        want += [(e["id"], e["version"]) for e in m.get("objects", [])]
        if not m["more"]:
            break
        params = {"limit": 120, "next": m["next"]}
    got = []
    for i in range(0, len(want), 50):
        ids = [w[0] for w in want[i:i + 50]]
        body = s.get(base + "objects/", params={"match[id]": ",".join(ids), "limit": 50}, timeout=60).json()
        assert body["more"] is False
        got += body["objects"]
    assert len(got) == len(want) >= 500
    assert sorted((o["id"], o["modified"][:23]) for o in got) == sorted((i, v[:23]) for i, v in want)
    walk, params = [], {"limit": 200}
    while True:
        b = s.get(base + "objects/", params=params, timeout=60).json()
        walk += b.get("objects", [])
        if not b["more"]:
            break
        params = {"limit": 200, "next": b["next"]}
    assert sorted(json.dumps(o, sort_keys=True) for o in walk) == sorted(json.dumps(o, sort_keys=True) for o in got)
