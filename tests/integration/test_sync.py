"""`cairn sync --once`: STIX from a TAXII collection or files, mapped to ECS, written as NDJSON,
at least once (issue 6, sources, the file output and delivery guarantees).

The TAXII source is a real `cairn serve`; the kill test SIGKILLs sync mid-run twice and checks
that the restarted runs end with every indicator delivered."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import BIN, DATA, assert_no_sanitizer

AMNESTY = DATA / "stix21" / "amnesty-investigations"
SEKOIA = DATA / "stix21" / "sekoia-community"


def sync(*args, env=None, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([BIN, "sync", *map(str, args)], capture_output=True, text=True, env=e,
                       timeout=600)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def summary(p):
    line = [l for l in p.stderr.splitlines() if l.startswith("cairn sync: fetched")][-1]
    parts = dict(x.strip().split(" ", 1) for x in line[len("cairn sync: "):].split(",")[:4])
    return {k: int(v) for k, v in parts.items()}


def docs(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def bundle_indicators(path):
    objs = json.loads(path.read_text())["objects"]
    return [o for o in objs if o["type"] == "indicator"]


@pytest.fixture
def upstream(make_cairn):
    """A cairn server with 20,000 indicators and a pro key."""
    c = make_cairn("access_log: ''\ntiers:\n  pro:\n    requests_per_minute: 100000\n")
    lines = [f"10.{i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(10000)]
    lines += [f"h{i}.sync-test.example" for i in range(10000)]
    c.import_text("\n".join(lines) + "\n", "--feed", "upstream")
    c.key_ = c.key("pro")
    c.start()
    return c


def test_file_source_maps_each_indicator_with_its_exact_text(tmp_path):
    src = sorted(AMNESTY.glob("*.json"))[0]
    out = tmp_path / "out.ndjson"
    p = sync("--once", "--from", src, "--to", out, "--feed-name", "amnesty")
    s = summary(p)
    got = docs(out)
    assert s["written"] == len(got) > 0
    inds = {o["id"]: o for o in bundle_indicators(src)}
    assert s["fetched"] == len(json.loads(src.read_text())["objects"])
    raw = src.read_text()
    for d in got:
        assert d["threat"]["feed"]["name"] == "amnesty"
        assert json.loads(d["event"]["original"])["id"] in inds
        # event.original is the object's text as the bundle holds it, byte for byte.
        assert d["event"]["original"] in raw
    # Every indicator of the bundle gave at least one document.
    seen = {json.loads(d["event"]["original"])["id"] for d in got}
    assert seen == set(inds)


def test_ndjson_folder_source_and_dry_run(tmp_path):
    out = tmp_path / "out.ndjson"
    p = sync("--once", "--from", SEKOIA, "--to", out, "--dry-run")
    assert not out.exists()
    printed = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    assert printed and summary(p)["written"] == len(printed)
    p = sync("--once", "--from", SEKOIA, "--to", out)
    assert len(docs(out)) == len(printed)


def test_taxii_source_delivers_everything_and_resumes_from_its_cursor(upstream, tmp_path):
    url = f"{upstream.base}/api/taxii2/api/collections/all/"
    out, state = tmp_path / "out.ndjson", tmp_path / "state"
    env = {"CAIRN_SYNC_USER": "apikey", "CAIRN_SYNC_PASSWORD": upstream.key_}
    p = sync("--once", "--from", url, "--to", out, "--state", state, "--limit", 5000, env=env)
    s = summary(p)
    assert s["fetched"] == 20000 and s["written"] == 20000 and s["failed"] == 0
    ids = {json.loads(d["event"]["original"])["id"] for d in docs(out)}
    assert len(ids) == 20000
    values = {(d["threat"]["indicator"].get("ip") or d["threat"]["indicator"]["url"]["domain"])[0]
              for d in docs(out)}
    assert "10.0.0.7" in values and "h9999.sync-test.example" in values
    # The cursor is saved: a second run reads nothing new.
    p = sync("--once", "--from", url, "--to", out, "--state", state, env=env)
    assert summary(p)["fetched"] == 0
    assert len(docs(out)) == 20000
    # New upstream values arrive on the next run, and only they.
    upstream.import_text("192.0.2.200\n192.0.2.201\n", "--feed", "later", name="later.txt")
    p = sync("--once", "--from", url, "--to", out, "--state", state, env=env)
    assert summary(p)["fetched"] == 2
    assert len(docs(out)) == 20002


def test_killed_twice_loses_nothing(upstream, tmp_path):
    url = f"{upstream.base}/api/taxii2/api/collections/all/"
    out, state = tmp_path / "out.ndjson", tmp_path / "state"
    env = dict(os.environ, CAIRN_SYNC_USER="apikey", CAIRN_SYNC_PASSWORD=upstream.key_)
    args = [BIN, "sync", "--once", "--from", url, "--to", str(out), "--state", str(state), "--limit", "200"]
    rnd = random.Random(7)
    for _ in range(2):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # Kill it once it has written something, at a random moment after that.
        deadline = time.time() + 60
        while time.time() < deadline and (not out.exists() or out.stat().st_size == 0):
            time.sleep(0.02)
        time.sleep(rnd.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    p = sync("--once", "--from", url, "--to", out, "--state", state, env=dict(
        CAIRN_SYNC_USER="apikey", CAIRN_SYNC_PASSWORD=upstream.key_))
    values = set()
    for line in out.read_text().splitlines():
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by the kill: its object is written again after the cursor
        ind = d["threat"]["indicator"]
        values.add((ind.get("ip") or ind["url"]["domain"])[0])
    assert len(values) == 20000, 20000 - len(values)


def test_ti_custom_profile_and_expiry(tmp_path):
    src = sorted(AMNESTY.glob("*.json"))[0]
    out = tmp_path / "out.ndjson"
    sync("--once", "--from", src, "--to", out, "--profile", "ti_custom", "--expiration-duration", "12h")
    got = docs(out)
    assert got
    for d in got:
        assert d["event"]["kind"] in ("enrichment", "pipeline_error")
        if d["event"]["kind"] == "enrichment":
            # Elastic types only the observables it knows (not app:cert.sha256, say).
            pattern = json.loads(d["event"]["original"])["pattern"]
            if pattern.startswith(("[domain-name:", "[ipv4-addr:", "[url:", "[file:")):
                assert d["threat"]["indicator"]["type"], d
            # No valid_until in these indicators: expiry is modified + the duration, 12 hours.
            assert d["stix"]["ioc_expiration_duration"] == "12h"
            assert d["stix"]["ioc_expiration_reason"].startswith("Expiration set by Elastic")


def test_dead_letters_keep_what_cannot_be_mapped(tmp_path):
    src = tmp_path / "mixed.ndjson"
    good = json.dumps(bundle_indicators(sorted(AMNESTY.glob("*.json"))[0])[0])
    src.write_text(good + "\n" + "{not json\n" + good + "\n")
    out, state = tmp_path / "out.ndjson", tmp_path / "state"
    p = sync("--once", "--from", src, "--to", out, "--state", state)
    s = summary(p)
    assert s["failed"] == 1 and s["written"] >= 2
    dead = [json.loads(l) for l in (state / "dead-letter.ndjson").read_text().splitlines()]
    assert len(dead) == 1 and dead[0]["object"] == "{not json" and dead[0]["reason"]


@pytest.mark.parametrize("args,reason", [
    (["--from", "x", "--to", "-"], "--once"),
    (["--once", "--to", "-"], "--from"),
    (["--once", "--from", "/nonexistent/file.json", "--to", "-"], "nonexistent"),
    (["--once", "--from", "x", "--to", "-", "--profile", "splunk"], "--profile"),
    (["--once", "--from", "x", "--to", "-", "--expiration-duration", "9w"], "--expiration-duration"),
    (["--once", "--from", "x", "--to", "kafka://127.0.0.1:9"], "expected a file"),
])
def test_bad_invocations_fail_with_one_line(args, reason, tmp_path):
    p = sync(*args, check=False)
    assert p.returncode != 0
    err = [l for l in p.stderr.splitlines() if not l.startswith("cairn sync: fetched")]
    assert len(err) == 1 and reason in err[0], p.stderr
