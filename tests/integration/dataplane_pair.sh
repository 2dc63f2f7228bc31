#!/bin/sh
# Two buri-dataplanes back to back, SAs pushed through the shared rings by buri-dpctl (the
# stand-in for buri-control until it exists). Root, network namespaces, hugepages reserved by
# the test itself. TAP output.
#
# The rig (namespaces, veth, configs, addresses) is tests/harness/dprig.sh.
#
# Checks: the exception path (the host stacks ping each other through the data planes), SA
# push, ping, fragmentation-needed and MSS clamping, a 4 MB TCP transfer over the overlay,
# broadcast and multicast across, tampered, replayed and unknown-SPI packets dropped and
# counted, forwarding across kill -9 of the SA tool, clean exit.
#
# usage: dataplane_pair.sh BURI_DATAPLANE BURI_DPCTL
set -u
dp=$1
ctl=$2
here=$(cd "$(dirname "$0")" && pwd)
net="python3 $here/dpnet.py"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/dprig.sh"
rig_init


if rig_up; then ok "both data planes start (TAPs and control channel)"; else
	notok "both data planes start"
	sed 's/^/# A: /' "$dir/A.log"
	sed 's/^/# B: /' "$dir/B.log"
	exit 1
fi

check "exception path: the host stacks ping each other through both data planes" \
	inA ping -c 3 -i 0.2 -W 2 10.203.0.2

# --- SAs through the rings ---
check "SAs pushed to A and B (acks)" rig_sas
check "ping over the overlay, 20 of 20" pings "$A" 20 -i 0.05 100.64.0.2
check "ping the other way, large packets (1392 B, DF), 5 of 5" pings "$B" 5 -i 0.1 -M do -s 1364 100.64.0.1

# A's overlay MTU raised by hand above what the tunnel carries: A's SYN advertises MSS 1460,
# which its data plane must clamp to 1380; a DF packet that is too big gets ICMP
# fragmentation-needed from the data plane
inA ip link set buri0 mtu 1500
inB $net tcp-serve 5001 20 >"$dir/tcp.srv" 2>&1 &
srv=$!
sleep 0.3
inA $net tcp-send 100.64.0.2 5001 4000000 7 >"$dir/tcp.cli" 2>&1
wait $srv
if [ -s "$dir/tcp.cli" ] && cmp -s "$dir/tcp.cli" "$dir/tcp.srv"; then
	ok "TCP transfer of 4 MB, checksum matches ($(cut -c1-20 "$dir/tcp.srv"))"
	sleep 1.2
	c=$(stat A mss_clamped)
	[ "$c" -ge 1 ] && ok "A's SYN had its MSS clamped (mss_clamped=$c)" || notok "MSS clamp: $c"
else
	notok "TCP transfer of 4 MB"
	sed 's/^/# cli: /' "$dir/tcp.cli"
	sed 's/^/# srv: /' "$dir/tcp.srv"
fi

# the kernel learns the tunnel's path MTU from this, so it comes after the MSS clamp check
inA ping -c 2 -i 0.3 -W 1 -M do -s 1450 100.64.0.2 >"$dir/big.out" 2>&1
if grep -qiE "mtu ?= ?1420" "$dir/big.out"; then ok "DF packet above the tunnel MTU gets fragmentation-needed (mtu 1420)"; else
	notok "DF packet above the tunnel MTU gets fragmentation-needed"
	sed 's/^/# /' "$dir/big.out"
fi

inB $net udp-recv 6000 3 >"$dir/bc.out" 2>&1 &
rcv=$!
inB $net udp-recv 6001 3 239.7.7.7 100.64.0.2 >"$dir/mc.out" 2>&1 &
rcv2=$!
sleep 0.5
inA $net udp-send 100.127.255.255 6000 hello-broadcast
inA $net udp-send 239.7.7.7 6001 hello-multicast buri0
wait $rcv $rcv2
check "broadcast reaches the other side" grep -q "hello-broadcast 100.64.0.1" "$dir/bc.out"
check "multicast reaches the other side" grep -q "hello-multicast 100.64.0.1" "$dir/mc.out"

# --- bad packets: capture a genuine A->B tunnel frame at B's wire, send variants from A's ---
inB $net sniff vB 7777 8 >"$dir/frame.hex" &
sn=$!
sleep 1
inA ping -c 10 -i 0.3 -W 1 100.64.0.2 >/dev/null
wait $sn
frame=$(cat "$dir/frame.hex")
if [ -z "$frame" ]; then notok "captured a tunnel frame"; else
	ok "captured a tunnel frame ($((${#frame} / 2)) bytes)"
	sleep 1.2 # telemetry snapshot and counters settle
	dec0=$(stat B decap)
	inA $net inject vA "$frame"
	sleep 0.3
	r1=$(stat B drop_replay)
	[ "$r1" -ge 1 ] && ok "replayed frame dropped and counted (drop_replay=$r1)" ||
		notok "replayed frame dropped and counted (drop_replay=$r1)"
	mac0=$(stat B drop_mac)
	# a fresh message ID (so the replay check passes) and one bit flipped in each byte of the
	# ciphertext, IV and MAC (tests/dp checks every single bit against the reference)
	bytes=$((${#frame} / 2 - 50))
	i=0
	while [ $i -lt $bytes ]; do
		inA $net tamper vA "$frame" $((1000000 + i)) $((64 + i * 8 + i % 8))
		i=$((i + 1))
	done
	sleep 0.5
	mac1=$(stat B drop_mac)
	dec1=$(stat B decap)
	[ $((mac1 - mac0)) -eq $bytes ] && [ "$dec1" -eq "$dec0" ] &&
		ok "$bytes tampered frames (one bit each) all dropped as bad MAC, none delivered" ||
		notok "tampered frames: drop_mac $mac0 -> $mac1 for $bytes sent, decap $dec0 -> $dec1"
	u0=$(stat B drop_unknown_spi)
	inA $net forge vA "$frame" 0x7777
	sleep 0.3
	u1=$(stat B drop_unknown_spi)
	[ $((u1 - u0)) -eq 1 ] && ok "unknown SPI dropped and counted" ||
		notok "unknown SPI: drop_unknown_spi $u0 -> $u1"
fi

# --- telemetry (dpdk-telemetry.py speaks the same protocol) ---
tel() { $net telemetry "$dir/rt/dpdk/$pa/dpdk_telemetry.v2" "$1"; }
sleep 1.1 # the SA snapshot is refreshed once a second
check "telemetry /buri/sa/list names the SA" sh -c "$net telemetry $dir/rt/dpdk/$pa/dpdk_telemetry.v2 /buri/sa/list | grep -q 4097"
tel "/buri/sa/info,4097" >"$dir/info.json"
check "telemetry /buri/sa/info: endpoint, packets both ways, no keys" python3 -c "
import json; d = json.load(open('$dir/info.json'))['/buri/sa/info']
assert d['endpoint'] == '10.203.0.2:7777' and d['peer'] == '100.64.0.2', d
assert d['pkts_in'] > 0 and d['pkts_out'] > 0 and d['spi_out'] == 0x2001, d
assert not any('key' in k or 'ke' == k or 'ka' == k for k in d), d"
tel /buri/ports >"$dir/ports.json"
check "telemetry /buri/ports: wan, overlay and mirror counters" python3 -c "
import json; d = json.load(open('$dir/ports.json'))['/buri/ports']
assert all(d[r]['opackets'] > 0 and d[r]['ipackets'] > 0 for r in ('wan', 'overlay', 'mirror')), d"

# --- kill -9 of the process that pushes SAs: forwarding goes on ---
# A steady ping runs while a dpctl attached and reading events is killed, then another one
# pushing 200 SAs is killed mid-batch (one control process at a time: the channel's lock); a
# new "control process" (a newer generation) then re-pushes the working SA and flushes what
# older generations left: the half-done batch goes, the tunnel stays, nothing is lost.
inA ping -c 60 -i 0.05 -W 2 100.64.0.2 >"$dir/steady.out" 2>&1 &
steady=$!
$ctl -p $pa events 30 >"$dir/events.out" 2>&1 &
ev=$!
sleep 0.5
check "a second control process is refused while one is attached" sh -c \
	"! $ctl -p $pa dump >$dir/busy.out 2>&1 && grep -q 'another control process' $dir/busy.out"
kill -9 $ev
wait $ev 2>/dev/null
i=0
while [ $i -lt 200 ]; do
	echo "add $((0x5000 + i)) $((0x6000 + i)) 100.64.1.$((i % 250 + 1)) 10.203.0.2:7777 $KBA $KAB 1"
	i=$((i + 1))
done >"$dir/batch"
$ctl -p $pa batch <"$dir/batch" >"$dir/batch.out" 2>&1 &
bt=$!
sleep 0.1
kill -9 $bt
wait $bt 2>/dev/null
wait $steady
grep -q " 60 received, 0% packet loss" "$dir/steady.out" &&
	ok "kill -9 of two dpctl (one mid-batch): a steady ping loses nothing (60 of 60)" ||
	{ notok "kill -9 of dpctl: steady ping"; sed 's/^/# /' "$dir/steady.out" | tail -3; }
echo "# SAs on A after the killed batch: $($ctl -p $pa dump | grep -c '^sa ')"
gen=$(date +%s%N)
check "a new generation re-pushes the working SA" \
	$ctl -p $pa -g "$gen" add 0x1001 0x2001 100.64.0.2 10.203.0.2:7777 "$KBA" "$KAB" 1
check "and flushes older generations" $ctl -p $pa -g "$gen" flush
$ctl -p $pa dump >"$dir/dump.out" 2>&1
[ "$(grep -c '^sa ' "$dir/dump.out")" -eq 1 ] && grep -q "spi_in=0x00001001" "$dir/dump.out" &&
	ok "after the flush exactly the working SA is left" ||
	{ notok "after the flush: $(grep -c '^sa ' "$dir/dump.out") SAs"; head -3 "$dir/dump.out" | sed 's/^/# /'; }
check "ping after the resync, 10 of 10" pings "$A" 10 -i 0.05 100.64.0.2
check "a new dpctl attaches to B and sees its SA (dump)" sh -c "$ctl -p $pb dump | grep -q 'spi_in=0x00002001'"

# --- rekey without loss: new SAs as standby on both sides, then activated (no keys sent again),
# then the old ones go ---
K2AB=$(python3 -c 'import os; print(os.urandom(52).hex())')
K2BA=$(python3 -c 'import os; print(os.urandom(52).hex())')
inA ping -c 80 -i 0.025 -W 2 100.64.0.2 >"$dir/rekey.out" 2>&1 &
rk=$!
sleep 0.3
{
	$ctl -p $pa add 0x1101 0x2101 100.64.0.2 10.203.0.2:7777 "$K2BA" "$K2AB" 1 standby &&
		$ctl -p $pb add 0x2101 0x1101 100.64.0.1 10.203.0.1:7777 "$K2AB" "$K2BA" 1 standby &&
		$ctl -p $pa activate 0x1101 && $ctl -p $pb activate 0x2101 &&
		sleep 0.2 && $ctl -p $pa del 0x1001 && $ctl -p $pb del 0x2001
} >"$dir/rekey.ctl" 2>&1
rkst=$?
wait $rk
[ $rkst -eq 0 ] && grep -q " 80 received, 0% packet loss" "$dir/rekey.out" &&
	ok "rekey to new SPIs and keys during a steady ping: 80 of 80" ||
	{ notok "rekey without loss"; sed 's/^/# /' "$dir/rekey.ctl" "$dir/rekey.out" | tail -4; }
$ctl -p $pa dump >"$dir/dump2.out" 2>&1
[ "$(grep -c '^sa ' "$dir/dump2.out")" -eq 1 ] && grep -q "spi_in=0x00001101" "$dir/dump2.out" &&
	ok "after the rekey only the new SA is left" || notok "after the rekey: $(cat "$dir/dump2.out")"

# --- a dummy on request (keepalive): B counts one authentic packet more, delivers nothing ---
sa_pkts_in() { # side spi: pkts_in of that SA from a dump
	eval "p=\$p$(echo "$1" | tr AB ab)"
	$ctl -p "$p" dump | grep "spi_in=$2 " | sed 's/.*pkts_in=\([0-9]*\).*/\1/'
}
in0=$(sa_pkts_in B 0x00002101)
d0=$(stat B dummy_in)
o0=$(stat B decap)
$ctl -p $pa probe 0x1101 >"$dir/probe.out" 2>&1
sleep 1.3 # the telemetry snapshot is once a second
in1=$(sa_pkts_in B 0x00002101)
d1=$(stat B dummy_in)
o1=$(stat B decap)
[ "$((in1 - in0))" -eq 1 ] && [ "$((d1 - d0))" -eq 1 ] && [ "$o1" -eq "$o0" ] &&
	ok "probe: A sends one dummy; B counts it (pkts_in $in0 -> $in1), delivers nothing" ||
	notok "probe: pkts_in $in0 -> $in1, dummy_in $d0 -> $d1, decap $o0 -> $o1 $(cat "$dir/probe.out")"

kill -0 "$pidA" 2>/dev/null && kill -0 "$pidB" 2>/dev/null && ok "both data planes still running" ||
	notok "both data planes still running"
kill "$pidA" "$pidB"
wait "$pidA" 2>/dev/null
sa=$?
wait "$pidB" 2>/dev/null
sb=$?
pids=""
[ $sa -eq 0 ] && [ $sb -eq 0 ] && ok "SIGTERM: both exit 0" || notok "SIGTERM: exit $sa / $sb"
[ ! -e "/dev/shm/buri-$pa-dpif" ] && ok "control channel removed at exit" ||
	notok "control channel removed at exit"
if [ $failed -gt 0 ]; then
	sed 's/^/# A: /' "$dir/A.log" | tail -20
	sed 's/^/# B: /' "$dir/B.log" | tail -20
fi
tap_end
