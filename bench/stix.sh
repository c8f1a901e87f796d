#!/usr/bin/env bash
# bench/stix.sh — STIX 2.1 import speed: `cairn import` of a generated bundle of
# BENCH_N indicators (default 1,000,000), `cairn pattern check --batch` over their patterns,
# and, in the same run, Python's `stix2.parse` over a slice (BENCH_PY_N, default 50,000),
# scaled to a rate. Prints the rates and the ratios. A benchmark, not a test.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
pyn=${BENCH_PY_N:-50000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-stix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q -r "$root/tests/requirements.txt"
fi

echo "== generating a bundle of $n indicators and a $pyn-indicator slice"
"$venv/bin/python" - "$n" "$pyn" "$tmp" <<'PY'
import json, sys, uuid, random
n, pyn, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(7)
def ind(i):
    k = i % 4
    if k == 0:
        pat = "[ipv4-addr:value = '%d.%d.%d.%d']" % (20 + i // 16777216, i // 65536 % 256, i // 256 % 256, i % 256)
    elif k == 1:
        pat = "[domain-name:value = 'h%d.bench-%d.example']" % (i, i % 977)
    elif k == 2:
        pat = "[file:hashes.'SHA-256' = '%064x']" % random.getrandbits(256)
    else:
        pat = "[url:value = 'http://u%d.bench.example/p/%d']" % (i, i % 13)
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % uuid.UUID(int=random.getrandbits(128), version=4),
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "pattern": pat, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
            "confidence": 70, "labels": ["bench"]}
with open(tmp + "/bundle.json", "w") as f, open(tmp + "/slice.json", "w") as s, open(tmp + "/patterns.txt", "w") as p:
    f.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid4())
    s.write('{"type":"bundle","id":"bundle--%s","objects":[' % uuid.uuid4())
    for i in range(n):
        o = ind(i)
        text = json.dumps(o)
        f.write(("," if i else "") + text)
        p.write(o["pattern"] + "\n")
        if i < pyn:
            s.write(("," if i else "") + text)
    f.write("]}\n")
    s.write("]}\n")
PY

echo "== cairn import"
start=$(date +%s.%N)
"$cairn" import --db "$tmp/b.db" "$tmp/bundle.json" | head -2
cairn_s=$(echo "$(date +%s.%N) - $start" | bc)

echo "== cairn pattern check --batch"
start=$(date +%s.%N)
bad=$("$cairn" pattern check --batch "$tmp/patterns.txt" | grep -vc '^ok$' || true)
pat_s=$(echo "$(date +%s.%N) - $start" | bc)

echo "== python stix2.parse over $pyn indicators"
py_s=$("$venv/bin/python" - "$tmp/slice.json" <<'PY'
import sys, time, stix2
text = open(sys.argv[1]).read()
t = time.time()
stix2.parse(text, allow_custom=False)
print(time.time() - t)
PY
)

awk -v n="$n" -v pyn="$pyn" -v c="$cairn_s" -v p="$pat_s" -v y="$py_s" -v bad="$bad" 'BEGIN {
	ci = n / c; pr = n / p; yr = pyn / y
	printf "\n%-28s %14s\n", "work", "per second"
	printf "%-28s %14.0f   (target 150,000)\n", "cairn import (indicators)", ci
	printf "%-28s %14.0f   (target 2,000,000; %d not ok)\n", "cairn pattern check", pr, bad
	printf "%-28s %14.0f\n", "python stix2.parse", yr
	printf "cairn import / stix2.parse: %.1fx (target 100x)\n", ci / yr
}'
