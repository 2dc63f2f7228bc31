#!/bin/sh
# The whole buri test suite, runnable as root on a fresh Debian 12 machine:
#   tools/check.sh
# 1. installs missing Debian packages (tools/deps.sh), and reserves 256 hugepages of 2 MiB for
#    the data plane tests if fewer are free (given back at the end),
# 2. builds with gcc and -Werror, runs the unit, dp (DPDK in one process, --no-huge),
#    integration (the mediator over loopback, two data planes in network namespaces),
#    stack (a mediator and three nodes behind NATs), interop and lint suites,
# 3. builds with clang, AddressSanitizer and UndefinedBehaviorSanitizer, runs the unit and
#    integration suites (the mediator under the sanitizers too),
# 4. builds the libFuzzer targets (clang + ASan + UBSan) and runs each for FUZZ_SECONDS (20).
# Build directories live under BURI_BUILD (default: .build/ in the checkout).
# Exit status is non-zero if anything failed; the summary at the end says what.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
out=${BURI_BUILD:-$top/.build}
fuzz_seconds=${FUZZ_SECONDS:-20}

step() { printf '\n==== %s\n' "$*"; }

setup() { # setup DIR [meson options...]: configure DIR, reusing it when it exists
	dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

step "dependencies"
tools/deps.sh

step "hugepages"
huge_added=0
free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
if [ "$free" -lt 256 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	huge_added=$((256 - free))
	echo $(($(cat /proc/sys/vm/nr_hugepages) + huge_added)) >/proc/sys/vm/nr_hugepages
fi
give_back() {
	[ "$huge_added" -gt 0 ] &&
		echo $(($(cat /proc/sys/vm/nr_hugepages) - huge_added)) >/proc/sys/vm/nr_hugepages
	return 0
}
trap give_back EXIT
echo "$(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free 2 MiB pages"

failed=""

step "gcc build (-Werror), unit + dp + integration + stack + interop + lint suites"
CC=gcc setup "$out/gcc" --werror
ninja -C "$out/gcc"
meson test -C "$out/gcc" --print-errorlogs --no-rebuild --suite unit --suite dp --suite integration --suite stack --suite interop --suite lint ||
	failed="$failed gcc"

step "clang build with ASan + UBSan, unit + dp + integration suites"
CC=clang setup "$out/asan" --werror -Db_sanitize=address,undefined -Db_lundef=false \
	-Dc_args=-fno-sanitize-recover=all
ninja -C "$out/asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C "$out/asan" --print-errorlogs --no-rebuild --suite unit --suite dp --suite integration || failed="$failed asan"

step "libFuzzer targets, ${fuzz_seconds} s each"
CC=clang setup "$out/fuzz" -Dfuzz=true -Dfuzz_seconds="$fuzz_seconds" \
	-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all
ninja -C "$out/fuzz"
meson test -C "$out/fuzz" --print-errorlogs --no-rebuild --suite fuzz || failed="$failed fuzz"
grep -hE '^fuzz_[a-z_]+: ' "$out/fuzz/meson-logs/testlog.txt" || true

step "summary"
if [ -n "$failed" ]; then
	echo "FAILED:$failed (the logs above say which tests)"
	exit 1
fi
echo "all suites passed"
