#!/bin/sh
# The latency and CPU cost of the data plane's idle back-off (docs/BENCHMARKS.md), root:
#   tools/bench/dp_latency.sh BUILD_DIR [PINGS]
# Two data planes back to back (tests/harness/dprig.sh); for each polling setting, one run:
# the CPU time an idle worker pair burns over 5 s, then PINGS pings over the overlay at 20 ms
# intervals (so the workers fall idle between them, the case the back-off costs) with the
# median and 99th percentile round trip. A's worker runs on core 1, B's on core 0.
set -u
build=$1
count=${2:-300}
dp=$build/dataplane/buri-dataplane
ctl=$build/tools/buri-dpctl
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tests/harness/dprig.sh"

cpu_ticks() { # pid: utime + stime
	awk '{print $14 + $15}' "/proc/$1/stat"
}

measure() { # label poll-line
	rig_init
	rig_poll "$2"
	# each worker on its own core (busy polling would otherwise time-share one)
	rig_lcores 'lcores = { main = 0; workers = [1]; };' 'lcores = { main = 1; workers = [0]; };'
	if ! rig_up || ! rig_sas; then
		echo "$1: the data planes did not come up" >&2
		rig_cleanup
		return 1
	fi
	inA ping -c 3 -i 0.2 -W 2 100.64.0.2 >/dev/null # next hops resolved
	sleep 1
	a0=$(cpu_ticks "$pidA")
	b0=$(cpu_ticks "$pidB")
	sleep 5
	a1=$(cpu_ticks "$pidA")
	b1=$(cpu_ticks "$pidB")
	hz=$(getconf CLK_TCK)
	inA ping -c "$count" -i 0.02 -W 2 100.64.0.2 >"$dir/ping.out" 2>&1
	python3 - "$1" "$dir/ping.out" "$(((a1 - a0) * 100 / hz / 5))" "$(((b1 - b0) * 100 / hz / 5))" <<'PY'
import re, statistics, sys
label, path, cpu_a, cpu_b = sys.argv[1:5]
t = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", open(path).read()))
if not t:
    sys.exit(label + ": no replies")
p99 = t[min(len(t) - 1, int(len(t) * 0.99))]
print(f"{label:34s} {cpu_a:>4s}% {cpu_b:>4s}%  {len(t):4d}  {statistics.median(t):7.3f} {p99:7.3f}")
PY
	rig_cleanup
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $count pings at 20 ms intervals; CPU of each idle data plane process over 5 s"
printf '%-34s %5s %5s  %4s  %7s %7s\n' "polling" "cpu A" "cpu B" "rtts" "med ms" "p99 ms"
measure "busy poll" 'poll = { busy = true; };'
measure "back-off, 1 us..1000 us" 'poll = { busy = false; idle_polls = 512; sleep_max_us = 1000; };'
measure "back-off, 1 us..500 us (default)" 'poll = { busy = false; idle_polls = 512; sleep_max_us = 500; };'
measure "back-off, 1 us..100 us" 'poll = { busy = false; idle_polls = 512; sleep_max_us = 100; };'
