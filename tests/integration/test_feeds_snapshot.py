"""Snapshot feeds (docs/feeds.md "Snapshot feeds"): a value that drops off a feed pulled with
--snapshot ends that feed's source entry; a record whose every source has ended expires after
its type's grace time; a value listed again comes back; an empty answer ends nothing."""
import json
from datetime import datetime, timezone

from test_feeds import NO_SCHEDULE, Publisher, add, pub  # noqa: F401  (pub is a fixture)

IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
DOMS = ["gone.example", "stays.example"]
# Addresses expire as soon as every source has dropped them; domains keep the default (7 days).
CONFIG = NO_SCHEDULE + "grace_days:\n  ipv4: 0\n"


def pull(c, name):
    p = c.run("feeds", "run", "--config", c.config, name)
    return p.stdout.strip()


def records(c, key, **params):
    r = c.get("/api/v1/iocs", key, params={"limit": 100, **params})
    assert r.status_code == 200, r.text
    return {x["value"]: x for x in r.json()["data"]}


def ended(rec):
    return {s["feed_name"]: s.get("ended_at") for s in rec["sources"]}


def parse(s):
    return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


def test_dropped_values_end_and_expire_after_the_grace(make_cairn, pub):
    c = make_cairn(CONFIG)
    pub.put("/snap.txt", "\n".join(IPS) + "\n")
    pub.put("/other.txt", IPS[2] + "\n")
    pub.put("/dom.txt", "\n".join(DOMS) + "\n")
    add(c, "snap", pub.url("/snap.txt"), "txt", "--type", "ipv4", "--snapshot")
    add(c, "other", pub.url("/other.txt"), "txt", "--type", "ipv4")
    add(c, "dom", pub.url("/dom.txt"), "txt", "--type", "domain", "--snapshot")
    assert pull(c, "snap") == "feed snap: ok, read 3, new 3, updated 0, rejected 0, ended 0"
    assert pull(c, "other") == "feed other: ok, read 1, new 0, updated 1, rejected 0"
    assert pull(c, "dom") == "feed dom: ok, read 2, new 2, updated 0, rejected 0, ended 0"
    # Unchanged: a 304 ends nothing.
    assert pull(c, "snap") == "feed snap: not modified"

    # The snapshot drops two addresses and a domain.
    pub.put("/snap.txt", IPS[0] + "\n")
    pub.put("/dom.txt", DOMS[1] + "\n")
    assert pull(c, "snap") == "feed snap: ok, read 1, new 0, updated 1, rejected 0, ended 2"
    assert pull(c, "dom") == "feed dom: ok, read 1, new 0, updated 1, rejected 0, ended 1"
    key = c.key("pro")
    c.start()
    live = records(c, key)
    everything = records(c, key, include_expired="true")
    # .2 was only on the snapshot: every source ended, grace 0 → expired, kept.
    assert IPS[1] not in live and IPS[1] in everything
    gone = everything[IPS[1]]
    assert ended(gone)["snap"] is not None
    assert parse(gone["valid_until"]) <= datetime.now(timezone.utc)
    # .3 is still listed by the other feed: its snapshot source ended, the record lives on.
    assert ended(live[IPS[2]]) == {"snap": ended(live[IPS[2]])["snap"], "other": None}
    assert ended(live[IPS[2]])["snap"] is not None
    # .1 is still on the snapshot.
    assert ended(live[IPS[0]]) == {"snap": None}
    # The domain's grace is 7 days: ended, and valid for a week more.
    dom = live["gone.example"]
    assert ended(dom)["dom"] is not None
    left = parse(dom["valid_until"]) - parse(ended(dom)["dom"])
    assert abs(left.total_seconds() - 7 * 86400) < 2
    assert ended(live["stays.example"]) == {"dom": None}
    # Delta pollers see the change: the ended records were updated.
    assert gone["updated_at"] > live[IPS[0]]["created_at"]

    # Listed again: the source entry is open once more and the record valid again.
    pub.put("/snap.txt", "\n".join(IPS[:2]) + "\n")
    assert pull(c, "snap") == "feed snap: ok, read 2, new 0, updated 2, rejected 0, ended 0"
    back = records(c, key)[IPS[1]]
    assert ended(back) == {"snap": None}
    assert parse(back["valid_until"]) > datetime.now(timezone.utc)

    # An answer without a single value is taken for a broken feed: nothing ends.
    pub.put("/snap.txt", "# no values today\n")
    assert pull(c, "snap") == "feed snap: ok, read 0, new 0, updated 0, rejected 0, ended 0"
    assert ended(records(c, key)[IPS[0]]) == {"snap": None}


def test_revocation_stays_immediate(make_cairn, pub):
    c = make_cairn(CONFIG)
    pub.put("/snap.txt", IPS[0] + "\n")
    add(c, "snap", pub.url("/snap.txt"), "txt", "--type", "ipv4", "--snapshot")
    pull(c, "snap")
    admin = c.key("admin")
    c.start()
    rid = records(c, admin)[IPS[0]]["id"]
    r = c.post(f"/api/v1/iocs/{rid}/revoke", admin, json={"reason": "false positive"})
    assert r.status_code == 200, r.text
    assert IPS[0] not in records(c, admin)
    # Still on the snapshot: the next pull does not bring it back.
    pub.put("/snap.txt", IPS[0] + "\n" + IPS[1] + "\n")
    pull(c, "snap")
    assert IPS[0] not in records(c, admin) and IPS[1] in records(c, admin)
