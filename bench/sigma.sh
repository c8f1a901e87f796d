#!/usr/bin/env bash
# bench/sigma.sh — GET /api/v1/iocs/sigma: server time per export (from the access log's
# duration_ms) for exports of 100 to 10,000 rules, one rule per indicator and grouped, and the
# server's resident memory (VmRSS) after each export, to show that the footprint does not grow
# with the export size or the number of exports. Target: a 10,000-rule export under 100 ms.
# A benchmark, not a test: never run by `make check`.
#
#   bench/sigma.sh                  # 50,000 indicators in the store, 5 runs per size
#   BENCH_N=20000 BENCH_RUNS=3 bench/sigma.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-50000}
runs=${BENCH_RUNS:-5}
sizes=${BENCH_SIZES:-"100 1000 5000 10000"}

for tool in curl awk python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "bench/sigma.sh: $tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-sigma.XXXXXX")
cairn_pid=
cleanup() {
	local rc=$?
	if [ -n "$cairn_pid" ] && kill -0 "$cairn_pid" 2>/dev/null; then
		kill -TERM "$cairn_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$cairn_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$cairn_pid" 2>/dev/null || true
		wait "$cairn_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
db="$tmp/bench.db"

echo "== generating $n indicators (IPv4, domains, URLs, SHA-256) with techniques and tags"
awk -v n="$n" 'BEGIN {
	print "value,type,confidence,mitre_techniques,tags,context"
	for (i = 0; i < n; i++) {
		k = i % 4; j = int(i / 4)
		if (k == 0)      printf "10.%d.%d.%d,ipv4,high,T1071.001,c2;bench,Command and control %d\n", int(j / 65536) % 256, int(j / 256) % 256, j % 256, j
		else if (k == 1) printf "h%d.bench.example,domain,medium,T1566.002,phishing,Phishing host %d\n", j, j
		else if (k == 2) printf "\"http://u%d.bench.example/dl/%d.php?id=%d&x=*\",url,low,T1105,dropper,Payload %d\n", j, j % 97, j, j
		else             printf "a%063d,sha256,high,T1204.002;T1059.001,malware,Sample %d\n", j, j
	}
}' >"$tmp/feed.csv"

echo "== importing"
# The generated values are private addresses: turn the built-in allow-list off (docs/allowlists.md).
"$cairn" allowlist disable builtin --db "$db" >/dev/null
"$cairn" import --db "$db" --feed bench "$tmp/feed.csv" | head -1

cat >"$tmp/cairn.yml" <<EOF
access_log: "$tmp/access.log"
tiers:
  pro:
    requests_per_minute: 100000000
    requests_per_day: 10000000000
EOF
key=$("$cairn" keys create --db "$db" --config "$tmp/cairn.yml" --tier pro --name bench)
port=$(free_port)
"$cairn" serve --db "$db" --config "$tmp/cairn.yml" --listen "127.0.0.1:$port" --threads 1 \
	>"$tmp/cairn.out" 2>"$tmp/cairn.err" &
cairn_pid=$!
for _ in $(seq 300); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	kill -0 "$cairn_pid" 2>/dev/null || { echo "bench/sigma.sh: the server exited" >&2; exit 1; }
	sleep 0.1
done
echo "== waiting for the background search indexing"
for _ in $(seq 600); do
	pending=$(curl -sf "http://127.0.0.1:$port/healthz" | sed -n 's/.*"search_index_pending":\([0-9]*\).*/\1/p')
	[ "$pending" = "0" ] && break
	sleep 1
done

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$cairn_pid/status"; }
rss_start=$(rss_kb)

# One export; prints "duration_ms bytes rules rss_kb".
one() {
	local query=$1
	curl -sf -H "Authorization: Bearer $key" -D "$tmp/h" -o "$tmp/out.yml" "http://127.0.0.1:$port/api/v1/iocs/sigma?$query"
	local rules ms
	rules=$(awk -F': *' 'tolower($1) == "x-rule-count" { sub(/\r$/, "", $2); print $2 }' "$tmp/h")
	ms=$(tail -1 "$tmp/access.log" | sed -n 's/.*"duration_ms":\([0-9.]*\).*/\1/p')
	echo "$ms $(wc -c <"$tmp/out.yml") $rules $(rss_kb)"
}

printf "\n%-34s %8s %10s %12s %12s %12s\n" "export" "rules" "bytes" "median ms" "rules/s" "RSS after"
for mode in single grouped; do
	for size in $sizes; do
		q="limit=$size"
		[ "$mode" = grouped ] && q="$q&group=type"
		one "$q" >/dev/null	# warm the page cache
		: >"$tmp/runs"
		for _ in $(seq "$runs"); do one "$q" >>"$tmp/runs"; done
		sort -n "$tmp/runs" | awk -v mode="$mode" -v size="$size" -v runs="$runs" '
			{ ms[NR] = $1; bytes = $2; rules = $3; rss = $4 }
			END {
				med = ms[int((runs + 1) / 2)]
				printf "%-34s %8d %10d %12.1f %12.0f %9.1f MiB\n", mode " limit=" size, rules, bytes, med,
				       (mode == "single" ? rules : size) / (med / 1000), rss / 1024
			}'
	done
done

echo
echo "== resident memory over 20 more exports of 10,000 rules"
for i in $(seq 20); do one "limit=10000" >/dev/null; done
printf "VmRSS: %.1f MiB before the exports, %.1f MiB after all of them (peak VmHWM %s)\n" \
	"$(echo "$rss_start / 1024" | bc -l)" "$(echo "$(rss_kb) / 1024" | bc -l)" \
	"$(awk '/^VmHWM:/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$cairn_pid/status")"
echo "target: limit=10000 (single) under 100 ms of server time"
