#!/usr/bin/env bash
# bench/import.sh — `cairn import` speed: a plain list and a CSV of generated, unique indicators,
# each into a fresh database, reported as indicators per second against the target of
# 300,000/s. A benchmark, not a test: never run by `make check`.
#
#   bench/import.sh                 # 1,000,000 indicators per file
#   BENCH_N=100000 bench/import.sh  # a quicker run
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
target=300000

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-import.XXXXXX")
child=
cleanup() {
	local rc=$?
	if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"

echo "== generating $n plain indicators and a $n-row CSV"
# Unique values, a quarter each of IPv4, domains, MD5 and SHA-256.
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 4; j = int(i / 4)
		if (k == 0)      printf "10.%d.%d.%d\n", int(j / 65536) % 256, int(j / 256) % 256, j % 256
		else if (k == 1) printf "h%d.bench.example\n", j
		else if (k == 2) printf "%032d\n", j
		else             printf "a%063d\n", j
	}
}' >"$tmp/list.txt"
# value,type,confidence,tags,first_seen — other values than the list's, so both runs insert.
awk -v n="$n" 'BEGIN {
	print "value,type,confidence,tags,first_seen"
	split("ipv4 domain md5 sha256", types, " ")
	for (i = 0; i < n; i++) {
		k = i % 4; j = int(i / 4)
		if (k == 0)      v = sprintf("172.%d.%d.%d", 16 + int(j / 65536) % 16, int(j / 256) % 256, j % 256)
		else if (k == 1) v = sprintf("c%d.csv.example", j)
		else if (k == 2) v = sprintf("b%031d", j)
		else             v = sprintf("c%063d", j)
		printf "%s,%s,%d,\"family%d;campaign%d\",2024-%02d-%02d\n", v, types[k + 1], i % 101,
			i % 50, i % 7, 1 + i % 12, 1 + i % 28
	}
}' >"$tmp/rows.csv"

run() {	# NAME FILE: imports FILE into a fresh database; sets secs, read, new, rejected
	local db="$tmp/$1.db" start end out
	# The generated values are private addresses: the built-in allow-list goes off first.
	"$cairn" allowlist disable builtin --db "$db" >/dev/null
	start=$(date +%s.%N)
	"$cairn" import --db "$db" --feed "bench-$1" "$2" >"$tmp/$1.out" &
	child=$!
	wait "$child"
	child=
	end=$(date +%s.%N)
	out=$(head -1 "$tmp/$1.out")
	echo "  $out"
	secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')
	read -r read new rejected < <(echo "$out" |
		sed -E 's/.*read ([0-9]+), new ([0-9]+), .*rejected ([0-9]+),.*/\1 \2 \3/')
	if [ "$read:$new:$rejected" != "$n:$n:0" ]; then
		echo "bench/import.sh: expected read $n, new $n, rejected 0 from $2" >&2
		exit 1
	fi
}

echo "== importing"
run txt "$tmp/list.txt"
t_txt=$secs
run csv "$tmp/rows.csv"
t_csv=$secs

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%d", (t > 0 ? n / t : 0) }'; }
pct() { awk -v r="$1" -v t="$target" 'BEGIN { printf "%.0f%%", 100 * r / t }'; }
rt=$(rate "$n" "$t_txt")
rc=$(rate "$n" "$t_csv")
echo
printf '%-6s %12s %10s %16s %10s\n' input indicators seconds "indicators/s" "of target"
printf '%-6s %12d %10s %16s %10s\n' txt "$n" "$t_txt" "$rt" "$(pct "$rt")"
printf '%-6s %12d %10s %16s %10s\n' csv "$n" "$t_csv" "$rc" "$(pct "$rc")"
echo "target: $target indicators/s"
