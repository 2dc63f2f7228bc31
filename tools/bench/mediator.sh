#!/bin/sh
# The mediator's figures for docs/BENCHMARKS.md: N concurrent authenticated sessions on one
# buri-mediator, measured by buri-medload, repeated RUNS times against a freshly started
# server each time (so that the RSS per session is not hidden by memory a previous run freed).
# The first start registers the N accounts; the measured runs log in with AUTH. Prints each
# run and the medians. Keys are cached (generating 10,000 RSA keys takes minutes).
#
# usage: tools/bench/mediator.sh [BUILD_DIR] [N] [RUNS] [PAIRS] [HOLD]
#   e.g. tools/bench/mediator.sh build 10000 3 200 30
set -eu
build=${1:-build}
n=${2:-10000}
runs=${3:-3}
pairs=${4:-200}
hold=${5:-30}
cache=${BURI_BENCH_CACHE:-/var/tmp/buri-bench}
med=$build/mediator/buri-mediator
load=$build/tools/buri-medload
dir=$(mktemp -d /tmp/buri-bench.XXXXXX)
pid=""
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	pid=""
}
trap 'stop; rm -rf "$dir"' EXIT INT TERM
mkdir -p "$cache"
chmod 700 "$cache"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/med.cfg" <<CFG
listen = { address = "127.0.0.1"; tcp_port = $port; tls_port = 0; disco_ports = [$((port + 1))]; };
key = "$dir/mediator.key";
store = { path = "$dir/mediator.db"; };
# one client address opens every session: lift the per-address flood limits
limits = { handshakes_per_second = 1000000; handshake_burst = 1000000;
           half_open_per_address = 1000000; half_open = 1000000; idle_timeout = 20; };
log = { level = "warn"; };
CFG

start() {
	"$med" -c "$dir/med.cfg" >"$dir/med.out" 2>>"$dir/med.log" &
	pid=$!
	for _ in $(seq 100); do
		grep -q fingerprint "$dir/med.out" 2>/dev/null && break
		sleep 0.1
	done
	sleep 0.5
}

loadrun() { # output file, extra args
	out=$1
	shift
	"$load" --host 127.0.0.1 --port "$port" --server-key "$dir/mediator.key" --pid "$pid" \
		-n "$n" -c 64 --keys "$cache/keys-$n.pem" --ids "$dir/ids.txt" --json "$@" >"$out"
}

echo "registering $n accounts (keys cached in $cache)" >&2
start
loadrun "$dir/register.json" -p 1 --hold 1
stop
for i in $(seq "$runs"); do
	echo "run $i of $runs" >&2
	start
	loadrun "$dir/run$i.json" -p "$pairs" --hold "$hold" --align
	stop
done
python3 - "$dir" "$runs" <<'PY'
import json, statistics, sys
d, runs = sys.argv[1], int(sys.argv[2])
rs = [json.load(open(f"{d}/run{i}.json")) for i in range(1, runs + 1)]
def med(f): return statistics.median(f(r) for r in rs)
print("run  logins/s  server ms/login  B/session(RSS)  peak RSS MiB  kernel KiB/conn-end  join median/p99 ms  held/alive")
for i, r in enumerate(rs, 1):
    n = r["memory"]["sessions"]
    slab = (r["memory"]["slab_kib_idle"] - r["memory"]["slab_kib_before"]) / (2 * n)
    print(f'{i:3}  {r["logins"]["per_second"]:8.1f}  {1000*r["cpu"]["server_s"]/r["logins"]["ok"]:15.2f}'
          f'  {r["memory"]["rss_per_session_bytes"]:14.0f}  {r["memory"]["hwm_end_kib"]/1024:12.1f}  {slab:19.2f}'
          f'  {r["join"]["latency_ms"]["median"]:8.1f} / {r["join"]["latency_ms"]["p99"]:5.1f}'
          f'  {r["hold"]["held"]}/{r["hold"]["alive"]}')
print(f'median logins/s {med(lambda r: r["logins"]["per_second"]):.1f}; '
      f'bytes per idle session {med(lambda r: r["memory"]["rss_per_session_bytes"]):.0f}; '
      f'join-to-broker median {med(lambda r: r["join"]["latency_ms"]["median"]):.1f} ms, '
      f'p99 {med(lambda r: r["join"]["latency_ms"]["p99"]):.1f} ms; '
      f'failures {sum(sum(v for v in r["failures"].values()) if isinstance(r["failures"], dict) else 0 for r in rs)}')
PY
