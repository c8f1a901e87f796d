"""The cursor guarantee of DESIGN.md: paging GET /api/v1/iocs by meta.next_cursor returns every
record that existed when the walk began exactly once — no gaps, no repeats — while new records
keep arriving; and offset paging over a database nobody writes returns each record once."""
import os
import subprocess
import threading
from collections import Counter

from conftest import BIN, assert_no_sanitizer

N = 20_000


def initial_values():
    return [f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}" for i in range(1, N + 1)]


def load(cairn):
    values = initial_values()
    out = cairn.import_text("\n".join(values) + "\n", "--feed", "initial", name="initial.txt").stdout
    assert f"read {N}, new {N}, updated 0, rejected 0" in out, out
    return values


class Writer(threading.Thread):
    """Runs `cairn import` of fresh values in a loop, in another process each time, until stopped."""

    def __init__(self, cairn, per_file=500):
        super().__init__(daemon=True)
        self.cairn = cairn
        self.per_file = per_file
        self.done = 0
        self.values = []
        self.failure = None
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        env = dict(os.environ, CAIRN_DB=str(self.cairn.db))
        try:
            while not self.stop.is_set():
                batch = [f"fresh{self.done}-{i}.cursor.example" for i in range(self.per_file)]
                path = self.cairn.tmp / f"fresh{self.done}.txt"
                path.write_text("\n".join(batch) + "\n")
                p = subprocess.run([BIN, "import", "--feed", "fresh", str(path)], env=env,
                                   capture_output=True, text=True, timeout=300)
                assert_no_sanitizer(p.stderr)
                if p.returncode != 0 or f"new {self.per_file}," not in p.stdout:
                    raise AssertionError(f"concurrent import failed: {p.stdout} {p.stderr}")
                with self.progress:
                    self.values += batch
                    self.done += 1
                    self.progress.notify_all()
        except BaseException as e:  # reported by the test thread
            self.failure = e
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, n, timeout=120):
        with self.progress:
            ok = self.progress.wait_for(lambda: self.done >= n or self.failure is not None, timeout)
        if self.failure is not None:
            raise self.failure
        assert ok, f"the concurrent import made no progress in {timeout} s"


def test_cursor_walk_exactly_once_while_records_arrive(cairn):
    values = load(cairn)
    key = cairn.key("pro")
    cairn.start()
    writer = Writer(cairn)
    seen = Counter()
    pages = 0
    totals = []
    try:
        writer.start()
        writer.wait_for(1)            # records are arriving before the walk starts
        url = "/api/v1/iocs?limit=200"
        cursor = None
        while True:
            r = cairn.get(url + (f"&cursor={cursor}" if cursor else ""), key)
            assert r.status_code == 200, r.text[:500]
            body = r.json()
            pages += 1
            totals.append(body["meta"]["total"])
            assert len(body["data"]) <= 200
            seen.update(rec["value"] for rec in body["data"])
            cursor = body["meta"]["next_cursor"]
            if cursor is None:
                assert "next" not in body.get("links", {}) or not body["links"]["next"]
                break
            assert body["links"]["next"].endswith(f"cursor={cursor}")
            # Interleave for certain: every 5 pages, wait until one more import has committed.
            if pages % 5 == 0:
                writer.wait_for(writer.done + 1)
            assert pages < 1000, "the walk does not end"
    finally:
        writer.stop.set()
        writer.join(timeout=300)
    if writer.failure is not None:
        raise writer.failure

    # Records did arrive during the walk (else this test proves nothing).
    assert totals[-1] > totals[0] > N, totals[:3] + totals[-3:]
    assert writer.done >= pages // 5
    # Every record that existed at the start: exactly once.
    missing = [v for v in values if seen[v] == 0]
    repeated = {v: n for v, n in seen.items() if n > 1}
    assert not missing, f"{len(missing)} records never returned, e.g. {missing[:5]}"
    assert not repeated, f"{len(repeated)} records returned more than once, e.g. {list(repeated.items())[:5]}"
    # And nothing that is not a record: only the initial values and the fresh ones.
    fresh = set(writer.values)
    assert set(seen) - set(values) <= fresh
    assert pages >= N // 200


def test_cursor_walk_without_writes_matches_offset_paging(cairn):
    values = load(cairn)
    key = cairn.key("pro")
    cairn.start()

    # Offset paging: each record once, pages in the same order as the cursor walk.
    by_offset = []
    for offset in range(0, N + 1000, 1000):
        r = cairn.get(f"/api/v1/iocs?limit=1000&offset={offset}", key)
        assert r.status_code == 200, r.text[:500]
        body = r.json()
        assert body["meta"]["total"] == N
        assert body["meta"]["offset"] == offset
        by_offset += [rec["value"] for rec in body["data"]]
        if offset >= N:
            assert body["data"] == []
    assert len(by_offset) == N
    assert Counter(by_offset) == Counter(values)

    by_cursor = []
    cursor = None
    pages = 0
    while True:
        r = cairn.get("/api/v1/iocs?limit=1000" + (f"&cursor={cursor}" if cursor else ""), key)
        assert r.status_code == 200, r.text[:500]
        body = r.json()
        pages += 1
        by_cursor += [rec["value"] for rec in body["data"]]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
        assert pages <= N // 1000
    assert pages == N // 1000
    assert by_cursor == by_offset

    # A cursor that is not one cairn gave out is a 400 naming the parameter.
    r = cairn.get("/api/v1/iocs?limit=10&cursor=not-a-cursor", key)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_parameter"
