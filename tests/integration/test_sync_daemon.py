"""`cairn sync --config FILE`: several pipelines from one YAML file, run once or as a daemon
with intervals, a summary per run, Prometheus metrics and a clean stop on SIGTERM (issue 6,
point 5). The TAXII source is a real `cairn serve`."""
import json
import os
import re
import signal
import subprocess
import time

import pytest
import requests

from conftest import BIN, DATA, assert_no_sanitizer, free_port

AMNESTY = DATA / "stix21" / "amnesty-investigations"


def sync(*args, env=None, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([BIN, "sync", *map(str, args)], capture_output=True, text=True, env=e, timeout=600)
    assert_no_sanitizer(p.stderr)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def summaries(stderr, name):
    """Every run summary of pipeline `name`, as dicts of counts."""
    out = []
    for line in stderr.splitlines():
        m = re.match(rf"cairn sync \[{re.escape(name)}\]: (fetched .*)", line)
        if m:
            parts = [x.strip().split(" ", 1) for x in m.group(1).split(",")[:5]]
            out.append({k: int(v) for k, v in parts})
    return out


def docs(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def values(path):
    got = set()
    for d in docs(path):
        ind = d["threat"]["indicator"]
        got.add((ind.get("ip") or ind["url"]["domain"])[0])
    return got


def metrics(port):
    """The /metrics text as {(name, frozenset(labels)): value}."""
    r = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for line in r.text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'(\w+)\{(.*)\} (\S+)', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(ms, name, **labels):
    return ms[(name, frozenset(labels.items()))]


@pytest.fixture
def upstream(make_cairn):
    """A cairn server with 600 indicators and a pro key."""
    c = make_cairn("access_log: ''\n")
    lines = [f"10.9.{i // 256}.{i % 256}" for i in range(300)]
    lines += [f"d{i}.daemon-test.example" for i in range(300)]
    c.import_text("\n".join(lines) + "\n", "--feed", "upstream")
    c.key_ = c.key("pro")
    c.start()
    return c


def ndjson_source(tmp_path):
    """Two indicators of a real STIX bundle, as NDJSON."""
    objs = json.loads(sorted(AMNESTY.glob("*.json"))[0].read_text())["objects"]
    inds = [o for o in objs if o["type"] == "indicator"][:2]
    src = tmp_path / "local.ndjson"
    src.write_text("".join(json.dumps(o) + "\n" for o in inds))
    return src, inds


def two_pipelines(tmp_path, upstream, interval="5m", metrics_port=None):
    src, _ = ndjson_source(tmp_path)
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(
        f"state_dir: {tmp_path / 'state'}\n"
        + (f"metrics_listen: 127.0.0.1:{metrics_port}\n" if metrics_port else "")
        + "pipelines:\n"
        "  - name: upstream-all\n"
        f"    interval: {interval}\n"
        "    source:\n"
        f"      url: {upstream.base}/api/taxii2/api/collections/all/\n"
        "      user: apikey\n"
        "      password_env: TEST_UPSTREAM_KEY\n"
        "      limit: 250\n"
        "    output:\n"
        f"      to: {tmp_path / 'taxii.ndjson'}\n"
        "    feed_name: upstream\n"
        "  - name: local-files\n"
        f"    interval: {interval}\n"
        "    source:\n"
        f"      path: {src}\n"
        "    output:\n"
        f"      to: {tmp_path / 'files.ndjson'}\n"
        "    profile: ti_custom\n"
        "    expiration_duration: 12h\n")
    return cfg


def test_two_pipelines_run_once(upstream, tmp_path):
    cfg = two_pipelines(tmp_path, upstream)
    env = {"TEST_UPSTREAM_KEY": upstream.key_}
    p = sync("--config", cfg, "--once", env=env)
    s = summaries(p.stderr, "upstream-all")
    assert s == [{"fetched": 600, "written": 600, "expired": 0, "failed": 0, "skipped": 0}], p.stderr
    assert len(values(tmp_path / "taxii.ndjson")) == 600
    assert {d["threat"]["feed"]["name"] for d in docs(tmp_path / "taxii.ndjson")} == {"upstream"}
    # The second pipeline: its own profile and expiration.
    files = docs(tmp_path / "files.ndjson")
    assert summaries(p.stderr, "local-files")[0]["written"] == len(files) == 2
    assert all(d["stix"]["ioc_expiration_duration"] == "12h" for d in files)
    # Each pipeline keeps its state under state_dir/NAME: the TAXII cursor is there, and the
    # next run reads nothing new from upstream.
    assert list((tmp_path / "state" / "upstream-all").glob("cursor-*"))
    p = sync("--config", cfg, "--once", env=env)
    assert summaries(p.stderr, "upstream-all")[0]["fetched"] == 0


def test_once_fails_when_a_pipeline_fails_and_runs_the_others(upstream, tmp_path):
    src, _ = ndjson_source(tmp_path)
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(
        f"state_dir: {tmp_path / 'state'}\n"
        "pipelines:\n"
        "  - name: down\n"
        "    source:\n"
        f"      url: http://127.0.0.1:{free_port()}/taxii2/api/collections/x/\n"
        "    output: {to: " + str(tmp_path / "a.ndjson") + "}\n"
        "  - name: up\n"
        "    source: {path: " + str(src) + "}\n"
        "    output: {to: " + str(tmp_path / "b.ndjson") + "}\n")
    p = sync("--config", cfg, "--once", check=False)
    assert p.returncode == 1
    assert re.search(r"cairn sync \[down\]: error: .+", p.stderr), p.stderr
    assert summaries(p.stderr, "up")[0]["written"] == 2
    assert len(docs(tmp_path / "b.ndjson")) == 2


def test_dry_run_prints_and_saves_nothing(upstream, tmp_path):
    cfg = two_pipelines(tmp_path, upstream)
    p = sync("--config", cfg, "--dry-run", env={"TEST_UPSTREAM_KEY": upstream.key_})
    printed = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(printed) == 602
    assert not (tmp_path / "state").exists()
    assert not (tmp_path / "taxii.ndjson").exists() and not (tmp_path / "files.ndjson").exists()


def wait_for(pred, what, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_daemon_picks_up_new_data_serves_metrics_and_stops_on_sigterm(upstream, tmp_path):
    port = free_port()
    cfg = two_pipelines(tmp_path, upstream, interval="1s", metrics_port=port)
    out = tmp_path / "taxii.ndjson"
    env = dict(os.environ, TEST_UPSTREAM_KEY=upstream.key_)
    proc = subprocess.Popen([BIN, "sync", "--config", str(cfg)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 600, "the first run")
        upstream.import_text("192.0.2.210\n192.0.2.211\n", "--feed", "later", name="later.txt")
        wait_for(lambda: len(out.read_text().splitlines()) == 602, "the new upstream values")
        assert {"192.0.2.210", "192.0.2.211"} <= values(out)

        def runs_ok(ms, name):
            return metric(ms, "cairn_sync_runs_total", pipeline=name, result="ok")

        # Metrics: counts since start, per pipeline. The TAXII pipeline fetched each object once
        # (the cursor moves); the file pipeline reads its file again on every run.
        ms = metrics(port)
        assert runs_ok(ms, "upstream-all") >= 2
        assert metric(ms, "cairn_sync_fetched_total", pipeline="upstream-all") == 602
        assert metric(ms, "cairn_sync_written_total", pipeline="upstream-all") == 602
        assert metric(ms, "cairn_sync_failed_total", pipeline="upstream-all") == 0
        assert metric(ms, "cairn_sync_runs_total", pipeline="upstream-all", result="error") == 0
        assert metric(ms, "cairn_sync_last_success_timestamp_seconds", pipeline="upstream-all") > 1.7e9
        files_runs = runs_ok(ms, "local-files")
        assert metric(ms, "cairn_sync_written_total", pipeline="local-files") == 2 * files_runs
        assert metric(ms, "cairn_sync_expired_total", pipeline="local-files") == 2 * files_runs
        assert requests.get(f"http://127.0.0.1:{port}/other", timeout=10).status_code == 404
        assert requests.post(f"http://127.0.0.1:{port}/metrics", timeout=10).status_code == 405

        # Upstream goes away: the runs fail, and the metrics say so.
        upstream.stop()
        wait_for(lambda: metric(metrics(port), "cairn_sync_runs_total", pipeline="upstream-all",
                                result="error") >= 1, "a failed run")
        errs = [k for k in metrics(port) if k[0] == "cairn_sync_last_error_timestamp_seconds"]
        assert len(errs) == 1 and ("pipeline", "upstream-all") in errs[0][1]
        assert any(name == "error" and value for name, value in errs[0][1])
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert_no_sanitizer(err)
    assert proc.returncode == 0, err
    assert "cairn sync: stopped by SIGTERM" in err
    assert re.search(r"cairn sync \[upstream-all\]: error: ", err)
    # Nothing was lost or repeated: 602 documents, and the cursor is saved.
    assert len(docs(out)) == 602


@pytest.mark.parametrize("body,where,reason", [
    ("pipelines:\n  - name: a\n    sorce: {path: x}\n", ":3: pipelines[0].sorce:", "unknown key"),
    ("colour: red\npipelines: []\n", ":1: colour:", "unknown key"),
    ("pipelines:\n  - name: a\n    interval: soon\n    source: {path: x}\n    output: {to: '-'}\n",
     ":3: pipelines[0].interval:", "duration"),
    ("pipelines:\n  - name: a\n    source:\n      path: x\n      limit: many\n    output: {to: '-'}\n",
     ":5: pipelines[0].source.limit:", "integer"),
    ("pipelines:\n  - name: a\n    source:\n      url: http://h/taxii2/collections/c/\n"
     "      user: u\n      password_env: TEST_SURELY_UNSET_VAR\n    output: {to: '-'}\n",
     ":6: pipelines[0].source.password_env:", "TEST_SURELY_UNSET_VAR is not set"),
    ("pipelines:\n  - name: a\n    source: {path: x}\n    output:\n      to: out.ndjson\n      es_index: i\n",
     ":6: pipelines[0].output.es_index:", "elasticsearch"),
    ("state_dir: st\npipelines:\n  - name: a\n    source: {path: x}\n    output: {to: '-'}\n"
     "  - name: a\n    source: {path: y}\n    output: {to: '-'}\n", ":6: pipelines[1].name:", "another pipeline"),
    ("pipelines:\n  - name: a\n    source: {path: x}\n    output: {to: '-'}\n", ":2: pipelines[0] (a):",
     "state_dir"),
    ("metrics_listen: localhost\npipelines: []\n", ":1: metrics_listen:", "HOST:PORT"),
    ("pipelines:\n  - name: a\n    profile: splunk\n", ":3: pipelines[0].profile:", "ecs or ti_custom"),
])
def test_config_errors_name_file_line_and_key(tmp_path, body, where, reason):
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(body)
    p = sync("--config", cfg, "--once", check=False)
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith(f"cairn sync: {cfg}{where}") and reason in lines[0], p.stderr


def test_secrets_in_the_file_only_when_it_is_private(tmp_path):
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(f"state_dir: {tmp_path / 'st'}\npipelines:\n  - name: a\n    source:\n"
                   f"      url: http://127.0.0.1:{free_port()}/taxii2/collections/c/\n"
                   "      token: sk_live_secret\n    output: {to: '-'}\n")
    cfg.chmod(0o644)
    p = sync("--config", cfg, "--once", check=False)
    assert p.returncode == 2 and ":6: pipelines[0].source.token:" in p.stderr and "chmod 600" in p.stderr
    cfg.chmod(0o600)
    p = sync("--config", cfg, "--once", check=False)
    assert p.returncode == 1 and "cairn sync [a]: error:" in p.stderr  # loaded; the server is down


def test_config_takes_no_pipeline_flags(tmp_path):
    cfg = tmp_path / "sync.yaml"
    cfg.write_text("pipelines: []\n")
    p = sync("--config", cfg, "--from", "x", check=False)
    assert p.returncode == 2 and "--config takes only --once, --dry-run and --check" in p.stderr


def test_every_config_key_is_documented():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "src", "sync", "sync_config.c")) as f:
        keys = set(re.findall(r'!strcmp\(ks, "(\w+)"\)', f.read()))
    with open(os.path.join(root, "docs", "sync.md")) as f:
        doc = f.read()
    assert len(keys) > 40
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing, missing


def test_the_example_of_the_docs_is_valid(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "sync.md")) as f:
        doc = f.read()
    example = re.search(r"```yaml\n(state_dir:.*?)```", doc, re.S).group(1)
    cfg = tmp_path / "sync.yaml"
    cfg.write_text(example)
    names = set(re.findall(r"_env: (\w+)", example))
    assert names >= {"CTI_API_KEY", "ES_API_KEY", "SPLUNK_HEC_TOKEN", "SENTINEL_APP_SECRET"}
    p = sync("--config", cfg, "--check", env={n: "x" for n in names})
    assert p.stdout == f"{cfg}: 3 pipelines, valid\n"
    # Each named variable must be set.
    p = sync("--config", cfg, "--check", env={n: "x" for n in names if n != "ES_API_KEY"}, check=False)
    assert p.returncode == 2 and "es_api_key_env: the environment variable ES_API_KEY is not set" in p.stderr
