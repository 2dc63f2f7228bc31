#!/bin/sh
# buri-medload against a real buri-mediator at a small scale: every session logs in
# (REGISTER, then AUTH on a second run), stays online through the hold, and every join
# reaches the broker. A functional check of the load tool and of many concurrent sessions;
# the figures themselves are for docs/BENCHMARKS.md, not asserted here. TAP output.
# usage: mediator_load.sh BURI_MEDIATOR BURI_MEDLOAD
set -u
med=$1
load=$2
dir=$(mktemp -d /tmp/buri-load.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/med.cfg" <<CFG
listen = { address = "127.0.0.1"; tcp_port = $port; tls_port = 0; disco_ports = [$((port + 1))]; };
key = "$dir/mediator.key";
store = { path = "$dir/mediator.db"; };
limits = { handshakes_per_second = 100000; handshake_burst = 100000;
           half_open_per_address = 100000; password_iterations = 1000; idle_timeout = 6; };
log = { level = "warn"; };
CFG
"$med" -c "$dir/med.cfg" >"$dir/med.out" 2>"$dir/med.log" &
pid=$!
for _ in $(seq 50); do
	grep -q fingerprint "$dir/med.out" 2>/dev/null && break
	sleep 0.2
done
sleep 0.3

n=0
bad=0
run() { # name
	n=$((n + 1))
	timeout 120 "$load" --host 127.0.0.1 --port "$port" --server-key "$dir/mediator.key" \
		--pid "$pid" -n 60 -c 16 -p 5 --hold 8 --align --keys "$dir/keys.pem" \
		--ids "$dir/ids.txt" >"$dir/out" 2>"$dir/err"
	st=$?
	cat "$dir/out" "$dir/err" >"$dir/all"
	# exit 0, nothing failed, all 60 held, all 5 joins brokered, keep-alive pings answered
	if [ "$st" -eq 0 ] && grep -q "failures: none" "$dir/all" &&
		grep -q "held 60 sessions idle for 8 s: 60 alive (server PINGs answered: [1-9]" "$dir/all" &&
		grep -q "(5 of 5 pairs)" "$dir/all"; then
		echo "ok $n - $1"
		grep -E "logins:|held|join-to-broker" "$dir/all" | sed 's/^/# /'
	else
		bad=$((bad + 1))
		echo "not ok $n - $1"
		sed 's/^/# /' "$dir/err" "$dir/out" | tail -n 30
		sed 's/^/# mediator: /' "$dir/med.log" | tail -n 20
	fi
}
run "60 sessions register, join-to-broker for 5 pairs, hold with keep-alive pings"
run "the same 60 log in again with AUTH"
n=$((n + 1))
if kill -0 "$pid" 2>/dev/null; then
	echo "ok $n - the mediator is still running"
else
	bad=$((bad + 1))
	echo "not ok $n - the mediator died"
	sed 's/^/# /' "$dir/med.log" | tail -n 30
fi
echo "1..$n"
[ "$bad" -eq 0 ]
