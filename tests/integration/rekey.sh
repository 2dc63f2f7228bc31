#!/bin/bash
# Rekeying under traffic with the mediator down: two nodes behind NAT routers (port-restricted
# cones) with tunnel.rekey_after = 30 s. The mediator is killed once the tunnel is up; a steady
# 10 packets/s ping runs for 75 s, across at least two rekeys (fresh KE on node-chosen SPIs,
# make before break in the data plane), and no echo may be lost. Then the mediator comes
# back: the nodes log in again and keep the tunnel they rekeyed (same SPIs, still pinging).
# Root; hugepages reserved by the test. TAP output.
#
# usage: rekey.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
. "$here/../harness/stack.sh"

stack_lab_start "$build"
lab_public med 198.51.100.1
lab_nodes_behind_nats c alpha beta
stack_tunnel_extra="rekey_after = 30;"
inns() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }
stack_mediator "$(lab_ns med)" 198.51.100.1 || { notok "mediator up"; diag "$sdir/mediator.log"; tap_end; exit 1; }
for node in alpha beta; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" ||
		{ notok "$node up"; diag "$sdir/$node.dp.log" "$sdir/$node.ctl.log"; tap_end; exit 1; }
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
swait 200 online alpha && swait 200 online beta && cli alpha create lan pw >/dev/null &&
	cli beta join lan pw >/dev/null && ok "two nodes behind NATs in one network" ||
	{ notok "network"; diag "$sdir/alpha.ctl.log" "$sdir/beta.ctl.log"; tap_end; exit 1; }
ip_beta=$(stack_addr beta)
# alpha's view of its tunnel to beta: "state spi_in spi_out"
tun() {
	cli alpha --json peers | python3 -c 'import json,sys
p = json.load(sys.stdin)["peers"]
print(" ".join((p[0]["state"], p[0]["spi_in"], p[0]["spi_out"])) if len(p) == 1 else "none")'
}
up() { [ "$(tun | cut -d' ' -f1)" = up ]; }
if swait 100 up && inns alpha ping -q -c 1 -i 0.05 -w 10 "$ip_beta" >/dev/null 2>&1; then
	ok "the tunnel is up: $(tun)"
else
	notok "tunnel up"
	diag "$sdir/alpha.ctl.log"
fi
first=$(tun)

stack_mediator_kill9
inns alpha ping -c 750 -i 0.1 -W 1 "$ip_beta" >"$sdir/rekey.ping" 2>&1 &
pp=$!
: >"$sdir/tun.seen"
while kill -0 $pp 2>/dev/null; do
	tun >>"$sdir/tun.seen"
	sleep 1
done
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$sdir/rekey.ping")
keys=$(grep '^up ' "$sdir/tun.seen" | sort -u | grep -vcx "$first")
[ "$keys" -ge 2 ] && ok "$keys rekeys in 75 s with the mediator down" ||
	{ notok "at least 2 rekeys in 75 s: $keys"; diag "$sdir/tun.seen" "$sdir/alpha.ctl.log"; }
[ "$(grep -vc '^up ' "$sdir/tun.seen")" -eq 0 ] && ok "the tunnel stayed up throughout" ||
	{ notok "the tunnel was down at times"; diag "$sdir/tun.seen"; }
node_spis() { # every SPI seen after the first has the node-chosen bit (PROTOCOL.md 11)
	grep '^up ' "$sdir/tun.seen" | grep -vx "$first" | while read -r _ i o; do
		[ $((0x$i & 0x80000000)) -ne 0 ] && [ $((0x$o & 0x80000000)) -ne 0 ] || return 1
	done
}
node_spis && ok "the new SPIs are node-chosen (top bit set)" || notok "node-chosen SPIs"
[ "${rx:-0}" -eq 750 ] && ok "no echo lost across the rekeys: 750 of 750" ||
	{ notok "echoes across the rekeys: ${rx:-0} of 750"; diag "$sdir/rekey.ping"; }

last=$(tun)
stack_mediator_restart
if swait 100 online alpha && swait 100 online beta; then ok "mediator back: both logged in"; else
	notok "logged in again"
fi
sleep 3
# Rekeys go on every 30 s; a tunnel the mediator set up again would have its SPIs again
# (top bit clear) and a "tunnel down" in the log.
now=$(tun)
if [ "${now%% *}" = up ] && [ $((0x$(echo "$now" | cut -d' ' -f2) & 0x80000000)) -ne 0 ] &&
	! grep -q "tunnel down" "$sdir/alpha.ctl.log"; then
	ok "the rekeyed tunnel is kept after the re-login (was $last, now $now)"
else
	notok "tunnel after re-login: $now, was $last"
	diag "$sdir/alpha.ctl.log"
fi
inns alpha ping -c 5 -i 0.2 -W 1 "$ip_beta" >"$sdir/ping.out" 2>&1 && ok "still pinging" ||
	{ notok "ping after re-login"; diag "$sdir/ping.out"; }
if [ $failed -gt 0 ]; then
	echo "# --- beta control log"
	diag "$sdir/beta.ctl.log"
fi
tap_end
