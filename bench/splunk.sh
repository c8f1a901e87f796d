#!/usr/bin/env bash
# bench/splunk.sh — the Splunk ES threat-intel CSV (`cairn export --format splunk --kind K`) of
# BENCH_N indicators (default 1,000,000; a fifth each IPv4, domain, URL, MD5, SHA-256): rows a
# second (wall and CPU) and peak anonymous memory per kind. A benchmark, not a test: never run
# by `make check`.
#
#   bench/splunk.sh                 # 1,000,000 indicators
#   BENCH_N=100000 bench/splunk.sh  # a quicker run
#
# Needs GNU time (Debian: apt-get install -y time).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
if ! command -v /usr/bin/time >/dev/null 2>&1; then
	echo "bench/splunk.sh: /usr/bin/time is missing (Debian: apt-get install -y time)" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-splunk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
db="$tmp/bench.db"

echo "== generating and importing $n indicators"
awk -v n="$n" 'BEGIN {
	print "value,type,confidence,context"
	for (i = 0; i < n; i++) {
		k = i % 5; j = int(i / 5)
		if (k == 0)      v = sprintf("10.%d.%d.%d,ipv4", int(j / 65536) % 256, int(j / 256) % 256, j % 256)
		else if (k == 1) v = sprintf("h%d.bench.example,domain", j)
		else if (k == 2) v = sprintf("http://u%d.bench.example/p/%d?a=b,url", j, j % 97)
		else if (k == 3) v = sprintf("%032x,md5", j)
		else             v = sprintf("a%063x,sha256", j)
		printf "%s,%s,\"context %d, with a comma and \"\"quotes\"\"\"\n", v, (i % 3 ? "high" : "medium"), i % 1000
	}
}' >"$tmp/bench.csv"
"$cairn" import --db "$db" --feed bench "$tmp/bench.csv" | head -1

printf "\n%-8s %10s %12s %12s %11s %13s\n" "kind" "rows" "per wall s" "per CPU s" "MB written" "peak RSS MB"
for k in ip domain file url email; do
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$cairn" export --db "$db" --format splunk --kind "$k" \
		-o "$tmp/out.csv" 2>/dev/null
	read -r wall user sys maxrss <"$tmp/time"
	rows=$(($(wc -l <"$tmp/out.csv") - 1))
	awk -v k="$k" -v r="$rows" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v b="$(stat -c %s "$tmp/out.csv")" \
		-v m="$maxrss" 'BEGIN { printf "%-8s %10d %12.0f %12.0f %11.1f %13.1f\n", k, r, (w > 0 ? r / w : 0),
		(c > 0 ? r / c : 0), b / 1e6, m / 1024 }'
done
echo "(peak memory is GNU time's maximum resident set: SQLite's mapped pages included)"
