"""GET /api/v1/iocs/stix and `cairn export --format stix`: bundles the OASIS tools accept."""
import json
from datetime import datetime, timedelta, timezone

import pytest
import stix2
from stix2validator import ValidationOptions, validate_string

from conftest import ROOT, error_of

TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("stix"))
    c.run("import", "--feed", "demo", "--tlp", "green", ROOT / "examples" / "demo-feed.csv")
    c.run("import", "--feed", "demo-list", ROOT / "examples" / "demo-list.txt")
    c.import_text("".join(f"bulk{i}.stix-export.example\n" for i in range(3000)), "--feed", "bulk",
                  name="bulk.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.narrow = c.key("pro", name="iocs-only", scopes=["read:iocs"])
    c.start()
    yield c
    assert c.stop() == 0


def validate(text):
    results = validate_string(text, ValidationOptions(version="2.1"))
    assert results.is_valid, [e.message for e in results.errors] + [
        e.message for o in results.object_results for e in o.errors]
    return stix2.parse(text, allow_custom=False)


def test_bundle_is_valid_stix_and_parses(srv):
    r = srv.get("/api/v1/iocs/stix?limit=100&source=demo", srv.pro)
    assert r.status_code == 200
    bundle = validate(r.text)
    types = {o.type for o in bundle.objects}
    assert {"identity", "indicator", "vulnerability", "attack-pattern", "marking-definition"} <= types
    ind = [o for o in bundle.objects if o.type == "indicator"]
    by_pattern = {o.pattern: o for o in ind}
    o = by_pattern["[ipv4-addr:value = '203.0.113.10']"]
    assert o.pattern_type == "stix" and o.confidence == 85 and o.valid_until > o.valid_from
    assert "cobalt-strike" in o.labels
    assert any(ref.get("external_id") == "T1071.001" for ref in o.external_references)
    assert o.created_by_ref == "identity--0d7c1e52-8b1f-5f4e-a6c2-6e0a9f3b7d15"
    assert "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']" in by_pattern
    assert int(r.headers["X-Total-Count"]) == 12


def test_export_is_deterministic_and_matches_the_cli(srv):
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = f"/api/v1/iocs/stix?limit=500&since={since}&type=domain"
    a, b = srv.get(q, srv.pro).content, srv.get(q, srv.pro).content
    assert a == b
    out = srv.tmp / "export.json"
    srv.run("export", "--format", "stix", "--limit", "500", "--since", since, "--type", "domain",
            "-o", out)
    assert out.read_bytes() == a
    bundle = validate(a.decode())
    assert sum(1 for o in bundle.objects if o.type == "indicator") == 500


def test_whole_database_export_streams_and_validates(srv):
    out = srv.tmp / "all.json"
    p = srv.run("export", "--format", "stix", "-o", out)
    assert "3016 records" in p.stderr
    bundle = validate(out.read_text())
    assert sum(1 for o in bundle.objects if o.type != "identity" and o.type != "marking-definition") == 3016


def test_objects_format_tlp_override_and_switches(srv):
    r = srv.get("/api/v1/iocs/stix?format=objects&tlp=red&limit=20", srv.pro)
    objs = r.json()
    assert isinstance(objs, list)
    marked = [o for o in objs if o["type"] not in ("identity", "marking-definition")]
    assert marked and all(o["object_marking_refs"] == [TLP_RED] for o in marked)
    assert [o["id"] for o in objs if o["type"] == "marking-definition"] == [TLP_RED]
    r = srv.get("/api/v1/iocs/stix?include_identity=false&include_markings=false&limit=5", srv.pro)
    objs = r.json()["objects"]
    assert {o["type"] for o in objs} <= {"indicator", "vulnerability", "attack-pattern"}


def test_stix_media_type_when_asked(srv):
    r = srv.get("/api/v1/iocs/stix?limit=1", srv.pro,
                headers={"Accept": "application/stix+json;version=2.1"})
    assert r.headers["Content-Type"] == "application/stix+json;version=2.1"
    assert srv.get("/api/v1/iocs/stix?limit=1", srv.pro).headers["Content-Type"].startswith(
        "application/json")


def test_tiers_scopes_and_bad_parameters(srv):
    error_of(srv.get("/api/v1/iocs/stix", srv.free), 403, "tier_required")
    error_of(srv.get("/api/v1/iocs/stix", srv.narrow), 403, "insufficient_scope")
    error_of(srv.get("/api/v1/iocs/stix?format=xml", srv.pro), 400, "invalid_parameter")
    error_of(srv.get("/api/v1/iocs/stix?tlp=purple", srv.pro), 400, "invalid_parameter")
    error_of(srv.get("/api/v1/iocs/stix?type=bogus", srv.pro), 400, "invalid_parameter")
    p = srv.run("export", "--format", "nonesuch", check=False)
    assert p.returncode != 0 and p.stderr.count("\n") == 1


def test_tactics_only_with_include_custom(make_cairn):
    c = make_cairn()
    c.import_text("TA0001\nT1059.001\n", "--feed", "attack", name="attack.txt")
    out = c.tmp / "strict.json"
    p = c.run("export", "--format", "stix", "-o", out)
    assert "1 ATT&CK tactics left out" in p.stderr
    bundle = validate(out.read_text())  # stix2.parse(allow_custom=False) accepts it
    assert [o.type for o in bundle.objects if o.type not in ("identity", "marking-definition")] == [
        "attack-pattern"]
    custom = json.loads(c.run("export", "--format", "stix", "--include-custom").stdout)
    assert "x-mitre-tactic" in {o["type"] for o in custom["objects"]}
