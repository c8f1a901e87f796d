#!/usr/bin/env bash
# bench/api.sh — GET /api/v1/iocs?limit=100 from `cairn serve` against nginx serving the same
# bytes from a file, side by side with wrk. A benchmark, not a test: never run by `make check`.
#
#   bench/api.sh                 # 1,000,000 indicators
#   BENCH_N=100000 bench/api.sh  # a quicker run
#
# Needs wrk and nginx (Debian: apt-get install -y wrk nginx-light). Other knobs:
# BENCH_DURATION (default 10s), BENCH_CONNECTIONS (64), BENCH_THREADS (wrk threads, 2),
# BENCH_SERVER_THREADS (cairn --threads and nginx worker_processes, 2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-64}
wrk_threads=${BENCH_THREADS:-2}
server_threads=${BENCH_SERVER_THREADS:-2}
path='/api/v1/iocs?limit=100'

for tool in wrk nginx curl awk; do
	if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
		echo "bench/api.sh: $tool is missing (Debian: apt-get install -y wrk nginx-light curl)" >&2
		exit 1
	fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-api.XXXXXX")
chmod 755 "$tmp"	# nginx's workers (user nobody when started by root) read the answer file
cairn_pid=
nginx_pid=
cleanup() {
	local rc=$?
	for pid in "$cairn_pid" "$nginx_pid"; do
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() {	# URL PID: until it answers, or fail when the process dies
	for _ in $(seq 300); do
		if curl -s -o /dev/null "$1"; then return 0; fi
		kill -0 "$2" 2>/dev/null || { echo "bench/api.sh: the server exited" >&2; return 1; }
		sleep 0.1
	done
	echo "bench/api.sh: $1 did not answer" >&2
	return 1
}

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
db="$tmp/bench.db"

echo "== generating $n unique indicators (IPv4, domains, MD5, SHA-256)"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 4; j = int(i / 4)
		if (k == 0)      printf "10.%d.%d.%d\n", int(j / 65536) % 256, int(j / 256) % 256, j % 256
		else if (k == 1) printf "h%d.bench.example\n", j
		else if (k == 2) printf "%032d\n", j
		else             printf "a%063d\n", j
	}
}' >"$tmp/list.txt"

echo "== importing"
# The generated values are private addresses: turn the built-in allow-list off (docs/allowlists.md).
"$cairn" allowlist disable builtin --db "$db" >/dev/null
"$cairn" import --db "$db" --feed bench "$tmp/list.txt" | head -1

cat >"$tmp/cairn.yml" <<EOF
access_log: ""
tiers:
  pro:
    requests_per_minute: 100000000
    requests_per_day: 10000000000
EOF
key=$("$cairn" keys create --db "$db" --config "$tmp/cairn.yml" --tier pro --name bench)

cport=$(free_port)
"$cairn" serve --db "$db" --config "$tmp/cairn.yml" --listen "127.0.0.1:$cport" \
	--threads "$server_threads" >"$tmp/cairn.out" 2>"$tmp/cairn.err" &
cairn_pid=$!
wait_http "http://127.0.0.1:$cport/healthz" "$cairn_pid"
# Steady state: after a bulk import the server first adds the new records to the search
# index in the background; measure once that is done, as a long-running server would be.
echo "== waiting for the background search indexing"
for _ in $(seq 600); do
	pending=$(curl -sf "http://127.0.0.1:$cport/healthz" | sed -n 's/.*"search_index_pending":\([0-9]*\).*/\1/p')
	[ "$pending" = "0" ] && break
	sleep 1
done

# The bytes nginx will serve: one answer of cairn's, saved with its Content-Type.
curl -sf -H "Authorization: Bearer $key" -D "$tmp/headers" -o "$tmp/iocs.json" \
	"http://127.0.0.1:$cport$path"
ctype=$(awk -F': *' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$tmp/headers")
bytes=$(wc -c <"$tmp/iocs.json")
chmod 644 "$tmp/iocs.json"

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
worker_processes $server_threads;
daemon off;
master_process on;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$nport;
		location = /api/v1/iocs {
			default_type "$ctype";
			alias $tmp/iocs.json;
		}
	}
}
EOF
"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" \
	2>"$tmp/nginx/stderr" &
nginx_pid=$!
wait_http "http://127.0.0.1:$nport/api/v1/iocs" "$nginx_pid"
served=$(curl -sf -o /dev/null -w '%{size_download} %{content_type}' "http://127.0.0.1:$nport$path")
[ "$served" = "$bytes $ctype" ] || { echo "bench/api.sh: nginx serves '$served', expected '$bytes $ctype'" >&2; exit 1; }

run_wrk() {	# NAME URL [HEADER]
	local out="$tmp/wrk-$1.txt"
	if [ -n "${3:-}" ]; then
		wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency -H "$3" "$2" >"$out"
	else
		wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency "$2" >"$out"
	fi
	if grep -q "Non-2xx" "$out"; then
		echo "bench/api.sh: $1 answered errors:" >&2
		cat "$out" >&2
		exit 1
	fi
}

echo "== wrk -t$wrk_threads -c$conns -d$duration --latency, $bytes-byte answer ($ctype)"
run_wrk cairn "http://127.0.0.1:$cport$path" "Authorization: Bearer $key"
run_wrk nginx "http://127.0.0.1:$nport$path"

rps() { awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' "$tmp/wrk-$1.txt"; }
c_rps=$(rps cairn)
n_rps=$(rps nginx)
ratio=$(awk -v a="$c_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')

echo
printf '%-8s %14s %10s %10s %10s\n' server "requests/s" p50 p99 indicators
printf '%-8s %14s %10s %10s %10s\n' cairn "$c_rps" "$(pct cairn 50%)" "$(pct cairn 99%)" "$n"
printf '%-8s %14s %10s %10s %10s\n' nginx "$n_rps" "$(pct nginx 50%)" "$(pct nginx 99%)" "-"
echo "cairn/nginx: $ratio"
