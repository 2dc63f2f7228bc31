#!/bin/sh
# The host loop (docs/ARCHITECTURE.md, dataplane/README.md): the data plane hands the sealed
# packets of an SA whose endpoint is the wan's own address to the host stack, and takes the
# peer's sealed packets back from the host stack, so that the control process can carry a
# tunnel over TCP to a relay (docs/PROTOCOL.md 7.4). Root, network namespaces, hugepages
# reserved by the rig. TAP output.
#
# Two data planes back to back (tests/harness/dprig.sh). A relay in miniature (dpnet.py
# loop-relay, standard library only, plain UDP where the control process would use a relay's
# TCP connection) runs in A's host stack:
#
#   ns A: 10.203.0.1                                            ns B: 10.203.0.2
#   buri0 --> data plane A, SA 0x1001: endpoint 10.203.0.1:P (our own address: host loop)
#              | mirror tx (dst MAC = buriwan0's, the wan's)
#              v
#   kernel (accept_local=1 on buriwan0) --> relay socket 10.203.0.1:P
#   relay: sendto 10.203.0.2:7777 from 10.203.0.1:Q --> buriwan0 --> data plane A
#              --> wan --> veth --> data plane B (decap; its SA's endpoint is 10.203.0.1:Q)
#   data plane B --> 10.203.0.1:Q --> data plane A wan (not the tunnel port: exception path)
#              --> buriwan0 --> relay socket 10.203.0.1:Q
#   relay: AF_PACKET on buriwan0, 10.203.0.1:P -> 10.203.0.1:7777 --> data plane A mirror rx
#              (host loop: decap, endpoint 10.203.0.1:P) --> buri0
#
# Checks: without net.ipv4.conf.buriwan0.accept_local the kernel drops the host loop's
# packets (martian source); with it, ping both ways, also under strict rp_filter; counters
# (loop_out, loop_in, no drop_loop); A's SA endpoint stays the relay socket; frames into the
# mirror to our own address that are not tunnel data are dropped and counted; nothing from our
# own address to our own address (nor an ARP request for it) ever leaves A's wan.
#
# usage: dataplane_hostloop.sh BURI_DATAPLANE BURI_DPCTL
set -u
dp=$1
ctl=$2
here=$(cd "$(dirname "$0")" && pwd)
net="python3 $here/dpnet.py"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/dprig.sh"
rig_init

P=40404 # the relay's socket for A's host-loop SA (A's SA endpoint port)
Q=40405 # the relay's socket towards B (B's SA endpoint port)

waitready() { # file: a helper printed its "ready" line
	for _ in $(seq 50); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

if rig_up; then ok "both data planes start"; else
	notok "both data planes start"
	sed 's/^/# A: /' "$dir/A.log"
	sed 's/^/# B: /' "$dir/B.log"
	exit 1
fi

# The DPDK end of the veth has no address, but A's kernel still takes in IPv4 frames that
# arrive on it: B's packets to the relay's socket would reach it twice (through vA directly,
# and through the data plane's exception path), the copy later dropped by A's replay window.
# A strict reverse-path check on vA (the route back to B is through buriwan0) stops that.
inA sysctl -qw net.ipv4.conf.vA.rp_filter=1
# watches A's wan from B's end of the veth for the whole test
ip netns exec "$B" $net own-count vB 10.203.0.1 200 >"$dir/own.out" 2>&1 &
own=$!
pids="$pids $own"
KAB=$(python3 -c 'import os; print(os.urandom(52).hex())')
KBA=$(python3 -c 'import os; print(os.urandom(52).hex())')
check "SAs pushed: A's endpoint is its own address (host loop), B's the relay's socket" sh -c \
	"$ctl -p $pa add 0x1001 0x2001 100.64.0.2 10.203.0.1:$P $KBA $KAB 1 &&
	 $ctl -p $pb add 0x2001 0x1001 100.64.0.1 10.203.0.1:$Q $KAB $KBA 1"
ip netns exec "$A" $net loop-relay buriwan0 10.203.0.1 $P $Q 10.203.0.2 7777 7777 200 \
	>"$dir/relay.out" 2>&1 &
relay=$!
pids="$pids $relay"
waitready "$dir/relay.out" && waitready "$dir/own.out" || notok "relay and watcher ready"
echo "# A: $(inA sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.buriwan0.rp_filter \
	net.ipv4.conf.all.accept_local net.ipv4.conf.buriwan0.accept_local | tr '\n' ' ')"

# --- without accept_local the kernel drops a packet from its own address on buriwan0 ---
inA sysctl -qw net.ipv4.conf.all.accept_local=0 net.ipv4.conf.buriwan0.accept_local=0
lo0=$(stat A loop_out)
inA ping -c 3 -i 0.2 -W 1 100.64.0.2 >"$dir/noaccept.out" 2>&1
sleep 1.2
lo1=$(stat A loop_out)
li1=$(stat A loop_in)
[ $((lo1 - lo0)) -ge 3 ] && [ "$li1" -eq 0 ] && grep -q " 0 received" "$dir/noaccept.out" &&
	ok "accept_local=0: A seals into the mirror (loop_out $lo0 -> $lo1), the kernel drops it" ||
	notok "accept_local=0: loop_out $lo0 -> $lo1, loop_in $li1, $(grep received "$dir/noaccept.out")"

# --- what the control process sets: accept_local on the mirror TAP (rp_filter as it is) ---
inA sysctl -qw net.ipv4.conf.buriwan0.accept_local=1
check "accept_local=1 on buriwan0: ping A -> B through the host loop, 20 of 20" \
	pings "$A" 20 -i 0.05 100.64.0.2
check "and B -> A, large packets (1392 B, DF), 10 of 10" \
	pings "$B" 10 -i 0.05 -M do -s 1364 100.64.0.1
inA sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.buriwan0.rp_filter=1
check "strict rp_filter (all and buriwan0 = 1) changes nothing, 10 of 10" \
	pings "$A" 10 -i 0.05 100.64.0.2
inA sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.buriwan0.rp_filter=2
check "loose rp_filter (2), 5 of 5" pings "$A" 5 -i 0.05 100.64.0.2
inA sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.buriwan0.rp_filter=0
sleep 1.2
lo=$(stat A loop_out)
li=$(stat A loop_in)
dl=$(stat A drop_loop)
db=$(stat B decap)
da=$(stat A decap)
# 3 + 20 + 10 + 5 echo requests and 10 replies out of A; 45 in (kernel chatter may add some)
[ "$lo" -ge 48 ] && [ "$li" -ge 45 ] && [ "$da" -eq "$li" ] && [ "$dl" -eq 0 ] &&
	[ "$db" -ge 45 ] &&
	ok "counters: A loop_out=$lo loop_in=$li decap=$da drop_loop=$dl, B decap=$db" ||
	notok "counters: A loop_out=$lo (>= 48) loop_in=$li decap=$da (>= 45, equal) drop_loop=$dl, B decap=$db"
$net telemetry "$dir/rt/dpdk/$pa/dpdk_telemetry.v2" "/buri/sa/info,4097" >"$dir/info.json"
check "A's SA endpoint is still the relay's socket (10.203.0.1:$P), packets both ways" \
	python3 -c "
import json; d = json.load(open('$dir/info.json'))['/buri/sa/info']
assert d['endpoint'] == '10.203.0.1:$P' and d['pkts_in'] >= 45 and d['pkts_out'] >= 48, d"

# --- frames into the mirror to our own address that are not tunnel data ---
ms=$(stat A drop_malformed)
inA $net loop-send buriwan0 10.203.0.1 $P 7777 "00000000$(printf '%056d' 0)" # SPI 0
inA $net loop-send buriwan0 10.203.0.1 $P 7778 "00001001$(printf '%056d' 0)" # wrong port
inA $net loop-send buriwan0 10.203.0.1 $P 7777 "0000100100" # SPI 0x1001, too short
sleep 1.2
dl2=$(stat A drop_loop)
ms2=$(stat A drop_malformed)
[ $((dl2 - dl)) -eq 2 ] && [ $((ms2 - ms)) -eq 1 ] &&
	ok "into the mirror to ourselves: SPI 0 and a wrong port dropped (drop_loop $dl -> $dl2), a short packet by decap (drop_malformed $ms -> $ms2)" ||
	notok "mirror frames to ourselves: drop_loop $dl -> $dl2, drop_malformed $ms -> $ms2"

kill "$relay" "$own"
wait "$relay" "$own" 2>/dev/null
pids=" $pidA $pidB" # what rig_cleanup stops
sed 's/^/# relay: /' "$dir/relay.out"
own_n=$(tail -1 "$dir/own.out")
[ "$own_n" = 0 ] && ok "nothing from A's address to itself, nor ARP for it, left A's wan" ||
	notok "frames from A's address to itself on the wire: $own_n"
rin=$(awk '/^out/ {print $4}' "$dir/relay.out")
rout=$(awk '/^out/ {print $2}' "$dir/relay.out")
[ "${rin:-0}" -eq "$li" ] && [ "${rout:-0}" -ge 45 ] &&
	ok "the relay carried $rout packets out and $rin in, each once (A's loop_in $li)" ||
	notok "the relay carried $(tail -1 "$dir/relay.out"), A's loop_in $li"

kill -0 "$pidA" 2>/dev/null && kill -0 "$pidB" 2>/dev/null && ok "both data planes still running" ||
	notok "both data planes still running"
if [ $failed -gt 0 ]; then
	sed 's/^/# A: /' "$dir/A.log" | tail -20
	sed 's/^/# B: /' "$dir/B.log" | tail -20
fi
tap_end
