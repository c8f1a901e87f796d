"""Fixtures shared by the integration tests.

Every test talks to the real `cairn` binary ($CAIRN_BIN, default build/cairn): the CLI is run
as a subprocess, and `cairn serve` is started on a free 127.0.0.1 port with a temporary
database, then stopped with SIGTERM. A server that exits non-zero, or prints a sanitizer
report, fails the test that used it.
"""
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CAIRN_BIN", str(ROOT / "build" / "cairn"))
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cairn:
    """One database, the CLI over it, and (after start()) a server.

    The tests import addresses from the documentation ranges (192.0.2.0/24, 2001:db8::/32, …)
    and private networks, which cairn's built-in allow-list keeps out of every database by
    default (docs/allowlists.md). So the database starts with that list disabled, as a user
    who wants those ranges does it; builtin_allowlist=True keeps the product default.
    """

    def __init__(self, tmp: Path, config: str | None = None, builtin_allowlist: bool = False):
        self.tmp = tmp
        self.db = tmp / "cairn.db"
        self.config = None
        if config is not None:
            self.config = tmp / "cairn.yml"
            self.config.write_text(config)
        self.proc = None
        self.port = None
        self.base = None
        self.stderr_path = tmp / "serve.err"
        self.access_log = tmp / "access.log"
        if not builtin_allowlist:
            self.run("allowlist", "disable", "builtin")

    # --- the CLI ---
    def run(self, *args, input=None, check=True, env=None):
        e = dict(os.environ, CAIRN_DB=str(self.db))
        if env:
            e.update(env)
        p = subprocess.run([BIN, *map(str, args)], input=input, capture_output=True, text=True,
                           env=e, timeout=600)
        if check and p.returncode != 0:
            raise AssertionError(f"cairn {' '.join(map(str, args))} exited {p.returncode}: "
                                 f"{p.stderr.strip()}")
        assert_no_sanitizer(p.stderr)
        return p

    def key(self, tier="pro", name=None, scopes=(), expires_in_days=None):
        args = ["keys", "create", "--tier", tier, "--name", name or f"test-{tier}"]
        for s in scopes:
            args += ["--scope", s]
        if expires_in_days:
            args += ["--expires-in-days", expires_in_days]
        if self.config:
            args += ["--config", self.config]
        out = self.run(*args).stdout.strip()
        assert re.fullmatch(r"sk_live_[0-9A-Za-z]{32,}", out), out
        return out

    def import_text(self, text, *args, name="feed.txt"):
        path = self.tmp / name
        path.write_text(text)
        extra = ["--config", self.config] if self.config else []
        return self.run("import", *extra, *args, path)

    # --- the server ---
    def start(self, *extra, threads=2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", "--db", str(self.db),
                "--threads", str(threads), *map(str, extra)]
        if self.config:
            args += ["--config", str(self.config)]
        self.err = open(self.stderr_path, "w")
        self.out = open(self.access_log, "w")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"cairn serve exited at start: {self.stderr_path.read_text()}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.05)
        raise AssertionError("cairn serve did not become ready")

    def stop(self):
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("cairn serve did not stop within 30 s of SIGTERM")
        finally:
            self.err.close()
            self.out.close()
        self.proc = None
        assert_no_sanitizer(self.stderr_path.read_text())
        return rc

    def get(self, path, key=None, **kw):
        headers = kw.pop("headers", {})
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        return requests.get(self.base + path, headers=headers, timeout=60, **kw)

    def post(self, path, key=None, **kw):
        headers = kw.pop("headers", {})
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        return requests.post(self.base + path, headers=headers, timeout=60, **kw)

    def delete(self, path, key=None, **kw):
        headers = kw.pop("headers", {})
        if key:
            headers.setdefault("Authorization", f"Bearer {key}")
        return requests.delete(self.base + path, headers=headers, timeout=60, **kw)


def assert_no_sanitizer(text):
    for mark in SANITIZER_MARKS:
        if mark in text:
            raise AssertionError(f"sanitizer report:\n{text[-4000:]}")


@pytest.fixture
def cairn(tmp_path):
    """A database and CLI; call .start() for a server (stopped and checked at teardown)."""
    c = Cairn(tmp_path)
    yield c
    if c.proc is not None:
        assert c.stop() == 0, "cairn serve exited non-zero"


@pytest.fixture
def make_cairn(tmp_path):
    """make_cairn(config_yaml) → a Cairn with that configuration file."""
    made = []

    def make(config=None, sub="c", builtin_allowlist=False):
        d = tmp_path / f"{sub}{len(made)}"
        d.mkdir()
        c = Cairn(d, config, builtin_allowlist)
        made.append(c)
        return c

    yield make
    for c in made:
        if c.proc is not None:
            assert c.stop() == 0, "cairn serve exited non-zero"


def error_of(resp, status, code):
    """Asserts the JSON error object of DESIGN.md and returns it."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    err = body["error"]
    assert err["code"] == code, err
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["details"], dict)
    assert re.fullmatch(r"req_[0-9a-f]+", err["request_id"]), err
    assert resp.headers["X-Request-Id"] == err["request_id"]
    return err
