#!/bin/bash
# A buri network on this machine, as root on a fresh Debian 12 machine:
#
#   tools/demo.sh              install what is missing, build, and bring up a mediator and
#                              three nodes (alice, bob, carol), each behind its own NAT router,
#                              all in network namespaces; create a network, join it, ping
#                              across, show `buri peers` and `buri list`; then wait.
#   tools/demo.sh shell NODE   a shell inside NODE's namespace, `buri` pointed at its node
#   tools/demo.sh stop         tear the running demo down (Ctrl-C in its terminal does too)
#
# Bounded: it tears itself down after DEMO_MINUTES (default 60). Uses about 800 MB of
# hugepages (given back), three data planes with idle back-off, and only addresses inside
# its own namespaces (198.51.100.0/24, 10.x.0.0/24, the 100.64.0.0/10 overlay).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=/run/buri-demo
minutes=${DEMO_MINUTES:-60}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run me as root (network namespaces, hugepages, DPDK)"

case "${1:-}" in
shell)
	[ -f "$run/env" ] || die "no demo running (tools/demo.sh starts one)"
	. "$run/env"
	node=${2:-}
	eval "ns=\${ns_$node:-}"
	[ -n "$node" ] && [ -n "$ns" ] || die "shell NODE: one of $nodes"
	echo "inside $node's namespace; try: buri status, buri peers, buri list, ping ..."
	exec ip netns exec "$ns" env BURI_SOCKET="$sdir/$node/control.sock" \
		PATH="$build/tools:$PATH" PS1="[$node] \\w # " bash --norc -i
	;;
stop)
	[ -f "$run/pid" ] || die "no demo running"
	kill "$(cat "$run/pid")" && echo "stopping the demo"
	exit 0
	;;
"") ;;
*) die "usage: tools/demo.sh [shell NODE | stop]" ;;
esac

if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
	die "a demo is already running (tools/demo.sh stop ends it)"
fi

say "dependencies (apt-get, only what is missing)"
"$top/tools/deps.sh" || die "installing packages failed"

say "build"
build=$top/.build/demo
if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" "$top" >/dev/null
else
	meson setup "$build" "$top" --buildtype=release >/dev/null
fi || die "meson setup failed"
ninja -C "$build" >/dev/null || die "the build failed (ninja -C $build shows why)"

. "$top/tests/harness/natlab.sh"
. "$top/tests/harness/stack.sh"
nodes="alice bob carol"
cleanup() {
	trap - EXIT INT TERM
	say "tearing down"
	stack_cleanup
	lab_cleanup
	rm -rf "$run"
	echo "done: every process, namespace and hugepage the demo took is back"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

say "hugepages, namespaces, NAT routers"
mkdir -p "$run"
echo $$ >"$run/pid"
lab_init
stack_init "$build"
lab_public med 198.51.100.1
lab_nodes_behind_nats c $nodes
{
	echo "sdir=$sdir build=$build nodes=\"$nodes\""
	for node in $nodes; do echo "ns_$node=$(lab_ns "$node")"; done
} >"$run/env"

say "mediator on 198.51.100.1"
stack_mediator "$(lab_ns med)" 198.51.100.1 || die "the mediator did not start: $sdir/mediator.log"
for node in $nodes; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	say "$node: behind NAT $g, LAN address $a: buri-dataplane + buri-control"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" ||
		die "$node did not start: $sdir/$node.*.log"
done

online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
for node in $nodes; do
	swait 200 online "$node" || die "$node did not log in: $sdir/$node.ctl.log"
done
say "every node registered; alice creates network 'demo', bob and carol join"
run_cli() { echo "[$1] # buri ${*:2}"; cli "$@"; }
run_cli alice create demo letmein
run_cli bob join demo letmein
run_cli carol join demo letmein
for node in $nodes; do eval "ip_$node=$(stack_addr "$node")"; done

say "pings over the overlay (the tunnels are set up as they are needed)"
for pair in "alice bob" "bob carol" "carol alice"; do
	set -- $pair
	eval "dst=\$ip_$2"
	echo "[$1] # ping -c 3 $dst   ($2)"
	swait 100 ip netns exec "$(lab_ns "$1")" ping -c 1 -W 1 "$dst"
	ip netns exec "$(lab_ns "$1")" ping -c 3 -i 0.3 "$dst" | sed 's/^/    /'
done

say "buri peers (on alice)"
cli alice peers
say "buri list (on alice)"
cli alice list

cat <<EOF

The network is up. Try, in another terminal:
  tools/demo.sh shell bob        a shell in bob's namespace; then for example
      buri status; buri peers; buri list; ping $ip_alice
      buri msg alice hello; buri chat demo "hi all"
  tools/demo.sh shell alice      then: buri inbox
  tools/demo.sh stop             tear it all down (or Ctrl-C here)
Logs: $sdir/*.log. The demo ends by itself in $minutes minutes.
EOF
deadline=$(($(date +%s) + minutes * 60))
while [ "$(date +%s)" -lt "$deadline" ]; do sleep 2; done
echo "demo: $minutes minutes are up"
