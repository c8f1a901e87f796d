"""`cairn pattern`: every verdict agrees with the OASIS reference validator.

The reference is stix2-patterns (tests/requirements.txt), imported here and called as
run_validator(pattern, stix_version='2.1'); a pattern is valid when it returns no errors. cairn
is run once per file in batch mode (`cairn pattern check --batch FILE`, one "ok" or
"error OFFSET MESSAGE" line per input line), so thousands of patterns cost one process even
under AddressSanitizer. Compared: tests/data/patterns/{valid,invalid}.txt, every pattern of
shared/data/patterns (when present), and seeded mutations of all of these. Then the
command-line forms themselves: check, the caret under the error, explain, --help.
"""
import random
import subprocess

import pytest
from stix2patterns.validator import run_validator

from conftest import BIN, DATA, ROOT, assert_no_sanitizer

OURS = ROOT / "tests" / "data" / "patterns"
SHARED = DATA / "patterns"


def read_lines(path, comments):
    """The patterns of a file: one a line, exactly as written; '#' lines are comments in ours."""
    lines = path.read_bytes().decode("utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln for ln in lines if ln and not (comments and ln.startswith("#"))]


def shared_patterns():
    if not SHARED.is_dir():
        return []
    out = []
    for f in sorted(SHARED.rglob("*.txt")):
        if f.name.startswith("LICENSE"):
            continue
        out.extend(read_lines(f, comments=False))
    return out


def cairn_batch(patterns, tmp_path):
    """cairn's verdict for each pattern: "ok" or "error OFFSET MESSAGE"."""
    assert all("\n" not in p for p in patterns)
    f = tmp_path / "patterns.txt"
    f.write_bytes("".join(p + "\n" for p in patterns).encode("utf-8"))
    r = subprocess.run([BIN, "pattern", "check", "--batch", str(f)], capture_output=True, timeout=600)
    stderr = r.stderr.decode("utf-8", "replace")
    assert_no_sanitizer(stderr)
    assert r.returncode in (0, 1), stderr
    out = r.stdout.decode("utf-8").split("\n")
    assert out[-1] == ""
    out.pop()
    assert len(out) == len(patterns)
    assert r.returncode == (1 if any(v != "ok" for v in out) else 0)
    for v in out:
        assert v == "ok" or v.startswith("error "), v
    return out


def reference(p):
    return not run_validator(p, stix_version="2.1")


def compare(patterns, tmp_path, expect=None):
    """Asserts cairn and the reference agree on every pattern (and, if given, on `expect`)."""
    verdicts = cairn_batch(patterns, tmp_path)
    wrong = []
    for p, v in zip(patterns, verdicts):
        ref = reference(p)
        mine = v == "ok"
        if mine != ref or (expect is not None and ref != expect):
            wrong.append(f"reference {'valid' if ref else 'invalid'}, cairn {v}: {p!r}")
    assert not wrong, f"{len(wrong)} of {len(patterns)} disagree:\n" + "\n".join(wrong[:30])
    return verdicts


def test_valid_file(tmp_path):
    patterns = read_lines(OURS / "valid.txt", comments=True)
    assert len(patterns) >= 200
    compare(patterns, tmp_path, expect=True)


def test_invalid_file(tmp_path):
    patterns = read_lines(OURS / "invalid.txt", comments=True)
    assert len(patterns) >= 200
    verdicts = compare(patterns, tmp_path, expect=False)
    for p, v in zip(patterns, verdicts):
        _, offset, message = v.split(" ", 2)
        assert f"at offset {offset}" in message, v
        assert int(offset) <= len(p.encode("utf-8")), v


def test_shared_corpus(tmp_path):
    patterns = shared_patterns()
    if not patterns:
        pytest.skip(f"{SHARED} is absent")
    compare(patterns, tmp_path)


MUTATIONS = ["[", "]", "(", ")", "'", "\\", ".", ":", ",", "=", "<", ">", "!", "*", "-", "+", " ",
             "/*", "*/", "//", "t", "h", "b", "0", " AND ", " OR ", " NOT ", " FOLLOWEDBY ",
             " WITHIN 5 SECONDS", " REPEATS 2 TIMES", "''", "\u00a0", "é"]


def mutate(rng, p):
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(p) + 1)
        op = rng.random()
        if op < 0.3 and i < len(p):
            p = p[:i] + p[i + 1:]
        elif op < 0.65:
            p = p[:i] + rng.choice(MUTATIONS) + p[i:]
        elif op < 0.85:
            p = p[:i] + p[rng.randrange(i, len(p) + 1):]
        else:
            p = p[:i] + p[i:rng.randrange(i, len(p) + 1)] + p[i:]
    return p


def test_mutations(tmp_path):
    """Seeded mutations of every known pattern: mostly invalid, some still valid, all agreed on."""
    rng = random.Random(20261123)
    seeds = read_lines(OURS / "valid.txt", True) + read_lines(OURS / "invalid.txt", True)
    seeds += rng.sample(shared_patterns(), min(500, len(shared_patterns())))
    patterns = []
    while len(patterns) < 6000:
        p = mutate(rng, rng.choice(seeds))
        if not p or "\n" in p or "\r" in p:
            continue
        try:
            reference(p)
        except Exception:  # the reference crashes on a few grammar-valid paths ([-1], hashes[0])
            continue
        patterns.append(p)
    verdicts = compare(patterns, tmp_path)
    assert 100 < sum(v == "ok" for v in verdicts) < len(patterns) - 100


def run(*args, input=None):
    r = subprocess.run([BIN, "pattern", *args], capture_output=True, text=True, input=input, timeout=60)
    assert_no_sanitizer(r.stderr)
    return r


def test_check_valid():
    r = run("check", "[ipv4-addr:value = '198.51.100.1']")
    assert (r.returncode, r.stdout, r.stderr) == (0, "valid\n", "")


def test_check_invalid_shows_a_caret():
    r = run("check", "[file:size = 1 c]")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.split("\n") == [
        "cairn pattern: expected ']' at offset 15, found 'c'",
        "  [file:size = 1 c]",
        "  " + " " * 15 + "^",
        "",
    ]


def test_caret_counts_characters_not_bytes():
    r = run("check", "[a:b = 'é\u65e5' x]")  # 'x' is at byte 15, character 12
    assert r.returncode == 1
    reason, echo, caret, _ = r.stderr.split("\n")
    assert "at offset 15" in reason
    assert caret == "  " + " " * 12 + "^"
    assert echo[2 + 12] == "x"


def test_check_reference_only_rules():
    """The reference's checks beyond the grammar have cairn's own reasons."""
    cases = {
        "[file:hashes.'SHA-256' = 'f00']": "'f00' is not a valid SHA-256 hash at offset 25",
        "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS": "duplicate WITHIN qualifier at offset 27",
        "/* c */ [a:b = 1]": "expected '[' before a comment at offset 0",
    }
    for pattern, reason in cases.items():
        r = run("check", pattern)
        assert r.returncode == 1
        assert r.stderr.split("\n")[0] == "cairn pattern: " + reason
        assert not reference(pattern)


def test_explain_simple():
    r = run("explain", "[ipv4-addr:value='198.51.100.1' OR domain-name:value = 'example.com']")
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("\n")
    assert out[0] == "canonical: [ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'example.com']"
    assert out[1] == "tree:"
    assert out[2].startswith("observation [ ]")
    assert "observables:" in out
    i = out.index("observables:")
    assert out[i + 1:i + 3] == ["  ipv4-addr:value = '198.51.100.1'", "  domain-name:value = 'example.com'"]
    assert out[i + 3] == "simple: 2 records (ipv4 198.51.100.1, domain example.com)"


def test_explain_composite():
    r = run("explain", "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY "
                       "[win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS")
    assert r.returncode == 0, r.stderr
    assert "  qualifier WITHIN 300 SECONDS  @" in r.stdout
    assert "  win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar'\n" in r.stdout
    assert r.stdout.endswith("composite: qualifier WITHIN (offset 124)\n")


def test_explain_invalid():
    r = run("explain", "[a:b = ]")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("cairn pattern: expected a constant at offset 7")


def test_help_and_usage_errors(tmp_path):
    r = run("--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: cairn pattern check PATTERN")
    assert subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout.count("pattern ") >= 1
    for args in ([], ["check"], ["lint", "[a:b = 1]"], ["check", "a", "b"]):
        r = run(*args)
        assert r.returncode == 2 and r.stderr.startswith("cairn pattern: "), args
    r = run("check", "--batch", str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and "cannot open" in r.stderr


def test_batch_from_stdin():
    r = run("check", "--batch", "-", input="[a:b = 1]\n\n[a:b = ]\n[c:d = 'x']")
    assert r.returncode == 1
    assert r.stdout.split("\n") == [
        "ok",
        "error 0 expected '[' or '(' at offset 0, found end of pattern",
        "error 7 expected a constant at offset 7, found ']'",
        "ok",
        "",
    ]
