"""SOC Defenders' own integration guides, replayed unchanged against cairn (only the base URL,
the key and the far end — Elasticsearch, Splunk HEC — are swapped in). The scripts are read
from the guides themselves (/work/shared/seeds/000–002), so the test runs what users copy.
Plus the example queries of SOCDEFENDERS.md section 2.1."""
import csv
import gc
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import types
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest
import requests

from conftest import SHARED, Cairn

SEEDS = SHARED / "seeds"

FEED_CSV = """value,type,confidence,tags,context,mitre_techniques,industries,reference_url
203.0.113.10,ipv4,high,c2;cobalt-strike,Cobalt Strike team server,T1071.001,financial-services,https://example.org/reports/cs
203.0.113.11,ipv4,high,c2,Sliver C2,T1071,energy,https://example.org/reports/cs
198.51.100.0/24,ipv4,medium,scanner,Mass scanning from this range,T1595,,https://example.org/reports/scan
192.0.2.99,ipv4,low,scanner,Opportunistic scanner,,,
2001:db8::dead:beef,ipv6,medium,c2,IPv6 callback address,T1071,,https://example.org/reports/cs
malware-drop.example,domain,high,dropper;emotet,Payload host of an Emotet wave,T1105,healthcare,https://example.org/reports/emotet
phish-login.example,domain,medium,phishing,Credential phishing page,T1566.002,energy,https://example.org/reports/phish
bank-secure-login.example,domain,high,phishing,Bank credential phishing,T1566.002,financial-services,https://example.org/reports/phish
hxxp://malware-drop[.]example/payload.exe,url,high,dropper,Second-stage download,T1105,healthcare,https://example.org/reports/emotet
275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f,sha256,high,eicar,EICAR test file (harmless),,,
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,sha256,low,empty,Empty file,,,
billing@invoice-update.example,email,medium,phishing,Sender of invoice lures,T1566.001,financial-services,https://example.org/reports/phish
CVE-2021-44228,cve,high,log4shell,Apache Log4j2 JNDI remote code execution,T1190,,https://nvd.nist.gov/vuln/detail/CVE-2021-44228
"""
FEED = list(csv.DictReader(io.StringIO(FEED_CSV)))
IPV4 = {r["value"]: r for r in FEED if r["type"] == "ipv4"}
FINANCE = sorted(r["value"].replace("hxxp", "http").replace("[.]", ".") for r in FEED
                 if "financial-services" in r["industries"])

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")

# The free tier's defaults except the per-minute quota, so that the test may poll freely.
CONFIG = """
tiers:
  free: {requests_per_minute: 100000, requests_per_day: 10000000}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("compat"), CONFIG)
    c.import_text(FEED_CSV, "--feed", "cairn-demo", "--category", "community", name="demo.csv")
    c.pro = c.key("pro")
    c.free = c.key("free")
    c.start()
    yield c
    gc.collect()
    assert c.stop() == 0


def code_block(seed_glob, lang):
    """The first ```lang block of a guide, dedented."""
    text = next(SEEDS.glob(seed_glob)).read_text()
    m = re.search(r"^[ \t]*```" + lang + r"[^\n]*\n(.*?)^[ \t]*```", text, re.S | re.M)
    assert m, f"no {lang} block in {seed_glob}"
    return textwrap.dedent(m.group(1))


# ---- Elastic: the Python poller of the guide ----

class FakeElasticsearch:
    """Stands in for the elasticsearch client: records what the script indexes."""
    docs = []

    def __init__(self, host, api_key=None, **kw):
        self.host = host

    def index(self, index, document):
        FakeElasticsearch.docs.append((index, document))


@pytest.mark.parametrize("tier", ["free", "pro"])
def test_elastic_guide_poller(srv, tier, monkeypatch, capsys):
    code = code_block("000_*.txt", "python")
    assert 'params={"type": ioc_type, "limit": limit}' in code
    assert 'resp.json().get("data", [])' in code
    code = code.replace('"YOUR_API_KEY"', repr(getattr(srv, tier)))
    code = code.replace("https://socdefenders.ai/api/v1/iocs", srv.base + "/api/v1/iocs")
    fake = types.ModuleType("elasticsearch")
    fake.Elasticsearch = FakeElasticsearch
    monkeypatch.setitem(sys.modules, "elasticsearch", fake)
    FakeElasticsearch.docs = []
    exec(compile(code, "poll_and_index.py", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert f"Indexed {len(IPV4)} indicators." in out
    docs = FakeElasticsearch.docs
    assert len(docs) == len(IPV4)
    for index, doc in docs:
        assert index == "logs-ti.socdefenders-default"
        ind = doc["threat"]["indicator"]
        assert ind["type"] == "ipv4-addr"
        assert ind["ip"] in IPV4
        assert ind["confidence"] == IPV4[ind["ip"]]["confidence"]
        assert ind["provider"] == "cairn-demo"
        assert doc["event"]["kind"] == "enrichment"
    assert sorted(d["threat"]["indicator"]["ip"] for _, d in docs) == sorted(IPV4)


# ---- Splunk: the guide's curl | curl into HEC ----

class HEC(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        HEC.received.append((self.path, dict(self.headers), body))
        out = b'{"text":"Success","code":0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


@pytest.fixture
def hec():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HEC)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    HEC.received = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("tier", ["free", "pro"])
def test_splunk_guide_script_feeds_hec(srv, hec, tier, tmp_path):
    script = code_block("001_*.txt", "bash")
    assert '"https://socdefenders.ai/api/v1/iocs?type=ipv4&limit=100"' in script
    script = (script.replace("YOUR_API_KEY", getattr(srv, tier))
              .replace("YOUR_HEC_TOKEN", "hec-token")
              .replace("https://socdefenders.ai", srv.base)
              .replace("https://your-splunk-host:8088", hec))
    path = tmp_path / "poll-iocs.sh"
    path.write_text(script)
    p = subprocess.run(["bash", str(path)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    [(where, headers, body)] = HEC.received
    assert where == "/services/collector/raw"
    assert headers["Authorization"] == "Splunk hec-token"
    doc = json.loads(body.decode("utf-8"))  # one valid UTF-8 JSON document
    assert sorted(i["value"] for i in doc["data"]) == sorted(IPV4)
    assert doc["meta"]["total"] == len(IPV4)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_splunk_guide_curl_alone(srv):
    p = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {srv.free}",
                        f"{srv.base}/api/v1/iocs?type=ipv4&limit=100"],
                       capture_output=True, timeout=60)
    assert p.returncode == 0
    doc = json.loads(p.stdout.decode("utf-8"))
    for ioc in doc["data"]:
        assert ioc["type"] == "ipv4"
        assert {"value", "confidence", "first_seen", "last_seen"} <= set(ioc)
        assert set(ioc["source"]) >= {"feed_name", "category"}


# ---- Sentinel: the Logic App's HTTP action, Parse JSON, and the tiIndicators mapping ----

def test_sentinel_logic_app_poll(srv):
    guide = next(SEEDS.glob("002_*.txt")).read_text()
    m = re.search(r"URI: https://socdefenders\.ai(/api/v1/iocs\?[^\s]+)", guide)
    assert m, "the Logic App URI is not in the guide"
    r = requests.get(srv.base + m.group(1), headers={"Authorization": f"Bearer {srv.free}"},
                     timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == "application/json"  # Parse JSON needs it
    data = r.json()["data"]
    assert sorted(i["value"] for i in data) == sorted(IPV4)
    now = datetime.now(timezone.utc)
    for ioc in data:
        # What a Graph tiIndicator is built from: the address, a 0-100 confidence, an expiry.
        assert ioc["type"] == "ipv4"
        assert ioc["confidence"] in ("high", "medium", "low")
        assert isinstance(ioc["score"], int) and 0 <= ioc["score"] <= 100
        for f in ("first_seen", "last_seen", "valid_until"):
            assert RFC3339.fullmatch(ioc[f]), (f, ioc[f])
        assert datetime.fromisoformat(ioc["valid_until"].replace("Z", "+00:00")) > now
        assert ioc["source"]["feed_name"] == "cairn-demo"
        assert ioc["context"]


# ---- SOCDEFENDERS.md section 2.1's example queries ----

def test_firewall_blocklist_query(srv):
    q = "type=ipv4&confidence=high&since=2026-05-16T00:00:00Z&format=txt"
    r = srv.get("/api/v1/iocs?" + q, srv.pro)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert sorted(lines) == sorted(v for v, row in IPV4.items() if row["confidence"] == "high")
    assert all(line and line == line.strip() for line in lines)


def test_firewall_blocklist_query_with_a_recent_since(srv):
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = srv.get("/api/v1/iocs?" + urlencode({"type": "ipv4", "confidence": "high", "since": since,
                                             "format": "txt"}), srv.pro)
    assert r.status_code == 200
    assert sorted(r.text.splitlines()) == ["203.0.113.10", "203.0.113.11"]


@pytest.mark.parametrize("tier", ["free", "pro"])
def test_high_confidence_sha256_query(srv, tier):
    r = srv.get("/api/v1/iocs?type=sha256&confidence=high&limit=1000", getattr(srv, tier))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(i["type"], i["value"], i["confidence"]) for i in body["data"]] == [
        ("sha256", "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "high")]
    assert body["meta"]["limit"] == (100 if tier == "free" else 1000)
    assert {"total", "limit", "offset"} <= set(body["meta"])


def test_industry_sector_query(srv):
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = srv.get(f"/api/v1/iocs?industry=financial-services&since={since}&limit=500", srv.pro)
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(i["value"] for i in body["data"]) == FINANCE
    assert all("financial-services" in i["industries"] for i in body["data"])
    assert body["meta"]["limit"] == 500
    r = srv.get(f"/api/v1/iocs?industry=finance&since={since}&limit=500", srv.free)
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["limit"] == 100


def test_industry_finance_finds_the_financial_services_sector(srv):
    """SOC Defenders documents CISA sector slugs (financial-services) and uses industry=finance in
    its own example: a drop-in counterpart must answer that example with the finance sector."""
    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = srv.get(f"/api/v1/iocs?industry=finance&since={since}&limit=500", srv.pro)
    assert r.status_code == 200
    assert sorted(i["value"] for i in r.json()["data"]) == FINANCE


def test_domain_csv_export_query(srv):
    r = srv.get("/api/v1/iocs?type=domain&format=csv&limit=1000", srv.pro)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0].keys()) == ["id", "type", "value", "confidence", "first_seen", "last_seen",
                                    "source_article", "source_feed", "category", "tags"]
    want = {row["value"]: row for row in FEED if row["type"] == "domain"}
    assert sorted(row["value"] for row in rows) == sorted(want)
    for row in rows:
        assert row["type"] == "domain"
        assert row["confidence"] == want[row["value"]]["confidence"]
        assert row["source_feed"] == "cairn-demo"
        assert row["category"] == "community"
        assert RFC3339.fullmatch(row["first_seen"]) and RFC3339.fullmatch(row["last_seen"])
        assert re.fullmatch(r"[0-9a-f-]{36}", row["id"])


def test_guide_shaped_list_fields(srv):
    """The list guide's reduced IOC: type, value, confidence, source{feed_name, category}."""
    body = srv.get("/api/v1/iocs?limit=100", srv.free).json()
    assert {"total", "limit", "offset"} <= set(body["meta"])
    assert body["meta"]["feed_version"] == "1.0"
    assert len(body["data"]) == len(FEED)
    for ioc in body["data"]:
        assert ioc["type"] in ("ipv4", "ipv6", "domain", "url", "sha256", "email", "cve")
        assert ioc["confidence"] in ("high", "medium", "low")
        assert ioc["source"]["feed_name"] == "cairn-demo"
        assert ioc["source"]["category"] == "community"
        assert ioc["source"]["origin"] in ("feed", "article", "submission")
        assert isinstance(ioc["tags"], list) and isinstance(ioc["mitre_techniques"], list)
