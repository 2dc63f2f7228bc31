#!/bin/bash
# Relayed tunnels and the moves between the relay and a direct path (issue 6): a mediator, a
# buri-relay and two nodes, each behind its own NAT router (port-restricted cone), all in
# network namespaces. The "internet" bridge drops UDP between the two NATs' public addresses
# while "blocked" (traffic to the mediator and the relay passes), so hole punching fails.
#
# Then a second pair, gamma and delta, with all UDP blocked at gamma's router (as NAT type e):
# gamma reaches the relay over TCP and the two ping through it; once the router lets UDP
# pass, gamma's next discovery (every 20 s while blocked) reports endpoints, and the tunnel
# moves to the direct path within 60 s with at most 1 % loss at 10 packets/s.
#
# Checks: with the direct path blocked the nodes still ping each other through the relay
# (first reply within 5 s of the join) and `buri peers` says relayed and why; unblocked
# during a steady 10 packets/s ping, the tunnel moves to the direct path within 60 s with at
# most 1 % loss; blocked again, the traffic is back on the relay within 10 s (what was sent
# in between is lost: the direct path is gone); the relay forwarded what it counted. Root; hugepages reserved by the test. TAP output.
#
# usage: relay_path.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
. "$here/../harness/stack.sh"

stack_lab_start "$build"
lab_public med 198.51.100.1
lab_public rly 198.51.100.2
lab_nodes_behind_nats c alpha beta gamma delta
inns() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }
# UDP between the two NATs' public addresses (198.51.100.11 and .12) dropped on the bridge.
block() {
	inns inet nft -f - <<NFT
table bridge direct {
	chain block {
		type filter hook forward priority 0; policy accept;
		ip saddr 198.51.100.11 ip daddr 198.51.100.12 meta l4proto udp drop
		ip saddr 198.51.100.12 ip daddr 198.51.100.11 meta l4proto udp drop
	}
}
NFT
}
unblock() { inns inet nft delete table bridge direct; }

# All UDP through gamma's router (nat3) dropped, as type e does.
udp_off() {
	inns nat3 nft -f - <<NFT
table ip udpoff {
	chain fwd_udp {
		type filter hook forward priority -10; policy accept;
		meta l4proto udp drop
	}
}
NFT
}
udp_on() { inns nat3 nft delete table ip udpoff; }

block || bail "the bridge filter"
udp_off || bail "gamma's router without UDP"
stack_relay "$(lab_ns rly)" 198.51.100.2 || bail "relay up" "$sdir/relay.log"
stack_mediator "$(lab_ns med)" 198.51.100.1 || bail "mediator up" "$sdir/mediator.log"
for node in alpha beta gamma delta; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" ||
		bail "$node up" "$sdir/$node.dp.log" "$sdir/$node.ctl.log"
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
swait 200 online alpha && swait 200 online beta && cli alpha create lan pw >/dev/null ||
	bail "network" "$sdir/alpha.ctl.log"
ok "relay, mediator and two nodes behind NATs; UDP between the NATs blocked"
ip_alpha=$(stack_addr alpha)

# NODE's view of its only peer: "path state|why"
peer() { cli "$1" --json peers | python3 -c 'import json,sys
p = json.load(sys.stdin)["peers"]
print("%s %s|%s" % (p[0]["path"], p[0]["state"], p[0]["why"]) if len(p) == 1 else "none none|")'; }
path_is() { [ "$(peer "$1" | cut -d' ' -f1)" = "$2" ]; } # node path

t0=$(date +%s%N)
cli beta join lan pw >/dev/null || bail "join" "$sdir/beta.ctl.log"
if inns beta ping -q -c 1 -i 0.05 -w 15 "$ip_alpha" >/dev/null 2>&1; then
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -le 5000 ] && ok "first ping reply through the relay $ms ms after the join" ||
		notok "first ping reply through the relay after $ms ms (> 5 s)"
else
	bail "no ping through the relay within 15 s" "$sdir/alpha.ctl.log" "$sdir/beta.ctl.log" \
		"$sdir/relay.log"
fi
swait 50 path_is alpha relayed && ok "buri peers: relayed: $(peer alpha | cut -d'|' -f2)" ||
	{ notok "path relayed: $(peer alpha)"; diag "$sdir/alpha.ctl.log"; }
peer alpha | grep -q "no answer from any of" && ok "and it says why" || notok "why: $(peer alpha)"

# --- upgrade: the direct path opens during a steady ping ---
inns beta ping -c 300 -i 0.1 -W 1 "$ip_alpha" >"$sdir/up.ping" 2>&1 &
pp=$!
sleep 2
unblock
t0=$(date +%s)
if swait 600 path_is alpha direct; then
	ok "unblocked: direct after $(($(date +%s) - t0)) s"
else
	notok "direct within 60 s of the unblock: $(peer alpha)"
	diag "$sdir/alpha.ctl.log"
fi
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$sdir/up.ping")
[ "${rx:-0}" -ge 297 ] && ok "loss at most 1 % across the move to direct: $rx of 300" ||
	{ notok "loss across the move to direct: ${rx:-0} of 300"; diag "$sdir/up.ping"; }

# --- downgrade: the direct path dies mid-session ---
inns beta ping -c 200 -i 0.1 -W 1 "$ip_alpha" >"$sdir/down.ping" 2>&1 &
pp=$!
sleep 2
block
t0=$(date +%s)
back() { path_is alpha relayed && inns beta ping -q -c 1 -W 1 "$ip_alpha" >/dev/null 2>&1; }
if swait 100 back; then
	ok "blocked again: traffic on the relay after $(($(date +%s) - t0)) s"
else
	notok "back on the relay within 10 s: $(peer alpha)"
	diag "$sdir/alpha.ctl.log" "$sdir/beta.ctl.log"
fi
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$sdir/down.ping")
echo "# ping across the move back to the relay: ${rx:-0} of 200"
kill -USR1 "$relay_pid" 2>/dev/null
sleep 0.5
fwd=$(sed -n 's/.* fwd_pkts \([0-9]*\) .*/\1/p' "$sdir/relay.log" | tail -1)
[ "${fwd:-0}" -gt 0 ] && ok "the relay forwarded $fwd packets and counted them" ||
	{ notok "relay counters"; diag "$sdir/relay.log"; }
tail -1 "$sdir/relay.log" | sed 's/^/# relay: /'

# --- UDP blocked at gamma's router: the relay over TCP, then direct once UDP passes ---
blocked() { cli gamma --json status | grep -q '"type":"blocked"'; }
swait 200 online gamma && swait 200 online delta && swait 100 blocked &&
	cli delta create lan2 pw >/dev/null || bail "gamma and delta" "$sdir/gamma.ctl.log"
ip_delta=$(stack_addr delta)
t0=$(date +%s%N)
cli gamma join lan2 pw >/dev/null || bail "gamma joins" "$sdir/gamma.ctl.log"
if inns gamma ping -q -c 1 -i 0.05 -w 15 "$ip_delta" >/dev/null 2>&1; then
	ok "gamma (no UDP) pings delta through the relay over TCP, $((($(date +%s%N) - t0) / 1000000)) ms after the join"
else
	bail "gamma pings delta over TCP" "$sdir/gamma.ctl.log" "$sdir/delta.ctl.log"
fi
path_is gamma relayed && ok "buri peers on gamma: relayed: $(peer gamma | cut -d'|' -f2)" ||
	notok "gamma's path: $(peer gamma)"
inns gamma ping -c 400 -i 0.1 -W 1 "$ip_delta" >"$sdir/tcp_up.ping" 2>&1 &
pp=$!
sleep 2
udp_on
t0=$(date +%s)
if swait 600 path_is gamma direct; then
	ok "UDP allowed at gamma's router: direct after $(($(date +%s) - t0)) s"
else
	notok "direct within 60 s once UDP passes: $(peer gamma)"
	diag "$sdir/gamma.ctl.log" "$sdir/delta.ctl.log"
fi
wait $pp
read -r tx rx <<<"$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$sdir/tcp_up.ping")"
[ "${tx:-0}" -gt 0 ] && [ $((${rx:-0} * 100)) -ge $((${tx:-0} * 99)) ] &&
	ok "loss at most 1 % from the relay over TCP to direct: $rx of $tx" ||
	{ notok "loss from TCP relay to direct: ${rx:-0} of ${tx:-0}"; diag "$sdir/tcp_up.ping"; }
if [ "$failed" -gt 0 ]; then
	diag "$sdir/alpha.ctl.log" "$sdir/beta.ctl.log" "$sdir/relay.log"
fi
tap_end
