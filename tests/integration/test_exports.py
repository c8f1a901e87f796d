"""The CEF, RFC 5424 syslog, OpenIOC 1.0 and block-list (txt, hosts, RPZ) exports, each read
back by the software that consumes it: pycef, syslog-rfc5424-parser, ioc-writer (Mandiant's
OpenIOC library), BIND's named-checkzone and a real Unbound resolver loading the zone as an RPZ.
"""
import json
import os
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pycef
import pytest
from lxml import etree

from conftest import DATA, ROOT, error_of, free_port

SYSLOG_PY = ROOT / ".venv-syslog" / "bin" / "python"

# Values whose CEF, syslog and XML forms need every escape.
WEIRD_FEED = "feed|with=odd\\chars\nand a newline"
WEIRD_URL = "http://weird.example/a|b=c\\d?q=\"x\"&r=]<>'"
WEIRD_CONTEXT = "line one\nline two | a=b \\ end \"q\" ] [x]"
CONTROL_CONTEXT = "ctx with \x01 control & <angle> and \r carriage"

# The names the resolver test asks about: made up, under a zone the test serves itself.
RPZ_LISTED = """listed.cairn-rpz.test
http://urlhost.cairn-rpz.test/path/x.exe
198.51.100.7
2001:db8:0:1::57
"""
LOCAL_ZONE = """$TTL 300
@ IN SOA ns.cairn-rpz.test. hostmaster.cairn-rpz.test. 1 3600 600 604800 300
@ IN NS ns.cairn-rpz.test.
ns IN A 127.0.0.1
good IN A 192.0.2.1
listed IN A 192.0.2.9
www.listed IN A 192.0.2.10
urlhost IN A 192.0.2.11
bad IN A 198.51.100.7
bad6 IN AAAA 2001:db8:0:1::57
"""

SEVERITY = {"high": "9", "medium": "6", "low": "3", "none": "0"}
SYSLOG_SEVERITY = {"high": "warning", "medium": "notice", "low": "info", "none": "debug"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    from conftest import Cairn
    c = Cairn(tmp_path_factory.mktemp("exports"))
    c.run("import", "--feed", "demo", "--tlp", "green", ROOT / "examples" / "demo-feed.csv")
    c.run("import", "--feed", "demo-list", ROOT / "examples" / "demo-list.txt")
    weird = c.tmp / "weird.csv"
    with open(weird, "w", newline="") as f:
        f.write("value,type,confidence,context,tags\n")
        f.write('"%s",url,high,"%s",x|y;a=b;back\\slash;weird\n' % (WEIRD_URL.replace('"', '""'),
                                                                     WEIRD_CONTEXT.replace('"', '""')))
        f.write('weird-context.example,domain,low,"%s",weird\n' % CONTROL_CONTEXT)
    c.run("import", "--feed", WEIRD_FEED, weird)
    c.import_text(RPZ_LISTED, "--feed", "rpz-test", name="rpz.txt")
    # Real feeds: domains, IPv4, URLs, MD5s.
    c.run("import", "--feed", "blackbook", DATA / "feeds" / "blackbook" / "blackbook.csv")
    c.run("import", "--feed", "threatfox", DATA / "feeds" / "threatfox-ioc-ips" / "threatfox-ips.txt")
    c.run("import", "--feed", "urlhaus", DATA / "feeds" / "urlhaus-filter" / "urlhaus-filter-online.txt")
    c.run("import", "--feed", "eset", DATA / "feeds" / "eset-malware-ioc-hashes" / "eset-samples.md5.txt")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.iocs_only = c.key("pro", name="iocs-only", scopes=["read:iocs"])
    c.cef_only = c.key("pro", name="cef-only", scopes=["read:cef"])
    c.start()
    yield c
    assert c.stop() == 0


def records(srv, query=""):
    """The JSON records of the list endpoint, by id, walking every cursor page."""
    out, url = {}, f"/api/v1/iocs?limit=10000{query}"
    while url:
        r = srv.get(url, srv.pro)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        out.update({rec["id"]: rec for rec in body["data"]})
        nxt = body["links"].get("next")
        url = nxt[len(srv.base):] if nxt else None
    return out


def export(srv, fmt, *args):
    out = srv.tmp / f"export.{fmt}"
    srv.run("export", "--format", fmt, *args, "-o", out)
    return out.read_bytes()


def cef_unescape(s):
    """The CEF standard's extension escapes, read back."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), s)


def sd_unescape(s):
    """RFC 5424 section 6.3.3: \\" \\\\ \\] stand for the character; any other backslash for itself."""
    return re.sub(r'\\(["\\\]])', r"\1", s)


def cef_value(fields, rec):
    """The indicator's value from the field docs/exports.md gives its type."""
    t, cidr = rec["type"], "/" in rec["value"]
    key = {"ipv4": "ipv4Network" if cidr else "dst",
           "ipv6": "ipv6Network" if cidr else "Destination IPv6 Address",
           "domain": "dhost", "url": "request", "md5": "fileHash", "sha1": "fileHash",
           "sha256": "fileHash", "sha512": "fileHash", "email": "suser", "cve": "cve",
           "mitre-attack": "mitreAttack"}[t]
    return cef_unescape(fields[key])


def check_cef(fields, rec):
    assert fields["CEFVersion"] == "0"
    assert (fields["DeviceVendor"], fields["DeviceProduct"]) == ("cairn", "cairn")
    assert fields["DeviceEventClassID"] == rec["type"]
    assert fields["Severity"] == SEVERITY[rec["confidence"]]
    assert cef_value(fields, rec) == rec["value"]
    assert fields["confidence"] == rec["confidence"]
    assert cef_unescape(fields["feed"]) == rec["source"]["feed_name"]
    assert int(fields["score"]) == rec["score"]


# ---- CEF ----

def test_every_cef_line_parses_with_pycef(srv):
    recs = records(srv)
    body = export(srv, "cef")
    lines = body.decode().split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == len(recs) > 40000
    for line in lines:
        fields = pycef.parse(line)
        assert fields, line
        check_cef(fields, recs[fields["externalId"]])


def test_cef_endpoint_matches_records_and_the_cli(srv):
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = f"?limit=3000&since={since}&type=ipv4,ipv6,domain,url,email,cve,mitre-attack,md5"
    r = srv.get("/api/v1/iocs/cef" + q, srv.pro)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert int(r.headers["X-Total-Count"]) == 3000
    assert r.content == srv.get("/api/v1/iocs/cef" + q, srv.pro).content
    assert r.content == export(srv, "cef", "--limit", "3000", "--since", since, "--type",
                               "ipv4,ipv6,domain,url,email,cve,mitre-attack,md5")
    recs = records(srv)
    for line in r.text.splitlines():
        fields = pycef.parse(line)
        check_cef(fields, recs[fields["externalId"]])


def test_cef_special_characters_round_trip(srv):
    recs = records(srv, "&tag=weird")
    assert len(recs) == 2
    r = srv.get("/api/v1/iocs/cef?tag=weird", srv.pro)
    lines = r.text.splitlines()
    assert len(lines) == 2   # the newlines inside values are escaped
    by_id = {}
    for line in lines:
        fields = pycef.parse(line)
        by_id[fields["externalId"]] = fields
        check_cef(fields, recs[fields["externalId"]])
    url = next(f for f in by_id.values() if f["DeviceEventClassID"] == "url")
    assert cef_unescape(url["request"]) == WEIRD_URL
    assert cef_unescape(url["feed"]) == WEIRD_FEED
    assert cef_unescape(url["msg"]) == WEIRD_CONTEXT
    assert cef_unescape(url["tags"]).split(",") == ["x", "y", "a=b", "back\\slash", "weird"]
    assert "request=http://weird.example/a|b\\=c\\\\d" in r.text   # '|' stays, '=' '\' escaped


def test_cef_demo_fields(srv):
    r = srv.get("/api/v1/iocs/cef?source=demo", srv.pro)
    by_type = {}
    for line in r.text.splitlines():
        f = pycef.parse(line)
        by_type.setdefault(f["DeviceEventClassID"], []).append(f)
    ip = next(f for f in by_type["ipv4"] if f.get("dst") == "203.0.113.10")
    assert ip["Severity"] == "9" and ip["Name"] == "Malicious IPv4 Indicator"
    assert ip["tags"] == "c2,cobalt-strike" and ip["tlp"] == "green"
    assert ip["msg"] == "Cobalt Strike team server"
    first = datetime(2026, 11, 20, 8, tzinfo=timezone.utc).timestamp() * 1000
    assert int(ip["firstSeen"]) == first
    assert int(ip["lastSeen"]) >= first and int(ip["validUntil"]) > int(ip["lastSeen"])
    net = by_type["ipv4"][0] if "ipv4Network" in by_type["ipv4"][0] else by_type["ipv4"][1]
    assert net["ipv4Network"] == "198.51.100.0/24" and net["Severity"] == "6"
    assert by_type["ipv6"][0]["Destination IPv6 Address"] == "2001:db8::dead:beef"
    assert by_type["cve"][0]["cve"] == "CVE-2021-44228"
    assert by_type["mitre-attack"][0]["mitreAttack"] == "T1059.001"
    assert by_type["email"][0]["suser"] == "billing@invoice-update.example"


# ---- syslog ----

def parse_syslog(lines):
    if not SYSLOG_PY.exists():
        pytest.fail(".venv-syslog is missing: python3 -m venv .venv-syslog && "
                    ".venv-syslog/bin/pip install -r tests/requirements-syslog.txt")
    code = ("import sys, json\nfrom syslog_rfc5424_parser import SyslogMessage\n"
            "for line in sys.stdin.read().split('\\n')[:-1]:\n"
            "    print(json.dumps(SyslogMessage.parse(line).as_dict()))\n")
    p = subprocess.run([str(SYSLOG_PY), "-c", code], input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return [json.loads(x) for x in p.stdout.splitlines()]


def test_syslog_lines_parse_as_rfc5424(srv):
    recs = records(srv)
    r = srv.get("/api/v1/iocs/cef?format=syslog&limit=10000", srv.pro)
    assert r.status_code == 200
    lines = r.text.split("\n")[:-1]
    assert len(lines) == 10000
    weird = srv.get("/api/v1/iocs/cef?format=syslog&tag=weird", srv.pro)
    lines += weird.text.split("\n")[:-1]
    msgs = parse_syslog(lines)
    assert len(msgs) == len(lines)
    for m in msgs:
        sd = {k: sd_unescape(v) for k, v in m["sd"]["ioc@32473"].items()}
        rec = recs[sd["id"]]
        assert m["version"] == 1 and m["facility"] == "user" and m["appname"] == "cairn"
        assert m["severity"] == SYSLOG_SEVERITY[rec["confidence"]]
        assert m["msgid"] == rec["type"] == sd["type"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", m["timestamp"])
        assert sd["value"] == rec["value"]
        assert sd["confidence"] == rec["confidence"] and int(sd["score"]) == rec["score"]
        assert sd["feed"] == rec["source"]["feed_name"].replace("\n", "\\n")
        assert sd["first_seen"] == rec["first_seen"] and sd["last_seen"] == rec["last_seen"]
        check_cef(pycef.parse(m["msg"]), rec)   # the message is the CEF event
    url = next(m for m in msgs if m["msgid"] == "url" and "weird" in m["msg"])
    assert sd_unescape(url["sd"]["ioc@32473"]["value"]) == WEIRD_URL
    assert r.content == export(srv, "syslog", "--limit", "10000")


# ---- OpenIOC ----

def test_openioc_reads_back_with_ioc_writer(srv, tmp_path):
    from ioc_writer.managers.upgrade_10 import UpgradeManager
    recs = records(srv)
    body = export(srv, "openioc")
    root = etree.fromstring(body)   # well-formed, or this raises
    assert root.tag == "{http://schemas.mandiant.com/2010/ioc}ioc"
    path = tmp_path / "cairn.ioc"
    path.write_bytes(body)
    m = UpgradeManager()
    assert m.insert(str(path)) == []
    assert m.convert_to_11() == []
    (ioc,) = m.iocs_11.values()
    items = {}
    for ii in ioc.top_level_indicator.iter("IndicatorItem"):
        items[ii.get("id")] = (ii.find("Context").get("search"), ii.find("Content").get("type"),
                               ii.find("Content").text)
    search = {"domain": "Network/DNS", "url": "UrlHistoryItem/URL", "md5": "FileItem/Md5sum",
              "sha1": "FileItem/Sha1sum", "sha256": "FileItem/Sha256sum", "email": "Email/From",
              "ipv4": "PortItem/remoteIP", "ipv6": "PortItem/remoteIP"}
    expected = {i: r for i, r in recs.items()
                if r["type"] in search and not (r["type"].startswith("ip") and "/" in r["value"])}
    assert len(expected) > 40000
    assert set(items) == set(expected)
    for i, rec in expected.items():
        s, ctype, value = items[i]
        assert s == search[rec["type"]] and value == rec["value"]
        assert ctype == {"ipv4": "IP", "ipv6": "IP", "md5": "md5", "sha1": "sha1",
                         "sha256": "sha256"}.get(rec["type"], "string")
    assert items[next(i for i, r in expected.items() if r["value"] == WEIRD_URL)][2] == WEIRD_URL


def test_openioc_endpoint_escapes_and_matches_the_cli(srv):
    r = srv.get("/api/v1/iocs/openioc?tag=weird", srv.pro)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/xml")
    root = etree.fromstring(r.content)
    ns = {"o": "http://schemas.mandiant.com/2010/ioc"}
    comments = root.xpath("//o:Comment/text()", namespaces=ns)
    contents = root.xpath("//o:Content/text()", namespaces=ns)
    assert WEIRD_URL in contents
    assert any(WEIRD_CONTEXT in c and WEIRD_FEED in c for c in comments)
    # The control character XML 1.0 forbids is replaced; the CR survives as &#13;.
    assert any(CONTROL_CONTEXT.replace("\x01", "\ufffd") in c for c in comments)
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    q = f"/api/v1/iocs/openioc?limit=2000&since={since}&type=domain,md5"
    a = srv.get(q, srv.pro)
    assert a.content == srv.get(q, srv.pro).content
    assert a.content == export(srv, "openioc", "--limit", "2000", "--since", since, "--type", "domain,md5")
    # Types OpenIOC 1.0 has no term for are left out and counted.
    cve = srv.get("/api/v1/iocs/openioc?type=cve,mitre-attack", srv.pro)
    assert int(cve.headers["X-Omitted-Count"]) == int(cve.headers["X-Total-Count"]) >= 3
    assert etree.fromstring(cve.content).xpath("count(//o:IndicatorItem)", namespaces=ns) == 0


# ---- block lists ----

def rpz_owners(zone):
    return [l.split()[0] for l in zone.splitlines()
            if l and not l.startswith((";", "$", "@")) and l.endswith(" CNAME .")]


def test_rpz_zone_is_accepted_by_named_checkzone(srv, tmp_path):
    body = export(srv, "rpz")
    zone = tmp_path / "cairn.rpz"
    zone.write_bytes(body)
    p = subprocess.run(["named-checkzone", "-k", "fail", "-n", "fail", "rpz.cairn", str(zone)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    serial = re.search(r"@ IN SOA localhost\. hostmaster\.localhost\. (\d+) ", body.decode()).group(1)
    assert f"loaded serial {serial}" in p.stdout
    owners = set(rpz_owners(body.decode()))
    assert {"listed.cairn-rpz.test", "*.listed.cairn-rpz.test", "urlhost.cairn-rpz.test",
            "32.7.100.51.198.rpz-ip", "128.57.zz.1.0.db8.2001.rpz-ip",
            "24.0.100.51.198.rpz-ip", "malware-drop.example"} <= owners
    assert "*.urlhost.cairn-rpz.test" not in owners   # a URL's host only itself
    recs = records(srv)
    domains = {r["value"] for r in recs.values() if r["type"] == "domain"}
    assert domains <= owners and len(domains) > 15000
    # The same data gives the same serial; a write raises it.
    assert export(srv, "rpz") == body


def test_unbound_applies_the_rpz(srv, tmp_path):
    unbound = shutil.which("unbound") or "/usr/sbin/unbound"
    if not os.path.exists(unbound) or not shutil.which("dig"):
        pytest.fail("unbound and dig are needed (Debian packages unbound, bind9-dnsutils)")
    r = srv.get("/api/v1/iocs?format=rpz&limit=10000&source=rpz-test", srv.pro)
    assert r.status_code == 200
    (tmp_path / "cairn.rpz").write_bytes(export(srv, "rpz"))   # the whole zone, real data too
    (tmp_path / "local.zone").write_text(LOCAL_ZONE)
    port = free_port()
    (tmp_path / "unbound.conf").write_text(f"""server:
  interface: 127.0.0.1
  port: {port}
  do-daemonize: no
  use-syslog: no
  logfile: ""
  username: ""
  chroot: ""
  pidfile: ""
  directory: "{tmp_path}"
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  module-config: "respip validator iterator"
  local-zone: "test." nodefault
auth-zone:
  name: "cairn-rpz.test."
  zonefile: "{tmp_path}/local.zone"
  for-downstream: no
  for-upstream: yes
  fallback-enabled: no
rpz:
  name: "rpz.cairn."
  zonefile: "{tmp_path}/cairn.rpz"
  rpz-log: yes
""")
    chk = subprocess.run(["unbound-checkconf", str(tmp_path / "unbound.conf")], capture_output=True, text=True)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    log = open(tmp_path / "unbound.log", "w")
    proc = subprocess.Popen([unbound, "-d", "-c", str(tmp_path / "unbound.conf")], stdout=log, stderr=log)
    try:
        def dig(name, qtype="A"):
            p = subprocess.run(["dig", "+time=2", "+tries=1", "-p", str(port), "@127.0.0.1", name, qtype],
                               capture_output=True, text=True)
            status = re.search(r"status: (\w+)", p.stdout)
            answers = re.findall(r"^\S+\s+\d+\s+IN\s+(?:A|AAAA)\s+(\S+)$", p.stdout, re.M)
            return (status.group(1) if status else None), answers

        deadline = time.time() + 30
        while dig("good.cairn-rpz.test") != ("NOERROR", ["192.0.2.1"]):
            assert proc.poll() is None, (tmp_path / "unbound.log").read_text()
            assert time.time() < deadline, (tmp_path / "unbound.log").read_text()
            time.sleep(0.2)
        # Listed names (QNAME triggers), a listed domain's subdomain (wildcard), a URL's host.
        for name in ("listed.cairn-rpz.test", "www.listed.cairn-rpz.test", "urlhost.cairn-rpz.test"):
            assert dig(name) == ("NXDOMAIN", []), name
        # Names whose answers hold a listed address (rpz-ip triggers).
        assert dig("bad.cairn-rpz.test") == ("NXDOMAIN", [])
        assert dig("bad6.cairn-rpz.test", "AAAA") == ("NXDOMAIN", [])
        # An unlisted name is answered from the local zone.
        assert dig("good.cairn-rpz.test") == ("NOERROR", ["192.0.2.1"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
    assert "rpz: applied" in (tmp_path / "unbound.log").read_text()


def test_block_list_formats_of_the_list_endpoint(srv):
    since = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for fmt in ("txt", "hosts", "rpz"):
        q = f"/api/v1/iocs?format={fmt}&limit=4000&since={since}"
        r = srv.get(q, srv.pro)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
        assert r.content == export(srv, fmt, "--limit", "4000", "--since", since), fmt
    hosts = srv.get("/api/v1/iocs?format=hosts&source=demo", srv.pro).text.splitlines()
    assert hosts[0].startswith("#")
    assert sorted(l for l in hosts if not l.startswith("#")) == [
        "0.0.0.0 malware-drop.example", "0.0.0.0 malware-drop.example", "0.0.0.0 phish-login.example"]
    # Plain lists per type: one value a line.
    ips = srv.get("/api/v1/iocs?format=txt&type=ipv4&limit=10000", srv.pro).text.splitlines()
    assert len(ips) == 10000 and all(re.fullmatch(r"[\d.]+(/\d+)?", v) for v in ips)
    md5 = srv.get("/api/v1/iocs?format=txt&type=md5&source=eset&limit=10000", srv.pro).text.splitlines()
    assert md5 and all(re.fullmatch(r"[0-9a-f]{32}", v) for v in md5)


def test_paged_block_lists_concatenate_into_the_whole_file(srv):
    for fmt in ("rpz", "hosts", "txt"):
        pages, url = [], f"/api/v1/iocs?format={fmt}&limit=10000"
        while url:
            r = srv.get(url, srv.pro)
            assert r.status_code == 200
            pages.append(r.content)
            cur = r.headers.get("X-Next-Cursor")
            url = f"/api/v1/iocs?format={fmt}&limit=10000&cursor={cur}" if cur else None
        assert len(pages) >= 4
        if fmt != "txt":
            assert all(not p.startswith((b";", b"#", b"$")) for p in pages[1:])
        assert b"".join(pages) == export(srv, fmt), fmt


def test_export_pages_follow_the_cursor(srv):
    pages, url = [], "/api/v1/iocs/cef?format=syslog&limit=10000"
    while url:
        r = srv.get(url, srv.pro)
        assert r.status_code == 200
        pages.append(r.content)
        link = r.headers.get("Link")
        if r.headers.get("X-Next-Cursor"):
            assert link == f'<{srv.base}/api/v1/iocs/cef?format=syslog&limit=10000&cursor=' \
                           f'{r.headers["X-Next-Cursor"]}>; rel="next"'
            url = link[1:link.index(">")][len(srv.base):]
        else:
            assert link is None
            url = None
    assert len(pages) >= 4
    assert b"".join(pages) == export(srv, "syslog")
    last = srv.get("/api/v1/iocs/openioc?limit=5&type=cve", srv.pro)
    assert "X-Next-Cursor" not in last.headers   # fewer than the limit: no next page


# ---- tiers, scopes and errors ----

def test_tiers_scopes_and_bad_parameters(srv):
    for path in ("/api/v1/iocs/cef", "/api/v1/iocs/cef?format=syslog", "/api/v1/iocs/openioc",
                 "/api/v1/iocs?format=rpz", "/api/v1/iocs?format=hosts", "/api/v1/iocs?format=txt"):
        err = error_of(srv.get(path, srv.free), 403, "tier_required")
        assert "pro" in err["message"]
    assert srv.get("/api/v1/iocs", srv.free).status_code == 200   # free: JSON only
    error_of(srv.get("/api/v1/iocs/cef", srv.iocs_only), 403, "insufficient_scope")
    error_of(srv.get("/api/v1/iocs/openioc", srv.cef_only), 403, "insufficient_scope")
    assert srv.get("/api/v1/iocs/cef?limit=1", srv.cef_only).status_code == 200
    assert srv.get("/api/v1/iocs?format=rpz&limit=1", srv.iocs_only).status_code == 200
    err = error_of(srv.get("/api/v1/iocs/cef?format=leef", srv.pro), 400, "invalid_parameter")
    assert err["details"]["parameter"] == "format"
    error_of(srv.get("/api/v1/iocs?format=cef", srv.pro), 400, "invalid_parameter")
    error_of(srv.get("/api/v1/iocs/openioc?type=nope", srv.pro), 400, "invalid_parameter")
    assert srv.post("/api/v1/iocs/cef", srv.pro).status_code == 405
    r = srv.get("/api/v1/iocs/cef?limit=50000", srv.pro)
    assert r.headers["X-Limit-Clamped-From"] == "50000" and r.text.count("\n") == 10000
    p = srv.run("export", "--format", "leef", check=False)
    assert p.returncode == 2 and "leef" in p.stderr and len(p.stderr.strip().splitlines()) == 1
