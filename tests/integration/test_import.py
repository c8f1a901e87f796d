"""`cairn import` and the other command-line forms, as users and their scripts use them.

The summary line of an import is fixed (DESIGN.md section 3, "Command line"):
    imported PATH (FORMAT, feed FEED): read N, new N, updated N, rejected N, skipped N
followed by "  line L: reason" for the first 100 rejected values. read counts the values
considered (new + updated + rejected); skipped counts comment and blank lines.
"""
import gzip
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BIN, ROOT, assert_no_sanitizer

SUMMARY = re.compile(
    r"^imported (?P<path>.+) \((?P<format>\w+), feed (?P<feed>.+)\): read (?P<read>\d+), "
    r"new (?P<new>\d+), updated (?P<updated>\d+), rejected (?P<rejected>\d+), "
    r"skipped (?P<skipped>\d+)$")
REJECT = re.compile(r"^  line (\d+): (.+)$")
KEY_RE = re.compile(r"sk_live_[0-9A-Za-z]{40}")


def _batch_size():
    """IMPORT_BATCH of src/imp/importer.h: every batch is one transaction."""
    m = re.search(r"#define\s+IMPORT_BATCH\s+(\d+)", (ROOT / "src/imp/importer.h").read_text())
    assert m, "IMPORT_BATCH not found in src/imp/importer.h"
    return int(m.group(1))


def summaries(stdout):
    """Every import summary of a `cairn import` run, with its rejects [(line, reason)]."""
    out = []
    for line in stdout.splitlines():
        m = SUMMARY.match(line)
        if m:
            d = {k: (int(v) if v.isdigit() and k not in ("path", "feed") else v)
                 for k, v in m.groupdict().items()}
            d["rejects"] = []
            out.append(d)
            continue
        r = REJECT.match(line)
        if r and out:
            out[-1]["rejects"].append((int(r.group(1)), r.group(2)))
    return out


def summary(stdout):
    """The one summary of a one-file import, checked for read = new + updated + rejected."""
    s = summaries(stdout)
    assert len(s) == 1, stdout
    s = s[0]
    assert s["read"] == s["new"] + s["updated"] + s["rejected"], s
    assert len(s["rejects"]) == min(s["rejected"], 100), s
    return s


def counts(s):
    return (s["read"], s["new"], s["updated"], s["rejected"], s["skipped"])


def imp(cairn, text, *args, name="feed.txt"):
    return summary(cairn.import_text(text, *args, name=name).stdout)


def lookup(cairn, value, *args):
    p = cairn.run("lookup", *args, value)
    return json.loads(p.stdout)


def found(cairn, value, *args):
    rec = lookup(cairn, value, *args)
    assert rec["found"] is True, (value, rec)
    return rec


def stats(cairn):
    return json.loads(cairn.run("stats").stdout)


def assert_one_line_error(p):
    """A failed command: non-zero status and exactly one line of reason on stderr."""
    assert p.returncode != 0, (p.stdout, p.stderr)
    assert_no_sanitizer(p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected a one-line reason, got:\n{p.stderr}"
    assert lines[0].startswith("cairn"), lines
    return lines[0]


# ---------------------------------------------------------------------------- plain lists

def test_plain_list_comments_blank_lines_crlf_first_token(cairn):
    text = ("# a hash comment\n"
            "! an Adblock-style comment\n"
            "; an ini-style comment\n"
            "// a C-style comment\n"
            "   # an indented comment\n"
            "\n"
            "   \t \n"
            "198.51.100.1\r\n"                     # CRLF line ending
            "198.51.100.2\t7\n"                    # ipsum's "IP<TAB>count": the count is no value
            "first.example second.example\n"       # only the first token is the value
            "  padded.example  \n"                 # leading and trailing blanks
            "198.51.100.3 # trailing comment\n"
            "\r\n"                                 # a blank CRLF line
            "last.example")                        # no newline at the end
    s = imp(cairn, text, "--feed", "plain")
    assert counts(s) == (6, 6, 0, 0, 8)
    assert s["format"] == "txt" and s["feed"] == "plain"
    for v, t in [("198.51.100.1", "ipv4"), ("198.51.100.2", "ipv4"), ("first.example", "domain"),
                 ("padded.example", "domain"), ("198.51.100.3", "ipv4"), ("last.example", "domain")]:
        rec = found(cairn, v)
        assert rec["type"] == t and rec["value"] == v
        assert [x["feed_name"] for x in rec["sources"]] == ["plain"]
    assert lookup(cairn, "second.example")["found"] is False
    assert stats(cairn)["totals"]["indicators"] == 6


def test_defanged_values_are_refanged(cairn):
    text = ("hxxp://evil[.]example/gate.php\n"
            "hXXps[:]//Secure[.]Example/login\n"
            "bad[.]example\n"
            "worse(.)example\n"
            "203.0.113[.]9\n"
            "ops[@]phish[.]example\n"
            "c2[dot]example\n")
    s = imp(cairn, text)
    assert counts(s) == (7, 7, 0, 0, 0)
    expect = {
        "http://evil.example/gate.php": "url",
        "https://secure.example/login": "url",
        "bad.example": "domain",
        "worse.example": "domain",
        "203.0.113.9": "ipv4",
        "ops@phish.example": "email",
        "c2.example": "domain",
    }
    for v, t in expect.items():
        rec = found(cairn, v)
        assert (rec["type"], rec["value"]) == (t, v)
    # A defanged value looked up is refanged the same way.
    assert found(cairn, "bad[.]example")["value"] == "bad.example"


def test_type_detection_and_canonical_values(cairn):
    md5 = "D41D8CD98F00B204E9800998ECF8427E"
    sha1 = "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"
    sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
    sha512 = "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE" \
             "47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"
    lines = {
        "192.0.2.44": ("ipv4", "192.0.2.44"),
        "192.0.2.0/24": ("ipv4", "192.0.2.0/24"),
        "2001:DB8:0:0:0:0:0:1": ("ipv6", "2001:db8::1"),
        "MiXeD.Example.": ("domain", "mixed.example"),
        "HTTP://Host.Example:80/Path?q=1": ("url", "http://host.example/Path?q=1"),
        md5: ("md5", md5.lower()),
        sha1: ("sha1", sha1.lower()),
        sha256: ("sha256", sha256.lower()),
        sha512: ("sha512", sha512.lower()),
        "Someone@Mail.Example": ("email", "Someone@mail.example"),
        "cve-2021-44228": ("cve", "CVE-2021-44228"),
        "t1059.001": ("mitre-attack", "T1059.001"),
    }
    s = imp(cairn, "\n".join(lines) + "\n")
    assert counts(s) == (len(lines), len(lines), 0, 0, 0)
    for given, (t, canon) in lines.items():
        rec = found(cairn, canon)
        assert (rec["type"], rec["value"]) == (t, canon), given
    st = stats(cairn)["totals"]
    assert st["indicators"] == len(lines)
    assert st["by_type"] == {"ipv4": 2, "ipv6": 1, "domain": 1, "url": 1, "md5": 1, "sha1": 1,
                             "sha256": 1, "sha512": 1, "email": 1, "cve": 1, "mitre-attack": 1}


def test_type_forcing_rejects_values_of_another_type(cairn):
    text = ("198.51.100.7\n"         # 1
            "evil.example\n"         # 2  a domain: not an ipv4
            "198.51.100.8\n"         # 3
            "d41d8cd98f00b204e9800998ecf8427e\n"  # 4  an md5: not an ipv4
            "# comment\n"            # 5
            "http://x.example/\n")   # 6  a url: not an ipv4
    s = imp(cairn, text, "--type", "ipv4")
    assert counts(s) == (5, 2, 0, 3, 1)
    assert [l for l, _ in s["rejects"]] == [2, 4, 6]
    assert lookup(cairn, "evil.example")["found"] is False
    assert found(cairn, "198.51.100.8")["type"] == "ipv4"

    # Forcing a type that the value could also be read as: a hex string forced to sha1 must be
    # 40 digits; a 32-digit one is rejected.
    s = imp(cairn, "da39a3ee5e6b4b0d3255bfef95601890afd80709\nd41d8cd98f00b204e9800998ecf8427e\n",
            "--type", "sha1", name="h.txt")
    assert counts(s) == (2, 1, 0, 1, 0)
    assert [l for l, _ in s["rejects"]] == [2]


def test_rejects_reported_with_line_numbers_first_100(cairn):
    lines = []
    bad = []
    for i in range(1, 251):
        if i % 2:
            lines.append(f"10.1.{i // 256}.{i % 256}")
        else:
            lines.append(f"not_a_value_{i}!")
            bad.append(i)
    s = imp(cairn, "\n".join(lines) + "\n")
    assert counts(s) == (250, 125, 0, 125, 0)
    # Only the first 100 rejects are listed, in order, with their physical line numbers.
    assert [l for l, _ in s["rejects"]] == bad[:100]
    assert all(reason.strip() for _, reason in s["rejects"])


def test_a_bad_line_never_stops_the_import(cairn):
    long_line = "a" * (100 * 1024)   # longer than any line the reader keeps
    data = (b"198.51.100.10\n"
            + long_line.encode() + b"\n"
            + b"\xff\xfe\xfd not utf-8\n"
            + b"bad\x00nul.example\n"
            + b"\x1b[31mescape.example\n"
            + b"198.51.100.11\n"
            + b"exa mple..com\n"
            + b"a" * 300 + b".example\n"
            + b"198.51.100.12\n")
    path = cairn.tmp / "messy.txt"
    path.write_bytes(data)
    p = cairn.run("import", path)
    s = summary(p.stdout)
    assert p.returncode == 0
    assert s["new"] == 3
    assert sorted(l for l, _ in s["rejects"]) == [l for l, _ in s["rejects"]]
    assert {l for l, _ in s["rejects"]} >= {2, 3}
    for v in ("198.51.100.10", "198.51.100.11", "198.51.100.12"):
        found(cairn, v)
    # Reasons are printable text: no control bytes of the input reach the terminal.
    for line in p.stdout.splitlines():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", line), repr(line)


# ---------------------------------------------------------------------------- CSV

@pytest.mark.parametrize("column", ["value", "indicator", "ioc", "IOC", "Indicator Value"])
def test_csv_value_column_by_name(cairn, column):
    s = imp(cairn, f"id,{column},note\n1,198.51.100.20,x\n2,evil.example,y\n3,,z\n",
            name="v.csv")
    # An empty value is a rejected row, not a silent skip.
    assert counts(s)[:4] == (3, 2, 0, 1)
    assert [l for l, _ in s["rejects"]] == [4]
    assert found(cairn, "198.51.100.20")["type"] == "ipv4"
    assert found(cairn, "evil.example")["type"] == "domain"


def test_csv_typed_value_columns(cairn):
    # blackbook.csv's shape: the column name is the type.
    s = imp(cairn, "Domain,Malware,Date added,Source\nEvil.Example.,lokibot,2024-08-28,ViriBack\n"
                   "198.51.100.30,x,2024-08-28,ViriBack\n", name="bb.csv")
    assert counts(s)[:4] == (2, 1, 0, 1)      # an IP is not a Domain
    assert [l for l, _ in s["rejects"]] == [3]
    rec = found(cairn, "evil.example")
    assert rec["type"] == "domain" and "lokibot" in rec["tags"]
    assert rec["first_seen"].startswith("2024-08-28T00:00:00")

    # samples.csv's shape: a SHA256 column, other columns are not values.
    h = "2F3BC9EBE8C249F0416F5B0367F34B4B8F6AAA7D351DC5B4912FE2558491B6B7"
    s = imp(cairn, f"SHA256,Package Name,Certificate\n{h},com.topspy,"
                   "7F5C0D54A813BA9B87A91420CA2C3DE5E7948F09\nd41d8cd98f00b204e9800998ecf8427e,x,y\n",
            name="s.csv")
    assert counts(s)[:4] == (2, 1, 0, 1)      # an md5 in a SHA256 column is rejected
    assert found(cairn, h.lower())["type"] == "sha256"
    assert lookup(cairn, "7f5c0d54a813ba9b87a91420ca2c3de5e7948f09")["found"] is False


def test_csv_type_column_words(cairn):
    sha1 = "019d4ae42f858d5ea65f3b71392dd37efec6c882"
    sha256 = "02c48917b15015ddd02738bc1f480f9c6379165618435855030f4c63ce372485"
    md5 = "7a15cdb53c6c2a8e40a03dcf15195aef"
    text = ("value,entity_type,description\n"
            "198.51.100.40,ipaddress,an address\n"                      # 2
            "c2.example,hostname,a host\n"                               # 3
            f"\"{sha1},{sha256},{md5}\",file,three hashes of one sample\n"  # 4: three values
            f"{sha256.upper()},sha256,\n"                                # 5: same hash again
            "http://dl.example/a.exe,url,\n"                            # 6
            "C:\\build\\x.pdb,pdb,a PDB path is not an indicator\n"     # 7: rejected
            "2001:db8::5,IP,\n"                                          # 8
            "Mail@Phish.Example,email,\n"                                # 9
            "c3.example,Domain Name,\n")                                 # 10
    s = imp(cairn, text, name="t.csv")
    # 10 - 1 header rows, the file row holds three values: 11 values read.
    assert counts(s)[:4] == (11, 9, 1, 1)
    assert [l for l, _ in s["rejects"]] == [7]
    for v, t in [("198.51.100.40", "ipv4"), ("c2.example", "domain"), (sha1, "sha1"),
                 (sha256, "sha256"), (md5, "md5"), ("http://dl.example/a.exe", "url"),
                 ("2001:db8::5", "ipv6"), ("Mail@phish.example", "email"), ("c3.example", "domain")]:
        assert found(cairn, v)["type"] == t, v
    assert found(cairn, "c2.example")["sources"][0]["context"] == "a host"

    # A type word that contradicts the value rejects the row rather than guessing.
    s = imp(cairn, "value,type\n198.51.100.41,hostname\nd41d8cd98f00b204e9800998ecf8427e,sha256\n"
                   "198.51.100.42,ipv4\n", name="t2.csv")
    assert counts(s)[:4] == (3, 1, 0, 2)
    assert [l for l, _ in s["rejects"]] == [2, 3]


def test_csv_type_words_as_withsecure_writes_them(cairn):
    # WithSecure's CSVs spell types file_sha256 / Domain name / SHA1, and list things that are
    # no indicators (filename, Command line) whose text may hold commas: such a row is one
    # rejected value, not one per comma.
    sha256 = "b7c1a56d3e817bfa47d540f37dc45441325e81332e4c71a5e65d7de67b8f4b3c"
    text = ("Indicator type,Data\n"
            f"file_sha256,{sha256}\n"                                             # 2
            "Domain name,ws.example\n"                                            # 3
            "filename,\"project plan, products.pdf.exe\"\n"                       # 4 rejected once
            "Command line,\"WMIC LOGICALDISK GET Name,Size,FreeSpace\"\n"        # 5 rejected once
            "SHA1,8687b6b1508a93556d6e30d14e5c4ee9971f2d80\n")                    # 6
    s = imp(cairn, text, name="ws.csv")
    assert counts(s)[:4] == (5, 3, 0, 2)
    assert [l for l, _ in s["rejects"]] == [4, 5]
    assert found(cairn, sha256)["type"] == "sha256"
    assert found(cairn, "ws.example")["type"] == "domain"


def test_csv_confidence_numbers_and_words(cairn):
    text = ("value,confidence\n"
            "198.51.100.50,80\n"     # 2
            "198.51.100.51,high\n"   # 3
            "198.51.100.52,Medium\n"  # 4
            "198.51.100.53,low\n"    # 5
            "198.51.100.54,15\n"     # 6
            "198.51.100.55,200\n"    # 7: rejected, not 0-100
            "198.51.100.56,maybe\n"  # 8: rejected
            "198.51.100.57,\n")      # 9: none given: the default
    s = imp(cairn, text, name="c.csv")
    assert counts(s)[:4] == (8, 6, 0, 2)
    assert [l for l, _ in s["rejects"]] == [7, 8]
    r = found(cairn, "198.51.100.50")
    assert (r["score"], r["confidence"]) == (80, "high")
    assert found(cairn, "198.51.100.51")["confidence"] == "high"
    assert found(cairn, "198.51.100.52")["confidence"] == "medium"
    assert found(cairn, "198.51.100.53")["confidence"] == "low"
    r = found(cairn, "198.51.100.54")
    assert (r["score"], r["confidence"]) == (15, "low")
    assert lookup(cairn, "198.51.100.55")["found"] is False
    assert found(cairn, "198.51.100.57")["score"] >= 0
    # --confidence gives the score of values that carry none.
    s = imp(cairn, "value,confidence\n198.51.100.58,\n198.51.100.59,10\n", "--confidence", "90",
            name="c2.csv")
    assert counts(s)[:4] == (2, 2, 0, 0)
    assert found(cairn, "198.51.100.58")["score"] == 90
    assert found(cairn, "198.51.100.59")["score"] == 10


def test_csv_first_seen_dates(cairn):
    text = ("value,first_seen,last_seen\n"
            "a1.example,2021-05-28,\n"                    # 2  a bare date
            "a2.example,2021-05-28T10:20:30Z,\n"          # 3  RFC 3339
            "a3.example,5/28/2021,\n"                     # 4  M/D/YYYY as MSTIC writes it
            "a4.example,12/7/2022,\n"                     # 5
            "a5.example,1622197230,\n"                    # 6  Unix seconds
            "a6.example,2021-05-28 10:20:30,\n"           # 7  a space instead of T
            "a7.example,yesterday,\n"                     # 8  rejected
            "a8.example,13/45/2021,\n"                    # 9  rejected
            "a9.example,2020-01-01,2020-02-01T00:00:00Z\n")  # 10
    s = imp(cairn, text, name="d.csv")
    assert counts(s)[:4] == (9, 7, 0, 2)
    assert [l for l, _ in s["rejects"]] == [8, 9]
    fs = {v: found(cairn, v)["first_seen"] for v in
          ("a1.example", "a2.example", "a3.example", "a4.example", "a5.example", "a6.example")}
    assert fs["a1.example"].startswith("2021-05-28T00:00:00")
    assert fs["a2.example"].startswith("2021-05-28T10:20:30")
    assert fs["a3.example"].startswith("2021-05-28T00:00:00")
    assert fs["a4.example"].startswith("2022-12-07T00:00:00")
    assert fs["a5.example"].startswith("2021-05-28T10:20:30")
    assert fs["a6.example"].startswith("2021-05-28")
    assert all(v.endswith("Z") for v in fs.values())
    r = found(cairn, "a9.example")
    assert r["first_seen"].startswith("2020-01-01T00:00:00")


def test_csv_tags_split_on_separators(cairn):
    text = ('value,tags\n'
            'a1.example,emotet;loader\n'
            'a2.example,"c2, botnet"\n'
            'a3.example,apt28|phishing\n'
            'a4.example,"one; two |three"\n'
            'a5.example,\n')
    s = imp(cairn, text, "--tag", "imported", name="t.csv")
    assert counts(s)[:4] == (5, 5, 0, 0)
    assert set(found(cairn, "a1.example")["tags"]) == {"emotet", "loader", "imported"}
    assert set(found(cairn, "a2.example")["tags"]) == {"c2", "botnet", "imported"}
    assert set(found(cairn, "a3.example")["tags"]) == {"apt28", "phishing", "imported"}
    assert set(found(cairn, "a4.example")["tags"]) == {"one", "two", "three", "imported"}
    assert set(found(cairn, "a5.example")["tags"]) == {"imported"}


def test_csv_map_field_to_column(cairn):
    text = ("host,score,labels2,seen\n"
            "m1.example,90,x;y,2022-01-02\n"
            "m2.example,5,z,2022-01-03\n")
    # "host" is not a column name cairn guesses; --map names it.
    s = imp(cairn, text, "--map", "value=host", "--map", "confidence=score", "--map", "tags=labels2",
            "--map", "first_seen=seen", name="m.csv")
    assert counts(s)[:4] == (2, 2, 0, 0)
    r = found(cairn, "m1.example")
    assert r["score"] == 90 and set(r["tags"]) == {"x", "y"}
    assert r["first_seen"].startswith("2022-01-02")
    # --map wins over a column that would be guessed.
    s = imp(cairn, "value,other\nnot-this.example,m3.example\n", "--map", "value=other", name="m2.csv")
    assert counts(s)[:4] == (1, 1, 0, 0)
    found(cairn, "m3.example")
    assert lookup(cairn, "not-this.example")["found"] is False
    # A --map naming a column the CSV lacks, or an unknown field, is an error.
    assert_one_line_error(cairn.run("import", "--map", "tags=nope", cairn.tmp / "m.csv", check=False))
    assert_one_line_error(cairn.run("import", "--map", "colour=host", cairn.tmp / "m.csv", check=False))


def test_csv_without_a_value_column_fails_with_one_line(cairn):
    path = cairn.tmp / "novalue.csv"
    path.write_text("host,path,message\nevil.example,/x,bad\n")
    p = cairn.run("import", path, check=False)
    line = assert_one_line_error(p)
    assert "value" in line and "--map" in line
    assert stats(cairn)["totals"]["indicators"] == 0


def test_csv_quoted_fields_bom_and_comment_banner(cairn):
    text = ('\ufeff# Title: a feed with a banner before its header\n'
            '# Updated: 2025-07-19\n'
            '"value","type","description","tags"\n'
            '"q1.example","domain","a, description with ""quotes"" and commas","a;b"\n'
            '"198.51.100.60","ipaddress","a description\nspanning two lines","c"\n'
            '"q2.example","domain","",""\n')
    s = imp(cairn, text, name="q.csv")
    assert counts(s)[:4] == (3, 3, 0, 0)
    assert s["format"] == "csv"
    r = found(cairn, "q1.example")
    assert set(r["tags"]) == {"a", "b"}
    assert r["sources"][0]["context"] == 'a, description with "quotes" and commas'
    assert found(cairn, "198.51.100.60")["sources"][0]["context"] == "a description\nspanning two lines"
    found(cairn, "q2.example")


def test_csv_semicolon_and_tab_delimiters(cairn):
    s = imp(cairn, "value;tags\nsc1.example;a\nsc2.example;b\n", name="semi.csv")
    assert counts(s)[:4] == (2, 2, 0, 0)
    s = imp(cairn, "value\ttags\ntab1.example\ta\n", name="tab.tsv")
    assert counts(s)[:4] == (1, 1, 0, 0)
    assert found(cairn, "tab1.example")["tags"] == ["a"]


def test_csv_malformed_row_reported_and_rest_imported(cairn):
    text = ("value,tags,note\n"                 # 1
            "ok1.example,a,\n"                    # 2
            "bad\"quote.example,b,\n"             # 3  a quote inside an unquoted field
            "ok2.example,c,\n"                    # 4
            "\"ok3.example\"x,d,\n"               # 5  text after a closing quote
            "\"multi.example\",\"e;f\",\"one\ntwo\"\n"  # 6-7 one row over two lines
            "bad2.example,\"g\"h,\n"              # 8  text after a closing quote
            "ok4.example,g,\n")                   # 9
    p = cairn.import_text(text, name="bad.csv")
    assert p.returncode == 0
    s = summary(p.stdout)
    assert counts(s)[:4] == (7, 4, 0, 3)
    assert [l for l, _ in s["rejects"]] == [3, 5, 8]
    for v in ("ok1.example", "ok2.example", "ok4.example", "multi.example"):
        found(cairn, v)
    for v in ("bad2.example", "ok3.example"):
        assert lookup(cairn, v)["found"] is False
    assert set(found(cairn, "multi.example")["tags"]) == {"e", "f"}


# ---------------------------------------------------------------------------- JSON

def test_json_array_of_records(cairn):
    text = """[
  {"value": "198.51.100.70", "type": "ipv4", "confidence": "high", "tags": ["c2", "emotet"],
   "first_seen": "2023-01-02T03:04:05Z", "context": "C2 of campaign X",
   "mitre_techniques": ["T1071.001"], "source": {"feed_name": "partner", "category": "commercial"}},
  {"value": "evil[.]example", "score": 20},
  {"nope": "no value"},
  {"value": "198.51.100.71", "type": "sha256"},
  "just a string",
  {"value": "198.51.100.72", "confidence": 300},
  {"value": "CVE-2021-44228", "tags": "not-an-array"},
  {"value": "cve-2023-4966"}
]
"""
    p = cairn.import_text(text, name="recs.json")
    assert p.returncode == 0
    s = summary(p.stdout)
    assert s["format"] == "json"
    assert counts(s) == (8, 3, 0, 5, 0)
    # Line numbers are those of the lines where the rejected elements start.
    assert [l for l, _ in s["rejects"]] == [6, 7, 8, 9, 10]
    r = found(cairn, "198.51.100.70")
    assert r["confidence"] == "high" and set(r["tags"]) == {"c2", "emotet"}
    assert r["first_seen"].startswith("2023-01-02T03:04:05")
    assert r["mitre_techniques"] == ["T1071.001"]
    assert r["sources"][0]["feed_name"] == "partner"
    assert r["sources"][0]["context"] == "C2 of campaign X"
    r = found(cairn, "evil.example")
    assert r["score"] == 20 and r["confidence"] == "low"
    assert found(cairn, "CVE-2023-4966")["type"] == "cve"


def test_ndjson_invalid_lines_rejected_with_line_numbers(cairn):
    text = ('{"value": "198.51.100.80"}\n'            # 1
            '{"value": "198.51.100.81", "tags": ["x"]}\n'  # 2
            '{"value": 198.51.100.82}\n'              # 3  not JSON, but balanced
            '{"value": "nd1.example",}\n'             # 4  trailing comma
            '{"value": "nd2.example", "type": "ipv4"}\n'  # 5  wrong type
            '{"value": "198.51.100.83"\n'             # 6  truncated record (no closing brace)
            '{"value": "198.51.100.84"}\n'            # 7
            '{"value": "nd3.example"}\n')             # 8
    p = cairn.import_text(text, name="recs.ndjson")
    assert p.returncode == 0, p.stderr
    s = summary(p.stdout)
    assert counts(s)[:4] == (8, 4, 0, 4)
    assert [l for l, _ in s["rejects"]] == [3, 4, 5, 6]
    for v in ("198.51.100.80", "198.51.100.81", "198.51.100.84", "nd3.example"):
        found(cairn, v)


def test_ndjson_balanced_invalid_line_does_not_stop(cairn):
    text = ('{"value": "198.51.100.85"}\n'
            '{"value": 198.51.100.86}\n'
            '{"value": "198.51.100.87"}\n')
    s = imp(cairn, text, name="b.ndjson")
    assert counts(s)[:4] == (3, 2, 0, 1)
    assert [l for l, _ in s["rejects"]] == [2]


def test_json_saved_rest_answer_reimports(make_cairn):
    src = make_cairn()
    src.import_text("198.51.100.90\nrest.example\nd41d8cd98f00b204e9800998ecf8427e\n", "--feed", "orig",
                    "--tag", "t1", "--confidence", "75")
    key = src.key("pro")
    src.start()
    r = src.get("/api/v1/iocs?limit=100", key)
    assert r.status_code == 200
    answer = r.json()
    assert len(answer["data"]) == 3 and "meta" in answer
    src.stop()

    dst = make_cairn()
    (dst.tmp / "answer.json").write_text(r.text)   # the server's bytes as saved by a script
    p = dst.run("import", dst.tmp / "answer.json")
    s = summary(p.stdout)
    assert counts(s) == (3, 3, 0, 0, 0)
    for rec in answer["data"]:
        got = found(dst, rec["value"])
        assert got["id"] == rec["id"]
        assert got["type"] == rec["type"]
        assert got["score"] == rec["score"]
        assert set(got["tags"]) == set(rec["tags"])
        assert got["sources"][0]["feed_name"] == "orig"

    # Pretty-printed with the meta after the data and links at the end: still the records.
    pretty = {"links": answer.get("links", {}), "data": answer["data"], "meta": answer["meta"]}
    (dst.tmp / "pretty.json").write_text(json.dumps(pretty, indent=2))
    s = summary(dst.run("import", dst.tmp / "pretty.json").stdout)
    assert counts(s) == (3, 0, 3, 0, 0)


def test_gzip_input(cairn):
    with gzip.open(cairn.tmp / "list.txt.gz", "wt") as f:
        f.write("# gz\n198.51.100.100\ngz1.example\n")
    with gzip.open(cairn.tmp / "rows.csv.gz", "wt") as f:
        f.write("value,tags\ngz2.example,x\n")
    with gzip.open(cairn.tmp / "recs.json.gz", "wt") as f:
        f.write('[{"value": "gz3.example"}]')
    with gzip.open(cairn.tmp / "noext", "wt") as f:
        f.write("gz4.example\n")
    p = cairn.run("import", cairn.tmp / "list.txt.gz", cairn.tmp / "rows.csv.gz",
                  cairn.tmp / "recs.json.gz", cairn.tmp / "noext")
    ss = summaries(p.stdout)
    assert [s["format"] for s in ss] == ["txt", "csv", "json", "txt"]
    assert [counts(s)[:4] for s in ss] == [(2, 2, 0, 0), (1, 1, 0, 0), (1, 1, 0, 0), (1, 1, 0, 0)]
    for v in ("198.51.100.100", "gz1.example", "gz2.example", "gz3.example", "gz4.example"):
        found(cairn, v)
    # A corrupt gzip stream is an unreadable input: non-zero, one line.
    raw = gzip.compress(b"gz5.example\n" * 1000)
    (cairn.tmp / "broken.txt.gz").write_bytes(raw[: len(raw) // 2])
    assert_one_line_error(cairn.run("import", cairn.tmp / "broken.txt.gz", check=False))


def test_stdin_with_format(cairn):
    p = cairn.run("import", "--format", "txt", "--feed", "piped", "-",
                  input="198.51.100.110\nstdin.example\n")
    s = summary(p.stdout)
    assert counts(s) == (2, 2, 0, 0, 0) and s["feed"] == "piped"
    assert found(cairn, "stdin.example")["sources"][0]["feed_name"] == "piped"
    s = summary(cairn.run("import", "--format", "csv", "-", input="value,tags\nstdin2.example,a\n").stdout)
    assert counts(s)[:4] == (1, 1, 0, 0)
    s = summary(cairn.run("import", "--format", "json", "-",
                          input='{"value": "stdin3.example"}\n{"value": "stdin4.example"}\n').stdout)
    assert counts(s)[:4] == (2, 2, 0, 0)
    # Without --format the format of a pipe cannot be told: refused, one line.
    assert_one_line_error(cairn.run("import", "-", input="x.example\n", check=False))


# ---------------------------------------------------------------------------- merging

def test_reimport_merges_into_one_record(cairn):
    text = "198.51.100.120\nmerge.example\nd41d8cd98f00b204e9800998ecf8427e\n"
    s1 = imp(cairn, text, "--feed", "alpha")
    assert counts(s1) == (3, 3, 0, 0, 0)
    before = found(cairn, "merge.example")
    time.sleep(0.01)
    s2 = imp(cairn, text, "--feed", "alpha")
    assert counts(s2) == (3, 0, 3, 0, 0)
    after = found(cairn, "merge.example")
    assert after["id"] == before["id"]
    assert after["first_seen"] == before["first_seen"]
    assert after["last_seen"] >= before["last_seen"]
    assert len(after["sources"]) == 1
    assert after["sources"][0]["feed_name"] == "alpha"
    assert after["sources"][0]["occurrence_count"] == 2
    assert stats(cairn)["totals"]["indicators"] == 3

    # Another feed reporting it adds a source, still one record.
    s3 = imp(cairn, "merge.example\n", "--feed", "beta", "--tag", "from-beta", name="b.txt")
    assert counts(s3) == (1, 0, 1, 0, 0)
    rec = found(cairn, "merge.example")
    assert sorted(x["feed_name"] for x in rec["sources"]) == ["alpha", "beta"]
    assert "from-beta" in rec["tags"]
    assert stats(cairn)["totals"]["indicators"] == 3

    key = cairn.key("pro")
    cairn.start()
    r = cairn.get("/api/v1/lookup?value=merge.example", key)
    assert r.status_code == 200, r.text
    body = r.json()
    body = body.get("data", body)
    assert body["found"] is True
    assert body["total_occurrences"] == 3
    assert body["reporting_sources"] == 2
    r = cairn.get("/api/v1/iocs?type=domain", key)
    assert [d["value"] for d in r.json()["data"]] == ["merge.example"]


def test_same_value_twice_in_one_file_is_one_record(cairn):
    s = imp(cairn, "dup.example\nDUP.example\ndup.example.\nhxxp://x[.]example\nhttp://x.example\n")
    assert s["read"] == 5 and s["rejected"] == 0
    assert s["new"] == 2 and s["updated"] == 3
    assert stats(cairn)["totals"]["indicators"] == 2


# ---------------------------------------------------------------------------- errors and exit codes

def test_exit_zero_with_rejects(cairn):
    p = cairn.import_text("garbage line here!\n???\n", name="all-bad.txt")
    s = summary(p.stdout)
    assert p.returncode == 0
    assert counts(s) == (2, 0, 0, 2, 0)
    p = cairn.import_text("", name="empty.txt")
    assert p.returncode == 0 and counts(summary(p.stdout)) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("args", [
    ["import", "does-not-exist.txt"],
    ["import", "--format", "xml", "FILE"],
    ["import", "--confidence", "101", "FILE"],
    ["import", "--confidence", "very", "FILE"],
    ["import", "--type", "colour", "FILE"],
    ["import"],
    ["import", "--tlp", "purple", "FILE"],
    ["import", "DIR"],
], ids=["missing-file", "unknown-format", "confidence-101", "confidence-word", "unknown-type",
        "no-file", "bad-tlp", "directory"])
def test_import_errors_one_line(cairn, args):
    f = cairn.tmp / "ok.txt"
    f.write_text("198.51.100.130\n")
    args = [str(f) if a == "FILE" else str(cairn.tmp) if a == "DIR" else a for a in args]
    p = cairn.run(*args, check=False)
    assert_one_line_error(p)
    assert p.stdout == ""
    # Nothing was imported (the database may not even exist).
    assert not cairn.db.exists() or lookup(cairn, "198.51.100.130")["found"] is False


def test_one_missing_file_among_several(cairn):
    a = cairn.tmp / "a.txt"
    a.write_text("multi-a.example\n")
    b = cairn.tmp / "b.txt"
    b.write_text("multi-b.example\n")
    p = cairn.run("import", a, cairn.tmp / "missing.txt", b, check=False)
    assert p.returncode != 0
    assert len(summaries(p.stdout)) == 2
    found(cairn, "multi-a.example")
    found(cairn, "multi-b.example")


@pytest.mark.parametrize("sub", ["serve", "import", "keys", "lookup", "stats"])
def test_help_for_every_subcommand(cairn, sub):
    p = cairn.run(sub, "--help")
    assert p.returncode == 0
    assert "usage" in p.stdout.lower() and sub in p.stdout


def test_top_level_help_and_unknown_subcommand(cairn):
    p = cairn.run("--help")
    assert p.returncode == 0
    for sub in ("serve", "import", "keys", "lookup", "stats"):
        assert sub in p.stdout
    p = cairn.run("frobnicate", check=False)
    assert_one_line_error(p)
    assert "frobnicate" in p.stderr
    p = cairn.run("keys", "frobnicate", check=False)
    assert_one_line_error(p)


# ---------------------------------------------------------------------------- keys, lookup, stats

def test_keys_create_list_revoke(cairn):
    p = cairn.run("keys", "create", "--tier", "pro", "--name", "splunk")
    key = p.stdout
    assert KEY_RE.fullmatch(key.strip()), key
    assert key == key.strip() + "\n"       # the key alone on stdout
    key = key.strip()
    admin = cairn.run("keys", "create", "--tier", "admin").stdout.strip()
    free = cairn.run("keys", "create", "--tier", "free", "--name", "other").stdout.strip()
    assert KEY_RE.fullmatch(admin) and KEY_RE.fullmatch(free)
    assert len({key, admin, free}) == 3

    listing = cairn.run("keys", "list").stdout
    for k in (key, admin, free):
        assert k not in listing
    rows = [l for l in listing.splitlines() if l.strip()]
    assert len(rows) == 3
    prefixes = re.findall(r"sk_live_[0-9A-Za-z]+", listing)
    assert len(prefixes) == 3
    for k in (key, admin, free):
        assert any(k.startswith(p) and len(p) < len(k) for p in prefixes), (k, prefixes)
    row = next(l for l in rows if "splunk" in l)
    assert "pro" in row and "active" in row
    key_id = row.split()[0]
    free_prefix = next(p for p in prefixes if free.startswith(p))

    cairn.start()
    assert cairn.get("/api/v1/iocs", key).status_code == 200
    assert cairn.get("/api/v1/iocs", free).status_code == 200

    p = cairn.run("keys", "revoke", key_id)
    assert key_id in p.stdout
    p = cairn.run("keys", "revoke", free_prefix)
    assert free_prefix in p.stdout
    listing = cairn.run("keys", "list").stdout
    assert next(l for l in listing.splitlines() if key_id in l).count("revoked") == 1
    assert "revoked" in next(l for l in listing.splitlines() if free_prefix in l)
    assert "active" in next(l for l in listing.splitlines() if admin[:12] in l)

    deadline = time.time() + 10
    while cairn.get("/api/v1/iocs", key).status_code == 200 and time.time() < deadline:
        time.sleep(0.2)
    assert cairn.get("/api/v1/iocs", key).status_code == 401
    assert cairn.get("/api/v1/iocs", free).status_code == 401
    assert cairn.get("/api/v1/iocs", admin).status_code == 200

    assert_one_line_error(cairn.run("keys", "revoke", "sk_live_nope", check=False))
    assert_one_line_error(cairn.run("keys", "create", check=False))
    assert_one_line_error(cairn.run("keys", "create", "--tier", "platinum", check=False))


def test_lookup_json(cairn):
    cairn.import_text("198.51.100.140\nlook.example\n", "--feed", "lk", "--tag", "seen")
    rec = lookup(cairn, "look[.]example")
    assert rec["found"] is True
    assert rec["type"] == "domain" and rec["value"] == "look.example"
    assert rec["tags"] == ["seen"]
    assert [s["feed_name"] for s in rec["sources"]] == ["lk"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", rec["id"])
    miss = lookup(cairn, "198.51.100.141")
    assert miss["found"] is False and miss["value"] == "198.51.100.141"
    # A value that is no indicator at all: error, one line.
    assert_one_line_error(cairn.run("lookup", "not an indicator!", check=False))
    assert_one_line_error(cairn.run("lookup", check=False))


def test_stats_json(cairn):
    st = json.loads(cairn.run("stats").stdout)
    assert st["totals"]["indicators"] == 0
    cairn.import_text("198.51.100.150\n198.51.100.151\nstats.example\n", "--feed", "st")
    st = json.loads(cairn.run("stats").stdout)
    assert st["totals"]["indicators"] == 3
    assert st["totals"]["by_type"] == {"ipv4": 2, "domain": 1}
    assert st["totals"]["by_source"] == {"st": 3}


def _raw(args, cwd, env_db=None):
    env = {k: v for k, v in os.environ.items() if k != "CAIRN_DB"}
    if env_db is not None:
        env["CAIRN_DB"] = str(env_db)
    p = subprocess.run([BIN, *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=120)
    assert_no_sanitizer(p.stderr)
    return p


def test_database_chosen_by_flag_env_then_cwd(tmp_path):
    wd = tmp_path / "wd"
    wd.mkdir()
    lst = tmp_path / "l.txt"
    lst.write_text("cwd.example\n")
    # Neither --db nor $CAIRN_DB: ./cairn.db in the working directory.
    p = _raw(["import", lst], wd)
    assert p.returncode == 0, p.stderr
    assert (wd / "cairn.db").exists()
    assert json.loads(_raw(["lookup", "cwd.example"], wd).stdout)["found"] is True

    # $CAIRN_DB when set.
    env_db = tmp_path / "env.db"
    lst.write_text("env.example\n")
    assert _raw(["import", lst], wd, env_db).returncode == 0
    assert json.loads(_raw(["lookup", "--db", env_db, "env.example"], wd).stdout)["found"] is True
    assert json.loads(_raw(["lookup", "env.example"], wd).stdout)["found"] is False

    # --db over $CAIRN_DB.
    flag_db = tmp_path / "flag.db"
    lst.write_text("flag.example\n")
    assert _raw(["import", "--db", flag_db, lst], wd, env_db).returncode == 0
    assert json.loads(_raw(["lookup", "--db", flag_db, "flag.example"], wd).stdout)["found"] is True
    assert json.loads(_raw(["lookup", "flag.example"], wd, env_db).stdout)["found"] is False

    # keys and stats follow the same rule.
    k = _raw(["keys", "create", "--tier", "free"], wd, env_db)
    assert k.returncode == 0
    assert k.stdout.strip()[:12] in _raw(["keys", "list", "--db", env_db], wd).stdout
    assert k.stdout.strip()[:12] not in _raw(["keys", "list"], wd).stdout
    st = json.loads(_raw(["stats"], wd, env_db).stdout)
    assert st["totals"]["indicators"] == 1


# ---------------------------------------------------------------------------- crash safety

def test_kill_9_mid_import_keeps_whole_batches(cairn):
    batch = _batch_size()
    n = max(4 * batch, 100_000)      # several batches still to go when the first has committed
    values = [f"k{i}.crash.example" if i % 2 else f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
              for i in range(n)]
    big = cairn.tmp / "big.txt"
    big.write_text("\n".join(values) + "\n")

    env = dict(os.environ, CAIRN_DB=str(cairn.db))
    proc = subprocess.Popen([BIN, "import", "--feed", "big", str(big)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Batches commit in file order: once the last value of the first batch can be looked
        # up, that batch is in. Then kill -9 while the import is still running.
        probe = values[batch - 1]
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            p = cairn.run("lookup", probe, check=False)
            if p.returncode == 0 and json.loads(p.stdout)["found"]:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "the import ended before it could be killed; use a bigger file"
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # The database opens, stats works, and holds whole batches only: the first k*batch values.
    st = json.loads(cairn.run("stats").stdout)
    got = st["totals"]["indicators"]
    assert batch <= got < n
    assert got % batch == 0, f"{got} records: a batch was half-written"
    assert found(cairn, values[0])
    assert found(cairn, values[got - 1])
    assert lookup(cairn, values[got])["found"] is False
    assert lookup(cairn, values[-1])["found"] is False

    # Running the same import again completes and fills in the rest.
    s = summary(cairn.run("import", "--feed", "big", big).stdout)
    assert counts(s) == (n, n - got, got, 0, 0)
    assert json.loads(cairn.run("stats").stdout)["totals"]["indicators"] == n
    assert found(cairn, values[-1])["sources"][0]["feed_name"] == "big"
