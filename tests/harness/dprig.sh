# SPDX-License-Identifier: MIT
# Two buri-dataplanes back to back in network namespaces, for tests and benchmarks (sourced).
#
#   ns $A                                               ns $B
#   buri0    100.64.0.1/10  (overlay TAP)               buri0    100.64.0.2/10
#   buriwan0 10.203.0.1/24  (mirror TAP: host stack)     buriwan0 10.203.0.2/24
#        |  buri-dataplane A                                 |  buri-dataplane B
#        +-- wan: net_af_packet on vA  <=== veth ===>  vB :wan --+
#
# The caller sets dp (buri-dataplane), ctl (buri-dpctl) and net (dpnet.py), sources tap.sh,
# calls rig_init, optionally rig_poll to choose the workers' polling, then rig_up; rig_cleanup
# runs on exit. Checks: check NAME CMD..., pings NS COUNT ARGS..., stat SIDE COUNTER. Hugepages:
# the data planes use --in-memory, so the rig only makes sure 128 free 2 MiB pages exist (and
# gives back what it added); no hugetlbfs mount is needed.

rig_init() {
	A=bdpA-$$
	B=bdpB-$$
	pa=tA$$
	pb=tB$$
	dir=$(mktemp -d /tmp/buri-dp.XXXXXX)
	mkdir -p "$dir/rt"
	pids=""
	huge_added=0
	poll='poll = { busy = false; idle_polls = 64; sleep_max_us = 200; };'
	lcores_A='lcores = { main = 0; workers = [1]; };'
	lcores_B=$lcores_A
	trap rig_cleanup EXIT INT TERM
}

rig_cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=""
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	if [ "$huge_added" -gt 0 ]; then
		cur=$(cat /proc/sys/vm/nr_hugepages)
		echo $((cur - huge_added)) >/proc/sys/vm/nr_hugepages
		huge_added=0
	fi
	rm -rf "$dir"
}

rig_poll() { # the poll = {...} line of both configs
	poll=$1
}

rig_lcores() { # the lcores = {...} lines of A and B
	lcores_A=$1
	lcores_B=$2
}

inA() { ip netns exec "$A" "$@"; }
inB() { ip netns exec "$B" "$@"; }

rig_hugepages() { # pages
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	if [ "$free" -lt "$1" ]; then
		cur=$(cat /proc/sys/vm/nr_hugepages)
		huge_added=$(($1 - free))
		echo $((cur + huge_added)) >/proc/sys/vm/nr_hugepages
	fi
}

rig_conf() { # side iface prefix
	cat >"$dir/$1.cfg" <<CFG
eal = { file_prefix = "$3"; memory = "hugepages"; args = ["--log-level=*:error"]; };
$(eval echo "\"\$lcores_$1\"")
wan = { device = "net_af_packet0,iface=$2"; mirror = "buriwan0"; mtu = 1500; };
overlay = { iface = "buri0"; };
tunnel = { port = 7777; };
pools = { mbufs = 4095; sas = 512; };
$poll
log = { level = "info"; };
CFG
}

rig_start() { # side ns
	ip netns exec "$2" env RUNTIME_DIRECTORY="$dir/rt" "$dp" -c "$dir/$1.cfg" \
		>"$dir/$1.out" 2>"$dir/$1.log" &
	pids="$pids $!"
	eval "pid$1=$!"
}

rig_ready() { # ns prefix: the mirror TAP and the control channel exist
	for _ in $(seq 100); do
		[ -e "/dev/shm/buri-$2-dpif" ] && ip netns exec "$1" ip link show buriwan0 >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	return 1
}

# Namespaces, the veth, both data planes started and addressed; 1 if they did not come up.
rig_up() {
	rig_hugepages 128
	ip netns add "$A"
	ip netns add "$B"
	ip link add vA netns "$A" type veth peer name vB netns "$B"
	for ns in $A $B; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	inA ip link set vA up
	inB ip link set vB up
	rig_conf A vA "$pa"
	rig_conf B vB "$pb"
	rig_start A "$A"
	rig_start B "$B"
	rig_ready "$A" "$pa" && rig_ready "$B" "$pb" || return 1
	inA ip addr add 10.203.0.1/24 dev buriwan0
	inB ip addr add 10.203.0.2/24 dev buriwan0
	inA ip addr add 100.64.0.1/10 dev buri0
	inB ip addr add 100.64.0.2/10 dev buri0
}

# One tunnel A <-> B with fresh random keys (KAB: A to B, KBA: B to A).
rig_sas() {
	KAB=$(python3 -c 'import os; print(os.urandom(52).hex())')
	KBA=$(python3 -c 'import os; print(os.urandom(52).hex())')
	$ctl -p "$pa" add 0x1001 0x2001 100.64.0.2 10.203.0.2:7777 "$KBA" "$KAB" 1 &&
		$ctl -p "$pb" add 0x2001 0x1001 100.64.0.1 10.203.0.1:7777 "$KAB" "$KBA" 1
}

check() { # name command...: ok if the command succeeds
	name=$1
	shift
	if "$@" >"$dir/check.out" 2>&1; then ok "$name"; else
		notok "$name"
		sed 's/^/# /' "$dir/check.out"
	fi
}
pings() { # ns count args...: every echo answered
	ns=$1
	cnt=$2
	shift 2
	ip netns exec "$ns" ping -c "$cnt" -W 2 "$@" >"$dir/ping.out" 2>&1
	grep -q " $cnt received, 0% packet loss" "$dir/ping.out" || { cat "$dir/ping.out"; return 1; }
}
stat() { # side (A or B) counter, from its telemetry (the snapshot is once a second)
	eval "p=\$p$(echo "$1" | tr AB ab)"
	$net telemetry "$dir/rt/dpdk/$p/dpdk_telemetry.v2" /buri/stats |
		python3 -c "import json,sys; print(json.load(sys.stdin)['/buri/stats']['$2'])"
}
