#!/usr/bin/env bash
# bench/taxii.sh — the TAXII 2.1 server at scale. A benchmark, not a test: never run by
# `make check`. In one run:
#   1. 1,000,000 indicators are loaded; a client walks the `all` collection with
#      limit=1000 from the first page to the last (every object, `next` tokens), and the
#      objects per second and total time are printed (target: the walk under 20 s);
#   2. wrk fetches one page (limit=1000, after a fixed added_after) from cairn and the same
#      bytes from nginx (target: cairn ≥ 0.7 × nginx);
#   3. the OASIS reference server medallion (PyPI, memory backend, in a throw-away venv) is
#      loaded with the first BENCH_MEDALLION_N objects of that collection and walked the same
#      way, as is cairn over the same objects (target: cairn ≥ 100 × medallion).
#      BENCH_MEDALLION_N defaults to 5,000, not the 50,000 of issue 4: medallion's memory
#      backend looks every object of a page up in the whole manifest, so a page costs time
#      quadratic in the collection size — 2,000 objects take ~10 s a page here, and 50,000
#      would take hours. The ratio only grows with the size.
#
#   bench/taxii.sh                 # 1,000,000 indicators
#   BENCH_N=200000 bench/taxii.sh  # a quicker run
#
# Needs wrk, nginx and python3-venv (Debian: apt-get install -y wrk nginx-light curl
# python3-venv), and PyPI for medallion. Other knobs: BENCH_DURATION (10s),
# BENCH_CONNECTIONS (64), BENCH_THREADS (wrk threads, 2), BENCH_SERVER_THREADS (2),
# BENCH_MEDALLION_N (5000), MEDALLION_VERSION (3.0.0).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
duration=${BENCH_DURATION:-10s}
conns=${BENCH_CONNECTIONS:-64}
wrk_threads=${BENCH_THREADS:-2}
server_threads=${BENCH_SERVER_THREADS:-2}
med_n=${BENCH_MEDALLION_N:-5000}
med_version=${MEDALLION_VERSION:-3.0.0}

for tool in wrk nginx curl awk python3; do
	if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/usr/sbin/$tool" ]; then
		echo "bench/taxii.sh: $tool is missing (Debian: apt-get install -y wrk nginx-light curl python3-venv)" >&2
		exit 1
	fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-taxii.XXXXXX")
chmod 755 "$tmp"
pids=()
cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
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
	for _ in $(seq 600); do
		if curl -s -o /dev/null "$1"; then return 0; fi
		kill -0 "$2" 2>/dev/null || { echo "bench/taxii.sh: the server exited" >&2; return 1; }
		sleep 0.1
	done
	echo "bench/taxii.sh: $1 did not answer" >&2
	return 1
}

# The walking client: every page of a collection, following `next`, checking that
# date_added only grows and that no object comes twice. Prints objects, pages, seconds.
cat >"$tmp/walk.py" <<'EOF'
import base64, json, sys, time, urllib.parse, urllib.request
url, user, password, limit, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
seen, pages, nxt, last, keep = set(), 0, None, "", []
t0 = time.monotonic()
while True:
    q = {"limit": limit}
    if nxt:
        q["next"] = nxt
    req = urllib.request.Request(url + "?" + urllib.parse.urlencode(q),
                                 headers={"Authorization": auth, "Accept": "application/taxii+json;version=2.1"})
    with urllib.request.urlopen(req) as r:
        page = json.loads(r.read())
        first = r.headers.get("X-TAXII-Date-Added-First") or ""
    pages += 1
    for o in page.get("objects", []):
        key = (o["id"], o.get("modified", ""))
        assert key not in seen, f"{key} served twice"
        seen.add(key)
        if stop and len(keep) < stop:
            keep.append(o)
    assert not first or first > last, "date_added went backwards"
    last = first or last
    if not page.get("more") or (stop and len(seen) >= stop):
        break
    nxt = page["next"]
dt = time.monotonic() - t0
print(len(seen), pages, f"{dt:.3f}")
if stop:
    json.dump(keep, open(sys.argv[6], "w"))
EOF

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"
db="$tmp/bench.db"

echo "== generating and importing $n unique indicators (IPv4, domains, MD5, SHA-256)"
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) {
		k = i % 4; j = int(i / 4)
		if (k == 0)      printf "10.%d.%d.%d\n", int(j / 65536) % 256, int(j / 256) % 256, j % 256
		else if (k == 1) printf "h%d.bench.example\n", j
		else if (k == 2) printf "%032d\n", j
		else             printf "a%063d\n", j
	}
}' >"$tmp/list.txt"
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
pids+=($!)
wait_http "http://127.0.0.1:$cport/healthz" "${pids[-1]}"
objects="http://127.0.0.1:$cport/api/taxii2/api/collections/all/objects/"

echo "== walking the all collection, limit=1000"
read -r c_n c_pages c_s < <(python3 "$tmp/walk.py" "$objects" apikey "$key" 1000 0)
[ "$c_n" -eq "$n" ] || { echo "bench/taxii.sh: the walk saw $c_n objects, expected $n" >&2; exit 1; }

echo "== one page (limit=1000) from cairn and from nginx"
# A page from the middle: after the date_added of the 1000th object.
after=$(curl -sf -u "apikey:$key" -D - -o /dev/null "$objects?limit=1000" |
	sed -n 's/^x-taxii-date-added-last: *//Ip' | tr -d '\r')
page_q="limit=1000&added_after=$after"
curl -sf -u "apikey:$key" -D "$tmp/headers" -o "$tmp/page.json" "$objects?$page_q"
ctype=$(awk -F': *' 'tolower($1) == "content-type" { sub(/\r$/, "", $2); print $2 }' "$tmp/headers")
bytes=$(wc -c <"$tmp/page.json")
chmod 644 "$tmp/page.json"
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
		location = /page {
			default_type "$ctype";
			alias $tmp/page.json;
		}
	}
}
EOF
"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/stderr" &
pids+=($!)
wait_http "http://127.0.0.1:$nport/page" "${pids[-1]}"
auth="Authorization: Basic $(printf 'apikey:%s' "$key" | base64 -w0)"
run_wrk() {	# NAME URL [HEADER]
	local out="$tmp/wrk-$1.txt"
	wrk -t"$wrk_threads" -c"$conns" -d"$duration" --latency ${3:+-H "$3"} "$2" >"$out"
	if grep -q "Non-2xx" "$out"; then
		echo "bench/taxii.sh: $1 answered errors:" >&2
		cat "$out" >&2
		exit 1
	fi
}
run_wrk cairn "$objects?$page_q" "$auth"
run_wrk nginx "http://127.0.0.1:$nport/page"
rps() { awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk-$1.txt"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' "$tmp/wrk-$1.txt"; }

echo "== medallion $med_version (memory backend) with the first $med_n objects"
python3 -m venv "$tmp/venv" >/dev/null
"$tmp/venv/bin/pip" install -q --disable-pip-version-check "medallion==$med_version"
read -r _ _ _ < <(python3 "$tmp/walk.py" "$objects" apikey "$key" 1000 "$med_n" "$tmp/first.json")
mport=$(free_port)
python3 - "$tmp/first.json" "$tmp/medallion-data.json" "$mport" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))
base = f"http://127.0.0.1:{sys.argv[3]}/bench/"
def stamp(i):	# distinct, increasing date_added, as cairn gives them
    s, us = divmod(i, 1000000)
    return f"2026-01-01T00:{s // 60:02d}:{s % 60:02d}.{us:06d}Z"
manifest = [{"id": o["id"], "date_added": stamp(i), "version": o.get("modified", o.get("created")),
             "media_type": "application/stix+json;version=2.1"} for i, o in enumerate(objs)]
coll = {"id": "41105b76-00fd-42b2-9671-86470f727d96", "title": "all", "can_read": True, "can_write": False,
        "media_types": ["application/stix+json;version=2.1"], "objects": objs, "manifest": manifest}
data = {"/discovery": {"title": "bench", "default": base, "api_roots": [base]},
        "bench": {"information": {"title": "bench", "versions": ["application/taxii+json;version=2.1"],
                                  "max_content_length": 104857600},
                  "status": [], "collections": [coll]}}
json.dump(data, open(sys.argv[2], "w"))
EOF
cat >"$tmp/medallion.json" <<EOF
{"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
             "filename": "$tmp/medallion-data.json", "session_timeout": 3600},
 "users": {"bench": "bench"}, "taxii": {"max_page_size": 1000}}
EOF
"$tmp/venv/bin/medallion" --host 127.0.0.1 --port "$mport" "$tmp/medallion.json" >"$tmp/medallion.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$mport/taxii2/" "${pids[-1]}"
read -r m_n m_pages m_s < <(python3 "$tmp/walk.py" \
	"http://127.0.0.1:$mport/bench/collections/41105b76-00fd-42b2-9671-86470f727d96/objects/" bench bench 1000 0)
[ "$m_n" -eq "$med_n" ] || { echo "bench/taxii.sh: medallion served $m_n objects, expected $med_n" >&2; exit 1; }
read -r c50_n _ c50_s < <(python3 "$tmp/walk.py" "$objects" apikey "$key" 1000 "$med_n" "$tmp/again.json")

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
c_rate=$(rate "$c_n" "$c_s")
m_rate=$(rate "$m_n" "$m_s")
c50_rate=$(rate "$c50_n" "$c50_s")
echo
echo "walk of the all collection, limit=1000 (client: python3, json parsed, duplicates checked)"
printf '%-10s %10s %8s %10s %14s\n' server objects pages seconds "objects/s"
printf '%-10s %10s %8s %10s %14s\n' cairn "$c_n" "$c_pages" "$c_s" "$c_rate"
printf '%-10s %10s %8s %10s %14s\n' cairn "$c50_n" "$m_pages" "$c50_s" "$c50_rate"
printf '%-10s %10s %8s %10s %14s\n' medallion "$m_n" "$m_pages" "$m_s" "$m_rate"
echo "full walk of $c_n objects: $c_s s (target < 20 s)"
echo "cairn/medallion (first $med_n objects): $(ratio "$c50_rate" "$m_rate") (target >= 100)"
echo
echo "one page, $bytes bytes ($ctype): wrk -t$wrk_threads -c$conns -d$duration"
printf '%-8s %14s %10s %10s\n' server "requests/s" p50 p99
printf '%-8s %14s %10s %10s\n' cairn "$(rps cairn)" "$(pct cairn 50%)" "$(pct cairn 99%)"
printf '%-8s %14s %10s %10s\n' nginx "$(rps nginx)" "$(pct nginx 50%)" "$(pct nginx 99%)"
echo "cairn/nginx: $(ratio "$(rps cairn)" "$(rps nginx)") (target >= 0.7)"
