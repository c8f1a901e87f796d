"""Feeds: `cairn feeds add|list|remove|run`, the pulls, `cairn serve`'s schedule, GET /api/v1/feeds.

The feeds are published by a test-local HTTP server (`Publisher`, a `http.server` in a thread on
127.0.0.1) that serves the real lists of ../shared/data/feeds (read from there, never copied)
with a strong ETag and a Last-Modified, answers 304 to a matching If-None-Match (or, without
one, to an If-Modified-Since not older than the document), gzips its answers for clients that
accept it when told to, can be told to fail (any status, with a Retry-After), and records every
request with its headers, so the tests assert what the client sent.

A TAXII feed pulls from a second cairn server's TAXII 2.1 collection.

`cairn feeds run` prints one line per feed:
    feed NAME: ok, read N, new N, updated N, rejected N
    feed NAME: not modified
    feed NAME: failed: REASON
and exits 1 when a pull failed.
"""
import base64
import csv
import gzip
import io
import json
import re
import threading
import time
import uuid
from collections import deque
from datetime import datetime
from email.utils import formatdate, parsedate_to_datetime
from hashlib import sha256
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import DATA, assert_no_sanitizer, error_of, free_port

FEEDS = DATA / "feeds"
IPSUM = FEEDS / "ipsum" / "ipsum.txt"
THREATFOX = FEEDS / "threatfox-ioc-ips" / "threatfox-ips.txt"
BLACKBOOK = FEEDS / "blackbook" / "blackbook.csv"
URLHAUS_HOSTS = FEEDS / "urlhaus-filter" / "urlhaus-filter-domains.txt"
CYTROX = DATA / "stix21" / "amnesty-investigations" / "2021-12-16_cytrox.stix2.json"

pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason=f"the real-data corpus {FEEDS} is not there")

# Servers made for these tests do not run the schedule unless a test asks for it: a pull made
# by `cairn serve` behind a test's back would change what the publisher saw.
NO_SCHEDULE = "feed_check_interval: 0\n"

RESULT = re.compile(
    r"^feed (?P<name>[A-Za-z0-9._-]+): (?:(?P<status>ok), read (?P<read>\d+), new (?P<new>\d+), "
    r"updated (?P<updated>\d+), rejected (?P<rejected>\d+)(?:, ended (?P<ended>\d+))?|(?P<nm>not modified)|"
    r"failed: (?P<error>.+))$")
TAXII_MEDIA = "application/taxii+json;version=2.1"
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


# ---------------------------------------------------------------------------------------------
# the publisher

class Doc:
    def __init__(self, body, etag, last_modified, content_type, chunked):
        self.body = body
        self.etag = etag
        self.last_modified = last_modified
        self.content_type = content_type
        self.chunked = chunked


class Publisher:
    """Serves documents by path; every request is kept in `requests` as a dict
    {path, query, headers (lower-case names), status, sent (body bytes), encoding}."""

    EPOCH = 1_700_000_000  # Last-Modified of version 1; each put() moves it one minute on

    def __init__(self):
        self.docs = {}
        self.requests = []
        self.lock = threading.Lock()
        self.gzip = False          # gzip answers to clients that accept it
        self.script = {}           # path -> deque of (status, retry_after) answered first
        self.broken = {}           # path -> (status, retry_after) answered every time
        self.routes = {}           # path -> fn(query) -> (status, headers, body): dynamic answers
        self.on_close = []         # called at close (to release answers held back)
        self.versions = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.publisher = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path):
        return self.base + path

    def put(self, path, body, etag=True, last_modified=True, content_type="text/plain; charset=utf-8",
            chunked=False):
        """Publishes (or replaces) a document; a new body gets a new ETag and Last-Modified."""
        if isinstance(body, str):
            body = body.encode()
        self.versions += 1
        tag = f'"{sha256(body).hexdigest()[:24]}"' if etag else None
        lm = formatdate(self.EPOCH + 60 * self.versions, usegmt=True) if last_modified else None
        with self.lock:
            self.docs[path] = Doc(body, tag, lm, content_type, chunked)
        return self.docs[path]

    def fail(self, path, *answers, always=None):
        """answers: (status, retry_after or None) given before the document; always: every time."""
        with self.lock:
            self.script[path] = deque(answers)
            if always is None:
                self.broken.pop(path, None)
            else:
                self.broken[path] = always

    def seen(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def close(self):
        for fn in self.on_close:
            fn()
        self.httpd.shutdown()
        self.httpd.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        pub = self.server.publisher
        u = urlsplit(self.path)
        rec = {"path": u.path, "query": parse_qs(u.query),
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "status": None, "sent": 0, "encoding": None}
        with pub.lock:
            pub.requests.append(rec)
            script = pub.script.get(u.path)
            failure = script.popleft() if script else pub.broken.get(u.path)
            doc = pub.docs.get(u.path)
            route = pub.routes.get(u.path)
        try:
            if failure:
                self.answer_error(rec, *failure)
            elif route:
                self.answer_route(rec, *route(rec["query"]))
            elif doc is None:
                self.answer_error(rec, 404, None)
            elif self.unchanged(doc):
                rec["status"] = 304
                self.send_response(304)
                if doc.etag:
                    self.send_header("ETag", doc.etag)
                if doc.last_modified:
                    self.send_header("Last-Modified", doc.last_modified)
                self.end_headers()
            else:
                self.answer(rec, doc)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up: a size cap

    def unchanged(self, doc):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip() for t in inm.split(",")}
            return doc.etag is not None and (doc.etag in tags or "*" in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims and doc.last_modified:
            try:
                return parsedate_to_datetime(doc.last_modified) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False

    def answer_error(self, rec, status, retry_after):
        body = f"error {status}\n".encode()
        rec["status"] = status
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        rec["sent"] = len(body)

    def answer_route(self, rec, status, headers, body):
        rec["status"] = status
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        rec["sent"] = len(body)

    def answer(self, rec, doc):
        pub = self.server.publisher
        body = doc.body
        accept = self.headers.get("Accept-Encoding", "")
        gz = pub.gzip and "gzip" in [a.split(";")[0].strip() for a in accept.split(",")]
        rec["status"] = 200
        self.send_response(200)
        self.send_header("Content-Type", doc.content_type)
        if doc.etag:
            self.send_header("ETag", doc.etag)
        if doc.last_modified:
            self.send_header("Last-Modified", doc.last_modified)
        if gz:
            body = gzip.compress(body)
            rec["encoding"] = "gzip"
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        if doc.chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 16384):
                part = body[i:i + 16384]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                rec["sent"] += len(part)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            rec["sent"] = len(body)


@pytest.fixture
def pub():
    p = Publisher()
    yield p
    p.close()


# ---------------------------------------------------------------------------------------------
# helpers

def feeds(c, *args, env=None):
    """`cairn feeds ARGS` that must succeed."""
    return c.run("feeds", *args, env=env)


def add(c, name, url, fmt, *extra):
    p = feeds(c, "add", name, "--url", url, "--format", fmt, *extra)
    assert p.stdout.startswith(f"feed {name} added: {fmt} {url}, every "), p.stdout
    return p


def run(c, *names, env=None, rc=0, full=False):
    """`cairn feeds run [NAME]`: every line of its output is a result; {name: result}
    (and the process, when full)."""
    p = c.run("feeds", "run", *names, env=env, check=False)
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    out = {}
    if not names and p.stdout == "no feeds defined (cairn feeds add)\n":
        return (out, p) if full else out
    for line in p.stdout.splitlines():
        m = RESULT.match(line)
        assert m, f"not a result line: {line!r}\n{p.stdout}"
        d = m.groupdict()
        if d["status"]:
            r = {"status": "ok", **{k: int(d[k]) for k in ("read", "new", "updated", "rejected")}}
        elif d["nm"]:
            r = {"status": "not modified"}
        else:
            r = {"status": "failed", "error": d["error"]}
        out[d["name"]] = r
    return (out, p) if full else out


def run1(c, name, env=None, rc=0):
    out = run(c, name, env=env, rc=rc)
    assert list(out) == [name], out
    return out[name]


def counts(r):
    assert r["status"] == "ok", r
    return (r["read"], r["new"], r["updated"], r["rejected"])


def listing(c):
    """`cairn feeds list` as {name: line}."""
    out = {}
    for line in feeds(c, "list").stdout.splitlines():
        out[line.split("  ")[0]] = line
    return out


def stats(c):
    return json.loads(c.run("stats").stdout)


def totals(c):
    return stats(c)["totals"]


def lookup(c, value):
    return json.loads(c.run("lookup", value).stdout)


def one_line_error(p, rc=None):
    assert p.returncode != 0, (p.stdout, p.stderr)
    if rc is not None:
        assert p.returncode == rc, (p.returncode, p.stderr)
    assert_no_sanitizer(p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected a one-line reason, got:\n{p.stderr}"
    assert lines[0].startswith("cairn feeds: "), lines
    return lines[0]


def ts(s):
    assert STAMP.fullmatch(s), s
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def gap(state):
    """Seconds from a feed's last_run to its next_run (exact: both come from one clock reading)."""
    return (ts(state["next_run"]) - ts(state["last_run"])).total_seconds()


def api_feeds(c, key):
    r = c.get("/api/v1/feeds", key)
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith("application/json")
    return {f["name"]: f for f in r.json()["data"]}


def plain_values(path):
    """The first token of every line that is not blank or a comment."""
    out = []
    for line in path.read_text().splitlines():
        s = line.strip()
        if s and not s.startswith(("#", "!", ";", "//")):
            out.append(s.split()[0])
    return out


def is_ipv4(s):
    m = re.fullmatch(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", s)
    return bool(m) and all(int(x) <= 255 for x in m.groups())


def source_names(rec):
    return sorted(s["feed_name"] for s in rec["sources"])


# ---------------------------------------------------------------------------------------------
# the command forms

BAD_ADD = [
    (["add", "x"], "--url and --format"),
    (["add", "x", "--url", "http://127.0.0.1/x"], "--url and --format"),
    (["add", "x", "--format", "txt"], "--url and --format"),
    (["add", "x", "--url", "ftp://127.0.0.1/x", "--format", "txt"], "http"),
    (["add", "x", "--url", "127.0.0.1/x", "--format", "txt"], "http"),
    (["add", "x", "--url", "http://h/x", "--format", "xml"], "--format"),
    (["add", "x", "--url", "http://h/x", "--format", "rss"], "--format"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--interval", "30s"], "--interval"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--interval", "1w"], "--interval"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--interval", "0"], "--interval"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--interval", "-1h"], "--interval"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--confidence", "101"], "--confidence"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--confidence", "high"], "--confidence"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--confidence", ""], "--confidence"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--reliability", "G"], "--reliability"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--reliability", "AB"], "--reliability"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--reliability", "a"], "--reliability"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--tlp", "purple"], "--tlp"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--type", "bogus"], "--type"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--auth", "digest", "--secret-env", "S"],
     "--auth"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--auth", "basic"], "--secret-env"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--max-bytes", "1023"], "--max-bytes"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--max-bytes", "1k"], "--max-bytes"),
    (["add", "x", "--url", "http://h/x", "--format", "txt"] + ["--tag", "t"] * 9, "tags"),
    (["add", "x", "--url", "http://h/x", "--format", "txt", "--tag", "t" * 64], "tags"),
    (["add", "bad/name", "--url", "http://h/x", "--format", "txt"], "name"),
    (["add", "bad name", "--url", "http://h/x", "--format", "txt"], "name"),
    (["add", "n" * 64, "--url", "http://h/x", "--format", "txt"], "too long"),
    (["add", "x", "y", "--url", "http://h/x", "--format", "txt"], "one feed name"),
    (["add", "--url", "http://h/x", "--format", "txt"], "one feed name"),
    (["remove"], "one feed name"),
    (["remove", "a", "b"], "one feed name"),
    (["list", "extra"], "unexpected argument"),
    (["run", "a", "b"], "unexpected argument"),
    (["frobnicate"], "unknown subcommand"),
]


@pytest.mark.parametrize("args,says", BAD_ADD, ids=[" ".join(a)[:60] for a, _ in BAD_ADD])
def test_bad_arguments_one_line_exit_2_nothing_stored(cairn, args, says):
    p = cairn.run("feeds", *args, check=False)
    line = one_line_error(p, rc=2)
    assert says in line, line
    assert p.stdout == ""
    assert feeds(cairn, "list").stdout == ""


def test_usage_help_and_unknown_option(cairn):
    p = cairn.run("feeds", check=False)
    assert p.returncode == 2 and p.stderr.startswith("usage: cairn feeds add NAME --url URL"), p.stderr
    p = cairn.run("feeds", "--help")
    assert p.stdout.startswith("usage: cairn feeds add NAME --url URL --format txt|csv|json|stix|taxii")
    for form in ("cairn feeds list", "cairn feeds remove NAME", "cairn feeds run [NAME]", "--snapshot",
                 "--collection", "--secret-env", "--max-bytes", "--reliability A-F"):
        assert form in p.stdout, form
    p = cairn.run("feeds", "add", "x", "--url", "http://h/x", "--format", "txt", "--bogus", check=False)
    assert p.returncode == 2
    assert "--bogus" in p.stderr.splitlines()[0]
    assert feeds(cairn, "list").stdout == ""


def test_add_list_remove_and_the_admin_endpoint(make_cairn, pub):
    c = make_cairn(NO_SCHEDULE)
    assert run(c) == {}
    assert c.run("feeds", "run").stdout == "no feeds defined (cairn feeds add)\n"

    full = pub.url("/full.txt")
    p = add(c, "full.one", full, "txt", "--interval", "15m", "--type", "ipv4", "--confidence", "85",
            "--reliability", "B", "--snapshot", "--tag", "scanner", "--tag", "bruteforce",
            "--tlp", "AMBER", "--category", "community", "--max-bytes", "4096",
            "--auth", "bearer", "--secret-env", "FEED_TOKEN")
    assert p.stdout == f"feed full.one added: txt {full}, every 900s\n"
    add(c, "plain", pub.url("/plain.csv"), "csv")
    add(c, "daily", pub.url("/daily.json"), "json", "--interval", "2d")
    add(c, "minute", pub.url("/m.json"), "stix", "--interval", "60")
    add(c, "hours", pub.url("/h.txt"), "txt", "--interval", "90m")

    # A name is taken once.
    p = c.run("feeds", "add", "plain", "--url", pub.url("/other"), "--format", "txt", check=False)
    assert "exists already" in one_line_error(p)

    rows = listing(c)
    assert list(rows) == ["daily", "full.one", "hours", "minute", "plain"]  # by name
    assert rows["full.one"].startswith(f"full.one  txt  {full}  every 900s  reliability B  last never (-)")
    assert rows["plain"].startswith(f"plain  csv  {pub.url('/plain.csv')}  every 3600s  reliability C")
    assert "every 172800s" in rows["daily"] and "every 60s" in rows["minute"]
    assert "every 5400s" in rows["hours"]
    assert "error:" not in "".join(rows.values())

    admin, pro = c.key("admin"), c.key("pro")
    c.start()
    f = api_feeds(c, admin)
    assert sorted(f) == ["daily", "full.one", "hours", "minute", "plain"]
    d = f["full.one"]
    assert {k: d[k] for k in ("url", "format", "interval_seconds", "reliability", "type", "confidence",
                              "tags", "tlp", "category", "snapshot")} == {
        "url": full, "format": "txt", "interval_seconds": 900, "reliability": "B", "type": "ipv4",
        "confidence": 85, "tags": ["scanner", "bruteforce"], "tlp": "amber", "category": "community",
        "snapshot": True}
    assert d["state"] == {"status": "never pulled", "last_run": None, "last_success": None,
                          "next_run": None, "failures_in_a_row": 0, "last_error": None, "cursor": None}
    d = f["plain"]
    assert (d["format"], d["interval_seconds"], d["reliability"], d["type"], d["confidence"], d["tags"],
            d["tlp"], d["snapshot"]) == ("csv", 3600, "C", None, None, [], "clear", False)
    # Admin only.
    error_of(c.get("/api/v1/feeds", pro), 403, "insufficient_scope")
    error_of(c.get("/api/v1/feeds"), 401, "missing_api_key")

    # remove forgets the definition (the server sees it at once), and only that one.
    assert feeds(c, "remove", "minute").stdout == "feed minute removed; its indicators stay\n"
    assert "minute" not in listing(c)
    assert sorted(api_feeds(c, admin)) == ["daily", "full.one", "hours", "plain"]
    p = c.run("feeds", "remove", "minute", check=False)
    assert "no feed named 'minute'" in one_line_error(p, rc=1)
    p = c.run("feeds", "run", "minute", check=False)
    assert "no feed named 'minute'" in one_line_error(p, rc=1)
    assert p.stdout == ""
    # The name can be used again.
    add(c, "minute", pub.url("/m2.json"), "stix")
    assert api_feeds(c, admin)["minute"]["url"] == pub.url("/m2.json")
    assert pub.requests == []  # nothing was pulled by any of this


# ---------------------------------------------------------------------------------------------
# pulls: counts, conditional requests

def test_ipsum_counts_then_an_unchanged_feed_transfers_nothing(make_cairn, pub):
    # README: 120,430 IPv4 entries after 7 '#' header lines ("IP<TAB>count").
    values = plain_values(IPSUM)
    assert len(values) == 120_430 and len(set(values)) == 120_430 and all(map(is_ipv4, values))
    doc = pub.put("/ipsum.txt", IPSUM.read_bytes())
    c = make_cairn(NO_SCHEDULE)
    add(c, "ipsum", pub.url("/ipsum.txt"), "txt")

    assert counts(run1(c, "ipsum")) == (120_430, 120_430, 0, 0)
    (first,) = pub.seen("/ipsum.txt")
    assert first["status"] == 200 and first["sent"] == IPSUM.stat().st_size
    assert "if-none-match" not in first["headers"] and "if-modified-since" not in first["headers"]
    assert first["headers"]["user-agent"].startswith("cairn/")
    t = totals(c)
    assert t["indicators"] == 120_430 and t["by_type"] == {"ipv4": 120_430}
    assert t["by_source"] == {"ipsum": 120_430}
    rec = lookup(c, values[0])
    assert rec["found"] and source_names(rec) == ["ipsum"]
    assert rec["sources"][0]["origin"] == "feed"
    before = stats(c)

    # Unchanged: the second pull is conditional, answered 304 with no body, and changes nothing.
    assert run1(c, "ipsum") == {"status": "not modified"}
    second = pub.seen("/ipsum.txt")[1]
    assert second["headers"]["if-none-match"] == doc.etag
    assert second["headers"]["if-modified-since"] == doc.last_modified
    assert second["status"] == 304 and second["sent"] == 0
    after = stats(c)
    assert after["totals"] == before["totals"]
    assert after["feed_health"] == before["feed_health"]
    assert lookup(c, values[0]) == rec
    row = listing(c)["ipsum"]
    assert "(not modified)" in row and "error:" not in row


def test_changed_list_is_imported_again(make_cairn, pub):
    # README: 19,863 IPv4, one a line. The second version drops 3 addresses and adds 2.
    values = plain_values(THREATFOX)
    assert len(values) == 19_863 == len(set(values))
    d1 = pub.put("/tf.txt", THREATFOX.read_bytes())
    c = make_cairn(NO_SCHEDULE)
    add(c, "threatfox", pub.url("/tf.txt"), "txt")
    assert counts(run1(c, "threatfox")) == (19_863, 19_863, 0, 0)
    v2 = values[3:] + ["192.0.2.77", "198.51.100.77"]
    d2 = pub.put("/tf.txt", "\n".join(v2) + "\n")
    assert d2.etag != d1.etag and d2.last_modified != d1.last_modified
    assert counts(run1(c, "threatfox")) == (19_862, 2, 19_860, 0)
    second = pub.seen("/tf.txt")[1]
    assert second["headers"]["if-none-match"] == d1.etag and second["status"] == 200
    # The validators of the new answer are the ones sent next.
    assert run1(c, "threatfox") == {"status": "not modified"}
    assert pub.seen("/tf.txt")[2]["headers"]["if-none-match"] == d2.etag
    assert totals(c)["indicators"] == 19_865
    assert lookup(c, "198.51.100.77")["found"]
    # The dropped values stay: the feed is not a snapshot (test_feeds_snapshot.py).
    assert lookup(c, values[0])["found"]


def test_last_modified_alone_makes_the_request_conditional(make_cairn, pub):
    doc = pub.put("/lm.txt", THREATFOX.read_bytes(), etag=False)
    c = make_cairn(NO_SCHEDULE)
    add(c, "lm", pub.url("/lm.txt"), "txt")
    assert counts(run1(c, "lm")) == (19_863, 19_863, 0, 0)
    assert run1(c, "lm") == {"status": "not modified"}
    second = pub.seen("/lm.txt")[1]
    assert "if-none-match" not in second["headers"]
    assert second["headers"]["if-modified-since"] == doc.last_modified
    assert second["status"] == 304


# ---------------------------------------------------------------------------------------------
# gzip, the size cap

def test_gzip_transfer_encoding(make_cairn, pub):
    raw = THREATFOX.read_bytes()
    pub.gzip = True
    pub.put("/tf.txt", raw)
    c = make_cairn(NO_SCHEDULE)
    add(c, "tf", pub.url("/tf.txt"), "txt")
    assert counts(run1(c, "tf")) == (19_863, 19_863, 0, 0)
    (r,) = pub.seen("/tf.txt")
    assert "gzip" in r["headers"]["accept-encoding"]
    assert r["encoding"] == "gzip" and r["sent"] == len(gzip.compress(raw)) < len(raw) // 2
    assert totals(c)["indicators"] == 19_863
    assert run1(c, "tf") == {"status": "not modified"}


def test_gzip_file_and_corrupt_gzip(make_cairn, pub):
    raw = THREATFOX.read_bytes()
    gz = gzip.compress(raw)
    doc = pub.put("/tf.txt.gz", gz, content_type="application/gzip")
    c = make_cairn(NO_SCHEDULE)
    add(c, "tfgz", pub.url("/tf.txt.gz"), "txt")
    assert counts(run1(c, "tfgz")) == (19_863, 19_863, 0, 0)
    (r,) = pub.seen("/tf.txt.gz")
    assert r["encoding"] is None and r["sent"] == len(gz)
    assert lookup(c, plain_values(THREATFOX)[-1])["found"]
    assert run1(c, "tfgz") == {"status": "not modified"}
    assert pub.seen("/tf.txt.gz")[1]["headers"]["if-none-match"] == doc.etag

    # A truncated gzip file fails the pull; nothing is lost.
    pub.put("/tf.txt.gz", gz[: len(gz) // 2], content_type="application/gzip")
    r = run1(c, "tfgz", rc=1)
    assert r["status"] == "failed" and "gzip" in r["error"], r
    assert totals(c)["indicators"] == 19_863


def test_size_cap(make_cairn, pub):
    raw = THREATFOX.read_bytes()
    n = len(raw)
    c = make_cairn(NO_SCHEDULE)
    pub.put("/len.txt", raw)                      # Content-Length known in advance
    pub.put("/chunked.txt", raw, chunked=True)    # size known only while it streams
    pub.put("/file.gz", gzip.compress(raw), content_type="application/gzip")
    add(c, "len", pub.url("/len.txt"), "txt", "--max-bytes", n - 1)
    add(c, "chunked", pub.url("/chunked.txt"), "txt", "--max-bytes", n - 1)
    add(c, "gzfile", pub.url("/file.gz"), "txt", "--max-bytes", n - 1)   # inflates past the cap
    out = run(c, rc=1)
    for name in ("len", "chunked", "gzfile"):
        assert out[name]["status"] == "failed", out
        assert str(n - 1) in out[name]["error"], out[name]
    assert totals(c)["indicators"] == 0
    # Each was tried once: a cap is no reason to retry.
    assert [len(pub.seen(p)) for p in ("/len.txt", "/chunked.txt", "/file.gz")] == [1, 1, 1]

    # Transfer-encoded: the cap applies to the decoded answer.
    pub.gzip = True
    pub.put("/enc.txt", raw)
    add(c, "enc", pub.url("/enc.txt"), "txt", "--max-bytes", n - 1)
    r = run1(c, "enc", rc=1)
    assert r["status"] == "failed" and str(n - 1) in r["error"], r
    assert pub.seen("/enc.txt")[0]["encoding"] == "gzip"
    assert totals(c)["indicators"] == 0

    # Exactly the cap is allowed.
    pub.gzip = False
    add(c, "exact", pub.url("/chunked.txt"), "txt", "--max-bytes", n)
    assert counts(run1(c, "exact")) == (19_863, 19_863, 0, 0)


# ---------------------------------------------------------------------------------------------
# failures, retries, backoff

def test_failing_feed_keeps_its_indicators_shows_its_error_and_recovers(make_cairn, pub):
    # README: 18,151 data rows, one domain each (a few domains appear twice).
    rows = list(csv.DictReader(io.StringIO(BLACKBOOK.read_text())))
    assert len(rows) == 18_151
    distinct = {r["Domain"].strip().lower() for r in rows}
    pub.put("/blackbook.csv", BLACKBOOK.read_bytes(), content_type="text/csv")
    c = make_cairn(NO_SCHEDULE)
    add(c, "blackbook", pub.url("/blackbook.csv"), "csv", "--category", "community")
    r = run1(c, "blackbook")
    assert counts(r) == (18_151, len(distinct), 18_151 - len(distinct), 0)
    first = rows[0]["Domain"]
    rec = lookup(c, first)
    assert rec["found"] and rec["type"] == "domain" and rows[0]["Malware"] in rec["tags"]
    before = totals(c)
    assert before["by_source"] == {"blackbook": len(distinct)}
    admin = c.key("admin")
    c.start()
    ok_state = api_feeds(c, admin)["blackbook"]["state"]
    assert ok_state["status"] == "ok" and ok_state["last_success"] == ok_state["last_run"]
    assert gap(ok_state) == 3600

    # A 500 is retried (3 times), then the pull fails; the feed keeps everything it gave.
    pub.fail("/blackbook.csv", always=(500, None))
    r = run1(c, "blackbook", rc=1)
    assert r == {"status": "failed", "error": "blackbook answered 500"}
    assert [x["status"] for x in pub.seen("/blackbook.csv")] == [200, 500, 500, 500, 500]
    assert totals(c) == before
    assert lookup(c, first)["found"]
    row = listing(c)["blackbook"]
    assert "(failed)" in row and row.endswith("  error: blackbook answered 500"), row
    st = api_feeds(c, admin)["blackbook"]["state"]
    assert st["status"] == "failed" and st["failures_in_a_row"] == 1
    assert st["last_error"] == "blackbook answered 500"
    assert st["last_success"] == ok_state["last_run"] and ts(st["last_run"]) > ts(ok_state["last_run"])
    # Tried again after a minute, then two: not at the hour.
    assert gap(st) == 60
    # The API still serves the feed's indicators.
    pro = c.key("pro")
    r = c.get("/api/v1/iocs", pro, params={"source": "blackbook", "limit": 1})
    assert r.status_code == 200 and r.json()["meta"]["total"] == len(distinct)

    pub.fail("/blackbook.csv", always=(503, 0))
    assert run1(c, "blackbook", rc=1) == {"status": "failed", "error": "blackbook answered 503"}
    st = api_feeds(c, admin)["blackbook"]["state"]
    assert st["failures_in_a_row"] == 2 and gap(st) == 120

    # Back: the document did not change, so the answer is a 304 to the validators of the last
    # success, and the feed is healthy again.
    pub.fail("/blackbook.csv")
    assert run1(c, "blackbook") == {"status": "not modified"}
    last = pub.seen("/blackbook.csv")[-1]
    assert last["status"] == 304 and last["headers"]["if-none-match"]
    st = api_feeds(c, admin)["blackbook"]["state"]
    assert st["status"] == "not modified" and st["failures_in_a_row"] == 0 and st["last_error"] is None
    assert st["last_success"] == st["last_run"]
    assert gap(st) == 3600
    assert "error:" not in listing(c)["blackbook"]
    assert totals(c) == before


def test_backoff_after_failures_is_capped_at_the_interval(make_cairn, pub):
    c = make_cairn(NO_SCHEDULE)
    add(c, "gone", pub.url("/gone.txt"), "txt", "--interval", "90s")
    admin = c.key("admin")
    c.start()
    waits = []
    for _ in range(3):
        assert run1(c, "gone", rc=1) == {"status": "failed", "error": "gone answered 404"}
        st = api_feeds(c, admin)["gone"]["state"]
        waits.append(gap(st))
    assert waits == [60, 90, 90]
    assert st["failures_in_a_row"] == 3
    # A 404 is not retried.
    assert [r["status"] for r in pub.seen("/gone.txt")] == [404, 404, 404]


def test_one_failing_feed_does_not_stop_the_others(make_cairn, pub):
    pub.put("/tf.txt", THREATFOX.read_bytes())
    c = make_cairn(NO_SCHEDULE)
    add(c, "a-missing", pub.url("/missing.txt"), "txt")
    add(c, "b-good", pub.url("/tf.txt"), "txt")
    # Nothing listens on this port; the URL's user information and query are secrets that no
    # message may show.
    port = free_port()
    add(c, "c-down", f"http://reader:hunter2@127.0.0.1:{port}/list.txt?token=s3cr3t", "txt")
    out, p = run(c, rc=1, full=True)
    assert list(out) == ["a-missing", "b-good", "c-down"]
    assert out["a-missing"] == {"status": "failed", "error": "a-missing answered 404"}
    assert counts(out["b-good"]) == (19_863, 19_863, 0, 0)
    assert out["c-down"]["status"] == "failed"
    assert len(pub.seen("/missing.txt")) == 1
    row = listing(c)["c-down"]
    assert "(failed)" in row and "  error: " in row
    for text in (p.stdout, p.stderr, row.split("  error: ", 1)[1]):
        assert "hunter2" not in text and "s3cr3t" not in text
    assert totals(c)["indicators"] == 19_863


def test_429_and_503_are_retried_then_succeed(make_cairn, pub):
    pub.put("/tf.txt", THREATFOX.read_bytes())
    pub.fail("/tf.txt", (429, 0), (503, 1), (429, 0))
    c = make_cairn(NO_SCHEDULE)
    add(c, "busy", pub.url("/tf.txt"), "txt")
    assert counts(run1(c, "busy")) == (19_863, 19_863, 0, 0)
    assert [r["status"] for r in pub.seen("/tf.txt")] == [429, 503, 429, 200]
    assert listing(c)["busy"].count("(ok)") == 1

    # Busy every time: 1 try and 3 retries, then failed, nothing lost.
    pub.fail("/tf.txt", always=(429, 0))
    assert run1(c, "busy", rc=1) == {"status": "failed", "error": "busy answered 429"}
    assert [r["status"] for r in pub.seen("/tf.txt")][4:] == [429] * 4
    assert totals(c)["indicators"] == 19_863


def test_redirects_are_followed_over_http_only(make_cairn, pub):
    pub.put("/tf.txt", THREATFOX.read_bytes())
    pub.routes["/moved"] = lambda q: (301, {"Location": "/tf.txt"}, b"")
    pub.routes["/to-file"] = lambda q: (302, {"Location": "file:///etc/hostname"}, b"")
    c = make_cairn(NO_SCHEDULE)
    add(c, "moved", pub.url("/moved"), "txt")
    add(c, "to-file", pub.url("/to-file"), "txt")
    out = run(c, rc=1)
    assert counts(out["moved"]) == (19_863, 19_863, 0, 0)
    assert out["to-file"]["status"] == "failed" and "file" in out["to-file"]["error"], out
    assert totals(c)["indicators"] == 19_863
    # The validators of the answer at the end of the redirect are the ones sent again.
    assert run1(c, "moved") == {"status": "not modified"}
    assert pub.seen("/tf.txt")[-1]["status"] == 304


# ---------------------------------------------------------------------------------------------
# defaults, remove

def test_feed_defaults_land_on_the_records_and_remove_keeps_them(make_cairn, pub):
    # README: 6 '#' lines, 23,079 IPv4 addresses and 2,689 domains. --type ipv4 rejects the
    # domains.
    values = plain_values(URLHAUS_HOSTS)
    ips = [v for v in values if is_ipv4(v)]
    domains = [v for v in values if not is_ipv4(v)]
    assert (len(values), len(ips), len(set(ips)), len(domains)) == (25_768, 23_079, 23_079, 2_689)
    pub.put("/hosts.txt", URLHAUS_HOSTS.read_bytes())
    c = make_cairn(NO_SCHEDULE)
    add(c, "urlhaus", pub.url("/hosts.txt"), "txt", "--type", "ipv4", "--confidence", "85",
        "--tag", "malware-download", "--tag", "urlhaus", "--tlp", "amber", "--category", "community",
        "--reliability", "B")
    assert counts(run1(c, "urlhaus")) == (25_768, 23_079, 0, 2_689)
    assert not lookup(c, domains[0])["found"]
    t = totals(c)
    assert t["by_type"] == {"ipv4": 23_079} and t["by_category"] == {"community": 23_079}
    assert t["by_confidence"] == {"high": 23_079}

    pro, admin = c.key("pro"), c.key("admin")
    c.start()
    r = c.get("/api/v1/iocs", pro, params={"source": "urlhaus", "limit": 1000})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["meta"]["total"] == 23_079 and len(body["data"]) == 1000
    for rec in body["data"]:
        assert rec["type"] == "ipv4" and rec["value"] in set(ips)
        # 85 from a grade-B feed weighs 110 % (docs/scoring.md): round(93.5) = 94.
        assert rec["score"] == 94 and rec["confidence"] == "high"
        assert [s["reliability"] for s in rec["sources"]] == ["B"]
        assert sorted(rec["tags"]) == ["malware-download", "urlhaus"]
        assert rec["tlp"] == "amber"
        assert rec["source"]["feed_name"] == "urlhaus" and rec["source"]["category"] == "community"
        assert rec["source"]["origin"] == "feed"
        assert [s["feed_name"] for s in rec["sources"]] == ["urlhaus"]
    r = c.get("/api/v1/lookup", pro, params={"value": ips[0]})
    d = r.json()["data"]
    assert d["found"] and d["tlp"] == "amber" and d["risk"]["score"] == 94, d

    # remove: the definition goes, the indicators stay with their source.
    assert feeds(c, "remove", "urlhaus").stdout == "feed urlhaus removed; its indicators stay\n"
    assert "urlhaus" not in api_feeds(c, admin)
    assert feeds(c, "list").stdout == ""
    assert totals(c) == t
    r = c.get("/api/v1/iocs", pro, params={"source": "urlhaus", "limit": 1})
    assert r.json()["meta"]["total"] == 23_079
    rec = lookup(c, ips[-1])
    assert rec["found"] and source_names(rec) == ["urlhaus"] and rec["score"] == 94
    assert run(c) == {}
    assert len(pub.seen("/hosts.txt")) == 1


def test_a_feed_without_defaults_gets_what_cairn_import_gives(make_cairn, pub):
    # The configured default score, no tags, and the category `cairn import` gives a feed that
    # names none.
    text = "\n".join(plain_values(THREATFOX)[:50]) + "\n"
    pub.put("/small.txt", text)
    c = make_cairn(NO_SCHEDULE + "default_score: 40\n")
    add(c, "small", pub.url("/small.txt"), "txt")
    p = c.run("feeds", "run", "--config", c.config, "small")
    assert p.stdout == "feed small: ok, read 50, new 50, updated 0, rejected 0\n"
    ref = make_cairn(NO_SCHEDULE + "default_score: 40\n")
    ref.import_text(text, "--feed", "small", name="small.txt")
    got, want = lookup(c, plain_values(THREATFOX)[0]), lookup(ref, plain_values(THREATFOX)[0])
    assert got["score"] == 40 and got["confidence"] == "medium" and got["tags"] == []
    assert want["sources"][0]["category"]  # `cairn import` names a category
    assert got["sources"][0]["category"] == want["sources"][0]["category"], (got["sources"], want["sources"])
    assert totals(c)["by_category"] == totals(ref)["by_category"]


# ---------------------------------------------------------------------------------------------
# secrets, other formats

def test_secrets_come_from_the_environment_and_are_sent_as_asked(make_cairn, pub):
    for path in ("/bearer.txt", "/header.txt", "/basic.txt", "/none.txt"):
        pub.put(path, "192.0.2.10\n")
    c = make_cairn(NO_SCHEDULE)
    add(c, "bearer", pub.url("/bearer.txt"), "txt", "--auth", "bearer", "--secret-env", "T_BEARER")
    add(c, "header", pub.url("/header.txt"), "txt", "--auth", "header", "--secret-env", "T_HEADER")
    add(c, "basic", pub.url("/basic.txt"), "txt", "--auth", "basic", "--user", "reader",
        "--secret-env", "T_BASIC")
    add(c, "none", pub.url("/none.txt"), "txt")
    env = {"T_BEARER": "tok-bearer-5b1e", "T_HEADER": "tok-header-77c2", "T_BASIC": "pw basic:9f"}
    out = run(c, env=env)
    assert out["bearer"]["status"] == out["header"]["status"] == out["basic"]["status"] == "ok", out
    (b,), (h,), (u,), (n,) = (pub.seen(p) for p in ("/bearer.txt", "/header.txt", "/basic.txt", "/none.txt"))
    assert b["headers"]["authorization"] == "Bearer tok-bearer-5b1e"
    assert h["headers"]["x-api-key"] == "tok-header-77c2" and "authorization" not in h["headers"]
    assert u["headers"]["authorization"] == "Basic " + base64.b64encode(b"reader:pw basic:9f").decode()
    assert "authorization" not in n["headers"] and "x-api-key" not in n["headers"]
    # The definition names the variable; the secret itself is stored nowhere.
    for f in c.tmp.iterdir():
        if f.name.startswith("cairn.db"):
            data = f.read_bytes()
            for secret in env.values():
                assert secret.encode() not in data, (f, secret)
    assert any(b"T_BEARER" in f.read_bytes() for f in c.tmp.iterdir() if f.name.startswith("cairn.db"))


def test_json_feed_from_another_cairns_rest_answer(make_cairn):
    values = plain_values(THREATFOX)[:300]
    up = make_cairn(NO_SCHEDULE, sub="up")
    up.import_text("\n".join(values) + "\n", "--feed", "tf", "--tag", "c2", name="tf.txt")
    upkey = up.key("pro")
    up.start()
    down = make_cairn(NO_SCHEDULE, sub="down")
    url = up.base + "/api/v1/iocs?source=tf&limit=1000"
    add(down, "rest", url, "json", "--auth", "bearer", "--secret-env", "UP_KEY")
    add(down, "rest-x", url, "json", "--auth", "header", "--secret-env", "UP_KEY")
    out = run(down, env={"UP_KEY": upkey})
    assert counts(out["rest"]) == (300, 300, 0, 0)
    assert counts(out["rest-x"]) == (300, 0, 300, 0)
    rec = lookup(down, values[0])
    assert rec["found"] and rec["type"] == "ipv4" and "c2" in rec["tags"]
    assert totals(down)["indicators"] == 300
    # A wrong key: the upstream's 401 is the error.
    r = run1(down, "rest", env={"UP_KEY": "sk_live_" + "0" * 40}, rc=1)
    assert r == {"status": "failed", "error": "rest answered 401"}
    # The values are the feeds' (the records' own source names the upstream's feed, which is
    # not who reported them here).
    assert source_names(rec) == ["rest", "rest-x"]
    assert totals(down)["by_source"] == {"rest": 300, "rest-x": 300}


def test_stix_feed_imports_as_cairn_import_does(make_cairn, pub):
    pub.put("/cytrox.json", CYTROX.read_bytes(), content_type="application/json")
    c = make_cairn(NO_SCHEDULE)
    add(c, "cytrox", pub.url("/cytrox.json"), "stix")
    r = run1(c, "cytrox")
    ref = make_cairn(NO_SCHEDULE)
    p = ref.run("import", "--format", "stix", "--feed", "cytrox", CYTROX)
    m = re.search(r"read (\d+), new (\d+), updated (\d+), rejected (\d+)", p.stdout)
    assert counts(r) == tuple(map(int, m.groups())) and r["read"] > 300
    got, want = totals(c), totals(ref)
    for k in ("indicators", "stix_objects", "by_type", "by_source"):
        assert got[k] == want[k], k
    assert run1(c, "cytrox") == {"status": "not modified"}


TAXII_503 = {"title": "Busy", "description": "The collection is being rebuilt.", "http_status": "503"}


def fake_taxii(objects, page_size, broken_next=(), error=(TAXII_MEDIA, json.dumps(TAXII_503).encode())):
    """A TAXII 2.1 objects endpoint over objects [(date_added, object)], page_size a page, with
    `next` tokens; a page whose token is in broken_next answers 503 (Retry-After: 0) with the
    error body (content type, bytes)."""
    def route(query):
        after = query.get("added_after", [None])[0]
        nxt = query.get("next", [None])[0]
        if nxt in broken_next:
            return 503, {"Retry-After": "0", "Content-Type": error[0]}, error[1]
        items = [x for x in objects if after is None or x[0] > after]
        start = int(nxt) if nxt else 0
        page = items[start:start + page_size]
        body = {"more": start + page_size < len(items)}
        if page:
            body["objects"] = [o for _, o in page]
        if body["more"]:
            body["next"] = str(start + page_size)
        headers = {"Content-Type": TAXII_MEDIA}
        if page:
            headers["X-TAXII-Date-Added-First"] = page[0][0]
            headers["X-TAXII-Date-Added-Last"] = page[-1][0]
        return 200, headers, json.dumps(body).encode()
    return route


def stix_indicator(ip):
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z",
            "pattern": f"[ipv4-addr:value = '{ip}']", "pattern_type": "stix",
            "valid_from": "2024-05-01T00:00:00Z"}


def test_taxii_cursor_is_saved_after_each_page(make_cairn, pub):
    ips = plain_values(THREATFOX)[:6]
    objs = [(f"2024-05-0{i + 1}T00:00:00.000000Z", stix_indicator(ip)) for i, ip in enumerate(ips)]
    state = {"broken": {"2"}}
    route = fake_taxii(objs, 2, state["broken"])
    pub.routes["/taxii/api/collections/c1/objects/"] = route
    c = make_cairn(NO_SCHEDULE)
    add(c, "fake", pub.url("/taxii/api/collections/c1/"), "taxii")
    admin = c.key("admin")
    c.start()

    # Page 1 comes, page 2 fails: the pull fails, page 1 stays imported and is the cursor.
    r = run1(c, "fake", rc=1)
    assert r == {"status": "failed",
                 "error": "TAXII server answered 503: Busy: The collection is being rebuilt."}, r
    assert [lookup(c, ip)["found"] for ip in ips] == [True, True, False, False, False, False]
    st = api_feeds(c, admin)["fake"]["state"]
    assert st["cursor"] == objs[1][0] and st["failures_in_a_row"] == 1
    reqs = pub.seen("/taxii/api/collections/c1/objects/")
    assert reqs[0]["query"].get("added_after") is None
    assert reqs[0]["headers"]["accept"].startswith("application/taxii+json")

    # Healed: the next pull starts from the cursor and brings the other four.
    state["broken"].clear()
    n = len(pub.seen("/taxii/api/collections/c1/objects/"))
    assert counts(run1(c, "fake")) == (4, 4, 0, 0)
    reqs = pub.seen("/taxii/api/collections/c1/objects/")[n:]
    assert len(reqs) == 2 and reqs[0]["query"]["added_after"] == [objs[1][0]]
    assert "next" not in reqs[0]["query"] and reqs[1]["query"]["next"] == ["2"]
    assert all(lookup(c, ip)["found"] for ip in ips)
    st = api_feeds(c, admin)["fake"]["state"]
    assert st["cursor"] == objs[-1][0] and st["status"] == "ok" and st["failures_in_a_row"] == 0

    # Nothing after the cursor: not modified.
    n = len(pub.seen("/taxii/api/collections/c1/objects/"))
    assert run1(c, "fake") == {"status": "not modified"}
    (req,) = pub.seen("/taxii/api/collections/c1/objects/")[n:]
    assert req["query"]["added_after"] == [objs[-1][0]]
    assert totals(c)["indicators"] == 6


def test_a_failure_reason_is_one_line_whatever_the_server_sent(make_cairn, pub):
    # A TAXII server that answers an error in plain text over several lines: the reason shown by
    # `feeds run`, `feeds list` and the API stays one line (one line per feed is the contract
    # scripts rely on).
    objs = [("2024-05-01T00:00:00.000000Z", stix_indicator("192.0.2.1"))]
    pub.routes["/t/collections/c/objects/"] = fake_taxii(
        objs, 1, broken_next={None}, error=("text/plain", b"Service Unavailable\nretry later\n\x1b[31m\n"))
    c = make_cairn(NO_SCHEDULE)
    add(c, "multi", pub.url("/t/collections/c/"), "taxii")
    p = c.run("feeds", "run", "multi", check=False)
    assert p.returncode == 1
    assert p.stdout.count("\n") == 1 and p.stdout.startswith("feed multi: failed: TAXII server answered 503")
    assert "\x1b" not in p.stdout
    rows = feeds(c, "list").stdout
    assert rows.count("\n") == 1 and "\x1b" not in rows
    admin = c.key("admin")
    c.start()
    err = api_feeds(c, admin)["multi"]["state"]["last_error"]
    assert err.startswith("TAXII server answered 503") and "\n" not in err and "\x1b" not in err


# ---------------------------------------------------------------------------------------------
# the schedule in `cairn serve`

def wait_for(fn, what, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def test_serve_pulls_a_newly_added_feed_on_its_own(make_cairn, pub):
    pub.put("/tf.txt", THREATFOX.read_bytes())
    pub.put("/bb.csv", BLACKBOOK.read_bytes(), content_type="text/csv")
    c = make_cairn("feed_check_interval: 1\n")
    admin, pro = c.key("admin"), c.key("pro")
    c.start()
    # The list endpoint answers (and may cache) before the feed exists.
    r = c.get("/api/v1/iocs", pro, params={"source": "threatfox", "limit": 1})
    assert r.status_code == 200 and r.json()["meta"]["total"] == 0
    add(c, "threatfox", pub.url("/tf.txt"), "txt", "--tag", "c2")

    def pulled(name):
        st = api_feeds(c, admin).get(name, {}).get("state", {})
        return st if st.get("status") not in (None, "never pulled") else None

    st = wait_for(lambda: pulled("threatfox"), "the server to pull the feed")
    assert st["status"] == "ok" and st["failures_in_a_row"] == 0 and st["last_error"] is None
    assert st["last_success"] == st["last_run"]
    assert gap(st) == 3600
    (req,) = pub.seen("/tf.txt")
    assert req["status"] == 200 and req["headers"]["user-agent"].startswith("cairn/")
    # What the pull brought is served at once.
    r = c.get("/api/v1/iocs", pro, params={"source": "threatfox", "limit": 1})
    assert r.json()["meta"]["total"] == 19_863
    assert r.json()["data"][0]["tags"] == ["c2"]
    r = c.get("/api/v1/lookup", pro, params={"value": plain_values(THREATFOX)[0]})
    assert r.json()["data"]["found"] is True

    # A second feed added later is pulled too; the first, not due for an hour, is not pulled
    # again meanwhile.
    add(c, "blackbook", pub.url("/bb.csv"), "csv")
    st = wait_for(lambda: pulled("blackbook"), "the server to pull the second feed")
    assert st["status"] == "ok"
    assert len(pub.seen("/bb.csv")) == 1
    assert len(pub.seen("/tf.txt")) == 1
    assert "threatfox" in feeds(c, "list").stdout
    assert c.stop() == 0


def test_serve_with_the_schedule_off_pulls_nothing(make_cairn, pub):
    pub.put("/tf.txt", THREATFOX.read_bytes())
    c = make_cairn(NO_SCHEDULE)
    add(c, "threatfox", pub.url("/tf.txt"), "txt")
    admin = c.key("admin")
    c.start()
    # A pull made by `feeds run` while the server runs is seen by the server.
    assert api_feeds(c, admin)["threatfox"]["state"]["status"] == "never pulled"
    assert counts(run1(c, "threatfox")) == (19_863, 19_863, 0, 0)
    assert api_feeds(c, admin)["threatfox"]["state"]["status"] == "ok"
    assert len(pub.seen("/tf.txt")) == 1
    assert c.stop() == 0
    assert len(pub.seen("/tf.txt")) == 1


def test_sigterm_during_a_pull_stops_the_server(make_cairn, pub):
    # A publisher that takes the request and does not answer. Stopping the server (SIGTERM, as
    # systemd does) must not wait for the pull's HTTP timeout (two minutes): conftest's stop()
    # gives a server 30 s, as for any other stop.
    release = threading.Event()
    pub.on_close.append(release.set)

    def stall(query):
        release.wait(150)
        return 200, {"Content-Type": "text/plain"}, b"192.0.2.1\n"

    pub.routes["/stall.txt"] = stall
    c = make_cairn("feed_check_interval: 1\n")
    c.start()
    add(c, "stall", pub.url("/stall.txt"), "txt")
    wait_for(lambda: pub.seen("/stall.txt"), "the server to start the pull")
    try:
        rc = c.stop()
    finally:
        c.proc = None
    assert rc == 0


# ---------------------------------------------------------------------------------------------
# TAXII feeds

IPS = "/api/taxii2/api/collections/ips/"


def taxii_pages(up, key, params=None):
    """Every page of the upstream's ips collection: [(X-TAXII-Date-Added-Last, objects)]."""
    out, params = [], dict(params or {}, limit=1000)
    while True:
        r = requests.get(up.base + IPS + "objects/", params=params, auth=("apikey", key),
                         headers={"Accept": TAXII_MEDIA}, timeout=60)
        assert r.status_code == 200, r.text[:300]
        body = r.json()
        out.append((r.headers.get("X-TAXII-Date-Added-Last"), body.get("objects", [])))
        if not body.get("more"):
            return out
        params = {"limit": 1000, "next": body["next"]}


def test_taxii_feed_from_a_second_cairn(make_cairn):
    tf = plain_values(THREATFOX)
    first, later = tf[:2500], tf[2500:2510]
    up = make_cairn(NO_SCHEDULE, sub="up")
    up.import_text("\n".join(first) + "\n", "--feed", "threatfox", name="tf1.txt")
    # Domains are in the upstream but not in its ips collection.
    up.import_text("\n".join(r["Domain"] for r in csv.DictReader(io.StringIO(BLACKBOOK.read_text())))
                   + "\n", "--feed", "blackbook", "--type", "domain", name="bb.txt")
    upkey = up.key("pro")
    up.start()
    pages = taxii_pages(up, upkey)
    assert len(pages) == 3 and sum(len(o) for _, o in pages) == 2500

    down = make_cairn(NO_SCHEDULE, sub="down")
    add(down, "upstream", up.base + IPS, "taxii", "--auth", "basic", "--user", "apikey",
        "--secret-env", "UPSTREAM_KEY", "--tag", "partner", "--reliability", "A")
    env = {"UPSTREAM_KEY": upkey}

    # Everything, page by page.
    assert counts(run1(down, "upstream", env=env)) == (2500, 2500, 0, 0)
    t = totals(down)
    assert t["indicators"] == 2500 and t["by_type"] == {"ipv4": 2500}
    assert t["by_source"] == {"upstream": 2500}
    rec = lookup(down, first[0])
    assert rec["found"] and "upstream" in source_names(rec) and "partner" in rec["tags"]
    # The cursor is the X-TAXII-Date-Added-Last of the last page.
    admin = down.key("admin")
    down.start()
    st = api_feeds(down, admin)["upstream"]["state"]
    assert st["status"] == "ok" and st["cursor"] == pages[-1][0], (st, pages[-1][0])
    assert api_feeds(down, admin)["upstream"]["format"] == "taxii"

    # Nothing new upstream: not modified, and the poll asked only for what came after the cursor.
    mark = len(up.access_log.read_text())
    assert run1(down, "upstream", env=env) == {"status": "not modified"}
    polls = [l for l in up.access_log.read_text()[mark:].splitlines() if "/objects/" in l]
    assert len(polls) == 1 and "added_after=" in polls[0], polls
    assert totals(down) == t
    assert api_feeds(down, admin)["upstream"]["state"]["cursor"] == pages[-1][0]

    # New values upstream: the third run imports those only.
    up.import_text("\n".join(later) + "\n", "--feed", "threatfox", name="tf2.txt")
    assert counts(run1(down, "upstream", env=env)) == (10, 10, 0, 0)
    assert totals(down)["indicators"] == 2510
    assert all(lookup(down, v)["found"] for v in later)
    newer = taxii_pages(up, upkey, {"added_after": pages[-1][0]})
    assert sum(len(o) for _, o in newer) == 10
    st = api_feeds(down, admin)["upstream"]["state"]
    assert st["cursor"] == newer[-1][0] and st["cursor"] > pages[-1][0]

    # The same collection found from the discovery URL and its alias.
    add(down, "by-alias", up.base + "/api/taxii2/", "taxii", "--collection", "ips", "--auth", "basic",
        "--user", "apikey", "--secret-env", "UPSTREAM_KEY")
    assert counts(run1(down, "by-alias", env=env)) == (2510, 0, 2510, 0)
    assert source_names(lookup(down, first[0])) == ["by-alias", "upstream"]
    add(down, "no-such", up.base + "/api/taxii2/", "taxii", "--collection", "nope", "--auth", "basic",
        "--user", "apikey", "--secret-env", "UPSTREAM_KEY")
    r = run1(down, "no-such", env=env, rc=1)
    assert r["status"] == "failed" and "nope" in r["error"], r

    # Without the secret in the environment the upstream refuses; the feed keeps its data and
    # its cursor. The secret itself is stored nowhere.
    add(down, "nokey", up.base + IPS, "taxii", "--auth", "basic", "--user", "apikey",
        "--secret-env", "CAIRN_TEST_UNSET_VARIABLE")
    r = run1(down, "nokey", rc=1)
    assert r["status"] == "failed" and "401" in r["error"], r
    r = run1(down, "upstream", rc=1)
    assert r["status"] == "failed" and "401" in r["error"], r
    st = api_feeds(down, admin)["upstream"]["state"]
    assert st["cursor"] == newer[-1][0] and st["failures_in_a_row"] == 1
    assert totals(down)["indicators"] == 2510
    down.stop()
    for f in down.tmp.iterdir():
        if f.name.startswith("cairn.db"):
            assert upkey.encode() not in f.read_bytes(), f
    assert run1(down, "upstream", env=env) == {"status": "not modified"}
