"""Every real plain list and CSV under ../shared/data/feeds/ imported into one database.

The expected numbers are computed here from the files themselves, by a small model of what a
correct import does (explained next to each rule), and cross-checked against the counts the
data READMEs publish. Where a value may reasonably go either way (a certificate thumbprint in a
"cert_sha1" row, an IDN with a symbol in it, an Adblock rule), the model counts it as "either"
and the test accepts both outcomes; everything else must come out exactly as predicted.

The maltrail file (1.84 M lines) is imported with $CAIRN_FAST_BIN (default build/cairn, the
non-sanitized build, when it exists and is up to date with src/): under AddressSanitizer it takes
several minutes.
"""
import csv
import gzip
import io
import ipaddress
import json
import os
import re
import subprocess
from collections import Counter
from datetime import datetime

import pytest

from conftest import BIN, DATA, ROOT, Cairn, assert_no_sanitizer

FEEDS = DATA / "feeds"


def fast_bin():
    """$CAIRN_FAST_BIN if set; else build/cairn when it exists and is newer than every source
    file (a stale build would test old code); else $CAIRN_BIN."""
    if os.environ.get("CAIRN_FAST_BIN"):
        return os.environ["CAIRN_FAST_BIN"]
    fast = ROOT / "build" / "cairn"
    if not (fast.is_file() and os.access(fast, os.X_OK)):
        return BIN
    newest = max(p.stat().st_mtime for p in (ROOT / "src").rglob("*.[ch]"))
    return str(fast) if fast.stat().st_mtime >= newest else BIN

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(),
                                reason=f"the real-data corpus {FEEDS} is not there")

SUMMARY = re.compile(
    r"^imported (?P<path>.+) \((?P<format>\w+), feed (?P<feed>.+)\): read (?P<read>\d+), "
    r"new (?P<new>\d+), updated (?P<updated>\d+), rejected (?P<rejected>\d+), "
    r"skipped (?P<skipped>\d+)$")
REJECT = re.compile(r"^  line (\d+): (.+)$")


def parse_summary(stdout):
    out = None
    for line in stdout.splitlines():
        m = SUMMARY.match(line)
        if m:
            assert out is None, stdout[:2000]
            out = {k: int(v) for k, v in m.groupdict().items() if v.isdigit()}
            out["feed"] = m["feed"]
            out["rejects"] = []
        elif out is not None and (r := REJECT.match(line)):
            out["rejects"].append((int(r.group(1)), r.group(2)))
    assert out is not None, stdout[:2000]
    # The summary's own arithmetic: every value read is new, updated or rejected.
    assert out["read"] == out["new"] + out["updated"] + out["rejected"], out
    assert len(out["rejects"]) == min(out["rejected"], 100), out
    return out


# ------------------------------------------------------------------ the model of a correct import
#
# One value is "ok" (must be imported), "bad" (must be rejected) or "either".

HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
REGEX_CHARS = set("[](){}^$|\\*+?")


def is_hash(s, kind=None):
    if not re.fullmatch(r"[0-9a-fA-F]+", s) or len(s) not in HASH_LENGTHS:
        return False
    return kind is None or HASH_LENGTHS[len(s)] == kind


def is_ipv4(s):
    m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", s)
    return bool(m) and all(int(x) <= 255 for x in m.groups())


def is_ipv6(s):
    try:
        ipaddress.IPv6Address(s)
        return True
    except ValueError:
        return False


def is_domain(s):
    """A DNS name: at least two labels of a-z 0-9 - _, each 1-63 long, not all-numeric TLD."""
    s = s.lower()
    if s.endswith("."):
        s = s[:-1]
    labels = s.split(".")
    return (len(s) <= 253 and len(labels) >= 2 and all(LABEL.fullmatch(x) for x in labels)
            and not labels[-1].isdigit())


def host_kind(host):
    """ok/bad/either for the host part of a URL (optionally with :port)."""
    if any(ord(c) > 127 for c in host):
        return "either"
    if any(c in REGEX_CHARS for c in host):
        return "bad"
    h = host.rsplit("@", 1)[-1]
    if h.startswith("["):
        return "either"
    if ":" in h:
        h, port = h.rsplit(":", 1)
        if not port.isdigit() or not 0 < int(port) <= 65535:
            return "either"
    return "ok" if is_ipv4(h) or is_domain(h) else "either"


def classify_plain(token):
    """The first token of a plain-list line."""
    t = token
    if t.startswith("||"):
        return "either"            # an Adblock rule (||host/path^$all), not a plain value
    if t.startswith("/"):
        return "bad"               # a path without a host is no indicator
    if any(ord(c) > 127 for c in t):
        return "either"            # IDNA rules decide (e.g. 'support¬forum.org')
    if re.fullmatch(r"[0-9a-fA-F]+", t) and len(t) > 16:
        return "ok" if len(t) in HASH_LENGTHS else "bad"   # a hash of a wrong length is a typo
    if re.fullmatch(r"\[[0-9a-fA-F:.]+\](:\d+)?", t):
        return "ok" if is_ipv6(t[1:t.index("]")]) else "bad"   # [v6]:port, as maltrail writes
    m = re.fullmatch(r"(\d+\.\d+\.\d+\.\d+)((?::[^:/]*)*)", t)
    if m:                          # IPv4 or IPv4:port — one port, at most 65535
        ports = m.group(2).split(":")[1:]
        if not is_ipv4(m.group(1)):
            return "bad"
        if not ports:
            return "ok"
        if len(ports) != 1 or not ports[0].isdigit() or int(ports[0]) > 65535:
            return "bad"
        return "ok" if int(ports[0]) > 0 else "either"   # port 0: the address still is one
    m = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*)://([^/?#]*)", t)
    if m:
        return host_kind(m.group(2))
    if "/" in t:                   # host/path: a URL written without its scheme
        return host_kind(t.split("/", 1)[0])
    if any(c in REGEX_CHARS for c in t):
        return "bad"               # a regular expression, not a value
    if is_domain(t):
        return "ok"
    if re.fullmatch(r"(?i)cve-\d{4}-\d{4,}|t\d{4}(\.\d{3})?|ta\d{4}", t):
        return "ok"
    if re.fullmatch(r"[^@\s]+@[^@\s]+", t):
        return "ok" if is_domain(t.split("@")[1]) else "either"
    return "bad"                   # a word such as 'Apr-19', or a label longer than 63 octets


def plain_model(path):
    """Counts a plain list: lines that are comments (# ! ; //) or blank are skipped; the value is
    the first white-space separated token of every other line."""
    opener = gzip.open if str(path).endswith(".gz") else open
    read = skipped = 0
    kinds = Counter()
    lines = {"bad": [], "either": []}
    tokens = []
    with opener(path, "rb") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", "surrogateescape")
            s = line.lstrip(" \t")
            if not s.strip(" \t") or s[0] in "#!;" or s.startswith("//"):
                skipped += 1
                continue
            read += 1
            tok = re.split(r"[ \t]", s, maxsplit=1)[0]
            k = classify_plain(tok)
            kinds[k] += 1
            if k != "ok":
                lines[k].append(no)
            tokens.append(tok)
    return {"read": read, "skipped": skipped, "bad": kinds["bad"], "either": kinds["either"],
            "bad_lines": lines["bad"], "either_lines": lines["either"], "tokens": tokens}


# CSV type words → what the value must be. Words for things that are not indicators must be
# rejected; "either" words name hashes or addresses that are not file hashes or that come from
# WHOIS records, where importing or rejecting are both defensible.
TYPE_WORDS = {
    "ip": "ip", "ipaddress": "ip", "ipv4": "ipv4", "domain": "domain", "domainname": "domain",
    "hostname": "domain", "url": "url", "sha256": "sha256", "filesha256": "sha256",
    "sha1": "sha1", "md5": "md5", "file": "hash", "email": "email", "emailaddress": "email",
    "ip-or-domain": "ip-or-domain",   # the host column of the urlhaus CSV (no type column)
}
NOT_INDICATORS = {"pdb", "filename", "name", "commandline", "filepath", "guid"}
EITHER_WORDS = {"certsha1", "emailwhois"}


def norm_word(w):
    return "".join(c for c in w.lower() if c.isalnum())


def value_ok(v, kind):
    if kind == "ip":
        return is_ipv4(v) or is_ipv6(v)
    if kind == "ipv4":
        return is_ipv4(v)
    if kind == "ip-or-domain":
        return is_ipv4(v) or is_domain(v)
    if kind == "domain":
        return is_domain(v)
    if kind == "url":
        return classify_plain(v) == "ok" and ("/" in v)
    if kind in ("md5", "sha1", "sha256"):
        return is_hash(v, kind)
    if kind == "hash":
        return is_hash(v)
    if kind == "email":
        return bool(re.fullmatch(r"[^@\s]+@[^@\s]+", v)) and is_domain(v.split("@")[1])
    raise AssertionError(kind)


def parse_date(s):
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    return None


def csv_model(path, value_col, type_col=None, fixed_type=None, date_cols=()):
    """Counts a CSV: '#' lines before the header are skipped, the header names the columns, and
    every later row holds one value — except rows of type 'file', whose cell may list several
    hashes of one sample separated by commas, each one value. A row whose type word is not an
    indicator type is one rejected value; a row whose value contradicts its type is rejected; a
    row with a date cairn cannot read may be rejected or imported without that date."""
    text = path.read_bytes().decode("utf-8-sig")
    physical = text.split("\n")
    start = 0
    while physical[start].startswith("#"):
        start += 1
    reader = csv.reader(io.StringIO("\n".join(physical[start:])))
    header = next(reader)
    col = {h: i for i, h in enumerate(header)}
    prev_end = reader.line_num
    read = 0
    kinds = Counter()
    bad_lines, either_lines, values = [], [], []
    for row in reader:
        line = start + prev_end + 1
        prev_end = reader.line_num
        if not row:
            continue
        cell = row[col[value_col]].strip()
        word = norm_word(row[col[type_col]]) if type_col else fixed_type
        dates_ok = all(not row[col[d]].strip() or parse_date(row[col[d]].strip())
                       for d in date_cols)
        if word in NOT_INDICATORS:
            parts, verdict = [cell], ["bad"]
        elif word in EITHER_WORDS:
            parts, verdict = [cell], ["either"]
        else:
            assert word in TYPE_WORDS, f"{path.name}: type word {word!r} unknown to the model"
            kind = TYPE_WORDS[word]
            parts = [p.strip() for p in cell.split(",") if p.strip()] if kind == "hash" else [cell]
            verdict = ["ok" if value_ok(p, kind) else "bad" for p in parts]
            if not dates_ok:
                verdict = ["either" if v == "ok" else v for v in verdict]
            values += [(p, kind) for p, v in zip(parts, verdict) if v == "ok"]
        for v in verdict:
            read += 1
            kinds[v] += 1
            if v == "bad":
                bad_lines.append(line)
            elif v == "either":
                either_lines.append(line)
    return {"read": read, "bad": kinds["bad"], "either": kinds["either"], "bad_lines": bad_lines,
            "either_lines": either_lines, "values": values}


def check_against_model(s, m):
    """The printed counts against the model: read exactly; rejected between the values that must
    be rejected and those plus the 'either' ones; every listed reject is on a line the model
    expects a reject on, and when all rejects are listed, every 'bad' line is among them."""
    assert s["read"] == m["read"], (s, {k: v for k, v in m.items() if not isinstance(v, list)})
    assert m["bad"] <= s["rejected"] <= m["bad"] + m["either"], \
        (s["rejected"], m["bad"], m["either"], s["rejects"][:10])
    allowed = set(m["bad_lines"]) | set(m["either_lines"])
    listed = [l for l, _ in s["rejects"]]
    assert set(listed) <= allowed, sorted(set(listed) - allowed)[:20]
    if s["rejected"] <= len(s["rejects"]):
        assert set(m["bad_lines"]) <= set(listed), sorted(set(m["bad_lines"]) - set(listed))[:20]


# ------------------------------------------------------------------ the one database

PLAIN = {
    # feed name: path
    "ipsum": FEEDS / "ipsum/ipsum.txt",
    "threatfox": FEEDS / "threatfox-ioc-ips/threatfox-ips.txt",
    "urlhaus-domains": FEEDS / "urlhaus-filter/urlhaus-filter-domains.txt",
    "urlhaus-online": FEEDS / "urlhaus-filter/urlhaus-filter-online.txt",
    "eset-md5": FEEDS / "eset-malware-ioc-hashes/eset-samples.md5.txt",
    "eset-sha1": FEEDS / "eset-malware-ioc-hashes/eset-samples.sha1.txt",
    "eset-sha256": FEEDS / "eset-malware-ioc-hashes/eset-samples.sha256.txt",
    "unit42-emotet": FEEDS / "pan-unit42-hashes/emotet-2019-sha256.txt",
}

VOL = FEEDS / "volexity-threat-intel"
WS = FEEDS / "withsecure-iocs"
CSVS = {
    # feed name: (path, model arguments, extra import arguments)
    "blackbook": (FEEDS / "blackbook/blackbook.csv",
                  dict(value_col="Domain", fixed_type="domain", date_cols=["Date added"]), []),
    "echap-network": (FEEDS / "echap-stalkerware/network.csv",
                      dict(value_col="indicator", type_col="type"), []),
    "echap-samples": (FEEDS / "echap-stalkerware/samples.csv",
                      dict(value_col="SHA256", fixed_type="sha256"), []),
    "mstic-nobelium": (FEEDS / "microsoft-mstic/May21-NOBELIUM-IoCs.csv",
                       dict(value_col="IoC", type_col="Type", date_cols=["DateAdded"]), []),
    "mstic-rapid": (FEEDS / "microsoft-mstic/RapidReleaseTI-Indicators.csv",
                    dict(value_col="IoC", type_col="IoC_Type",
                         date_cols=["TimeGenerated", "ExpirationDateTime"]), []),
    "volexity-darkhalo": (VOL / "2020-12-14_DarkHalo_SolarWinds.csv",
                          dict(value_col="value", type_col="type"), []),
    "volexity-xegroup": (VOL / "2021-12-06_XEGroup.csv", dict(value_col="value", type_col="type"), []),
    "volexity-3cx": (VOL / "2023-03-30_3CX.csv", dict(value_col="value", type_col="entity_type"), []),
    "volexity-evilbamboo": (VOL / "2023-09-22_EvilBamboo.csv",
                            dict(value_col="value", type_col="entity_type"), []),
    "volexity-disgomoji": (VOL / "2024-06-13_DISGOMOJI.csv",
                           dict(value_col="value", type_col="entity_type"), []),
    "withsecure-ducktail": (WS / "DUCKTAIL_iocs.csv", dict(value_col="Data", type_col="Indicator type"), []),
    "withsecure-fin7": (WS / "FIN7VEEAM_iocs.csv", dict(value_col="Value", type_col="Indicator type"), []),
    "withsecure-ducks": (WS / "MeetTheDucks_iocs.csv", dict(value_col="value", type_col="type"), []),
    "withsecure-weevil": (WS / "WeevilProxy_weevilproxy_iocs.csv",
                          dict(value_col="Value", type_col="Type"), []),
    # Its header is "host","path",…: no column is the value, so it needs --map (the host of
    # each URL; a host with an empty path is listed whole by URLhaus).
    "urlhaus-splunk": (FEEDS / "urlhaus-filter/urlhaus-filter-splunk-online.csv",
                       dict(value_col="host", fixed_type="ip-or-domain"), ["--map", "value=host"]),
}
MALTRAIL = FEEDS / "maltrail/maltrail-static-malware.txt.gz"


class Imported:
    def __init__(self, cairn):
        self.cairn = cairn
        self.summaries = {}
        self.overlap = None

    def imp(self, feed, path, *extra, bin=None):
        args = ["import", "--feed", feed, *extra, path]
        if bin:
            e = dict(os.environ, CAIRN_DB=str(self.cairn.db))
            p = subprocess.run([bin, *map(str, args)], capture_output=True, text=True, env=e,
                               timeout=1800)
            assert p.returncode == 0, p.stderr
            assert_no_sanitizer(p.stderr)
        else:
            p = self.cairn.run(*args)
        s = parse_summary(p.stdout)
        assert s["feed"] == feed
        self.summaries[feed] = s
        return s


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("realdata"))
    imp = Imported(c)
    # ipsum, then threatfox: the overlap between the two is checked before anything else can
    # report the same addresses.
    imp.imp("ipsum", PLAIN["ipsum"])
    imp.imp("threatfox", PLAIN["threatfox"])
    ipsum = set(plain_model(PLAIN["ipsum"])["tokens"])
    tf = set(plain_model(PLAIN["threatfox"])["tokens"])
    both = sorted(ipsum & tf)
    key = c.key("pro")
    c.start()
    try:
        found = []
        for i in range(0, len(both), 500):
            r = c.post("/api/v1/lookup", key, json={"values": both[i:i + 500]})
            assert r.status_code == 200, r.text[:500]
            found += r.json()["data"]
        imp.overlap = (both, found)
    finally:
        assert c.stop() == 0
    for feed, path in PLAIN.items():
        if feed not in imp.summaries:
            imp.imp(feed, path)
    # The Splunk lookup CSV has no value column by any name: refused with a one-line reason
    # before it is imported with --map.
    p = c.run("import", "--feed", "urlhaus-splunk", CSVS["urlhaus-splunk"][0], check=False)
    imp.refused = p
    for feed, (path, _, extra) in CSVS.items():
        imp.imp(feed, path, *extra)
    yield imp


# ------------------------------------------------------------------ plain lists

def test_ipsum(db):
    # README: 120,430 IPv4 entries after 7 '#' header lines; "IP<TAB>count" lines whose first
    # token is the address. The first feed into an empty database: all new.
    m = plain_model(PLAIN["ipsum"])
    assert (m["read"], m["skipped"], m["bad"], m["either"]) == (120_430, 7, 0, 0)
    s = db.summaries["ipsum"]
    assert (s["read"], s["new"], s["updated"], s["rejected"], s["skipped"]) == (120_430, 120_430, 0, 0, 7)


def test_threatfox_and_overlap_with_ipsum(db):
    # README: 19,863 IPv4, one a line, no comments. Imported right after ipsum: the addresses
    # ipsum already had are updates, the others new.
    m = plain_model(PLAIN["threatfox"])
    assert (m["read"], m["skipped"], m["bad"]) == (19_863, 0, 0)
    tf = m["tokens"]
    ipsum = set(plain_model(PLAIN["ipsum"])["tokens"])
    s = db.summaries["threatfox"]
    new = len(set(tf) - ipsum)
    assert (s["read"], s["rejected"]) == (19_863, 0)
    assert (s["new"], s["updated"]) == (new, len(tf) - new)
    both, found = db.overlap
    assert len(both) == len(tf) - new > 0
    # Every address both feeds report is ONE record with the two feeds as its sources.
    assert len(found) == len(both)
    for ip, rec in zip(both, found):
        assert rec["found"] is True, rec
        assert rec["ioc_value"] == ip and rec["ioc_type"] == "ipv4"
        assert rec["reporting_sources"] == 2, rec
        assert sorted(x["source_feed"] for x in rec["sources"]) == ["ipsum", "threatfox"], rec


def test_urlhaus_lists(db):
    # README: 25,774 lines = 6 '#' lines + 23,079 IPv4 + 2,689 domains (all plain values).
    m = plain_model(PLAIN["urlhaus-domains"])
    assert (m["read"], m["skipped"], m["bad"], m["either"]) == (23_079 + 2_689, 6, 0, 0)
    check_against_model(db.summaries["urlhaus-domains"], m)
    # README: 6 '!' lines, then 2,234 bare IPv4 and 619 bare domains, which must be imported,
    # and the host/path entries, which the file writes as Adblock rules (||host/path^$all):
    # taking those as URLs or rejecting them are both defensible for a plain-list reader.
    m = plain_model(PLAIN["urlhaus-online"])
    assert (m["read"], m["skipped"], m["bad"]) == (6_363, 6, 0)
    assert m["read"] - m["either"] == 2_234 + 619
    check_against_model(db.summaries["urlhaus-online"], m)


def test_eset_hash_lists(db):
    # README: 5,502 lines each = 118 '# ====' separators + 5,383 hashes + 1 more line: an empty
    # line in the md5 and sha256 files, the 41-character typo in the sha1 file.
    for feed, kind in (("eset-md5", "md5"), ("eset-sha1", "sha1"), ("eset-sha256", "sha256")):
        m = plain_model(PLAIN[feed])
        s = db.summaries[feed]
        check_against_model(s, m)
        hashes = [t for t in m["tokens"] if is_hash(t, kind)]
        assert len(hashes) == 5_383
        if kind == "sha1":
            assert (m["read"], m["skipped"], m["bad"]) == (5_384, 118, 1)
            typo_line = m["bad_lines"][0]
            lines = PLAIN[feed].read_text().split("\n")
            assert lines[typo_line - 1].strip() == "f0295f2e46cebffaf7892a5b33ba54122781c20bs"
            # The typo is rejected, reported with its line number, and nothing else is.
            assert s["rejected"] == 1
            assert s["rejects"][0][0] == typo_line
        else:
            assert (m["read"], m["skipped"], m["bad"]) == (5_383, 119, 0)
            assert s["rejected"] == 0
    # The values written with a trailing space are imported (the space is not part of them).
    for feed in ("eset-md5", "eset-sha256"):
        spaced = [l for l in PLAIN[feed].read_text().split("\n") if l.endswith(" ")
                  and is_hash(l.strip())]
        assert len(spaced) == 1
        rec = json.loads(db.cairn.run("lookup", spaced[0]).stdout)
        assert rec["found"] is True and rec["value"] == spaced[0].strip().lower()
        assert "eset" in rec["sources"][0]["feed_name"]


def test_unit42_emotet_hashes(db):
    # README: 24,641 lines = 18,347 SHA-256 + 6,280 empty + 7 separator comments + 7 month
    # labels ('Jan-19', …) that are not hashes and must be rejected with their line numbers.
    m = plain_model(PLAIN["unit42-emotet"])
    assert (m["read"], m["skipped"], m["bad"], m["either"]) == (18_347 + 7, 6_280 + 7, 7, 0)
    s = db.summaries["unit42-emotet"]
    check_against_model(s, m)
    assert s["rejected"] == 7
    assert [l for l, _ in s["rejects"]] == m["bad_lines"]


# ------------------------------------------------------------------ CSV

@pytest.mark.parametrize("feed", [f for f in CSVS])
def test_csv_counts(db, feed):
    path, margs, _ = CSVS[feed]
    m = csv_model(path, **margs)
    check_against_model(db.summaries[feed], m)


def test_csv_counts_match_readmes():
    # The model's row counts against those the READMEs publish.
    rows = {
        "blackbook": 18_151, "echap-network": 1_034, "echap-samples": 3_228, "mstic-nobelium": 127,
        "mstic-rapid": 237, "volexity-darkhalo": 23, "volexity-evilbamboo": 243,
        "withsecure-weevil": 304, "urlhaus-splunk": 6_363,
    }
    for feed, n in rows.items():
        path, margs, _ = CSVS[feed]
        assert csv_model(path, **margs)["read"] == n, feed
    # Volexity 'file' rows hold three hashes each in XEGroup (52 rows) and DISGOMOJI (45 rows),
    # and 3CX's 6 file rows too: 84 + 8 + 3 * 52, 103 + 5 + 3 * 45, 23 + 5 + 3 * 6 values.
    assert csv_model(CSVS["volexity-xegroup"][0], **CSVS["volexity-xegroup"][1])["read"] == 248
    assert csv_model(CSVS["volexity-disgomoji"][0], **CSVS["volexity-disgomoji"][1])["read"] == 243
    assert csv_model(CSVS["volexity-3cx"][0], **CSVS["volexity-3cx"][1])["read"] == 46
    # WithSecure: MeetTheDucks file_sha256 2,026 + domain 50 + cert_sha1 19; DUCKTAIL 1,883 rows
    # (email 1,739, file_sha256 111, filename 16, pdb 8, cert_sha1 7, domain 2); FIN7 49 rows
    # of which 37 command lines.
    m = csv_model(CSVS["withsecure-ducks"][0], **CSVS["withsecure-ducks"][1])
    assert (m["read"], m["either"]) == (2_095, 19)
    m = csv_model(CSVS["withsecure-ducktail"][0], **CSVS["withsecure-ducktail"][1])
    assert (m["read"], m["bad"], m["either"]) == (1_883, 16 + 8, 7)
    m = csv_model(CSVS["withsecure-fin7"][0], **CSVS["withsecure-fin7"][1])
    assert (m["read"], m["bad"]) == (49, 37)


def test_csv_without_value_column_refused(db):
    p = db.refused
    assert p.returncode != 0
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "--map" in lines[0]


def test_csv_fields_reach_the_records(db):
    run = db.cairn.run
    # blackbook: Domain, Malware (a tag), Date added (first_seen).
    first = next(csv.DictReader(io.StringIO(CSVS["blackbook"][0].read_text())))
    rec = json.loads(run("lookup", first["Domain"]).stdout)
    assert rec["found"] and rec["type"] == "domain"
    assert first["Malware"] in rec["tags"]
    assert any(x["feed_name"] == "blackbook" and x["first_seen"].startswith(first["Date added"])
               for x in rec["sources"]), rec
    # Volexity: the three hashes of one sample in one cell are three records of three types.
    row = next(csv.DictReader(io.StringIO(CSVS["volexity-xegroup"][0].read_text())))
    hashes = row["value"].split(",")
    assert sorted(json.loads(run("lookup", h).stdout)["type"] for h in hashes) == ["md5", "sha1", "sha256"]
    # MSTIC NOBELIUM: a value written with a trailing space is imported without it.
    rec = json.loads(run("lookup", "cdnappservice.web.app").stdout)
    assert rec["found"] and any(x["feed_name"] == "mstic-nobelium" for x in rec["sources"])


def test_total_matches_the_sum_of_new(db):
    st = json.loads(db.cairn.run("stats").stdout)
    assert st["totals"]["indicators"] == sum(s["new"] for s in db.summaries.values())


# ------------------------------------------------------------------ maltrail, the bulk corpus

def test_maltrail_bulk(db):
    # README: 1,840,011 lines = 150,777 '#' comments + 196,533 blank + ~1.49 M entries. Six
    # entries start with '//' (odd upstream lines), which cairn's plain lists treat as comments.
    # Must be rejected: 88,065 path-only entries ('/gate.php': no host), the regular
    # expressions, 'ip:port:port' entries, ports above 65535, a label longer than 63 octets.
    before = json.loads(db.cairn.run("stats").stdout)["totals"]["indicators"]
    m = plain_model(MALTRAIL)
    assert m["read"] + m["skipped"] == 1_840_011
    assert m["skipped"] == 150_777 + 196_533 + 6
    assert 88_065 <= m["bad"] < 88_200 and m["either"] < 20
    s = db.imp("maltrail", MALTRAIL, bin=fast_bin())
    check_against_model(s, m)
    # The same value appears on several lines (README: 32,879 values occur twice or more), and
    # 'ip:port' lines of one address are one record: fewer new records than accepted values,
    # never more than distinct tokens.
    distinct = len({t.lower() for t in m["tokens"]})
    assert s["new"] <= distinct
    assert s["updated"] >= 32_879
    after = json.loads(db.cairn.run("stats").stdout)["totals"]["indicators"]
    assert after == before + s["new"]
    # Spot checks: a URL, and an 'ip:port' line found as its address with maltrail as a source.
    url = next(t for t in m["tokens"] if t.startswith("http://") and classify_plain(t) == "ok")
    rec = json.loads(db.cairn.run("lookup", url).stdout)
    assert rec["found"] and rec["type"] == "url"
    ip_port = next(t for t in m["tokens"] if re.fullmatch(r"[0-9.]+:[0-9]+", t)
                   and classify_plain(t) == "ok")
    rec = json.loads(db.cairn.run("lookup", ip_port.split(":")[0]).stdout)
    assert rec["found"] and "maltrail" in [x["feed_name"] for x in rec["sources"]]
