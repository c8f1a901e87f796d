#!/usr/bin/env bash
# bench/allowlist.sh — allow-lists at a million entries: how long a list takes to load and what
# one lookup costs, against the targets of under a second and under a microsecond. Three lists:
# generated domains (a plain list), generated IPv4 addresses and ranges (a MISP cidr list), and,
# when the test venv has pymispwarninglists, the published Tranco top-million list as it is.
# A benchmark, not a test: never run by `make check`.
#
#   bench/allowlist.sh                 # 1,000,000 entries, 1,000,000 lookups
#   BENCH_N=100000 bench/allowlist.sh  # a quicker run
#
# "add" is `cairn allowlist add` end to end (read, parse, build, store the text, the pass over
# an empty database); "build" is the matcher alone, as every process builds it from the
# database (`cairn allowlist check --stats` prints it); lookups are timed in a loop over values
# made canonical beforehand, half of them on the list.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-allowlist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"

echo "== generating $n-entry lists and $n values to look up"
# Domains: n registered names; lookups are subdomains of listed names and unlisted names.
awk -v n="$n" 'BEGIN {
	for (i = 0; i < n; i++) printf "site%d-%x.example\n", i, i * 7919
}' >"$tmp/domains.txt"
awk -v n="$n" 'BEGIN {
	srand(7)
	for (i = 0; i < n; i++) {
		j = int(rand() * n)
		if (i % 2) printf "www.cdn.site%d-%x.example\n", j, j * 7919
		else       printf "site%d-%x.example.net\n", j, j * 7919
	}
}' >"$tmp/domains.lookup"
# Addresses: n entries of a MISP cidr list, one in 16 a /24 range, the rest single addresses.
awk -v n="$n" 'BEGIN {
	printf "{\"name\": \"bench\", \"version\": 1, \"description\": \"generated\", \"type\": \"cidr\",\n"
	printf " \"matching_attributes\": [\"ip-src\", \"ip-dst\"], \"list\": [\n"
	for (i = 0; i < n; i++) {
		a = 11 + int(i / 65536) % 200; b = int(i / 256) % 256; c = i % 256
		if (i % 16 == 0) printf "%s\"%d.%d.%d.0/24\"", (i ? ",\n" : ""), 100 + a % 100, b, c
		else             printf "%s\"%d.%d.%d.%d\"", (i ? ",\n" : ""), a, b, c, (i * 13) % 256
	}
	printf "]}\n"
}' >"$tmp/cidr.json"
awk -v n="$n" 'BEGIN {
	srand(11)
	for (i = 0; i < n; i++) {
		j = int(rand() * n)
		a = 11 + int(j / 65536) % 200; b = int(j / 256) % 256; c = j % 256
		if (i % 2) printf "%d.%d.%d.%d\n", a, b, c, (j * 13) % 256
		else       printf "%d.%d.%d.%d\n", 220 + a % 20, b, c, j % 256
	}
}' >"$tmp/cidr.lookup"

tranco=$(ls "$root"/.venv/lib/python3*/site-packages/pymispwarninglists/data/misp-warninglists/lists/tranco/list.json 2>/dev/null | head -1 || true)
if [ -n "$tranco" ]; then
	python3 - "$tranco" "$n" >"$tmp/tranco.lookup" <<'EOF'
import json, random, sys
names = json.load(open(sys.argv[1]))["list"]
random.seed(3)
for i in range(int(sys.argv[2])):
    d = random.choice(names).lstrip(".")
    print(f"login.{d}" if i % 2 else f"{d}.invalid-bench")
EOF
fi

results=()
run() {	# NAME LIST LOOKUPS
	local db="$tmp/$1.db" start end add out err
	"$cairn" allowlist disable builtin --db "$db" >/dev/null
	start=$(date +%s.%N)
	out=$("$cairn" allowlist add --db "$db" "$1" "$2")
	end=$(date +%s.%N)
	add=$(echo "$end - $start" | bc)
	echo "$out" | head -1
	err=$("$cairn" allowlist check --stats --db "$db" - <"$3" 2>&1 >"$tmp/$1.check")
	echo "  $(cat "$tmp/$1.check")"
	echo "  $err"
	# "… entries E, matcher built in B s; N lookups in T s: R lookups/s, P ns per lookup"
	local entries build rate ns
	entries=$(echo "$err" | sed -n 's/.*entries \([0-9]*\),.*/\1/p')
	build=$(echo "$err" | sed -n 's/.*built in \([0-9.]*\) s.*/\1/p')
	rate=$(echo "$err" | sed -n 's/.*: \([0-9]*\) lookups\/s.*/\1/p')
	ns=$(echo "$err" | sed -n 's/.* \([0-9]*\) ns per lookup.*/\1/p')
	results+=("$(printf '%-9s %10s %9.3f %9.3f %14s %10s' "$1" "$entries" "$add" "$build" "$rate" "$ns")")
}

echo "== domains (plain list)"
run domains "$tmp/domains.txt" "$tmp/domains.lookup"
echo "== addresses and ranges (MISP cidr list)"
run cidr "$tmp/cidr.json" "$tmp/cidr.lookup"
if [ -n "$tranco" ]; then
	echo "== Tranco top million (MISP hostname list, as published)"
	run tranco "$tranco" "$tmp/tranco.lookup"
fi

echo
printf '%-9s %10s %9s %9s %14s %10s\n' list entries "add s" "build s" "lookups/s" "ns/lookup"
for r in "${results[@]}"; do echo "$r"; done
echo "targets: a million-entry list loads in under 1 s; a lookup costs under 1000 ns"
