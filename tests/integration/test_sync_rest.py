"""`cairn sync` from cairn's REST API (issue 6, point 1): GET /api/v1/iocs/stix?format=objects
paged with X-Next-Cursor, incrementally from a saved high-water mark with an overlap, the
versions already delivered left out by (id, modified). The source is a real `cairn serve`."""
import json
import os
import subprocess

import pytest

from conftest import BIN, assert_no_sanitizer


def sync(*args, env=None, check=True):
    e = dict(os.environ)
    e.pop("CAIRN_SYNC_USER", None)
    if env:
        e.update(env)
    p = subprocess.run([BIN, "sync", *map(str, args)], capture_output=True, text=True, env=e, timeout=600)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def summary(p):
    line = [l for l in p.stderr.splitlines() if l.startswith("cairn sync: fetched")][-1]
    parts = dict(x.strip().split(" ", 1) for x in line[len("cairn sync: "):].split(",")[:5])
    return {k: int(v) for k, v in parts.items()}


def docs(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def value(d):
    ind = d["threat"]["indicator"]
    return (ind.get("ip") or ind["url"]["domain"])[0]


@pytest.fixture
def upstream(make_cairn):
    """A cairn server with 2,500 indicators and a pro key."""
    c = make_cairn("access_log: ''\n")
    lines = [f"10.8.{i // 256}.{i % 256}" for i in range(1500)]
    lines += [f"r{i}.rest-test.example" for i in range(1000)]
    c.import_text("\n".join(lines) + "\n", "--feed", "upstream")
    c.key_ = c.key("pro")
    c.start()
    return c


def test_rest_source_pages_then_reads_only_what_changed(upstream, tmp_path):
    out, state = tmp_path / "out.ndjson", tmp_path / "state"
    env = {"CAIRN_SYNC_TOKEN": upstream.key_}
    p = sync("--once", "--from", upstream.base, "--to", out, "--state", state, "--limit", 1000, env=env)
    s = summary(p)
    assert s["fetched"] == 2500 and s["written"] == 2500 and s["failed"] == 0, p.stderr
    got = docs(out)
    assert len({value(d) for d in got}) == 2500
    assert {"10.8.0.7", "r999.rest-test.example"} <= {value(d) for d in got}
    # Three pages of the STIX endpoint, each with the key as a Bearer token.
    assert "cursor since " in p.stderr

    # Again: the overlap re-reads the last minutes, and every version in it was delivered.
    p = sync("--once", "--from", upstream.base, "--to", out, "--state", state, env=env)
    assert summary(p)["written"] == 0 and len(docs(out)) == 2500, p.stderr

    # New values upstream, and an update of an old one (a second feed reports it): only those.
    upstream.import_text("192.0.2.220\n192.0.2.221\n10.8.0.7\n", "--feed", "later", name="later.txt")
    p = sync("--once", "--from", upstream.base + "/api/v1/iocs", "--to", out, "--state", state, env=env)
    new = docs(out)[2500:]
    assert summary(p)["written"] == len(new) == 3, p.stderr
    assert {value(d) for d in new} == {"192.0.2.220", "192.0.2.221", "10.8.0.7"}
    p = sync("--once", "--from", upstream.base + "/api/v1/iocs", "--to", out, "--state", state, env=env)
    assert summary(p)["written"] == 0


def test_rest_source_stix_endpoint_pages_with_next_cursor(upstream):
    r = upstream.get("/api/v1/iocs/stix?format=objects&limit=1000&include_identity=false"
                     "&include_markings=false", key=upstream.key_)
    assert r.status_code == 200 and len(r.json()) == 1000
    seen = {o["id"] for o in r.json()}
    while "x-next-cursor" in r.headers:
        assert 'rel="next"' in r.headers["link"]
        r = upstream.get("/api/v1/iocs/stix?format=objects&limit=1000&include_identity=false"
                         f"&include_markings=false&cursor={r.headers['x-next-cursor']}", key=upstream.key_)
        assert r.status_code == 200
        page = {o["id"] for o in r.json()}
        assert not page & seen
        seen |= page
    assert len(seen) == 2500


def test_rest_source_with_a_bad_key_fails_and_keeps_its_state(upstream, tmp_path):
    out, state = tmp_path / "out.ndjson", tmp_path / "state"
    p = sync("--once", "--from", upstream.base, "--to", out, "--state", state,
             env={"CAIRN_SYNC_TOKEN": "sk_live_not_a_key"}, check=False)
    assert p.returncode == 1
    err = [l for l in p.stderr.splitlines() if not l.startswith("cairn sync: fetched")]
    assert len(err) == 1 and "HTTP 401" in err[0], p.stderr
    assert not list(state.glob("rest-*"))


def test_rest_source_in_a_pipeline_file(upstream, tmp_path):
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(f"state_dir: {tmp_path / 'state'}\npipelines:\n  - name: rest\n    source:\n"
                   f"      url: {upstream.base}\n      token_env: TEST_REST_KEY\n"
                   f"    output: {{to: {tmp_path / 'out.ndjson'}}}\n")
    sync("--config", cfg, "--once", env={"TEST_REST_KEY": upstream.key_})
    assert len(docs(tmp_path / "out.ndjson")) == 2500
