"""MISP: GET /api/v1/iocs/misp and `cairn export --format misp` give an event that PyMISP loads
and misp-stix turns into valid STIX 2.1; `cairn import --format misp` reads real MISP events
(../shared/data/misp) with the counts their READMEs give, refuses malformed files, and takes
back what the export wrote."""
import json
import logging
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pymisp import MISPEvent
from stix2validator import ValidationOptions, validate_string

from conftest import BIN, DATA, ROOT, error_of

MISP_DATA = DATA / "misp"
DESCRIBE = json.loads((Path(__import__("pymisp").__file__).parent / "data" / "describeTypes.json")
                      .read_text())["result"]

# cairn type -> the MISP attribute type docs/misp.md promises.
MISP_TYPE = {"ipv4": "ip-dst", "ipv6": "ip-dst", "domain": "domain", "url": "url", "md5": "md5",
             "sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "email": "email-src",
             "cve": "vulnerability"}
TYPE_BACK = {"ip-dst": ("ipv4", "ipv6"), "domain": ("domain",), "url": ("url",), "md5": ("md5",),
             "sha1": ("sha1",), "sha256": ("sha256",), "sha512": ("sha512",),
             "email-src": ("email",), "vulnerability": ("cve",)}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("misp"))
    c.run("import", "--feed", "demo", "--tlp", "green", ROOT / "examples" / "demo-feed.csv")
    c.run("import", "--feed", "demo-list", ROOT / "examples" / "demo-list.txt")
    # Real events: ATT&CK galaxies with names, object attributes, TLP-less events.
    c.run("import", MISP_DATA / "eset-malware-ioc" / "mozi_mozi.misp-event.json")
    c.run("import", MISP_DATA / "eset-malware-ioc" / "glupteba_glupteba.misp-event.json")
    c.import_text("TA0001\n", "--feed", "tactics", name="tactics.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.narrow = c.key("pro", name="iocs-only", scopes=["read:iocs"])
    c.start()
    yield c
    assert c.stop() == 0


def all_records(c, key, query=""):
    out, cursor = [], None
    while True:
        q = f"/api/v1/iocs?limit=10000&include_expired=true{query}" + (f"&cursor={cursor}" if cursor else "")
        body = c.get(q, key).json()
        out += body["data"]
        cursor = body["meta"].get("next_cursor")
        if not body.get("links", {}).get("next"):
            return out


def load(text, caplog):
    """MISPEvent().load, failing on any warning PyMISP logs (it drops what it cannot take)."""
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        ev = MISPEvent()
        ev.load(text)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    return ev


def test_event_loads_in_pymisp_with_every_value_and_type(srv, caplog):
    r = srv.get("/api/v1/iocs/misp?limit=10000", srv.pro)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    records = all_records(srv, srv.pro)
    assert int(r.headers["X-Total-Count"]) == len(records)
    ev = load(r.text, caplog)
    assert ev.info == "cairn indicators" and ev.analysis == 2 and not ev.published
    assert ev.threat_level_id == 1 and ev.distribution == 1   # a high-confidence indicator; TLP green
    raw = json.loads(r.text)["Event"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw["date"]) and raw["timestamp"].isdigit()

    # Every observable record is an attribute with its value and the promised type...
    want = {(MISP_TYPE[x["type"]], x["value"]) for x in records if x["type"] != "mitre-attack"}
    got = {(a.type, a.value) for a in ev.attributes}
    assert got == want and len(ev.attributes) == len(want)
    # ...a category MISP allows for that type, and a unique uuid.
    for a in ev.attributes:
        assert a.type in DESCRIBE["category_type_mappings"][a.category], (a.type, a.category)
    assert len({a.uuid for a in ev.attributes}) == len(ev.attributes)
    by_value = {a.value: a for a in ev.attributes}

    # to_ids: medium/high confidence observables; CVEs never.
    demo = {x["value"]: x for x in records}
    ip = by_value["203.0.113.10"]
    assert ip.to_ids and ip.comment == "Cobalt Strike team server" and ip.category == "Network activity"
    assert {t.name for t in ip.tags} >= {"tlp:green", "c2", "cobalt-strike"}
    assert not by_value["CVE-2021-44228"].to_ids
    low = [a for a in ev.attributes if demo[a.value]["confidence"] in ("low", "none")]
    assert low and not any(a.to_ids for a in low)
    assert ip.first_seen == datetime(2026, 11, 20, 8, tzinfo=timezone.utc)
    assert ip.last_seen >= ip.first_seen

    # ATT&CK: techniques of a record as attribute galaxy tags, named where a MISP galaxy named
    # them (mozi's "Exploit Public-Facing Application - T1190"), else by id; ATT&CK records as
    # event tags, tactics in cairn's mitre-attack:tactic form.
    cve_tags = {t.name for t in by_value["CVE-2021-44228"].tags}
    assert 'misp-galaxy:mitre-attack-pattern="Exploit Public-Facing Application - T1190"' in cve_tags
    assert 'misp-galaxy:mitre-attack-pattern="T1071.001"' in {t.name for t in ip.tags}
    event_tags = [t.name for t in ev.tags]
    assert event_tags[0] == "tlp:green"
    attack = [x for x in records if x["type"] == "mitre-attack"]
    assert len(event_tags) == 1 + len(attack)
    assert 'misp-galaxy:mitre-attack-pattern="T1059.001"' in event_tags
    assert 'misp-galaxy:mitre-attack-pattern="Malware - T1587.001"' in event_tags
    assert 'mitre-attack:tactic="TA0001"' in event_tags


def test_values_pass_misps_own_attribute_validation(srv, caplog):
    """PyMISP's port of MISP's server-side AttributeValidationTool: what /events/add checks and
    normalises. Every value passes unchanged, the CIDR block as ip-dst included."""
    from pymisp.tools import AttributeValidationTool, validate_event
    ev = load(srv.get("/api/v1/iocs/misp?limit=10000", srv.pro).text, caplog)
    before = {(a.type, a.value) for a in ev.attributes}
    assert ("ip-dst", "198.51.100.0/24") in before and ("ip-dst", "2001:db8::dead:beef") in before
    errors = {}
    after = validate_event(ev, errors)
    assert errors == {}
    assert {(a.type, a.value) for a in after.attributes} == before
    for t, v in before:
        assert AttributeValidationTool.modifyBeforeValidation(t, v) == v, (t, v)


def test_misp_stix_converts_it_to_valid_stix21(srv):
    from misp_stix_converter import MISPtoSTIX21Parser
    text = srv.get("/api/v1/iocs/misp?limit=10000", srv.pro).text
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event(json.loads(text))
    bundle = parser.bundle.serialize()
    results = validate_string(bundle, ValidationOptions(version="2.1"))
    assert results.is_valid, [e.message for o in results.object_results for e in o.errors][:10]
    objects = json.loads(bundle)["objects"]
    patterns = " ".join(o.get("pattern", "") for o in objects if o["type"] == "indicator")
    for value in ("203.0.113.10", "malware-drop.example", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"):
        assert value in patterns
    assert any(o["type"] == "vulnerability" and o["name"] == "CVE-2021-44228" for o in objects)


def test_export_is_deterministic_and_matches_the_cli(srv):
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = f"/api/v1/iocs/misp?limit=500&since={since}&source=demo"
    a, b = srv.get(q, srv.pro).content, srv.get(q, srv.pro).content
    assert a == b
    out = srv.tmp / "event.json"
    srv.run("export", "--format", "misp", "--limit", "500", "--since", since, "--source", "demo", "-o", out)
    assert out.read_bytes() == a
    ev = json.loads(a)["Event"]
    assert ev["info"] == "cairn indicators (source=demo)"
    # The event uuid names the selection, not the slice: the same for another limit or window,
    # and each attribute keeps its uuid; another selection is another event.
    other = json.loads(srv.get("/api/v1/iocs/misp?limit=3&source=demo", srv.pro).content)["Event"]
    assert other["uuid"] == ev["uuid"]
    uuids = {x["value"]: x["uuid"] for x in ev["Attribute"]}
    assert all(uuids[x["value"]] == x["uuid"] for x in other["Attribute"])
    third = json.loads(srv.get("/api/v1/iocs/misp?limit=3&source=demo&type=ipv4", srv.pro).content)["Event"]
    assert third["uuid"] != ev["uuid"]
    assert not set(uuids.values()) & {x["uuid"] for x in third["Attribute"]}


def test_parameters_tiers_and_scopes(srv, caplog):
    r = srv.get("/api/v1/iocs/misp?tlp=red&ip_type=ip-src&type=ipv4,ipv6", srv.pro)
    ev = load(r.text, caplog)
    assert ev.attributes and {a.type for a in ev.attributes} == {"ip-src"}
    assert all("tlp:red" in {t.name for t in a.tags} for a in ev.attributes)
    assert [t.name for t in ev.tags] == ["tlp:red"] and ev.distribution == 0
    empty = load(srv.get("/api/v1/iocs/misp?tag=no-such-tag", srv.pro).text, caplog)
    assert empty.attributes == [] and empty.threat_level_id == 4
    error_of(srv.get("/api/v1/iocs/misp", srv.free), 403, "tier_required")
    error_of(srv.get("/api/v1/iocs/misp", srv.narrow), 403, "insufficient_scope")
    error_of(srv.get("/api/v1/iocs/misp?tlp=purple", srv.pro), 400, "invalid_parameter")
    error_of(srv.get("/api/v1/iocs/misp?ip_type=ip-any", srv.pro), 400, "invalid_parameter")
    assert srv.post("/api/v1/iocs/misp", srv.pro).status_code == 405


# ---- import of the real events: the counts of ../shared/data/misp/*/README.md ----

# Per file: events, attributes (of which in objects), objects; values read (an attribute of a
# type cairn keeps gives one value, domain|ip two, ATT&CK galaxy clusters one each); skipped
# (types cairn keeps no indicator of); ATT&CK techniques from galaxies.
REAL = {
    # 1 link + 1,692 android-app objects: sha256 3,262, text 2,342, domain 1,000, sha1 490.
    "echap-stalkerware/stalkerware-misp_event.json":
        dict(events=1, attributes=7095, in_objects=7094, objects=1692, read=3262 + 1000 + 490,
             skipped=2342 + 1, galaxies=0),
    # domain 270, ip-dst 40, filename|sha1 6, domain|ip 4 (two values each), regkey 1.
    "eset-malware-ioc/glupteba_glupteba.misp-event.json":
        dict(events=1, attributes=321, in_objects=0, objects=0, read=270 + 40 + 6 + 2 * 4,
             skipped=1, galaxies=0),
    # sha1 89, domain 13, ip-src 6 kept; regkey|value 94, other 63, filename 29, text 16,
    # regkey 5, mutex 4 skipped; 64 mitre-attack-pattern clusters among its 66 tags.
    "eset-malware-ioc/invisimole_misp_invisimole.json":
        dict(events=1, attributes=319, in_objects=0, objects=0, read=89 + 13 + 6 + 64,
             skipped=94 + 63 + 29 + 16 + 5 + 4, galaxies=64),
    # 4 e-mail attributes; objects: md5/sha1/sha256 29 each, url 11, ip-dst 11, domain 6 kept.
    "eset-malware-ioc/moustachedbouncer_misp-moustachedbouncer.event.json":
        dict(events=1, attributes=4 + 336, in_objects=336, objects=105, read=4 + 3 * 29 + 11 + 11 + 6,
             skipped=340 - (4 + 3 * 29 + 11 + 11 + 6), galaxies=0),
    # objects: md5/sha1/sha256 21 each, url 11, ip-dst 4, ip-src 1; 12 ATT&CK tags.
    "eset-malware-ioc/mozi_mozi.misp-event.json":
        dict(events=1, attributes=151, in_objects=151, objects=47, read=3 * 21 + 11 + 4 + 1 + 12,
             skipped=151 - (3 * 21 + 11 + 4 + 1), galaxies=12),
    # sha1 11, email-dst 1 kept; text 12, filename 7 skipped; the older {"Event": …} wrapper.
    "eset-malware-ioc/sshdoor_endor.json":
        dict(events=1, attributes=31, in_objects=0, objects=0, read=12, skipped=19, galaxies=0),
}

KEEP = {"ip-dst": "ip", "ip-src": "ip", "domain": "domain", "hostname": "domain", "url": "url",
        "md5": "md5", "sha1": "sha1", "sha256": "sha256", "email-src": "email", "email-dst": "email",
        "filename|sha1": "sha1", "domain|ip": ("domain", "ip")}


def independent_values(path):
    """What the file holds, by cairn type, read with Python's json (not cairn's reader)."""
    doc = json.loads(path.read_text())
    events = doc["response"] if "response" in doc else [doc]
    out = {}
    for ev in events:
        ev = ev.get("Event", ev)
        attrs = list(ev.get("Attribute", []))
        for o in ev.get("Object", []):
            attrs += o.get("Attribute", [])
        for a in attrs:
            kind = KEEP.get(a["type"])
            if kind is None or a.get("deleted"):
                continue
            vals = a["value"].split("|")
            if isinstance(kind, str):
                kinds, vals = [kind], [vals[-1]]
            else:
                kinds = list(kind)
            for k, v in zip(kinds, vals):
                if k == "ip":
                    k = "ipv6" if ":" in v else "ipv4"
                out.setdefault(k, set()).add(v.lower() if k not in ("url", "email") else v)
        for t in ev.get("Tag", []):
            m = re.fullmatch(r'misp-galaxy:mitre-attack-pattern=".* - (T\d{4}(?:\.\d{3})?)"', t["name"])
            if m:
                out.setdefault("mitre-attack", set()).add(m.group(1))
    return out


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_events_import_with_their_counts(make_cairn, name):
    want = REAL[name]
    c = make_cairn()
    path = MISP_DATA / name
    out = c.run("import", path).stdout   # --format auto detects MISP
    m = re.search(r"\(misp, feed [^)]*\): read (\d+), new (\d+), updated (\d+), rejected (\d+), skipped (\d+)", out)
    assert m, out
    read, new, updated, rejected, skipped = map(int, m.groups())
    assert (read, rejected, skipped) == (want["read"], 0, want["skipped"]), out
    m = re.search(r"events (\d+), attributes (\d+) \((\d+) in (\d+) objects\): (\d+) of types cairn keeps no"
                  r" indicator of, (\d+) deleted; (\d+) ATT&CK techniques from galaxies", out)
    assert m, out
    assert tuple(map(int, m.groups())) == (want["events"], want["attributes"], want["in_objects"],
                                           want["objects"], want["skipped"], 0, want["galaxies"])
    # Nothing lost: the store holds exactly the distinct values Python finds in the file.
    key = c.key("pro")
    c.start()
    stored = {}
    for x in all_records(c, key):
        stored.setdefault(x["type"], set()).add(x["value"])
    assert stored == independent_values(path)
    assert new == sum(len(v) for v in stored.values()) and new + updated == read


def test_real_event_fields_carry_over(make_cairn):
    c = make_cairn()
    c.run("import", MISP_DATA / "eset-malware-ioc" / "invisimole_misp_invisimole.json")
    c.run("import", MISP_DATA / "eset-malware-ioc" / "mozi_mozi.misp-event.json")
    key = c.key("pro")
    c.start()
    recs = {x["value"]: x for x in all_records(c, key)}
    # The event's organisation is the feed, its info the context, its tags the tags, its ATT&CK
    # galaxies the techniques; to_ids false (every InvisiMole attribute) puts a value in the low band.
    doc = json.loads((MISP_DATA / "eset-malware-ioc" / "invisimole_misp_invisimole.json").read_text())
    comments = {a["value"]: a["comment"] for a in doc["response"][0]["Event"]["Attribute"] if a["type"] == "sha1"}
    assert len(comments) == 89
    for value, comment in comments.items():
        sha1 = recs[value]
        assert sha1["source"]["feed_name"] == "ESET" and sha1["tlp"] == "clear"
        assert "misp-galaxy:threat-actor=\"InvisiMole\"" in sha1["tags"]
        assert sha1["confidence"] == "low"
        assert "T1196" in sha1["mitre_techniques"] and len(sha1["mitre_techniques"]) == 64
        # The attribute's comment, else the event's info.
        assert sha1["context"] == (comment or "Digging up InvisiMole’s hidden arsenal")
    assert recs["T1196"]["context"] == "Control Panel Items - T1196"
    # Mozi: an object's comment is the context of its attributes; to_ids true keeps the default score.
    ip = recs["157.119.75.16"]
    assert ip["context"] == "Server hosting kill switch binaries" and "ESET" in ip["tags"]
    url = next(x for x in recs.values() if x["type"] == "url" and x["source"]["feed_name"] == "ESET")
    assert url["confidence"] == "medium"


def test_malformed_real_file_is_refused_with_the_reason(make_cairn):
    c = make_cairn()
    path = MISP_DATA / "eset-malware-ioc" / "pypi_backdoor_malicious_pypi_packages.misp-event.MALFORMED.json"
    for fmt in ("auto", "misp"):
        p = c.run("import", "--format", fmt, path, check=False)
        assert p.returncode != 0
        assert p.stderr.count("\n") == 1, p.stderr
        assert "line 37374" in p.stderr and "trailing comma" in p.stderr, p.stderr
    # The event was checked whole first: nothing of it was stored.
    key = c.key("pro")
    c.start()
    assert c.get("/api/v1/iocs?include_expired=true", key).json()["meta"]["total"] == 0


@pytest.mark.parametrize("text,reason", [
    ('{"type":"bundle","id":"bundle--1","objects":[]}', "not a MISP event"),
    ('{"Event":{"info":"x","Attribute":{"type":"domain"}}}', "'Attribute' is not an array"),
    ('{"Event":{"info":"x","Attribute":[{"type":"domain","value":"a.example"}', "ends inside"),
    ('[{"Event":{"info":"x"}}, 7]', "not an object"),
    ('{"Event":{"info":"x","Attribute":[]}} trailing', "more data after"),
    ("", "empty"),
])
def test_malformed_inputs_stop_with_one_line(cairn, text, reason):
    path = cairn.tmp / "bad.json"
    path.write_text(text)
    p = cairn.run("import", "--format", "misp", path, check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1 and reason in p.stderr, p.stderr
    assert p.stderr.startswith("cairn import: ")


def test_bad_attributes_are_rejected_with_reasons(cairn):
    event = {"Event": {"info": "mixed", "Attribute": [
        {"type": "ip-dst", "value": "203.0.113.300", "to_ids": True},
        {"type": "filename|sha256", "value": "no-hash-here"},
        {"type": "md5", "value": "d41d8cd98f00b204e9800998ecf8427e", "to_ids": "maybe"},
        {"type": "domain", "value": "fine.example", "to_ids": True},
        {"type": "domain", "value": "gone.example", "deleted": True},
        {"type": "mutex", "value": "Global\\x"},
    ]}}
    path = cairn.tmp / "mixed.json"
    path.write_text(json.dumps(event, indent=1))
    out = cairn.run("import", "--format", "misp", path).stdout
    assert "read 4, new 1, updated 0, rejected 3, skipped 2" in out, out
    assert "1 of types cairn keeps no indicator of, 1 deleted" in out
    # The line where each attribute's object begins (json.dumps with indent=1).
    assert re.search(r"line 5: ip-dst: not a valid ipv4", out), out
    assert "line 10: a filename|sha256 value must have the form filename|sha256" in out
    assert "line 14: the attribute's 'to_ids' is not a boolean" in out
    p = cairn.run("import", "--format", "misp", "--type", "domain", path, check=False)
    assert p.returncode != 0 and "--type does not apply" in p.stderr


def test_standard_input_is_read_in_one_pass(cairn):
    path = MISP_DATA / "eset-malware-ioc" / "mozi_mozi.misp-event.json"
    p = subprocess.run([BIN, "import", "--db", cairn.db, "--format", "misp", "-"], stdin=path.open("rb"),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "read 91, new 91, updated 0, rejected 0, skipped 72" in p.stdout, p.stdout


def test_round_trip_to_a_second_server(make_cairn, caplog):
    a = make_cairn(sub="a")
    a.run("import", "--feed", "demo", "--tlp", "amber", ROOT / "examples" / "demo-feed.csv")
    a.run("import", MISP_DATA / "eset-malware-ioc" / "mozi_mozi.misp-event.json")
    a.import_text("TA0002\n", "--feed", "tactics", name="tactics.txt")
    event = a.tmp / "event.json"
    a.run("export", "--format", "misp", "-o", event)
    b = make_cairn(sub="b")
    out = b.run("import", "--format", "misp", event).stdout
    assert "rejected 0" in out, out
    ka, kb = a.key("pro"), b.key("pro")
    a.start()
    b.start()
    ra = {(x["type"], x["value"]): x for x in all_records(a, ka)}
    rb = {(x["type"], x["value"]): x for x in all_records(b, kb)}
    assert set(ra) == set(rb)
    for k, x in ra.items():
        y = rb[k]
        # An ATT&CK record travels as an event tag, which has no TLP of its own: it comes back
        # with the event's (the most restrictive of the export, amber here).
        # Its tags are not carried either; its galaxy cluster name is.
        if x["type"] == "mitre-attack":
            assert y["tlp"] == "amber", k
            if (x["context"] or "").endswith(" - " + x["value"]):
                assert y["context"] == x["context"], k
            continue
        assert y["tlp"] == x["tlp"], k
        assert set(x["tags"]) <= set(y["tags"]), k
        assert set(x["mitre_techniques"]) <= set(y["mitre_techniques"]), k
        assert y["context"] == x["context"], k
    # And the second server's export of it is the same event content.
    ea = load(a.get("/api/v1/iocs/misp?limit=10000", ka).text, caplog)
    eb = load(b.get("/api/v1/iocs/misp?limit=10000", kb).text, caplog)
    assert {(x.type, x.value) for x in ea.attributes} == {(x.type, x.value) for x in eb.attributes}
    assert {t.name for t in ea.tags} == {t.name for t in eb.tags}
