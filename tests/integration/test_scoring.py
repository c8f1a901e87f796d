"""Scoring (docs/scoring.md): a record's score from two feeds of different reliability, its
explanation, its decay with age, the band filters over the stored crossing times, and the
STIX object's confidence as of its version."""
import json
import math
from datetime import datetime, timedelta, timezone

import pytest

from conftest import Cairn

FRESH, DAY_OLD, WEEKS_OLD = "203.0.113.71", "203.0.113.72", "203.0.113.73"
CVE = "CVE-2024-3400"


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(s):
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    c = Cairn(tmp_path_factory.mktemp("scoring"))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    seen = {FRESH: now, DAY_OLD: now - timedelta(days=1), WEEKS_OLD: now - timedelta(days=20)}
    # The same three IPv4s from a usually reliable feed (B, 60) and a not usually reliable
    # one (D, 80); the ipv4 lifetime is 30 days and its decay speed 1 (the defaults).
    for feed, grade, conf in (("alpha", "B", 60), ("beta", "D", 80)):
        rows = "".join(f"{v},{conf},{iso(t)},{iso(t)}\n" for v, t in seen.items())
        c.import_text("value,confidence,first_seen,last_seen\n" + rows, "--feed", feed,
                      "--reliability", grade, name=f"{feed}.csv")
    # A manual import without a grade counts as C: its own score.
    c.import_text("ungraded.example\n", "--feed", "manual", "--confidence", "40", name="m.txt")
    # CVEs have no lifetime: no decay. 90 from a grade-A feed is 108, capped at 100.
    c.import_text(CVE + "\n", "--feed", "kev", "--confidence", "90", "--reliability", "A", name="k.txt")
    c.seen = seen
    c.pro = c.key("pro")
    c.start()
    yield c
    c.stop()


def listed(srv, query):
    r = srv.get(f"/api/v1/iocs?limit=100&{query}", srv.pro)
    assert r.status_code == 200, r.text
    return {x["value"]: x for x in r.json()["data"]}


def record(srv, value):
    rid = listed(srv, "confidence=all")[value]["id"]
    r = srv.get(f"/api/v1/iocs/{rid}", srv.pro)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def test_two_feeds_of_different_reliability(srv):
    rec = record(srv, FRESH)
    ex = rec["score_explanation"]
    by_feed = {s["feed_name"]: s for s in ex["sources"]}
    assert by_feed["alpha"] == {"feed_name": "alpha", "reliability": "B", "weight_percent": 110,
                                "feed_score": 60, "weighted_score": 66}
    assert by_feed["beta"] == {"feed_name": "beta", "reliability": "D", "weight_percent": 80,
                               "feed_score": 80, "weighted_score": 64}
    assert {s["feed_name"]: s["reliability"] for s in rec["sources"]} == {"alpha": "B", "beta": "D"}
    assert (ex["best_source"], ex["sources_bonus"], ex["sightings_bonus"], ex["base_score"]) == \
        (66, 5, 0, 71)
    # Seen just now: no decay yet.
    assert rec["score"] == ex["score"] == 71 and rec["confidence"] == ex["confidence"] == "high"
    assert ex["decay"]["lifetime_days"] == 30 and ex["decay"]["speed"] == 1
    assert ex["next_band"] == "medium"
    # 30 days × (1 − 69.5/71) = 15.2 hours after last_seen it leaves the high band.
    left = parse(ex["next_band_at"]) - srv.seen[FRESH]
    assert abs(left.total_seconds() - 30 * 86400 * (1 - 69.5 / 71)) < 2


def test_manual_import_is_graded_c(srv):
    rec = record(srv, "ungraded.example")
    src = rec["score_explanation"]["sources"]
    assert src == [{"feed_name": "manual", "reliability": "C", "weight_percent": 100,
                    "feed_score": 40, "weighted_score": 40}]
    assert rec["score"] == 40


def test_decay_with_age(srv):
    day = record(srv, DAY_OLD)
    ex = day["score_explanation"]
    assert ex["base_score"] == 71
    assert day["score"] == 69 == round(71 * (1 - 1 / 30))      # 68.6
    assert day["confidence"] == "medium"
    assert ex["decay"]["points_lost"] == 2
    assert 1 <= ex["decay"]["age_days"] < 1.1
    assert ex["next_band"] == "low"
    left = parse(ex["next_band_at"]) - srv.seen[DAY_OLD]
    assert abs(left.total_seconds() - 30 * 86400 * (1 - 29.5 / 71)) < 2   # 17.5 days
    weeks = record(srv, WEEKS_OLD)
    assert weeks["score"] == 24 == round(71 * (1 - 20 / 30))  # 23.7
    assert weeks["confidence"] == "low"
    assert weeks["score_explanation"]["next_band"] == "none"
    # The record leaves every band when its lifetime ends, as it expires.
    end = parse(weeks["score_explanation"]["next_band_at"])
    assert end <= parse(weeks["valid_until"])


def test_no_lifetime_no_decay(srv):
    rec = record(srv, CVE)
    ex = rec["score_explanation"]
    assert rec["score"] == ex["base_score"] == 100 and ex["sources"][0]["weighted_score"] == 100
    assert ex["decay"]["lifetime_days"] is None and ex["decay"]["points_lost"] == 0
    assert ex["next_band"] is None and ex["next_band_at"] is None


def test_band_filters_use_the_score_now(srv):
    assert set(listed(srv, "confidence=high")) == {FRESH, CVE}
    assert set(listed(srv, "confidence=medium")) == {DAY_OLD, "ungraded.example"}
    assert set(listed(srv, "confidence=low")) == {WEEKS_OLD}
    assert set(listed(srv, "confidence=high,low&type=ipv4")) == {FRESH, WEEKS_OLD}
    assert set(listed(srv, "min_score=69")) == {FRESH, DAY_OLD, CVE}
    assert set(listed(srv, "min_score=25")) == {FRESH, DAY_OLD, "ungraded.example", CVE}
    # The list's records carry the score now, consistent with the filter.
    for v, x in listed(srv, "confidence=all").items():
        assert x["confidence"] == ("high" if x["score"] >= 70 else "medium" if x["score"] >= 30
                                   else "low" if x["score"] >= 1 else "none"), v


def test_stix_confidence_is_the_score_at_the_version(srv):
    r = srv.get("/api/v1/iocs/stix?limit=100&format=objects", srv.pro)
    assert r.status_code == 200, r.text
    body = r.json()
    objs = body["objects"] if isinstance(body, dict) else body
    conf = {o["pattern"]: o["confidence"] for o in objs if o.get("type") == "indicator"}
    for v in (FRESH, DAY_OLD, WEEKS_OLD):
        ex = record(srv, v)["score_explanation"]
        assert conf[f"[ipv4-addr:value = '{v}']"] == ex["stix_confidence"], v
    # The day-old record's version was written about a day after it was last seen.
    assert record(srv, DAY_OLD)["score_explanation"]["stix_confidence"] == 69
    # TAXII serves the stored versions: the same confidence.
    p = srv.run("export", "--format", "stix")
    exported = json.loads(p.stdout)
    confs = {o["pattern"]: o["confidence"] for o in exported["objects"] if o.get("type") == "indicator"}
    assert confs[f"[ipv4-addr:value = '{FRESH}']"] == 71


def test_reliability_must_be_a_grade(srv):
    p = srv.run("import", "--reliability", "G", "--feed", "x", srv.tmp / "m.txt", check=False)
    assert p.returncode != 0
    assert "--reliability must be a grade from A to F" in p.stderr


def test_stats_count_the_bands_now(srv):
    r = srv.get("/api/v1/iocs/stats", srv.pro)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["totals"]["by_confidence"] == {"high": 2, "medium": 2, "low": 1}
