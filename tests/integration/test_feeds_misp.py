"""MISP feeds (`cairn feeds add NAME --format misp --url BASE/`): manifest.json, then each
event file newer than the feed's cursor, imported as `cairn import --format misp` would.

The feed is built at test time in a temporary folder from the real ESET events in
../shared/data/misp (one event a file, named by its uuid, as MISP's feed export writes them),
and served over HTTP with ETag support."""
import hashlib
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import DATA

ESET = DATA / "misp" / "eset-malware-ioc"
NO_SCHEDULE = "feed_check_interval: 0\naccess_log: ''\n"


def events():
    """(uuid, event) of the well-formed ESET files."""
    out = []
    for p in sorted(ESET.glob("*.json")):
        if "MALFORMED" in p.name:
            continue
        doc = json.loads(p.read_text())
        ev = doc["response"][0]["Event"] if "response" in doc else doc.get("Event", doc)
        out.append((ev["uuid"], ev))
    return out


class Feed:
    def __init__(self, root):
        self.root = root
        self.hits = []
        feed = self

        class H(SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(root), **kw)

            def log_message(self, *a):
                pass

            def end_headers(self):
                p = root / self.path.lstrip("/")
                if p.is_file():
                    self.send_header("ETag", '"' + hashlib.sha1(p.read_bytes()).hexdigest() + '"')
                super().end_headers()

            def do_GET(self):
                feed.hits.append((self.path, self.headers.get("If-None-Match")))
                p = root / self.path.lstrip("/")
                inm = self.headers.get("If-None-Match")
                if p.is_file() and inm == '"' + hashlib.sha1(p.read_bytes()).hexdigest() + '"':
                    self.send_response(304)
                    self.end_headers()
                    return
                return super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, evs):
        d = self.root / "feed"
        d.mkdir(exist_ok=True)
        manifest = {}
        for uuid, ev in evs:
            (d / f"{uuid}.json").write_text(json.dumps({"Event": ev}))
            manifest[uuid] = {"info": ev["info"], "date": ev["date"], "timestamp": str(ev["timestamp"]),
                              "analysis": ev.get("analysis", "0"),
                              "threat_level_id": ev.get("threat_level_id", "4"), "Tag": []}
        (d / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def feed(tmp_path):
    f = Feed(tmp_path / "www")
    (tmp_path / "www").mkdir()
    yield f
    f.server.shutdown()


def indicators(c):
    return json.loads(c.run("stats").stdout)["totals"]["indicators"]


def test_misp_feed_imports_the_events_and_then_only_what_changed(make_cairn, feed, tmp_path):
    evs = events()
    assert len(evs) >= 4
    feed.publish(evs[:3])
    c = make_cairn(NO_SCHEDULE)
    c.run("feeds", "add", "eset", "--url", feed.url, "--format", "misp", "--config", c.config)
    out = c.run("feeds", "run", "eset", "--config", c.config).stdout
    assert out.startswith("feed eset: ok, read ")
    got = indicators(c)
    # The same as importing the three files directly.
    ref = make_cairn(NO_SCHEDULE, sub="ref")
    for uuid, ev in evs[:3]:
        p = tmp_path / f"{uuid}.json"
        p.write_text(json.dumps({"Event": ev}))
        ref.run("import", "--format", "misp", "--feed", "eset", p)
    assert got == indicators(ref) > 0
    # Nothing changed: the manifest answers 304 and no event is fetched.
    feed.hits.clear()
    assert c.run("feeds", "run", "eset", "--config", c.config).stdout == "feed eset: not modified\n"
    assert [h[0] for h in feed.hits] == ["/feed/manifest.json"] and feed.hits[0][1]
    # A fourth event is published: only it is fetched.
    feed.publish(evs[:4])
    feed.hits.clear()
    out = c.run("feeds", "run", "eset", "--config", c.config).stdout
    assert out.startswith("feed eset: ok")
    fetched = [h[0] for h in feed.hits if h[0] != "/feed/manifest.json"]
    assert fetched == [f"/feed/{evs[3][0]}.json"]
    assert indicators(c) > got


def test_a_bad_manifest_fails_the_pull_and_keeps_the_data(make_cairn, feed):
    evs = events()
    feed.publish(evs[:1])
    c = make_cairn(NO_SCHEDULE)
    c.run("feeds", "add", "eset", "--url", feed.url, "--format", "misp", "--config", c.config)
    c.run("feeds", "run", "eset", "--config", c.config)
    n = indicators(c)
    (feed.root / "feed" / "manifest.json").write_text("[not a manifest")
    p = c.run("feeds", "run", "eset", "--config", c.config, check=False)
    assert p.returncode == 1 and "manifest.json is not a MISP feed manifest" in p.stdout
    assert indicators(c) == n
