#!/bin/bash
# End-to-end TCP throughput between two nodes through the overlay: buri next to wireguard-go,
# in the same network namespaces, in the same run (docs/BENCHMARKS.md). Root.
#
# Two nodes, each behind its own NAT router (port-restricted cone), and a mediator. Rounds
# alternate: buri (buri-dataplane + buri-control on each node, a tunnel through the NATs,
# iperf3 between the buri0 addresses), then wireguard-go (the buri processes stopped, the wan
# veth given back to the kernel, a wireguard-go interface on each node with the other's NAT
# address as endpoint, so the same NATs are punched through, iperf3 between the wg addresses),
# and so on. Each round is one iperf3 TCP stream of SECONDS from bob to alice.
#
# usage: tools/bench/overlay_tcp.sh BUILD_DIR [ROUNDS [SECONDS]]    (default 5 rounds of 10 s)
# Prints each round's Mbit/s (receiver side) and the medians and their ratio.
set -u
build=$(cd "$1" && pwd)
rounds=${2:-5}
secs=${3:-10}
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "overlay_tcp: run as root" >&2; exit 1; }
"$top/tools/deps.sh" bench || exit 1

. "$top/tests/harness/natlab.sh"
. "$top/tests/harness/stack.sh"
wgpids=""
cleanup() {
	local p
	for p in $wgpids; do kill "$p" 2>/dev/null; done
	for p in $wgpids; do stack_reap "$p"; done
	stack_cleanup
	lab_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM
die() { echo "overlay_tcp: $*" >&2; exit 1; }

# The two data planes' workers on different cores (wireguard-go's threads use both too).
stack_lcores_bob="main = 1; workers = [0];"
lab_init
stack_init "$build"
lab_public med 198.51.100.1
lab_nodes_behind_nats c alice bob
stack_mediator "$(lab_ns med)" 198.51.100.1 || die "the mediator did not start"
for node in alice bob; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" || die "$node did not start"
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
swait 200 online alice && swait 200 online bob || die "the nodes did not log in"
cli alice create bench pw >/dev/null && cli bob join bench pw >/dev/null || die "no network"
alice_buri=$(stack_addr alice)
inns() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }
reach() { inns bob ping -q -c 1 -i 0.05 -w 30 "$1" >/dev/null 2>&1; }

# wireguard-go: one interface per node (distinct names: the UAPI sockets share /var/run).
# The NATs preserve the source port, so each node's endpoint is its NAT's address:51820.
wg_dir=$sdir/wg
mkdir -m 700 "$wg_dir"
for node in alice bob; do
	(umask 077 && wg genkey >"$wg_dir/$node.key")
	wg pubkey <"$wg_dir/$node.key" >"$wg_dir/$node.pub"
done
wg_up() { # node its-wg-addr peer peer-nat-addr
	local ns dev=wg-$1 a g
	ns=$(lab_ns "$1")
	eval "a=\$lab_addr_$1 g=\$lab_gw_$1"
	ip -n "$ns" addr add "$a" dev wan0
	ip -n "$ns" route add default via "$g" dev wan0
	WG_PROCESS_FOREGROUND=1 ip netns exec "$ns" wireguard-go -f "$dev" >>"$wg_dir/$1.log" 2>&1 &
	wgpids="$wgpids $!"
	swait 50 ip -n "$ns" link show "$dev" || return 1
	ip netns exec "$ns" wg set "$dev" private-key "$wg_dir/$1.key" listen-port 51820 \
		peer "$(cat "$wg_dir/$3.pub")" endpoint "$4:51820" allowed-ips 10.99.0.0/24 \
		persistent-keepalive 5 || return 1
	ip -n "$ns" addr add "$2/24" dev "$dev"
	ip -n "$ns" link set "$dev" mtu 1420 up
}
wg_down() {
	local p
	for p in $wgpids; do kill "$p" 2>/dev/null; done
	for p in $wgpids; do stack_reap "$p"; done
	wgpids=""
	for node in alice bob; do ip -n "$(lab_ns "$node")" addr flush dev wan0; done
}

# One iperf3 stream bob -> alice; prints the receiver's Mbit/s.
measure() { # alice's address
	local spid out
	inns alice iperf3 -s -1 -B "$1" >/dev/null 2>&1 &
	spid=$!
	sleep 0.5
	out=$(inns bob iperf3 -c "$1" -t "$secs" -J 2>/dev/null)
	stack_reap "$spid"
	echo "$out" | python3 -c 'import json,sys
d = json.load(sys.stdin)
print("%.0f" % (d["end"]["sum_received"]["bits_per_second"] / 1e6))' 2>/dev/null
}

reach "$alice_buri" || die "no ping over buri"
buri=() wgm=()
for r in $(seq "$rounds"); do
	if [ "$r" -gt 1 ]; then
		wg_down
		for node in alice bob; do
			eval "a=\$lab_addr_$node g=\$lab_gw_$node"
			stack_node_start "$node" "$a" "$g" || die "$node did not restart"
		done
		reach "$alice_buri" || die "round $r: no ping over buri after the restart"
	fi
	m=$(measure "$alice_buri")
	[ -n "$m" ] || die "round $r: iperf3 over buri failed"
	buri+=("$m")
	for node in alice bob; do stack_node_stop "$node"; done
	wg_up alice 10.99.0.1 bob 198.51.100.12 && wg_up bob 10.99.0.2 alice 198.51.100.11 ||
		die "round $r: wireguard-go did not start (see $wg_dir)"
	reach 10.99.0.1 || die "round $r: no ping over wireguard-go"
	m=$(measure 10.99.0.1)
	[ -n "$m" ] || die "round $r: iperf3 over wireguard-go failed"
	wgm+=("$m")
	echo "round $r: buri ${buri[-1]} Mbit/s, wireguard-go $m Mbit/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
	print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mb=$(median "${buri[@]}")
mw=$(median "${wgm[@]}")
echo "TCP bob -> alice over $rounds rounds of $secs s: median buri $mb Mbit/s," \
	"wireguard-go $mw Mbit/s, ratio buri/wireguard-go $(awk -v a="$mb" -v b="$mw" 'BEGIN { printf "%.2f", a / b }')"
