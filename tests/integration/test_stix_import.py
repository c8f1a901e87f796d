"""Importing STIX: bundles, objects, 2.0 upgrade, projection into records, bad objects."""
import json
import sqlite3

import pytest

from conftest import DATA, ROOT

OASIS = DATA / "stix21" / "oasis-stix2-examples"
STIX20 = DATA / "stix20" / "pan-unit42-iocs"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="../shared/data is not present")


def summary(out):
    import re
    m = re.search(r"read (\d+), new (\d+), updated (\d+), rejected (\d+)", out)
    o = re.search(r"objects (\d+): (\d+) versions stored, (\d+) already held; (\d+) patterns", out)
    return tuple(map(int, m.groups())), tuple(map(int, o.groups())) if o else None


def lookup(c, value):
    return json.loads(c.run("lookup", value).stdout)


BUNDLE = {
    "type": "bundle", "id": "bundle--2b4a1b1e-0f0e-4c4c-9d56-6a1f9e0f3e10",
    "objects": [
        {"type": "identity", "spec_version": "2.1", "id": "identity--8a4f5c0e-2a5e-4b5e-9c61-3b1b9b2a7d11",
         "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
         "name": "Example CERT", "identity_class": "organization"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c81",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-03T00:00:00.000Z",
         "created_by_ref": "identity--8a4f5c0e-2a5e-4b5e-9c61-3b1b9b2a7d11",
         "pattern": "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'C2.Example.NET']",
         "pattern_type": "stix", "valid_from": "2024-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z",
         "confidence": 80, "labels": ["c2", "apt-x"],
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1071.001"},
                                 {"source_name": "report", "url": "https://cert.example/r/1"}]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c82",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
         "pattern": "[file:name = 'x.exe' AND file:size > 10]", "pattern_type": "stix",
         "valid_from": "2024-01-02T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "not-an-id",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '198.51.100.9']", "pattern_type": "stix",
         "valid_from": "2024-01-02T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c84",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '198.51.100.10'", "pattern_type": "stix",
         "valid_from": "2024-01-02T00:00:00Z"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c85",
         "modified": "2024-01-02T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '198.51.100.11']", "pattern_type": "stix",
         "valid_from": "2024-01-02T00:00:00Z"},
        {"type": "vulnerability", "spec_version": "2.1", "id": "vulnerability--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c86",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z", "name": "Log4Shell",
         "external_references": [{"source_name": "cve", "external_id": "CVE-2021-44228"}]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c87",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z", "revoked": True,
         "pattern": "[url:value = 'http://bad.example/x']", "pattern_type": "stix",
         "valid_from": "2024-01-02T00:00:00Z"},
    ],
}


def test_bundle_projection_rejections_and_versions(cairn):
    path = cairn.tmp / "b.json"
    path.write_text(json.dumps(BUNDLE, indent=1))
    p = cairn.run("import", path)
    (read, new, upd, rej), objs = summary(p.stdout)
    # records: the IP and domain of the OR pattern, the CVE, the revoked URL
    assert (read, new, upd, rej) == (4, 4, 0, 3), p.stdout
    # objects: 8 read, 5 valid stored (identity, 2 indicators, vulnerability, revoked one), 1 composite
    assert objs == (8, 5, 0, 1), p.stdout
    assert "object 3 (not-an-id): 'id' is not <type>--<UUID>" in p.stdout
    assert "object 4 (indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c84): pattern:" in p.stdout
    assert "object 5 (indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c85): 'created' is required" in p.stdout
    ip = lookup(cairn, "198.51.100.7")
    assert ip["found"] and ip["score"] == 80 and set(ip["tags"]) == {"c2", "apt-x"}
    assert ip["mitre_techniques"] == ["T1071.001"]
    assert ip["sources"][0]["feed_name"] == "Example CERT"  # the creator identity names the source
    assert ip["valid_until"].startswith("2030-01-01")
    assert lookup(cairn, "c2.example.net")["found"]
    assert lookup(cairn, "CVE-2021-44228")["found"]
    assert lookup(cairn, "http://bad.example/x")["revoked"] is True
    # Importing the same bundle again: every version is already held, records merge.
    p = cairn.run("import", path)
    (read, new, upd, rej), objs = summary(p.stdout)
    assert (new, upd) == (0, 4) and objs == (8, 0, 5, 1)
    # A new version (later modified) is stored beside the old one.
    BUNDLE["objects"][1]["modified"] = "2024-02-01T00:00:00.000Z"
    path.write_text(json.dumps(BUNDLE))
    _, objs = summary(cairn.run("import", path).stdout)
    assert objs[1] == 1
    with sqlite3.connect(cairn.db) as db:
        n = db.execute("SELECT count(*) FROM objects WHERE stix_id = ?",
                       ("indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c81",)).fetchone()[0]
    assert n == 2


def test_ndjson_and_single_object(cairn):
    objs = BUNDLE["objects"][:2]
    (cairn.tmp / "o.ndjson").write_text("\n".join(json.dumps(o) for o in objs) + "\n")
    out = cairn.run("import", "--format", "stix", cairn.tmp / "o.ndjson").stdout
    assert summary(out)[1][:2] == (2, 2), out
    (cairn.tmp / "one.json").write_text(json.dumps(objs[1]))
    out = cairn.run("import", cairn.tmp / "one.json").stdout
    assert "(stix," in out and summary(out)[1][2] == 1


@needs_data
def test_stix20_is_upgraded(cairn):
    p = cairn.run("import", STIX20 / "Netwalker_TA.json")
    assert "(stix," in p.stdout
    with sqlite3.connect(cairn.db) as db:
        rows = db.execute("SELECT json FROM objects WHERE type = 'indicator' LIMIT 50").fetchall()
    assert rows
    for (j,) in rows:
        o = json.loads(j)
        assert o["spec_version"] == "2.1" and o["pattern_type"] == "stix"
        assert "indicator_types" in o


@needs_data
def test_every_real_bundle_imports_and_round_trips(make_cairn):
    """Import every real bundle, export, re-import into a fresh database: the same records,
    and the exported object versions arrive as exactly those versions."""
    a = make_cairn()
    files = sorted((DATA / "stix21").glob("*/*.json")) + sorted((DATA / "stix20").glob("*/*.json"))
    assert files
    for f in files:
        p = a.run("import", f)
        (read, new, upd, rej), objs = summary(p.stdout)
        assert new + upd + rej == read, p.stdout
        assert objs is not None and objs[1] + objs[2] <= objs[0]
    bundle = a.tmp / "out.json"
    a.run("export", "--format", "stix", "--include-expired", "-o", bundle)
    b = make_cairn()
    b.run("import", bundle)
    dump = "SELECT type, value, score, revoked, valid_until / 1000 FROM iocs ORDER BY type, value"
    versions_a = ("SELECT o.stix_id, o.modified FROM objects o JOIN iocs i ON i.rid = o.ioc_rid"
                  " AND o.modified = i.modified ORDER BY 1")
    versions_b = ("SELECT stix_id, modified FROM objects WHERE ioc_rid IS NULL AND type NOT IN"
                  " ('identity', 'marking-definition') ORDER BY 1")
    with sqlite3.connect(a.db) as da, sqlite3.connect(b.db) as db:
        assert da.execute(dump).fetchall() == db.execute(dump).fetchall()
        assert da.execute(versions_a).fetchall() == db.execute(versions_b).fetchall()

def test_required_properties_per_type(cairn):
    objs = [
        {"type": "malware", "spec_version": "2.1", "id": "malware--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c90",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z", "name": "X"},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c91",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
         "relationship_type": "uses", "source_ref": "malware--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c90",
         "target_ref": "attack-pattern--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c92"},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c93",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z",
         "pattern": "[ipv4-addr:value = '198.51.100.33']", "pattern_type": "stix"},
        # STIX 2.0 malware has no is_family: upgraded, not rejected
        {"type": "malware", "id": "malware--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c94",
         "created": "2024-01-02T00:00:00.000Z", "modified": "2024-01-02T00:00:00.000Z", "name": "Y",
         "labels": ["trojan"]},
    ]
    path = cairn.tmp / "req.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--0b1c2d3e-4f50-4a1b-8c2d-3e4f5a6b7c95",
                                "objects": objs}))
    out = cairn.run("import", path).stdout
    assert "a malware needs 'is_family'" in out
    assert "a indicator needs 'valid_from'" in out or "an indicator needs 'valid_from'" in out
    assert summary(out)[1][:2] == (4, 2), out
