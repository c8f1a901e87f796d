"""The documentation's examples are run, so the docs cannot drift from the code."""
import re

from conftest import ROOT


def yaml_block(path):
    text = (ROOT / path).read_text()
    m = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert m, f"{path} has no yaml block"
    return m.group(1)


def test_configuration_doc_example_is_the_defaults_and_loads(make_cairn):
    c = make_cairn(yaml_block("docs/configuration.md"))
    # Every key of the documented file is accepted by the commands that read a config...
    c.run("keys", "list", "--config", c.config)
    key = c.key("free")
    c.start()
    # ...and the values documented as defaults are the ones in force.
    r = c.get("/api/v1/usage", key)
    limits = r.json()["data"]["limits"]
    assert limits == {"requests_per_minute": 10, "requests_per_day": 1000, "max_results": 100,
                      "lookback_days": 1, "pro_endpoints": False, "formats": ["json"]}


def test_configuration_errors_name_file_line_and_key(make_cairn):
    c = make_cairn("listen: 127.0.0.1:1\nlimits:\n  max_body_bytes: 4096\n  bogus: 1\n")
    p = c.run("keys", "list", "--config", c.config, check=False)
    assert p.returncode != 0
    assert p.stderr.count("\n") == 1
    assert f"{c.config}:4: limits.bogus: unknown key" in p.stderr


def test_readme_commands_have_help(cairn):
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make check" in readme
    for cmd in ("serve", "import", "keys", "lookup", "stats"):
        assert f"cairn {cmd}" in readme
        p = cairn.run(cmd, "--help")
        assert p.stdout.startswith("usage: cairn " + cmd), p.stdout[:80]


def test_demo_feed_imports_cleanly(cairn):
    out = cairn.run("import", "--feed", "cairn-demo", ROOT / "examples" / "demo-feed.csv").stdout
    assert re.search(r"read 12, new 12, updated 0, rejected 0", out), out
    out = cairn.run("import", "--feed", "cairn-demo-list", ROOT / "examples" / "demo-list.txt").stdout
    assert re.search(r"read 4, new 4, updated 0, rejected 0, skipped 1", out), out
    found = cairn.run("lookup", "hxxps://cdn.evil-updates[.]example/stage2.js").stdout
    assert '"found":true' in found
