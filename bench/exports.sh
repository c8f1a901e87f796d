#!/usr/bin/env bash
# bench/exports.sh — the record-at-a-time exports (txt, hosts, rpz, cef, syslog, openioc) of
# BENCH_N indicators (default 1,000,000): for each format, indicators per second and peak
# memory of `cairn export` (streamed to a file), then the same formats served by `cairn serve`
# page by page (10,000 records a request, following X-Next-Cursor) with the server's resident
# memory before and after. A benchmark, not a test: never run by `make check`.
#
# Memory is reported as two parts of the resident set: anonymous memory (RssAnon: heap,
# buffers — what an export that did not stream would grow) and file pages (RssFile: SQLite
# maps the database, up to 1 GiB per connection, so pages it reads count as resident while
# the kernel may drop them at any time).
#
#   bench/exports.sh                 # 1,000,000 indicators
#   BENCH_N=100000 bench/exports.sh  # a quicker run
#
# Needs curl and GNU time (Debian: apt-get install -y curl time).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
formats=(txt hosts rpz cef syslog openioc)

for tool in curl awk /usr/bin/time; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "bench/exports.sh: $tool is missing (Debian: apt-get install -y curl time)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-exports.XXXXXX")
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

now() { date +%s.%N; }
rss_kib() { awk -v k="${2:-RssAnon}:" '$1 == k { print $2 }' "/proc/$1/status"; }

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
db="$tmp/bench.db"

echo "== generating and importing $n unique indicators (IPv4, domains, URLs, MD5, SHA-256)"
awk -v n="$n" 'BEGIN {
	print "value,type,confidence,context,tags"
	for (i = 0; i < n; i++) {
		k = i % 5; j = int(i / 5)
		if (k == 0)      v = sprintf("10.%d.%d.%d,ipv4", int(j / 65536) % 256, int(j / 256) % 256, j % 256)
		else if (k == 1) v = sprintf("h%d.bench.example,domain", j)
		else if (k == 2) v = sprintf("http://u%d.bench.example/p/%d?a=b|c,url", j, j % 97)
		else if (k == 3) v = sprintf("%032x,md5", j)
		else             v = sprintf("a%063x,sha256", j)
		printf "%s,%s,\"bench context %d, with = and |\",bench;tag%d\n", v, (i % 3 ? "high" : "medium"), i % 1000, i % 7
	}
}' >"$tmp/bench.csv"
# The generated values are private addresses: turn the built-in allow-list off (docs/allowlists.md).
"$cairn" allowlist disable builtin --db "$db" >/dev/null
"$cairn" import --db "$db" --feed bench "$tmp/bench.csv" | head -1

echo "== cairn export (streamed to a file)"
echo "(per second of wall time, and per second of CPU time, which other load on the machine"
echo " disturbs less; target 500,000 a second for the line formats)"
printf "\n%-10s %12s %12s %11s %13s %13s\n" "format" "per wall s" "per CPU s" "MB written" "peak anon MB" "peak file MB"
for f in "${formats[@]}"; do
	/usr/bin/time -f "%e %U %S" -o "$tmp/time.$f" "$cairn" export --db "$db" --format "$f" -o "$tmp/out.$f" 2>/dev/null &
	tpid=$!
	anon=0 file=0
	while kill -0 "$tpid" 2>/dev/null; do	# peak memory of cairn, sampled every 20 ms
		pid=$(pgrep -P "$tpid" || true)
		if [ -n "$pid" ]; then
			a=$(rss_kib "$pid" RssAnon 2>/dev/null || true) m=$(rss_kib "$pid" RssFile 2>/dev/null || true)
			[ "${a:-0}" -gt "$anon" ] && anon=$a
			[ "${m:-0}" -gt "$file" ] && file=$m
		fi
		sleep 0.02
	done
	wait "$tpid"
	read -r wall user sys <"$tmp/time.$f"
	awk -v f="$f" -v n="$n" -v w="$wall" -v c="$(echo "$user + $sys" | bc)" -v bytes="$(stat -c %s "$tmp/out.$f")" \
		-v a="$anon" -v m="$file" \
		'BEGIN { printf "%-10s %12.0f %12.0f %11.1f %13.1f %13.1f\n", f, n / w, n / c, bytes / 1e6, a / 1024, m / 1024 }'
	rm -f "$tmp/out.$f"
done

echo
echo "== cairn serve: every record, 10,000 a request, following X-Next-Cursor"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/cairn.yml" <<YML
tiers:
  pro:
    requests_per_minute: 100000
    requests_per_day: 10000000
YML
key=$("$cairn" keys create --db "$db" --config "$tmp/cairn.yml" --tier pro --name bench)
"$cairn" serve --db "$db" --config "$tmp/cairn.yml" --listen "127.0.0.1:$port" --threads 2 >/dev/null 2>"$tmp/serve.err" &
cairn_pid=$!
for _ in $(seq 300); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	kill -0 "$cairn_pid" 2>/dev/null || { cat "$tmp/serve.err" >&2; exit 1; }
	sleep 0.1
done
base="http://127.0.0.1:$port"
rss0=$(rss_kib "$cairn_pid")
echo "(two rounds: the first fills SQLite's page cache, 64 MiB per connection, and the answer"
echo " cache; the second shows memory flat once they are full)"
printf "\n%-12s %12s %9s %20s %20s\n" "format" "per wall s" "requests" "server anon MB" "server file MB"
for round in 1 2; do
for f in "${formats[@]}"; do
	case $f in
	cef) path="/api/v1/iocs/cef?limit=10000" ;;
	syslog) path="/api/v1/iocs/cef?format=syslog&limit=10000" ;;
	openioc) path="/api/v1/iocs/openioc?limit=10000" ;;
	*) path="/api/v1/iocs?format=$f&limit=10000" ;;
	esac
	before=$(rss_kib "$cairn_pid") fbefore=$(rss_kib "$cairn_pid" RssFile)
	start=$(now)
	cursor=
	requests=0
	while :; do
		url="$base$path"
		[ -n "$cursor" ] && url="$url&cursor=$cursor"
		cursor=$(curl -s -o /dev/null -D - -H "Authorization: Bearer $key" "$url" |
			 awk 'tolower($1) == "x-next-cursor:" { sub(/\r$/, "", $2); print $2 }')
		requests=$((requests + 1))
		[ -n "$cursor" ] || break
	done
	secs=$(echo "$(now) - $start" | bc)
	after=$(rss_kib "$cairn_pid") fafter=$(rss_kib "$cairn_pid" RssFile)
	awk -v f="$f" -v n="$n" -v s="$secs" -v r="$requests" -v b="$before" -v a="$after" -v fb="$fbefore" -v fa="$fafter" \
		-v round="$round" \
		'BEGIN { printf "%-12s %12.0f %9d %9.1f -> %6.1f %11.1f -> %6.1f\n", f " (" round ")", n / s, r, b / 1024, a / 1024, fb / 1024, fa / 1024 }'
done
done
awk -v b="$rss0" -v a="$(rss_kib "$cairn_pid")" \
	'BEGIN { printf "\nserver anonymous memory before the first export %.1f MB, after the last %.1f MB\n", b / 1024, a / 1024 }'
