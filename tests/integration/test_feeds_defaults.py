"""A feed's industries and lifetime reach its values; the feeds' state is in /metrics."""
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

NO_SCHEDULE = "feed_check_interval: 0\naccess_log: ''\n"


@pytest.fixture
def publisher():
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            bodies = {"/list.txt": b"203.0.113.77\nbad-actor.example.net\n",
                      "/odd.csv": b"# an export with its own column names\nthing,how_sure\n"
                                  b"odd-one.example.org,90\nodd-two.example.org,20\n"}
            body = bodies.get(self.path, b"")
            self.send_response(200 if body else 500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def when(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_industries_and_lifetime_of_a_feed(make_cairn, publisher):
    c = make_cairn(NO_SCHEDULE)
    c.run("feeds", "add", "fin", "--url", publisher + "/list.txt", "--format", "txt",
          "--industry", "finance", "--industry", "energy", "--lifetime", "3", "--config", c.config)
    assert c.run("feeds", "run", "fin", "--config", c.config).stdout.startswith("feed fin: ok, read 2, new 2")
    key = c.key("pro")
    c.start()
    found = c.get("/api/v1/iocs?industry=energy&type=domain", key).json()["data"]
    rec = [d for d in found if d["value"] == "bad-actor.example.net"][0]
    assert set(rec["industries"]) == {"financial-services", "energy"}
    # Three days after it was last seen, not the domain type's 90.
    assert when(rec["valid_until"]) - when(rec["last_seen"]) == timedelta(days=3)


@pytest.mark.parametrize("args,reason", [
    (["--lifetime", "0"], "--lifetime"),
    (["--lifetime", "x"], "--lifetime"),
    (["--industry", "Not A Slug"], "--industry"),
    (["--industry", "a", "--industry", "b", "--industry", "c", "--industry", "d", "--industry", "e"], "industries"),
])
def test_bad_defaults_are_refused(make_cairn, args, reason):
    c = make_cairn(NO_SCHEDULE)
    p = c.run("feeds", "add", "x", "--url", "http://127.0.0.1:9/x", "--format", "txt", *args,
              "--config", c.config, check=False)
    assert p.returncode == 2 and reason in p.stderr and p.stderr.count("\n") == 1


def test_feed_state_in_metrics(make_cairn, publisher):
    c = make_cairn(NO_SCHEDULE)
    c.run("feeds", "add", "good", "--url", publisher + "/list.txt", "--format", "txt", "--config", c.config)
    c.run("feeds", "add", "broken", "--url", publisher + "/gone.txt", "--format", "txt", "--config", c.config)
    c.run("feeds", "run", "--config", c.config, check=False)
    c.start()
    text = c.get("/metrics").text
    assert 'cairn_feed_up{feed="good"} 1' in text
    assert 'cairn_feed_up{feed="broken"} 0' in text
    assert 'cairn_feed_failures_in_a_row{feed="broken"} 1' in text
    last = [l for l in text.splitlines() if l.startswith('cairn_feed_last_success_timestamp_seconds{feed="good"}')]
    assert last and int(last[0].split()[-1]) > 1_700_000_000


def test_feeds_section_of_the_configuration(make_cairn, publisher):
    conf = NO_SCHEDULE + f"""feeds:
  - name: conf-feed
    url: {publisher}/list.txt
    format: txt
    interval: 3600
    reliability: B
    tags: [from-config]
    industries: [energy]
"""
    c = make_cairn(conf)
    c.run("feeds", "add", "manual", "--url", publisher + "/list.txt", "--format", "txt", "--config", c.config)
    listed = c.run("feeds", "list", "--config", c.config).stdout
    assert "conf-feed  txt" in listed and "reliability B" in listed and "manual  txt" in listed
    out = c.run("feeds", "run", "conf-feed", "--config", c.config).stdout
    assert out.startswith("feed conf-feed: ok, read 2")
    # A changed definition replaces the stored one, keeping its state; a removed one goes,
    # and the feed added by hand stays.
    c.config.write_text(conf.replace("reliability: B", "reliability: A"))
    listed = c.run("feeds", "list", "--config", c.config).stdout
    assert "reliability A" in listed and "(ok)" in listed
    c.config.write_text(NO_SCHEDULE + "feeds: []\n")
    listed = c.run("feeds", "list", "--config", c.config).stdout
    assert "conf-feed" not in listed and "manual" in listed
    # A configured feed may not take the name of one added by hand.
    c.config.write_text(NO_SCHEDULE + f"feeds:\n  - name: manual\n    url: {publisher}/x\n    format: txt\n")
    p = c.run("feeds", "list", "--config", c.config, check=False)
    assert p.returncode == 1 and "exists already" in p.stderr


@pytest.mark.parametrize("body,reason", [
    ("feeds:\n  - name: x\n    url: http://h/x\n", "feeds[0]: a feed needs a name, a url and a format"),
    ("feeds:\n  - name: x\n    url: http://h/x\n    format: txt\n    colour: red\n", "feeds[0].colour: unknown key"),
    ("feeds:\n  - name: x\n    url: http://h/x\n    format: txt\n    reliability: Z\n", "feeds[0].reliability"),
    ("feeds:\n  - name: x\n    url: ftp://h/x\n    format: txt\n", "http:// or https://"),
])
def test_bad_feeds_in_the_configuration(make_cairn, body, reason):
    c = make_cairn(NO_SCHEDULE + body)
    p = c.run("feeds", "list", "--config", c.config, check=False)
    assert p.returncode != 0 and reason in p.stderr and p.stderr.count("\n") == 1


def test_csv_feed_with_a_column_map(make_cairn, publisher):
    c = make_cairn(NO_SCHEDULE)
    p = c.run("feeds", "add", "odd", "--url", publisher + "/odd.csv", "--format", "csv", "--config", c.config)
    p = c.run("feeds", "run", "odd", "--config", c.config, check=False)
    assert "new 2" not in p.stdout   # no column cairn knows as the value
    c.run("feeds", "remove", "odd", "--config", c.config)
    c.run("feeds", "add", "odd", "--url", publisher + "/odd.csv", "--format", "csv",
          "--map", "value=thing", "--map", "confidence=how_sure", "--config", c.config)
    assert c.run("feeds", "run", "odd", "--config", c.config).stdout.startswith("feed odd: ok, read 2, new 2")
    rec = json.loads(c.run("lookup", "odd-one.example.org").stdout)
    assert rec["found"] and rec["score"] >= 85
    p = c.run("feeds", "add", "bad", "--url", publisher + "/odd.csv", "--format", "txt", "--map", "value=thing",
              "--config", c.config, check=False)
    assert p.returncode == 2 and "--map is for csv feeds" in p.stderr
    p = c.run("feeds", "add", "bad", "--url", publisher + "/odd.csv", "--format", "csv", "--map", "colour=x",
              "--config", c.config, check=False)
    assert p.returncode == 2 and "--map takes FIELD=COLUMN" in p.stderr
