#!/bin/bash
# Time from `buri join` to the first ping reply across two NATs (docs/BENCHMARKS.md).
# Two nodes, each behind its own NAT router (port-restricted cone), and a mediator, all in
# network namespaces; alice owns network "bench"; for each run bob joins, the time until
# bob's first ping reply from alice is taken, and bob leaves again (the mediator tears the
# tunnel down, so every run punches and runs a key exchange from scratch). Root.
#
# usage: tools/bench/join_ping.sh BUILD_DIR [RUNS]     (default 20 runs)
# Prints one line per run and the median and p95 in milliseconds.
set -u
build=$(cd "$1" && pwd)
runs=${2:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "join_ping: run as root" >&2; exit 1; }

. "$top/tests/harness/natlab.sh"
. "$top/tests/harness/stack.sh"

stack_lab_start "$build"
lab_public med 198.51.100.1
lab_nodes_behind_nats c alice bob
stack_mediator "$(lab_ns med)" 198.51.100.1 || { echo "mediator did not start" >&2; exit 1; }
for node in alice bob; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" || { echo "$node did not start" >&2; exit 1; }
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
swait 200 online alice && swait 200 online bob || { echo "not online" >&2; exit 1; }
cli alice create bench pw >/dev/null || exit 1
alice=$(stack_addr alice)
ns=$(lab_ns bob)
no_tunnel() { ! cli bob --json peers | grep -q '"state":"up"'; }

ms=()
for i in $(seq "$runs"); do
	t0=$(date +%s%N)
	cli bob join bench pw >/dev/null || { echo "run $i: join failed" >&2; exit 1; }
	# One echo request every 10 ms until the first reply (at most 30 s).
	ip netns exec "$ns" ping -q -c 1 -i 0.01 -w 30 "$alice" >/dev/null 2>&1 ||
		{ echo "run $i: no reply in 30 s" >&2; exit 1; }
	t=$((($(date +%s%N) - t0) / 1000000))
	ms+=("$t")
	echo "run $i: $t ms"
	cli bob leave bench >/dev/null
	swait 100 no_tunnel || { echo "run $i: the tunnel did not go down" >&2; exit 1; }
	sleep 0.5
done
printf '%s\n' "${ms[@]}" | sort -n | awk '{v[NR] = $1} END {
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	p = int(NR * 0.95 + 0.999999); if (p > NR) p = NR
	printf "join to first ping reply over %d runs: median %d ms, p95 %d ms, min %d ms, max %d ms\n", NR, m, v[p], v[1], v[NR]
}'
