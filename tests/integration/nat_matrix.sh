#!/bin/bash
# The NAT pair matrix (issue 6): for every pair of NAT types a..e (tests/harness/natlab.sh;
# 15 pairs, a type with itself included), two nodes each behind its own NAT router of those
# types get a tunnel, and the test checks the path it takes and the time from `buri join` to
# the first ping reply. A mediator and a buri-relay sit on public addresses.
#
# Expected paths (write changes here and in docs/BENCHMARKS.md together):
#   direct:  a-a a-b a-c a-d b-b b-c b-d c-c
#            (a full cone accepts anyone; an address-restricted cone accepts the symmetric
#            NAT's new port once it has sent to that address; two port-preserving,
#            port-restricted cones punch each other)
#   relayed: c-d d-d (the symmetric NAT's port towards the peer is unknown and random, and the
#            other side filters by port), and every pair with e (no UDP at all: the e node
#            reaches the relay over TCP)
# Limits: first reply within 3 s for direct pairs and 5 s for relayed ones.
#
# ROUNDS=N (default 1) repeats every pair N times (each round: join, ping, leave) and prints
# the median and p95 per pair; tools/bench/nat_matrix.sh runs it for docs/BENCHMARKS.md.
# Root; hugepages reserved by the test. TAP output.
#
# usage: nat_matrix.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rounds=${ROUNDS:-1}
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
. "$here/../harness/stack.sh"

types="a b c d e"
expect() { # the expected path of pair $1$2 (sorted)
	case "$1$2" in
	aa | ab | ac | ad | bb | bc | bd | cc) echo direct ;;
	*) echo relayed ;;
	esac
}

stack_lab_start "$build"
stack_hugepages 1400 # ten data planes
lab_public med 198.51.100.1
lab_public rly 198.51.100.2
stack_relay "$(lab_ns rly)" 198.51.100.2 || bail "relay up" "$sdir/relay.log"
stack_mediator "$(lab_ns med)" 198.51.100.1 || bail "mediator up" "$sdir/mediator.log"
# Two nodes per type, each behind its own router: x1 and x2 behind sites x1r and x2r.
site_n=0
nodes=""
for t in $types; do
	for k in 1 2; do
		site_n=$((site_n + 1))
		lab_site "${t}${k}r" $site_n "$t" || bail "site $t$k"
		lab_node "${t}${k}r" "$t$k"
		nodes="$nodes $t$k"
	done
done
for node in $nodes; do
	eval "a=\$lab_addr_$node g=\$lab_gw_$node"
	stack_node "$node" "$(lab_ns "$node")" wan0 "$a" "$g" ||
		bail "$node up" "$sdir/$node.dp.log" "$sdir/$node.ctl.log"
done
online() { cli "$1" --json status 2>/dev/null | grep -q '"state":"online"'; }
nat_known() { ! cli "$1" --json status 2>/dev/null | grep -q '"type":"unknown"'; }
for node in $nodes; do
	swait 300 online "$node" && swait 100 nat_known "$node" ||
		bail "$node online" "$sdir/$node.ctl.log"
	eval "ip_$node=$(stack_addr "$node")"
done
ok "relay, mediator and ten nodes behind NATs of types a..e online"
for node in $nodes; do
	echo "# $node: $(cli "$node" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["nat"])')"
done

# "path" of the tunnel from $1 to its only peer
path_of() {
	cli "$1" --json peers | python3 -c 'import json,sys
p = json.load(sys.stdin)["peers"]
print(p[0]["path"] if len(p) == 1 else "none")'
}
why_of() {
	cli "$1" --json peers | python3 -c 'import json,sys
p = json.load(sys.stdin)["peers"]
print(p[0]["why"] if len(p) == 1 else "")'
}
no_peer() { [ "$(cli "$1" --json peers | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["peers"]))')" = 0 ]; }

# One round of pair (x, y): y joins x's network; ms to the first reply, or fail.
round() { # x y net
	local x=$1 y=$2 ip t0 ms
	eval "ip=\$ip_$x"
	t0=$(date +%s%N)
	cli "$y" join "$3" pw >/dev/null || return 1
	ip netns exec "$(lab_ns "$y")" ping -q -c 1 -i 0.01 -w 15 "$ip" >/dev/null 2>&1 || return 1
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "$ms"
}

: >"$sdir/matrix.txt"
for x in $types; do
	for y in $types; do
		[[ "$y" < "$x" ]] && continue
		a=${x}1 b=${y}2
		want=$(expect "$x" "$y")
		limit=$([ "$want" = direct ] && echo 3000 || echo 5000)
		net="m$x$y"
		cli "$a" create "$net" pw >/dev/null || { notok "$x-$y: create"; continue; }
		times=""
		bad=""
		for r in $(seq "$rounds"); do
			if ! ms=$(round "$a" "$b" "$net"); then
				bad="no reply within 15 s (round $r; $(why_of "$b"))"
				break
			fi
			times="$times $ms"
			p1=$(path_of "$a")
			p2=$(path_of "$b")
			if [ "$p1" != "$want" ] || [ "$p2" != "$want" ]; then
				sleep 1 # a relayed path may still be moving to a direct one
				p1=$(path_of "$a")
				p2=$(path_of "$b")
			fi
			[ "$p1" = "$want" ] && [ "$p2" = "$want" ] ||
				bad="${bad:+$bad; }round $r: path $p1/$p2, expected $want ($(why_of "$b"))"
			cli "$b" leave "$net" >/dev/null
			swait 100 no_peer "$b" && swait 100 no_peer "$a" ||
				bad="${bad:+$bad; }round $r: the tunnel did not go down"
		done
		cli "$a" delete "$net" >/dev/null
		stats=$(printf '%s\n' $times | sort -n | awk -v l="$limit" '{v[NR] = $1} END {
			if (NR == 0) { print "- - 0"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			p = int(NR * 0.95 + 0.999999); if (p > NR) p = NR
			printf "%d %d %d\n", m, v[p], v[p] <= l }')
		read -r med p95 within <<<"$stats"
		echo "$x-$y $want $med $p95 $rounds" >>"$sdir/matrix.txt"
		if [ -z "$bad" ] && [ "$within" = 1 ]; then
			ok "$x-$y: $want, first reply median $med ms, p95 $p95 ms (limit $limit)"
		else
			notok "$x-$y: ${bad:-first reply p95 $p95 ms over the $limit ms limit}"
			diag "$sdir/$a.ctl.log" "$sdir/$b.ctl.log"
		fi
	done
done
echo "# pair path median_ms p95_ms rounds"
sed 's/^/# /' "$sdir/matrix.txt"
if [ "$failed" -gt 0 ]; then
	diag "$sdir/relay.log"
fi
tap_end
