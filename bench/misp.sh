#!/usr/bin/env bash
# bench/misp.sh — the MISP event export and import: `cairn export --format misp` of BENCH_N
# generated records (default 1,000,000) and `cairn import --format misp` of that event into a
# fresh database, as indicators per second with each run's peak anonymous memory, against PyMISP's
# MISPEvent().load over a slice (BENCH_PY_N, default 50,000), scaled to a rate. Peak memory
# is also taken at a tenth of the size: a streamed export and import stay flat.
# A benchmark, not a test: never run by `make check`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
pyn=${BENCH_PY_N:-50000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-misp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q -r "$root/tests/requirements.txt"
fi

gen() {	# gen N FILE: unique values, a quarter each of IPv4, domains, MD5 and SHA-256
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = i % 4; j = int(i / 4)
			if (k == 0)      printf "10.%d.%d.%d\n", int(j / 65536) % 256, int(j / 256) % 256, j % 256
			else if (k == 1) printf "h%d.bench.example\n", j
			else if (k == 2) printf "%032x\n", j
			else             printf "a%063x\n", j
		}
	}' >"$2"
}

# run LABEL CMD...: seconds and peak anonymous memory (KiB) of one command, into $secs and
# $rss. Anonymous, not the whole RSS: SQLite maps the database file (mmap_size), and those
# file pages grow with the database, not with what the program holds.
run() {
	local label=$1 start pid a
	shift
	start=$(date +%s.%N)
	"$@" >"$tmp/$label.out" &
	pid=$!
	rss=0
	while kill -0 "$pid" 2>/dev/null; do
		a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		if [ -n "$a" ] && [ "$a" -gt "$rss" ]; then rss=$a; fi
		sleep 0.02
	done
	wait "$pid"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
}

small=$((n / 10))
for size in "$small" "$n"; do
	echo "== $size records: generating and importing the list"
	gen "$size" "$tmp/list-$size.txt"
	# The generated values are private addresses: the built-in allow-list goes off first.
	"$cairn" allowlist disable builtin --db "$tmp/src-$size.db" >/dev/null
	"$cairn" allowlist disable builtin --db "$tmp/dst-$size.db" >/dev/null
	run list "$cairn" import --db "$tmp/src-$size.db" --tag bench --tlp green "$tmp/list-$size.txt"
	head -1 "$tmp/list.out"
	eval "list_s_$size=$secs list_rss_$size=$rss"

	echo "== cairn export --format misp ($size records)"
	run export "$cairn" export --db "$tmp/src-$size.db" --format misp -o "$tmp/event-$size.json"
	eval "export_s_$size=$secs export_rss_$size=$rss"

	echo "== cairn import --format misp ($size attributes)"
	run import "$cairn" import --db "$tmp/dst-$size.db" --format misp "$tmp/event-$size.json"
	head -2 "$tmp/import.out"
	eval "import_s_$size=$secs import_rss_$size=$rss"
done

echo "== PyMISP MISPEvent().load over $pyn attributes"
py_s=$("$venv/bin/python" - "$tmp/event-$n.json" "$pyn" <<'PY'
import json, sys, time
from pymisp import MISPEvent
ev = json.load(open(sys.argv[1]))
ev["Event"]["Attribute"] = ev["Event"]["Attribute"][:int(sys.argv[2])]
text = json.dumps(ev)
t = time.time()
MISPEvent().load(text)
print(time.time() - t)
PY
)

eval "es=\$export_s_$n er=\$export_rss_$n is=\$import_s_$n ir=\$import_rss_$n"
eval "esr=\$export_rss_$small isr=\$import_rss_$small"
eval "ls=\$list_s_$n lr=\$list_rss_$n lsr=\$list_rss_$small"
awk -v n="$n" -v small="$small" -v pyn="$pyn" -v es="$es" -v is="$is" -v py="$py_s" \
    -v er="$er" -v ir="$ir" -v esr="$esr" -v isr="$isr" -v ls="$ls" -v lr="$lr" -v lsr="$lsr" 'BEGIN {
	printf "\n%-34s %14s %18s\n", "work", "per second", "peak anon (MiB)"
	printf "%-34s %14.0f %9.1f (%.1f at %d)\n", "cairn export --format misp", n / es, er / 1024, esr / 1024, small
	printf "%-34s %14.0f %9.1f (%.1f at %d)\n", "cairn import --format misp", n / is, ir / 1024, isr / 1024, small
	printf "%-34s %14.0f %9.1f (%.1f at %d)\n", "cairn import, same values as a list", n / ls, lr / 1024, lsr / 1024, small
	printf "%-34s %14.0f\n", "PyMISP MISPEvent().load", pyn / py
	printf "cairn import / PyMISP load: %.1fx\n", (n / is) / (pyn / py)
}'
