# SPDX-License-Identifier: MIT
# The whole buri stack in network namespaces, for the full-stack tests and the demo (sourced,
# bash). The topology (namespaces, NAT routers, links) is the caller's, e.g. natlab.sh; this
# file starts the programs in it:
#
#   stack_init BUILD_DIR            paths, a run directory ($sdir), hugepages
#   stack_lab_start BUILD_DIR       lab_init (natlab.sh, sourced first) and stack_init, with
#                                   traps that end every process and namespace on exit
#   stack_relay NS ADDR             buri-relay in NS on ADDR (UDP 7790, TCP 7791); a mediator
#                                   started after it grants tunnels sessions on it
#   stack_mediator NS ADDR          buri-mediator in NS, listening on ADDR; $med_addr, $med_pub
#   stack_node NAME NS WAN ADDR/LEN GW
#                                   buri-dataplane (af_packet on WAN, mirror buriwan0 with
#                                   ADDR/LEN and a default route via GW) and buri-control
#   cli NAME ARGS...                the `buri` CLI of node NAME
#   stack_node_stop NAME            NAME's buri-control (it logs out) and data plane stopped;
#                                   the wan veth is the kernel's again, without an address
#   stack_node_start NAME ADDR/LEN GW   both started again (same identity and settings)
#   stack_kill9 NAME                kill -9 of NAME's buri-control; stack_restart NAME again
#   stack_cleanup                   every process started here, by PID; hugepages given back
#
# Every process started here is remembered by PID and ended by PID. Logs: $sdir/NAME.*.log.

stack_init() {
	sbuild=$1
	sdir=$(mktemp -d /tmp/buri-stack.XXXXXX)
	ssfx=$$ # data plane prefixes name shared memory (/dev/shm): unique per run
	chmod 755 "$sdir"
	spids=""
	shuge_added=0
	snodes=""
	stack_hugepages 384
}

# The data plane prefix of node name (its shared memory and telemetry socket are named by it).
stack_prefix() { echo "$1-$ssfx"; }

stack_lab_start() { # build_dir
	trap 'stack_cleanup; lab_cleanup' EXIT
	trap 'exit 1' INT TERM
	lab_init
	stack_init "$1"
}

stack_hugepages() { # pages: make sure this many 2 MiB pages are free
	local free cur add
	free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	if [ "$free" -lt "$1" ]; then
		cur=$(cat /proc/sys/vm/nr_hugepages)
		add=$(($1 - free))
		echo $((cur + add)) >/proc/sys/vm/nr_hugepages
		shuge_added=$((shuge_added + add))
	fi
}

# Waits up to 5 s for process $1 (signalled already) to end, then kill -9; reaps it.
stack_reap() {
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

stack_cleanup() {
	local p cur
	for p in $spids; do kill "$p" 2>/dev/null; done
	for p in $spids; do stack_reap "$p"; done
	spids=""
	if [ "$shuge_added" -gt 0 ]; then
		cur=$(cat /proc/sys/vm/nr_hugepages)
		echo $((cur - shuge_added)) >/proc/sys/vm/nr_hugepages
		shuge_added=0
	fi
	[ -n "${sdir:-}" ] && rm -rf "$sdir"
}

spid_add() { spids="$spids $1"; }
spid_del() { spids=$(echo "$spids" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' '); }

# Waits up to $1 tenths of a second (wall clock) for the command $2... to succeed.
swait() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 100))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$(($(date +%s%N) / 1000000))" -ge "$end" ] && return 1
		sleep 0.1
	done
}

stack_relay() { # ns addr
	relay_addr=$2
	cat >"$sdir/relay.cfg" <<CFG
listen = { address = "$2"; udp_port = 7790; tcp_port = 7791; };
secret = "$sdir/relay.secret";
log = { level = "info"; stats_interval = 5; };
CFG
	relay_hex=$("$sbuild/relay/buri-relay" -c "$sdir/relay.cfg" --print-secret) || return 1
	ip netns exec "$1" "$sbuild/relay/buri-relay" -c "$sdir/relay.cfg" \
		>"$sdir/relay.out" 2>"$sdir/relay.log" &
	relay_pid=$!
	spid_add $relay_pid
	swait 50 sh -c "ip netns exec $1 ss -Hlun | grep -q ':7790 '"
}

stack_mediator() { # ns addr
	local relay=""
	med_ns=$1
	med_addr=$2
	[ -n "${relay_hex:-}" ] &&
		relay="relay = { address = \"$relay_addr\"; udp_port = 7790; tcp_port = 7791; secret = \"$relay_hex\"; };"
	cat >"$sdir/mediator.cfg" <<CFG
listen = { address = "$med_addr"; tcp_port = 7770; tls_port = 7771; disco_ports = [7772, 7773]; };
key = "$sdir/mediator.key";
store = { path = "$sdir/mediator.db"; };
limits = { password_iterations = 1000; lost_grace = 300; };
workers = 1;
log = { level = "info"; };
$relay
CFG
	ip netns exec "$med_ns" "$sbuild/mediator/buri-mediator" -c "$sdir/mediator.cfg" \
		>"$sdir/mediator.out" 2>"$sdir/mediator.log" &
	med_pid=$!
	spid_add $med_pid
	swait 100 grep -q " ready" "$sdir/mediator.log" || return 1
	med_pub=$sdir/mediator.pub
	openssl pkey -in "$sdir/mediator.key" -pubout -out "$med_pub" 2>/dev/null
}

stack_mediator_kill9() {
	kill -9 "$med_pid" 2>/dev/null
	wait "$med_pid" 2>/dev/null
	spid_del "$med_pid"
}

stack_mediator_restart() {
	: >"$sdir/mediator.log.new"
	ip netns exec "$med_ns" "$sbuild/mediator/buri-mediator" -c "$sdir/mediator.cfg" \
		>>"$sdir/mediator.out" 2>"$sdir/mediator.log.new" &
	med_pid=$!
	spid_add $med_pid
	swait 100 grep -q " ready" "$sdir/mediator.log.new"
}

# The data plane of node name: af_packet on the wan veth, naps of up to 200 us, main lcore 0
# and worker 1 unless $stack_lcores_NAME says otherwise (e.g. "main = 1; workers = [0];").
stack_dp_conf() { # name wan
	local lc
	eval "lc=\${stack_lcores_$1:-main = 0; workers = [1];}"
	cat >"$sdir/$1.dp.cfg" <<CFG
eal = { file_prefix = "$(stack_prefix "$1")"; memory = "hugepages"; args = ["--log-level=*:error"]; };
lcores = { $lc };
wan = { device = "net_af_packet0,iface=$2"; mirror = "buriwan0"; mtu = 1500; };
overlay = { iface = "buri0"; };
tunnel = { port = 7777; idle_timeout = 30; };
pools = { mbufs = 4095; sas = 256; };
poll = { busy = false; idle_polls = 64; sleep_max_us = 200; };
log = { level = "info"; };
CFG
}

stack_ctl_conf() { # name
	cat >"$sdir/$1.ctl.cfg" <<CFG
mediator = { host = "$med_addr"; port = 7770; tls_port = 7771; key = "$med_pub"; };
node = { key = "$sdir/$1/node.key"; state = "$sdir/$1/node.state"; nick = "$1"; };
dataplane = { prefix = "$(stack_prefix "$1")"; overlay_iface = "buri0"; };
tunnel = { port = 7777; ${stack_tunnel_extra:-} };
control = { socket = "$sdir/$1/control.sock"; };
log = { level = "${stack_ctl_log:-info}"; };
CFG
}

stack_dp_start() { # name
	local ns
	eval "ns=\$ns_$1"
	ip netns exec "$ns" env RUNTIME_DIRECTORY="$sdir/$1/rt" \
		"$sbuild/dataplane/buri-dataplane" -c "$sdir/$1.dp.cfg" \
		>>"$sdir/$1.dp.out" 2>>"$sdir/$1.dp.log" &
	eval "dp_$1=$!"
	spid_add $!
	swait 150 sh -c "[ -e /dev/shm/buri-$(stack_prefix "$1")-dpif ] &&
		ip netns exec $ns ip link show buriwan0"
}

stack_ctl_start() { # name
	local ns
	eval "ns=\$ns_$1"
	ip netns exec "$ns" "$sbuild/control/buri-control" -c "$sdir/$1.ctl.cfg" \
		>>"$sdir/$1.ctl.out" 2>>"$sdir/$1.ctl.log" &
	eval "ctl_$1=$!"
	spid_add $!
	swait 100 test -S "$sdir/$1/control.sock"
}

stack_node() { # name ns wan addr/len gw
	mkdir -p "$sdir/$1/rt"
	chmod 700 "$sdir/$1"
	eval "ns_$1=$2"
	snodes="$snodes $1"
	stack_dp_conf "$1" "$3"
	stack_ctl_conf "$1"
	ip -n "$2" link set "$3" up
	stack_node_start "$1" "$4" "$5"
}

stack_node_start() { # name addr/len gw
	local ns
	eval "ns=\$ns_$1"
	stack_dp_start "$1" || return 1
	ip -n "$ns" addr add "$2" dev buriwan0
	ip -n "$ns" link set buriwan0 up
	ip -n "$ns" route add default via "$3" dev buriwan0
	stack_ctl_start "$1"
}

stack_node_stop() { # name
	local v p
	for v in ctl dp; do
		eval "p=\$${v}_$1"
		kill "$p" 2>/dev/null
		stack_reap "$p"
		spid_del "$p"
	done
}

cli() { # name args...
	local n=$1
	shift
	"$sbuild/tools/buri" --socket "$sdir/$n/control.sock" "$@"
}

stack_kill9() { # name: kill -9 its buri-control
	local p
	eval "p=\$ctl_$1"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	spid_del "$p"
}

stack_restart() { # name: start its buri-control again
	stack_ctl_start "$1"
}

# The overlay address of node name, from `buri status --json`.
stack_addr() {
	cli "$1" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin).get("identity",""))'
}
