#!/bin/sh
# Run one libFuzzer target for a bounded time on its seeds; exit non-zero on any crash, leak,
# sanitizer report or timeout, and print the input that caused it.
#   run.sh FUZZER SECONDS SEED_DIR...
# Seeds are copied to a scratch corpus first, so the committed seeds never grow.
set -eu
fuzzer=$1
seconds=$2
shift 2
name=$(basename "$fuzzer")
work=$(mktemp -d "${TMPDIR:-/tmp}/buri-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/corpus" "$work/artifacts"
for d in "$@"; do
	[ -d "$d" ] && cp -r "$d"/. "$work/corpus/" 2>/dev/null || true
done
seeds=$(ls "$work/corpus" | wc -l)

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1 || status=$?

execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1)
if [ "$status" -ne 0 ]; then
	echo "$name: FAILED (exit $status) after ${execs:-?} runs from $seeds seeds"
	tail -n 60 "$work/log"
	for a in "$work"/artifacts/*; do
		[ -f "$a" ] || continue
		echo "input that failed ($(basename "$a")):"
		od -A d -t x1 "$a" | head -n 40
	done
	exit 1
fi
echo "$name: ok, ${execs:-?} runs in ${seconds} s from $seeds seeds, ${cov:-cov: ?}"
