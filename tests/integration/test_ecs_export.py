"""GET /api/v1/iocs/ecs and `cairn export --format ecs`: ECS NDJSON mapped from each record's STIX
object (docs/ecs.md), in both profiles."""
import csv
import ipaddress
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ROOT, SHARED, error_of

ECS_FIELDS = SHARED / "conformance" / "ecs" / "v8.17.0" / "fields.csv"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("ecs"))
    c.run("import", "--feed", "demo", "--tlp", "green", ROOT / "examples" / "demo-feed.csv")
    c.run("import", "--feed", "demo-list", ROOT / "examples" / "demo-list.txt")
    c.import_text("".join(f"bulk{i}.ecs-export.example\n" for i in range(2500)), "--feed", "bulk",
                  name="bulk.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.stix_only = c.key("pro", name="stix-only", scopes=["read:stix"])
    c.start()
    yield c
    assert c.stop() == 0


def lines(resp):
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    body = resp.content
    assert body.endswith(b"\n") or body == b""
    return [json.loads(line) for line in body.decode().splitlines()]


def leaves(doc, prefix=""):
    for k, v in doc.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from leaves(v, path + ".")
        else:
            yield path, v


def ecs_fields():
    with open(ECS_FIELDS, newline="") as f:
        return {row["Field"]: row["Type"] for row in csv.DictReader(f)}


def by_value(docs):
    """The indicator value of each document, from its STIX object's pattern."""
    out = {}
    for d in docs:
        pattern = d["stix"]["pattern"]
        out[pattern.split("'")[1]] = d
    return out


def test_documents_are_ecs_and_come_from_the_stix_objects(srv):
    docs = lines(srv.get("/api/v1/iocs/ecs?source=demo&limit=100", srv.pro))
    r = srv.get("/api/v1/iocs/ecs?source=demo&limit=100", srv.pro)
    assert r.headers["X-Total-Count"] == "10" and r.headers["X-Omitted-Records"] == "2"
    assert r.headers["X-Document-Count"] == "10"
    assert len(docs) == 10
    fields = ecs_fields()
    stix_text = srv.get("/api/v1/iocs/stix?source=demo&limit=100&include_identity=false"
                        "&include_markings=false", srv.pro).text
    for d in docs:
        # Every field is an ECS 8.17 field, with values of its ECS type, except the STIX copy and
        # cairn's own namespace.
        for path, v in leaves(d):
            if path.startswith(("stix.", "cairn.")):
                continue
            assert path in fields, path
            for x in v if isinstance(v, list) else [v]:
                if fields[path] == "ip":
                    ipaddress.ip_address(x)
                elif fields[path] == "date":
                    datetime.strptime(x, "%Y-%m-%dT%H:%M:%S.%f%z")
                elif fields[path] == "long":
                    assert isinstance(x, int)
        assert d["ecs"]["version"] == "8.17.0" and d["event"]["kind"] == "enrichment"
        assert d["event"]["category"] == ["threat"] and d["event"]["type"] == ["indicator"]
        # event.original is the record's STIX object, byte for byte as the STIX export serves it.
        assert d["event"]["original"] in stix_text
        obj = json.loads(d["event"]["original"])
        assert d["stix"]["id"] == obj["id"] == d["threat"]["indicator"]["id"]
        assert d["threat"]["feed"]["name"] == "cairn"
        assert d["threat"]["indicator"]["marking"] == {"tlp": "GREEN", "tlp_version": "2.0"}
        assert obj["object_marking_refs"] == [TLP_GREEN]
        # expiry: the record's valid_until (MAPPING.md §7 step 1)
        assert d["stix"]["ioc_expiration_reason"] == "Expiration set from valid_until field"
        assert d["stix"]["ioc_expiration_date"][:19] == obj["valid_until"][:19]
        assert d["stix"]["ioc_expiration_duration"] == "90d"
        assert "event.ingested" not in dict(leaves(d)) and "ingested" not in d["event"]
    v = by_value(docs)
    assert v["203.0.113.10"]["threat"]["indicator"]["ip"] == ["203.0.113.10"]
    assert v["203.0.113.10"]["related"]["ip"] == ["203.0.113.10"]
    assert v["203.0.113.10"]["threat"]["indicator"]["type"] == "ipv4-addr"
    assert v["203.0.113.10"]["threat"]["indicator"]["confidence"] == "High"
    assert "cobalt-strike" in v["203.0.113.10"]["tags"]
    # A network is not an address: ECS ip fields cannot hold it.
    net = v["198.51.100.0/24"]
    assert net["cairn"]["ip_networks"] == ["198.51.100.0/24"] and "ip" not in net["threat"]["indicator"]
    assert v["2001:db8::dead:beef"]["threat"]["indicator"]["type"] == "ipv6-addr"
    dom = v["malware-drop.example"]
    assert dom["threat"]["indicator"]["url"] == {"domain": ["malware-drop.example"]}
    assert dom["related"]["hosts"] == ["malware-drop.example"]
    assert v["http://malware-drop.example/payload.exe"]["threat"]["indicator"]["url"] == {
        "original": ["http://malware-drop.example/payload.exe"]}
    md5 = v["44d88612fea8a8f36de82e1278abb02f"]
    assert md5["threat"]["indicator"]["file"]["hash"] == {"md5": ["44d88612fea8a8f36de82e1278abb02f"]}
    assert md5["related"]["hash"] == ["44d88612fea8a8f36de82e1278abb02f"]
    assert v["billing@invoice-update.example"]["threat"]["indicator"]["email"] == {
        "address": ["billing@invoice-update.example"]}


def test_ti_custom_profile_and_options(srv):
    q = ("/api/v1/iocs/ecs?source=demo&limit=100&profile=ti_custom&expiration_duration=36h"
         "&feed_name=Demo%20feed&feed_reference=https://feeds.example/demo&tlp=amber")
    docs = lines(srv.get(q, srv.pro))
    assert len(docs) == 10
    v = by_value(docs)
    for d in docs:
        assert d["tags"][:2] == ["forwarded", "ti_custom-indicator"]
        assert d["threat"]["feed"] == {"name": "Demo feed", "reference": "https://feeds.example/demo"}
        assert d["stix"]["ioc_expiration_duration"] == "36h"
        assert "id" not in d["threat"]["indicator"]
        # tlp= overrides the records' TLP; ti_custom shows only that configured value
        assert d["threat"]["indicator"]["marking"] == {"tlp": "AMBER"}
        assert json.loads(d["event"]["original"])["object_marking_refs"] == [
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]
    # Elastic's quirks: a domain in url.original, a network's prefix dropped.
    assert v["malware-drop.example"]["threat"]["indicator"]["url"] == {"original": ["malware-drop.example"]}
    assert v["198.51.100.0/24"]["threat"]["indicator"]["ip"] == ["198.51.100.0"]
    assert v["198.51.100.0/24"]["threat"]["indicator"]["type"] == "ipv4-addr"


def test_expiry_from_duration_and_from_revocation(make_cairn):
    """Records that never expire carry no valid_until, so their documents expire `modified` + the
    configured duration (MAPPING.md §7 step 3); a revoked one at its `modified` (step 2)."""
    c = make_cairn("lifetimes:\n  domain: 0\n")
    c.import_text("forever.example\nrevoked.example\n", "--feed", "f", name="d.txt")
    admin, pro = c.key("admin"), c.key("pro")
    c.start()
    listed = c.get("/api/v1/iocs?limit=10", admin).json()["data"]
    rid = next(r["id"] for r in listed if r["value"] == "revoked.example")
    assert c.post(f"/api/v1/iocs/{rid}/revoke", admin).status_code == 200
    docs = lines(c.get("/api/v1/iocs/ecs?include_expired=true&expiration_duration=12h", pro))
    v = by_value(docs)
    forever, revoked = v["forever.example"]["stix"], v["revoked.example"]["stix"]
    assert "valid_until" not in forever and "valid_until" not in revoked
    assert forever["ioc_expiration_reason"] == (
        "Expiration set by Elastic from the integration's parameter `IOC Expiration Duration`")
    modified = datetime.strptime(forever["modified"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert forever["ioc_expiration_date"] == (modified + timedelta(hours=12)).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert revoked["revoked"] is True
    assert revoked["ioc_expiration_reason"] == "Expiration set from revoked field"
    assert revoked["ioc_expiration_date"] == revoked["modified"]
    assert revoked["ioc_expiration_duration"] == "12h"


def test_export_is_deterministic_and_matches_the_cli(srv):
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for profile in ("ecs", "ti_custom"):
        q = f"/api/v1/iocs/ecs?limit=700&since={since}&type=domain&profile={profile}&expiration_duration=5d"
        a, b = srv.get(q, srv.pro).content, srv.get(q, srv.pro).content
        assert a == b
        out = srv.tmp / f"export-{profile}.ndjson"
        srv.run("export", "--format", "ecs", "--profile", profile, "--expiration-duration", "5d",
                "--limit", "700", "--since", since, "--type", "domain", "-o", out)
        assert out.read_bytes() == a
        assert len(a.splitlines()) == 700


def test_whole_database_export_streams(srv):
    out = srv.tmp / "all.ndjson"
    p = srv.run("export", "--format", "ecs", "-o", out)
    assert "2513 records written" in p.stderr, p.stderr
    assert "3 records without an indicator" in p.stderr
    n = 0
    with open(out) as f:
        for line in f:
            json.loads(line)
            n += 1
    assert n == 2513
    # stdout carries the same bytes
    assert srv.run("export", "--format", "ecs").stdout.encode() == out.read_bytes()


def test_tiers_scopes_and_bad_parameters(srv):
    error_of(srv.get("/api/v1/iocs/ecs", srv.free), 403, "tier_required")
    error_of(srv.get("/api/v1/iocs/ecs", srv.stix_only), 403, "insufficient_scope")
    error_of(srv.get("/api/v1/iocs/ecs"), 401, "missing_api_key")
    for bad in ("profile=elastic", "expiration_duration=5w", "expiration_duration=0d", "tlp=purple",
                "type=bogus", "profile=", "feed_name=" + "x" * 200):
        e = error_of(srv.get(f"/api/v1/iocs/ecs?{bad}", srv.pro), 400, "invalid_parameter")
        assert e["details"]["parameter"] == bad.split("=")[0]
    r = srv.post("/api/v1/iocs/ecs", srv.pro, data="{}")
    assert r.status_code == 405
    for args in (["--profile", "elastic"], ["--expiration-duration", "90s"]):
        p = srv.run("export", "--format", "ecs", *args, check=False)
        assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
