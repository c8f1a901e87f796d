"""Allow-lists (docs/allowlists.md): values on a list are never published.

The MISP warning lists are read as published: every list that the `pymispwarninglists` package
ships loads unchanged, and a list written here in the published format suppresses what it
names. Values inside listed CIDR ranges, subdomains of listed domains and URLs on listed hosts
are kept out at import and hidden at output (REST list, search, lookup, get, the STIX export of
the REST API and the CLI, the TAXII collections); `cairn lookup` names the list and entry;
removing the list publishes the records again; a running server picks up a list added with the
CLI without a restart.
"""
import http.server
import json
import re
import threading
import time
from pathlib import Path

import pymispwarninglists
import pytest
import requests

from conftest import ROOT, Cairn, error_of

LISTS = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"

TAXII_ACCEPT = "application/taxii+json;version=2.1"

# A warning list in MISP's published format (github.com/MISP/misp-warninglists, lists/*/list.json).
CORP_LIST = {
    "name": "Corp infrastructure",
    "version": 20261123,
    "description": "Our own networks and domains",
    "matching_attributes": ["ip-src", "ip-dst", "domain", "hostname", "url", "domain|ip"],
    "type": "string",
    "list": ["45.33.32.0/24", ".corp-infra.net", "2600:3c01::/32"],
}

INSIDE = [
    "45.33.32.156",                      # inside a listed CIDR range
    "45.33.32.0/28",                     # a network inside it
    "vpn.corp-infra.net",                # a subdomain of a listed domain
    "a.b.corp-infra.net",
    "corp-infra.net",
    "https://portal.corp-infra.net/login?next=/",   # a URL on a listed domain
    "http://45.33.32.10:8080/admin",     # a URL on a listed address
    "2600:3c01::f03c:91ff:fe18:bb2f",    # IPv6 inside a listed range
]
OUTSIDE = [
    "45.33.33.1",
    "evil-corp-infra.net",               # a look-alike, not a subdomain
    "corp-infra.net.evil.example",
    "https://evil.example/corp-infra.net",
    "2600:3c02::1",
]


def write_list(tmp: Path, obj, name="corp.json"):
    p = tmp / name
    p.write_text(json.dumps(obj, indent=2))
    return p


def lookup(c, value):
    return json.loads(c.run("lookup", value).stdout)


def taxii(c, key, path, **params):
    r = requests.get(c.base + "/api/taxii2/api/collections/" + path, params=params,
                     headers={"Accept": TAXII_ACCEPT}, auth=("apikey", key), timeout=60)
    assert r.status_code == 200, (r.status_code, r.text[:300])
    return r.json()


def canon(c, value):
    return lookup(c, value)["value"]


# ---- the published lists ----

def test_every_published_misp_list_loads_as_published(cairn):
    """Each list shipped by pymispwarninglists is added unchanged: all its entries are taken,
    save the few that are not values at all (reported with their index and reason)."""
    dirs = sorted(d for d in LISTS.iterdir() if (d / "list.json").exists())
    assert len(dirs) > 100
    total = 0
    for d in dirs:
        published = json.loads((d / "list.json").read_text())
        out = cairn.run("allowlist", "add", d.name, d / "list.json").stdout
        m = re.search(r"\): (\d+) entries \(.*\), (\d+) skipped", out)
        assert m, out
        entries, skipped = int(m[1]), int(m[2])
        assert entries + skipped == len(published["list"]), (d.name, out)
        assert skipped <= max(5, len(published["list"]) // 1000), (d.name, out)
        assert f"(misp, {published.get('type', 'string')}" in out, out
        total += entries
    listed = cairn.run("allowlist", "list").stdout
    for d in dirs:
        assert re.search(rf"^{re.escape(d.name)}\s+misp\s", listed, re.M), d.name
    assert total > 2_000_000
    # The published lists at work: a Tranco domain, a public resolver, RFC 1918, an empty file.
    out = cairn.run("allowlist", "check", "www.wikipedia.org", "208.67.222.222", "10.9.9.9",
                    "https://www.google.com/search?q=x", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                    "malware-c2.example").stdout.splitlines()
    verdict = {line.split("\t")[0]: line.split("\t")[1] for line in out}
    assert all(verdict[v] != "-" for v in ("www.wikipedia.org", "208.67.222.222", "10.9.9.9",
                                          "https://www.google.com/search?q=x")), out
    assert verdict["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"] != "-", out
    assert verdict["malware-c2.example"] == "-", out


def test_published_rfc1918_list_suppresses_at_import(cairn):
    cairn.run("allowlist", "add", "rfc1918", LISTS / "rfc1918" / "list.json")
    out = cairn.import_text("10.20.30.40\n172.16.5.4\n192.168.1.1\n93.184.216.34\n",
                            "--feed", "f").stdout
    assert "read 4, new 1, updated 0, rejected 0" in out, out
    assert "suppressed 3 (on allow-lists)" in out, out
    assert "suppressed 10.20.30.40: allow-list rfc1918, entry 10.0.0.0/8" in out, out
    assert lookup(cairn, "172.16.5.4")["allowlist"] == {"list": "rfc1918", "entry": "172.16.0.0/12",
                                                         "kind": "cidr"}
    assert lookup(cairn, "172.16.5.4")["found"] is False
    # matching_attributes of that list are IP types: a URL on such an address is not its business
    assert lookup(cairn, "http://10.1.1.1/x")["allowlist"] is None


# ---- import and every output ----

@pytest.fixture
def served(tmp_path):
    """A server over indicators imported before any list: some will be suppressed later."""
    c = Cairn(tmp_path)
    out = c.import_text("\n".join(INSIDE + OUTSIDE) + "\n", "--feed", "early", "--tag", "early").stdout
    assert f"new {len(INSIDE + OUTSIDE)}" in out, out
    c.pro = c.key("pro")
    c.admin = c.key("admin")
    c.start()
    yield c
    assert c.stop() == 0


def listed_values(c, key, **params):
    r = c.get("/api/v1/iocs", key, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return {x["value"] for x in r.json()["data"]}


def wait_for(pred, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_suppressed_at_import_and_at_every_output_then_republished(served, tmp_path):
    c = served
    inside = {canon(c, v) for v in INSIDE}
    outside = {canon(c, v) for v in OUTSIDE}
    assert inside | outside <= listed_values(c, c.pro)
    ids = {v: lookup(c, v)["id"] for v in inside}
    ips_before = taxii(c, c.pro, "ips/objects/")["objects"]

    # The list is added with the CLI while the server runs: no restart.
    out = c.run("allowlist", "add", "corp", write_list(tmp_path, CORP_LIST)).stdout
    assert "added allow-list corp (misp, string, \"Corp infrastructure\"): 3 entries" in out, out
    assert f"records: {len(inside)} suppressed" in out, out

    # REST: list, search, get, lookup (with the entry that suppresses it)
    assert listed_values(c, c.pro).isdisjoint(inside)
    assert outside <= listed_values(c, c.pro)
    for v in inside:
        assert c.get(f"/api/v1/iocs/{ids[v]}", c.pro).status_code == 404
    r = c.get("/api/v1/iocs/search", c.pro, params={"q": "corp-infra"})
    found = {m["value"] for m in r.json()["data"]["matches"]}
    assert found == {"evil-corp-infra.net", "corp-infra.net.evil.example",
                     "https://evil.example/corp-infra.net"}, found

    def explained():
        d = c.get("/api/v1/lookup", c.pro, params={"value": "vpn.corp-infra.net"}).json()["data"]
        return d["allowlist"] == {"list": "corp", "entry": "corp-infra.net", "kind": "domain"} and not d["found"]
    wait_for(explained, "the server to rebuild its matcher")
    d = c.get("/api/v1/lookup", c.pro, params={"value": "45.33.33.1"}).json()["data"]
    assert d["found"] is True and d["allowlist"] is None
    bulk = c.post("/api/v1/lookup", c.pro, json={"values": ["45.33.32.156", "45.33.33.1"]})
    assert bulk.status_code == 200, bulk.text

    # Exports: the REST STIX bundle and the CLI's, byte for byte the same
    stix = c.get("/api/v1/iocs/stix", c.pro, params={"limit": 1000})
    assert stix.status_code == 200
    text = stix.text
    for v in inside:
        assert ids[v] not in text, v
    assert "45.33.33.1" in text
    cli = c.run("export", "--format", "stix", "--limit", "1000").stdout
    assert cli.strip() == text.strip()
    for fmt in ("misp", "cef", "openioc", "sigma"):
        body = c.get(f"/api/v1/iocs/{fmt}", c.pro, params={"limit": 1000}).text
        assert "corp-infra.net/login" not in body and "45.33.32.156" not in body, fmt

    # TAXII: each suppressed indicator has a new version that expires at the suppression
    ips_after = {o["id"]: o for o in taxii(c, c.pro, "ips/objects/")["objects"]}
    before = {o["id"]: o for o in ips_before}
    for v in ("45.33.32.156", "2600:3c01::f03c:91ff:fe18:bb2f"):
        oid = "indicator--" + ids[v]
        assert ips_after[oid]["modified"] > before[oid]["modified"]
        assert ips_after[oid]["valid_until"] <= ips_after[oid]["modified"]
        assert ips_after[oid]["valid_until"] < before[oid]["valid_until"]
        assert not ips_after[oid].get("revoked", False)   # revocation would be final
    out_oid = "indicator--" + lookup(c, "45.33.33.1")["id"]
    assert ips_after[out_oid] == before[out_oid]

    # Counted: the list, the stats, /metrics
    row = next(line for line in c.run("allowlist", "list").stdout.splitlines() if line.startswith("corp "))
    assert re.search(rf"\benabled\s+{len(inside)}\s+0\b", row), row
    stats = json.loads(c.run("stats").stdout)["allowlists"]
    assert stats["suppressed_records"] == len(inside) and stats["lists"] == 1, stats
    metrics = c.get("/metrics").text
    assert f'cairn_allowlist_suppressed_records{{list="corp"}} {len(inside)}' in metrics, metrics
    assert "# TYPE cairn_allowlist_suppressed_total counter" in metrics

    # `cairn lookup` says which list and entry, and that the record is hidden
    for v, entry, kind in (("45.33.32.156", "45.33.32.0/24", "cidr"),
                           ("https://portal.corp-infra.net/login?next=/", "corp-infra.net", "domain"),
                           ("http://45.33.32.10:8080/admin", "45.33.32.0/24", "cidr")):
        d = lookup(c, v)
        assert d["found"] is True and d["suppressed"] is True, d
        assert d["allowlist"] == {"list": "corp", "entry": entry, "kind": kind}, d
    d = lookup(c, "evil-corp-infra.net")
    assert d["suppressed"] is False and d["allowlist"] is None

    # A second import of listed values stores nothing and says why; it still exits 0
    out = c.import_text("45.33.32.200\nnew.corp-infra.net\n45.33.34.1\n", "--feed", "late").stdout
    assert "read 3, new 1," in out and "suppressed 2 (on allow-lists)" in out, out
    assert "suppressed new.corp-infra.net: allow-list corp, entry corp-infra.net" in out, out
    metrics = c.get("/metrics").text
    assert 'cairn_allowlist_suppressed_total{list="corp"} 2' in metrics, metrics

    # Removing the list publishes the records again, with a new TAXII version each
    out = c.run("allowlist", "remove", "corp").stdout
    assert f"records: 0 suppressed, {len(inside)} published again" in out, out
    assert inside <= listed_values(c, c.pro)
    assert c.get(f"/api/v1/iocs/{ids['45.33.32.156']}", c.pro).status_code == 200
    ips_back = {o["id"]: o for o in taxii(c, c.pro, "ips/objects/")["objects"]}
    oid = "indicator--" + ids["45.33.32.156"]
    assert ips_back[oid]["modified"] > ips_after[oid]["modified"]
    assert ips_back[oid]["valid_until"] == before[oid]["valid_until"]
    assert "corp " not in c.run("allowlist", "list").stdout
    wait_for(lambda: c.get("/api/v1/lookup", c.pro, params={"value": "vpn.corp-infra.net"})
             .json()["data"]["allowlist"] is None, "the server to drop the list")


def test_submissions_are_filtered_and_told_why(served, tmp_path):
    c = served
    c.run("allowlist", "add", "corp", write_list(tmp_path, CORP_LIST))
    wait_for(lambda: c.get("/api/v1/lookup", c.pro, params={"value": "45.33.32.1"})
             .json()["data"]["allowlist"] is not None, "the server to load the list")
    r = c.post("/api/v1/iocs", c.admin, json=[{"value": "x.corp-infra.net"}, {"value": "kept.example"}])
    assert r.status_code == 201, r.text
    body = r.json()
    assert [x["value"] for x in body["data"]] == ["kept.example"]
    assert body["meta"]["suppressed"] == 1
    assert body["suppressed"] == [{"index": 0, "type": "domain", "value": "x.corp-infra.net",
                                   "list": "corp", "entry": "corp-infra.net"}]
    assert lookup(c, "x.corp-infra.net")["found"] is False


def test_disable_and_enable_a_list(served, tmp_path):
    c = served
    c.run("allowlist", "add", "corp", write_list(tmp_path, CORP_LIST))
    out = c.run("allowlist", "disable", "corp").stdout
    assert "disabled allow-list corp" in out and "published again" in out, out
    assert canon(c, INSIDE[0]) in listed_values(c, c.pro)
    out = c.run("allowlist", "enable", "corp").stdout
    assert f"records: {len(INSIDE)} suppressed" in out, out
    assert canon(c, INSIDE[0]) not in listed_values(c, c.pro)


# ---- the built-in list ----

def test_builtin_list_is_on_by_default(make_cairn):
    c = make_cairn(builtin_allowlist=True)
    out = c.import_text("10.0.0.1\n8.8.8.8\n2001:db8::1\nhttp://127.0.0.1:8080/x\n45.33.32.156\n",
                        "--feed", "f").stdout
    assert "read 5, new 1," in out and "suppressed 4 (on allow-lists)" in out, out
    assert lookup(c, "8.8.8.8")["allowlist"] == {"list": "builtin", "entry": "8.8.8.8", "kind": "cidr"}
    assert lookup(c, "2001:db8::1")["allowlist"]["entry"] == "2001:db8::/32"
    listing = c.run("allowlist", "list").stdout
    assert re.search(r"^builtin\s+builtin\s+cidr\s+\d+\s+enabled\s+0\s+4\b", listing, re.M), listing
    # Turned off, the same values are stored; turned on again, they are hidden again.
    c.run("allowlist", "disable", "builtin")
    out = c.import_text("10.0.0.1\n8.8.8.8\n", "--feed", "g").stdout
    assert "new 2," in out and "suppressed" not in out, out
    out = c.run("allowlist", "enable", "builtin").stdout
    assert "records: 2 suppressed" in out, out
    p = c.run("allowlist", "remove", "builtin", check=False)
    assert p.returncode == 1 and "disable builtin" in p.stderr


def test_builtin_entries_are_documented_with_their_reason(cairn):
    shown = cairn.run("allowlist", "show", "builtin").stdout.splitlines()
    entries = [line.split("#")[0].strip() for line in shown]
    doc = (ROOT / "docs" / "allowlists.md").read_text()
    doc = doc.split("## The built-in list", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([^`]+)` \| (.+?) \|$", doc, re.M)
    assert [e for e, _ in table] == entries
    for line, (_, reason) in zip(shown, table):
        assert line.split("# ", 1)[1] == reason


# ---- the user's own lists, fetching, bad input ----

def test_plain_list_with_every_kind_of_entry(cairn, tmp_path):
    p = tmp_path / "mine.txt"
    p.write_text("# ours\n"
                 "intranet.test            # and all its subdomains\n"
                 "198.18.7.0/24\n"
                 "d41d8cd98f00b204e9800998ecf8427e\n"
                 "sub:sharepoint\n"
                 "re:^https://[a-z]+\\.example\\.org/safe/\n"
                 "not a value at all\n")
    out = cairn.run("allowlist", "add", "mine", p).stdout
    assert "(lines, mixed): 6 entries (exact 2, cidr 1, domain 1, substring 1, regex 1), 0 skipped" in out, out
    out = cairn.run("allowlist", "check", "x.intranet.test", "198.18.7.9", "D41D8CD98F00B204E9800998ECF8427E",
                    "https://contoso.sharepoint.com/x", "https://www.example.org/safe/a",
                    "https://www.example.org/unsafe", "intranet.test.evil.example").stdout.splitlines()
    got = [line.split("\t")[1] for line in out]
    assert got == ["mine", "mine", "mine", "mine", "mine", "-", "-"], out
    assert cairn.run("allowlist", "show", "mine").stdout == p.read_text()


def test_list_fetched_from_a_url(cairn, tmp_path):
    body = json.dumps(CORP_LIST).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/corp.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        out = cairn.run("allowlist", "add", "corp", url + "/corp.json").stdout
        assert "3 entries" in out, out
        assert url + "/corp.json" in cairn.run("allowlist", "list").stdout
        p = cairn.run("allowlist", "add", "missing", url + "/nope.json", check=False)
        assert p.returncode == 1 and "404" in p.stderr, p.stderr
    finally:
        httpd.shutdown()


@pytest.mark.parametrize("args,code,message", [
    (["add", "bad name", "x"], 2, "list name"),
    (["add", "x" * 65, "x"], 2, "list name"),
    (["add", "ok"], 2, "NAME FILE|URL"),
    (["add", "ok", "/nonexistent/list.txt"], 1, "cannot open"),
    (["remove", "nothere"], 1, "no allow-list named 'nothere'"),
    (["enable", "nothere"], 1, "no allow-list named 'nothere'"),
    (["show", "nothere"], 1, "no allow-list named 'nothere'"),
    (["frobnicate"], 2, "unknown action"),
])
def test_bad_commands_say_why(cairn, args, code, message):
    p = cairn.run("allowlist", *args, check=False)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_unreadable_lists_are_refused_and_names_unique(cairn, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "type": "cidr", "list": [')
    p = cairn.run("allowlist", "add", "bad", bad, check=False)
    assert p.returncode == 1 and "not valid JSON" in p.stderr, p.stderr
    bad.write_text('{"name": "x", "type": "glob", "list": []}')
    p = cairn.run("allowlist", "add", "bad", bad, check=False)
    assert p.returncode == 1 and "glob" in p.stderr, p.stderr
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"10.0.0.0/8\n\x00\n")
    p = cairn.run("allowlist", "add", "nul", nul, check=False)
    assert p.returncode == 1 and "NUL" in p.stderr, p.stderr
    junk = tmp_path / "junk.json"
    junk.write_text(json.dumps({"type": "cidr", "list": ["not-an-ip", "neither"]}))
    p = cairn.run("allowlist", "add", "junk", junk, check=False)
    assert p.returncode == 1 and "no usable entries" in p.stderr, p.stderr
    ok = write_list(tmp_path, CORP_LIST)
    cairn.run("allowlist", "add", "corp", ok)
    p = cairn.run("allowlist", "add", "corp", ok, check=False)
    assert p.returncode == 1 and "exists" in p.stderr, p.stderr
    assert "bad" not in cairn.run("allowlist", "list").stdout
