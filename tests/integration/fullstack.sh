#!/bin/bash
# The whole of buri: a mediator on a public address and three nodes (buri-control +
# buri-dataplane each), each behind its own NAT router (nftables masquerade: a port-restricted
# cone), all in network namespaces this test creates. Root; hugepages reserved by the test.
# TAP output.
#
# Checks, through the `buri` CLI: register, create a network with approval, join, approve;
# every pair pings over the overlay; an IPv4 broadcast and a multicast datagram reach every
# other member; a TCP transfer with matching checksum; `buri peers` says direct; evict: the
# member's traffic stops; kill -9 of the mediator for 60 s during a 10 packets/s ping (loss
# at most 1 %, tunnels not reset, everyone logged in again within 10 s); kill -9 of a
# buri-control during a transfer (forwarding goes on; restarted, it adopts its SAs within
# 5 s); a NAT mapping flush during traffic (the tunnel recovers within 35 s).
#
# usage: fullstack.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
net="python3 $here/dpnet.py"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
. "$here/../harness/stack.sh"

stack_lab_start "$build"
nodes="alpha beta gamma"
lab_public med 198.51.100.1
lab_nodes_behind_nats c $nodes
inns() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }

if stack_mediator "$(lab_ns med)" 198.51.100.1; then ok "mediator up"; else
	notok "mediator up"
	diag "$sdir/mediator.log"
	exit 1
fi
for node in $nodes; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	if stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g"; then
		ok "$node: data plane and buri-control up behind NAT ($a)"
	else
		notok "$node: up"
		diag "$sdir/$node.dp.log" "$sdir/$node.ctl.log"
		exit 1
	fi
done

# --- login, network, approval ---
logged_in() { [ "$(cli "$1" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = online ]; }
for node in $nodes; do
	if swait 150 logged_in "$node"; then ok "$node: registered and online"; else
		notok "$node: online"
		diag "$sdir/$node.ctl.log"
	fi
done
for node in $nodes; do eval "ip_$node=$(stack_addr "$node")"; done
echo "# overlay: alpha $ip_alpha, beta $ip_beta, gamma $ip_gamma"
cli alpha create lan secret >/dev/null && cli alpha approval lan on >/dev/null &&
	ok "alpha creates lan, approval on" || notok "create lan"
cli beta join lan wrong >"$sdir/wrong.out" 2>&1
[ $? -eq 1 ] && ok "a wrong password fails with exit status 1: $(head -1 "$sdir/wrong.out")" ||
	notok "wrong password: $(cat "$sdir/wrong.out")"
cli beta join lan secret >"$sdir/join.out" 2>&1 && cli gamma join lan secret >>"$sdir/join.out" 2>&1 &&
	ok "beta and gamma join (pending)" || { notok "join"; diag "$sdir/join.out"; }
sleep 0.5
cli alpha --json list lan >"$sdir/list.json"
pending=$(python3 -c 'import json,sys; n=json.load(open(sys.argv[1]))["networks"][0]; print(sum(m["role"]=="pending" for m in n["members"]))' "$sdir/list.json")
[ "$pending" = 2 ] && ok "the owner sees two pending members" || notok "pending members: $pending"
t0=$(date +%s%N)
cli alpha approve lan beta >/dev/null && cli alpha approve lan "$ip_gamma" >/dev/null &&
	ok "alpha approves beta (by nickname) and gamma (by address)" || notok "approve"

# --- pings between every pair ---
first_ping() { inns "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1; }
if swait 300 first_ping alpha "$ip_beta" && swait 300 first_ping alpha "$ip_gamma" &&
	swait 300 first_ping beta "$ip_gamma"; then
	ok "tunnels up: first replies across the NATs $((($(date +%s%N) - t0) / 1000000)) ms after approval"
else
	notok "tunnels up"
	for node in $nodes; do diag "$sdir/$node.ctl.log"; done
fi
for p in "alpha beta" "alpha gamma" "beta alpha" "beta gamma" "gamma alpha" "gamma beta"; do
	set -- $p
	eval "dst=\$ip_$2"
	inns "$1" ping -c 5 -i 0.2 -W 2 "$dst" >"$sdir/ping.out" 2>&1
	grep -q " 5 received" "$sdir/ping.out" && ok "ping $1 -> $2: 5 of 5" ||
		{ notok "ping $1 -> $2"; diag "$sdir/ping.out"; }
done
cli alpha --json peers >"$sdir/peers.json"
python3 - "$sdir/peers.json" <<'PY' && ok "buri peers: 2 peers, both up and direct, endpoints behind the NATs' public addresses" || notok "buri peers: $(cat "$sdir/peers.json")"
import json, sys
p = json.load(open(sys.argv[1]))["peers"]
assert len(p) == 2, p
for x in p:
    assert x["state"] == "up" and x["path"] == "direct", x
    assert x["endpoint"].startswith("198.51.100."), x
PY
cli alpha peers | sed 's/^/# /'

# --- broadcast and multicast ---
rcv=""
for node in beta gamma; do
	inns "$node" $net udp-recv 5353 4 >"$sdir/bc.$node" 2>&1 &
	rcv="$rcv $!"
	inns "$node" $net udp-recv 5354 4 239.255.42.99 "$(eval echo \$ip_$node)" >"$sdir/mc.$node" 2>&1 &
	rcv="$rcv $!"
done
sleep 0.5
inns alpha $net udp-send 100.127.255.255 5353 hello-broadcast >/dev/null 2>&1
inns alpha $net udp-send 239.255.42.99 5354 hello-multicast buri0 >/dev/null 2>&1
for p in $rcv; do wait "$p"; done
for node in beta gamma; do
	grep -q hello-broadcast "$sdir/bc.$node" && ok "broadcast from alpha reaches $node" ||
		{ notok "broadcast to $node"; diag "$sdir/bc.$node"; }
	grep -q hello-multicast "$sdir/mc.$node" && ok "multicast from alpha reaches $node" ||
		{ notok "multicast to $node"; diag "$sdir/mc.$node"; }
done

# --- TCP ---
inns beta $net tcp-serve 5001 30 >"$sdir/tcp.srv" 2>&1 &
srv=$!
sleep 0.3
inns alpha $net tcp-send "$ip_beta" 5001 8000000 11 >"$sdir/tcp.cli" 2>&1
wait $srv
[ -s "$sdir/tcp.cli" ] && cmp -s "$sdir/tcp.cli" "$sdir/tcp.srv" &&
	ok "TCP transfer of 8 MB alpha -> beta, checksum matches" ||
	{ notok "TCP transfer"; diag "$sdir/tcp.cli" "$sdir/tcp.srv"; }

# --- kill -9 of a buri-control during a transfer ---
inns gamma $net tcp-serve 5002 60 >"$sdir/tcp2.srv" 2>&1 &
srv=$!
sleep 0.3
inns beta $net tcp-send "$ip_gamma" 5002 30000000 12 >"$sdir/tcp2.cli" 2>&1 &
cl=$!
sleep 0.5
stack_kill9 beta
sleep 2
wait $cl
wait $srv
[ -s "$sdir/tcp2.cli" ] && cmp -s "$sdir/tcp2.cli" "$sdir/tcp2.srv" &&
	ok "kill -9 of beta's buri-control mid-transfer: 30 MB arrive intact" ||
	{ notok "transfer across kill -9"; diag "$sdir/tcp2.cli" "$sdir/tcp2.srv"; }
t0=$(date +%s%N)
stack_restart beta
tunnels_up() { cli "$1" --json peers | python3 -c 'import json,sys; p=json.load(sys.stdin)["peers"]; sys.exit(not (len(p) == 2 and all(x["state"] == "up" for x in p)))'; }
if swait 50 tunnels_up beta; then
	ok "restarted buri-control resynced (both tunnels up) in $((($(date +%s%N) - t0) / 1000000)) ms"
else
	notok "resync within 5 s"
	diag "$sdir/beta.ctl.log"
fi
inns beta ping -c 3 -i 0.2 -W 2 "$ip_alpha" >"$sdir/ping.out" 2>&1 &&
	ok "beta pings alpha after the restart" || { notok "ping after restart"; diag "$sdir/ping.out"; }

# --- the mediator down for 60 s during a steady ping ---
inns alpha ping -c 700 -i 0.1 -W 1 "$ip_beta" >"$sdir/outage.ping" 2>&1 &
pp=$!
sleep 2
stack_mediator_kill9
sleep 60
t0=$(date +%s%N)
stack_mediator_restart
all_online() { for x in $nodes; do logged_in "$x" || return 1; done; }
if swait 100 all_online; then
	ok "mediator back after 60 s: all nodes logged in again after $((($(date +%s%N) - t0) / 1000000)) ms"
else
	notok "all logged in within 10 s"
	for node in $nodes; do diag "$sdir/$node.ctl.log"; done
fi
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$sdir/outage.ping")
[ "${rx:-0}" -ge 693 ] && ok "ping across the mediator's outage: $rx of 700 (loss <= 1 %)" ||
	{ notok "ping across the outage: ${rx:-0} of 700"; diag "$sdir/outage.ping"; }
grep -q "new key exchange\|tunnel up" <(tail -n +1 "$sdir/alpha.ctl.log" | awk -v s="$(date -d @$(( $(date +%s) - 80 )) +%H:%M:%S)" '$0 >= s') &&
	echo "# note: alpha logged a key exchange during the outage"

# --- a NAT mapping flush during traffic ---
inns alpha ping -c 400 -i 0.1 -W 1 "$ip_gamma" >"$sdir/flush.ping" 2>&1 &
pp=$!
sleep 2
lab_flush nat1
lab_flush nat3
t0=$(date +%s)
recovered() { inns alpha ping -c 1 -W 1 "$ip_gamma" >/dev/null 2>&1; }
if swait 350 recovered; then
	ok "NAT mappings flushed on both sides: traffic again after $(($(date +%s) - t0)) s"
else
	notok "recovery within 35 s of a mapping flush"
	diag "$sdir/alpha.ctl.log" "$sdir/gamma.ctl.log"
fi
kill $pp 2>/dev/null
wait $pp 2>/dev/null

# --- evict ---
cli alpha evict lan gamma >/dev/null && ok "alpha evicts gamma" || notok "evict"
gone() { ! inns gamma ping -c 1 -W 1 "$ip_alpha" >/dev/null 2>&1 && ! inns gamma ping -c 1 -W 1 "$ip_beta" >/dev/null 2>&1; }
if swait 100 gone; then ok "gamma's traffic to alpha and beta stops within 10 s"; else
	notok "evicted member still reaches the others"
fi
inns alpha ping -c 3 -i 0.2 -W 2 "$ip_beta" >"$sdir/ping.out" 2>&1 &&
	ok "alpha and beta still talk" || notok "alpha and beta after the evict"

if [ $failed -gt 0 ]; then
	for node in $nodes; do
		echo "# --- $node control log"
		diag "$sdir/$node.ctl.log"
	done
fi
tap_end
