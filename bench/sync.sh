#!/usr/bin/env bash
# bench/sync.sh — STIX → ECS conversion speed: `cairn sync --once` of an NDJSON file of
# BENCH_N generated indicators (default 1,000,000) to a file, profile ecs; and, in the same run,
# a Python equivalent written for this benchmark (json plus the same mapping for these
# patterns: ecs.version, event.*, threat.indicator.* with the typed value, expiry from
# valid_until, the fingerprint id) over a slice (BENCH_PY_N, default 100,000), scaled to a rate.
# Prints indicators per second and per CPU second, and the ratio. A benchmark, not a test.
# Issue 6's target is 500,000 indicators a second per core.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-1000000}
pyn=${BENCH_PY_N:-100000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-sync.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== building build/cairn"
make -s -C "$root" build >/dev/null
cairn="$root/build/cairn"

echo "== generating $n indicators (NDJSON) and a $pyn-indicator slice"
python3 - "$n" "$pyn" "$tmp" <<'PY'
import json, random, sys, uuid
n, pyn, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(7)
with open(f"{tmp}/in.ndjson", "w") as out, open(f"{tmp}/slice.ndjson", "w") as sl:
    for i in range(n):
        k = i % 4
        if k == 0:
            pat = "[ipv4-addr:value = '%d.%d.%d.%d']" % (20 + i // 16777216, i // 65536 % 256, i // 256 % 256, i % 256)
        elif k == 1:
            pat = "[domain-name:value = 'h%d.bench-%d.example']" % (i, i % 977)
        elif k == 2:
            pat = "[file:hashes.'SHA-256' = '%064x']" % random.getrandbits(256)
        else:
            pat = "[url:value = 'http://u%d.bench.example/p/%d']" % (i, i % 13)
        o = {"type": "indicator", "spec_version": "2.1",
             "id": "indicator--%s" % uuid.UUID(int=random.getrandbits(128), version=4),
             "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
             "name": "bench %d" % i, "pattern": pat, "pattern_type": "stix",
             "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
             "confidence": 80, "labels": ["bench"]}
        line = json.dumps(o, separators=(",", ":")) + "\n"
        out.write(line)
        if i < pyn:
            sl.write(line)
PY

echo "== cairn sync --once, profile ecs, $n indicators"
/usr/bin/time -f "%e %U %S" -o "$tmp/time" "$cairn" sync --once --from "$tmp/in.ndjson" \
	--to "$tmp/out.ndjson" --feed-name bench 2>"$tmp/sync.err"
read -r c_wall c_user c_sys <"$tmp/time"
docs=$(wc -l <"$tmp/out.ndjson")
[ "$docs" -eq "$n" ] || { echo "bench/sync.sh: $docs documents for $n indicators" >&2; cat "$tmp/sync.err" >&2; exit 1; }

echo "== the Python equivalent, $pyn indicators"
cat >"$tmp/map.py" <<'PY'
import base64, hashlib, json, re, sys, time
from datetime import datetime, timezone
PAT = re.compile(r"^\[(ipv4-addr|domain-name|url|file):(value|hashes\.'SHA-256') = '(.*)'\]$")
def ts(s):
    return datetime.strptime(s.replace("Z", "+0000").replace(".000", ""), "%Y-%m-%dT%H:%M:%S%z")
def iso(d):
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
def mapone(line, out):
    o = json.loads(line)
    if o.get("type") != "indicator":
        return
    m = PAT.match(o["pattern"])
    kind, _, val = m.groups()
    ind = {"type": {"ipv4-addr": "ipv4-addr", "domain-name": "domain-name", "url": "url", "file": "file"}[kind],
           "confidence": "High" if o["confidence"] >= 70 else "Medium",
           "first_seen": iso(ts(o["valid_from"])), "modified_at": iso(ts(o["modified"])),
           "name": o.get("name")}
    if kind == "ipv4-addr":
        ind["ip"] = [val]
    elif kind == "domain-name":
        ind["url"] = {"domain": [val]}
    elif kind == "url":
        ind["url"] = {"original": [val], "full": [val]}
    else:
        ind["file"] = {"hash": {"sha256": [val]}}
    doc = {"@timestamp": iso(ts(o["created"])), "ecs": {"version": "8.17.0"},
           "event": {"category": ["threat"], "kind": "enrichment", "type": ["indicator"],
                     "original": line.rstrip("\n")},
           "threat": {"feed": {"name": "bench"}, "indicator": ind},
           "tags": o.get("labels", []),
           "stix": dict(o, ioc_expiration_date=iso(ts(o["valid_until"])),
                        ioc_expiration_reason="Expiration set from valid_until field")}
    fp = hashlib.sha1((o["created"] + "|" + o["id"] + "|" + o["pattern"] + "|" + o["modified"]).encode()).digest()
    doc["_id"] = base64.b64encode(fp).decode()
    out.write(json.dumps(doc, separators=(",", ":")) + "\n")
t0 = time.process_time()
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    n = 0
    for line in f:
        mapone(line, out)
        n += 1
print(n, f"{time.process_time() - t0:.3f}")
PY
read -r p_n p_cpu < <(python3 "$tmp/map.py" "$tmp/slice.ndjson" "$tmp/py.ndjson")

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
c_cpu=$(awk -v u="$c_user" -v s="$c_sys" 'BEGIN { print u + s }')
c_rate=$(rate "$n" "$c_wall")
c_cpu_rate=$(rate "$n" "$c_cpu")
p_rate=$(rate "$p_n" "$p_cpu")
echo
printf '%-8s %10s %12s %16s\n' tool indicators "per second" "per CPU second"
printf '%-8s %10s %12s %16s\n' cairn "$n" "$c_rate" "$c_cpu_rate"
printf '%-8s %10s %12s %16s\n' python "$p_n" "-" "$p_rate"
echo "cairn/python (per CPU second): $(awk -v a="$c_cpu_rate" -v b="$p_rate" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
echo "target: 500,000 indicators per second per core"
