#!/bin/bash
# NAT rebinding and forged packets (issue 6): alpha behind a symmetric NAT (type d: a fresh
# random port per mapping), beta behind a full cone (type a: anyone may send to its mapped
# port), a direct tunnel between them. During a steady 10 packets/s ping the mappings of
# alpha's router are flushed, so alpha's packets leave from a new port: beta's data plane
# must follow after the first authentic packet (at most 1 % loss). Then 10,000 forged
# datagrams with beta's SPI arrive from a stranger's address: they are counted as bad MACs
# and move nothing. Root; hugepages reserved by the test. TAP output.
#
# usage: rebind.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
net="python3 $here/dpnet.py"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
. "$here/../harness/stack.sh"

stack_lab_start "$build"
lab_public med 198.51.100.1
lab_public evil 198.51.100.66
lab_site nat1 1 d
lab_node nat1 alpha
lab_site nat2 2 a
lab_node nat2 beta
inns() { ip netns exec "$(lab_ns "$1")" "${@:2}"; }
stack_mediator "$(lab_ns med)" 198.51.100.1 || bail "mediator up" "$sdir/mediator.log"
for node in alpha beta; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" ||
		bail "$node up" "$sdir/$node.dp.log" "$sdir/$node.ctl.log"
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
swait 200 online alpha && swait 200 online beta && cli beta create lan pw >/dev/null &&
	cli alpha join lan pw >/dev/null || bail "network" "$sdir/alpha.ctl.log"
ip_beta=$(stack_addr beta)
inns alpha ping -q -c 1 -i 0.05 -w 10 "$ip_beta" >/dev/null 2>&1 ||
	bail "alpha pings beta" "$sdir/alpha.ctl.log" "$sdir/beta.ctl.log"
# beta's view of alpha: "path endpoint spi_in"
view() { cli beta --json peers | python3 -c 'import json,sys
p = json.load(sys.stdin)["peers"]
print("%s %s %s" % (p[0]["path"], p[0]["endpoint"], p[0]["spi_in"]) if len(p) == 1 else "none - -")'; }
read -r path ep1 spi <<<"$(view)"
[ "$path" = direct ] && ok "a direct tunnel; beta sees alpha at $ep1" ||
	bail "direct tunnel: $(view)" "$sdir/alpha.ctl.log"

# --- rebinding: alpha's router forgets its mappings mid-ping ---
inns alpha ping -c 200 -i 0.1 -W 1 "$ip_beta" >"$sdir/rebind.ping" 2>&1 &
pp=$!
sleep 3
lab_flush nat1
moved() { read -r _ e _ <<<"$(view)"; [ "$e" != "$ep1" ]; }
if swait 50 moved; then
	read -r _ ep2 _ <<<"$(view)"
	ok "alpha's router forgot its mappings: beta follows alpha to $ep2"
else
	notok "beta still sends to $ep1 5 s after the flush"
	diag "$sdir/beta.ctl.log"
fi
wait $pp
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$sdir/rebind.ping")
[ "${rx:-0}" -ge 198 ] && ok "loss at most 1 % across the rebinding: $rx of 200" ||
	{ notok "echoes across the rebinding: ${rx:-0} of 200"; diag "$sdir/rebind.ping"; }

# --- 10,000 forged datagrams with beta's SPI from a stranger ---
read -r _ ep2 _ <<<"$(view)"
stat() { # counter of beta's data plane
	$net telemetry "$sdir/beta/rt/dpdk/$(stack_prefix beta)/dpdk_telemetry.v2" /buri/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['/buri/stats']['$1'])"
}
mac0=$(stat drop_mac)
inns evil python3 - "$spi" <<'PY'
import os, socket, struct, sys, time
spi = int(sys.argv[1], 16)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(10000):
    # well formed (IV, whole blocks, MAC): only the MAC check can refuse it
    body = struct.pack(">II", spi, i + 1) + os.urandom(16 + 16 * (1 + i % 4) + 12)
    s.sendto(body, ("198.51.100.12", 7777))
    if i % 25 == 24:
        time.sleep(0.005)  # paced: the test is about the MAC, not the af_packet ring
PY
# the telemetry snapshot is taken once a second: read until it stops moving
mac1=$(stat drop_mac)
for _ in 1 2 3 4 5 6; do
	sleep 1.1
	m=$(stat drop_mac)
	[ "$m" = "$mac1" ] && break
	mac1=$m
done
forged=$((mac1 - mac0))
[ "$forged" -ge 9500 ] && ok "beta's data plane counted $forged of 10,000 forged datagrams as bad MACs" ||
	notok "forged datagrams counted: $forged of 10,000 (drop_mac $mac0 -> $mac1)"
read -r _ ep3 _ <<<"$(view)"
[ "$ep3" = "$ep2" ] && ok "and they moved nothing: beta still sends to $ep3" ||
	notok "the endpoint moved from $ep2 to $ep3"
inns alpha ping -c 5 -i 0.2 -W 1 "$ip_beta" >"$sdir/ping.out" 2>&1 && ok "alpha and beta still talk" ||
	{ notok "ping after the forgeries"; diag "$sdir/ping.out"; }
tap_end
