#!/bin/bash
# SPDX-License-Identifier: MIT
# The NAT lab's routers (tests/harness/natlab.sh), one per RFC 4787 type and option, checked
# with real UDP and TCP probes (tests/harness/natprobe.py), never by reading the rules back.
# Root; about 40 s; no buri program involved. TAP output.
#
#        o1 198.51.100.101      o2 .102      o3 .103          outside hosts
#              |                  |            |
#   ===========+==================+============+=========== "internet" (bridge)
#     |        |       |       |       |       |        |         |          |
#   nat1 .11  sa .12  sb .13  sc .14  sd .15  se .16  si .17    sx .18     sy .19
#   a         a       b       c       d       e       c+icmp    c+short    a+short
#   h1 h2     ia      ib      ic ic2  id      ie      ii        ix         iy
#   (LANs 10.N.0.0/24; every inside host has its address and a default route)
#
# Checks. Mapping: one inside port sends to o1 and o2, which print the source they saw: the
# same public address:port in a, b and c (the inside port, kept), different ports in d.
# Filtering: the inside host sends to o1:4001 only, o1:4001 answers, then o1:4002, o2:4001
# and o3:4003 send to the public address:port o1 saw; what gets in: all in a, o1's ports in
# b, o1:4001 only in c, d and c+icmp (every "filtered out" check also needs o1:4001 to get
# in). a with two inside hosts on the same port: distinct public ports, each independent of
# the destination, and o3 reaches each through its own. lab_flush of a: the mapping gone.
# e: no UDP leaves (o1 hears o2's control datagram, nothing from e); TCP from one inside port
# connects to o1 and o2, which see the same public port. Two nodes behind one router (a and
# c): a packet from one to the other's public mapping does not come back in, while outside
# hosts do get in. Unsolicited UDP from o3: ICMP port unreachable from c+icmp, silence from
# a, b, c, d and e. +short (3 s): a host that got in no longer does after 3 + 2.5 s of quiet
# (c: the contacted o1; a: the never-contacted o2), while c with default timeouts still lets
# o1 in after the same wait.
#
# usage: natlab.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "1..0 # SKIP needs root (network namespaces)"; exit 0; }

. "$here/../harness/tap.sh"
. "$here/../harness/natlab.sh"
probe_py=$here/../harness/natprobe.py
tmp=$(mktemp -d /tmp/buri-natlab.XXXXXX)
bgpids=""
cleanup() {
	local p
	for p in $bgpids; do kill "$p" 2>/dev/null; done
	for p in $bgpids; do wait "$p" 2>/dev/null; done
	lab_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
t0=$(date +%s)

# natprobe.py in NAME's namespace, never longer than 15 s.
probe() { timeout 15 ip netns exec "$(lab_ns "$1")" python3 "$probe_py" "${@:2}"; }

# Waits up to $3 tenths of a second for a line matching $2 in file $1.
wait_for() {
	local i
	for i in $(seq "$3"); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -q "$2" "$1" 2>/dev/null
}

# A probe in the background (its PID in $bgpids), its output in FILE.
bgrun() { # file name args...
	: >"$1"
	timeout 15 ip netns exec "$(lab_ns "$2")" python3 "$probe_py" "${@:3}" >"$1" 2>&1 &
	bgpids="$bgpids $!"
}

# The same, returning once the probe has bound its socket.
bgprobe() { # file name args...
	bgrun "$@"
	wait_for "$1" '^ready' 50
}

# A listener inside NAME on PORT (more natprobe udp arguments may follow) that runs until
# finish() or 10 s.
bglisten() { # file name port args...
	bgprobe "$1" "$2" udp --port "$3" --wait 10000 --until stop "${@:4}"
}

# Ends the listeners (NAME PORT pairs) after a grace for packets still in flight, and waits
# for every background probe.
finish() { # name port [name port]...
	sleep 0.3
	while [ $# -ge 2 ]; do
		probe "$1" udp --send "127.0.0.1:$2" --text stop >/dev/null 2>&1
		shift 2
	done
	reap
}

# Waits for every background probe (each bounded by its own --wait).
reap() {
	local p
	for p in $bgpids; do wait "$p" 2>/dev/null; done
	bgpids=""
}

check() { # description command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

# The first source address:port a probe printed, and whether it heard TEXT.
seen() { awk '/^from/ {print $2; exit}' "$1"; }
heard() { grep -q "^from [^ ]* $2\$" "$1"; }
# $2 did not get in, while the contacted o1:4001 did: a filter, not a dead path.
blocked() { heard "$1" o1-4001 && ! heard "$1" "$2"; }
# Two observed sources: both from public address $3, the same port / different ports.
same_map() { [ "${1%:*}" = "$3" ] && [ "$1" = "$2" ]; }
diff_map() { [ "${1%:*}" = "$3" ] && [ "${2%:*}" = "$3" ] && [ "$1" != "$2" ]; }
pub() { eval "echo 198.51.100.\$((10 + lab_n_$1))"; }

# Prints the files of the checks since the mark as TAP comments, if one of them failed.
mark() { failmark=$failed; }
diag_if_failed() {
	local f
	[ "$failed" -eq "$failmark" ] && return
	for f in "$@"; do
		echo "# $f:"
		diag "$f"
	done
}

o1=198.51.100.101 o2=198.51.100.102 o3=198.51.100.103
lab_setup() {
	lab_init &&
		lab_public o1 $o1 && lab_public o2 $o2 && lab_public o3 $o3 &&
		lab_nodes_behind_one_nat a h1 h2 &&
		lab_site sa 2 a && lab_node sa ia &&
		lab_site sb 3 b && lab_node sb ib &&
		lab_site sc 4 c && lab_node sc ic && lab_node sc ic2 &&
		lab_site sd 5 d && lab_node sd id &&
		lab_site se 6 e && lab_node se ie &&
		lab_site si 7 c+icmp && lab_node si ii &&
		lab_site sx 8 c+short && lab_node sx ix &&
		lab_site sy 9 a+short && lab_node sy iy || return 1
	for h in h1 h2 ia ib ic ic2 id ie ii ix iy; do lab_node_up "$h" || return 1; done
}
if lab_setup >"$tmp/setup" 2>&1; then
	ok "lab up: 9 NAT routers (a, a, b, c, d, e, c+icmp, c+short, a+short), 11 inside hosts, 3 outside"
else
	notok "lab up"
	diag "$tmp/setup"
	tap_end
	exit 1
fi
check "lab_site refuses an unknown type or option" \
	eval '! lab_site bad1 30 q 2>/dev/null && ! lab_site bad2 31 c+nosuch 2>/dev/null'

# --- mapping: inside port 5001 to o1:4011 and o2:4011 ---
for t in a b c d; do
	mark
	bgprobe "$tmp/m1" o1 udp --port 4011 --wait 5000 --count 1 &&
		bgprobe "$tmp/m2" o2 udp --port 4011 --wait 5000 --count 1
	probe "i$t" udp --port 5001 --send $o1:4011 --send $o2:4011 --text map >/dev/null 2>&1
	reap
	m1=$(seen "$tmp/m1") m2=$(seen "$tmp/m2") p=$(pub "s$t")
	if [ "$t" = d ]; then
		check "d: endpoint-dependent mapping: o1 and o2 see different public ports ($m1, $m2)" \
			diff_map "$m1" "$m2" "$p"
	else
		check "$t: endpoint-independent mapping: o1 and o2 see the same public address:port ($m1, $m2)" \
			same_map "$m1" "$m2" "$p"
		check "$t: the inside port is kept ($m1)" [ "$m1" = "$p:5001" ]
	fi
	diag_if_failed "$tmp/m1" "$tmp/m2"
done

# --- filtering: inside port 5002 sends to o1:4001 only ---
# After the round, $tmp/f holds what the inside host heard and $mp the public address:port.
filter_round() { # host
	mp=""
	bgprobe "$tmp/f1" o1 udp --port 4001 --wait 5000 --count 1 --reply o1-4001 &&
		bglisten "$tmp/f" "$1" 5002 --send $o1:4001 --text out &&
		wait_for "$tmp/f1" '^from' 30 && mp=$(seen "$tmp/f1")
	if [ -n "$mp" ]; then
		probe o1 udp --port 4002 --send "$mp" --text o1-4002 >/dev/null 2>&1
		probe o2 udp --port 4001 --send "$mp" --text o2-4001 >/dev/null 2>&1
		probe o3 udp --port 4003 --send "$mp" --text o3-4003 >/dev/null 2>&1
	fi
	finish "$1" 5002
}
filter_checks() { # label host "y|n" x4 for o1-4001 o1-4002 o2-4001 o3-4003
	local label=$1 host=$2 i=0 s what exp
	read -ra exp <<<"$3"
	mark
	filter_round "$host"
	for s in o1-4001 o1-4002 o2-4001 o3-4003; do
		case $s in
		o1-4001) what="the contacted o1:4001" ;;
		o1-4002) what="o1 from another port (4002)" ;;
		o2-4001) what="o2:4001 (never contacted)" ;;
		o3-4003) what="o3:4003 (never contacted)" ;;
		esac
		if [ "${exp[$i]}" = y ]; then
			check "$label: $what gets in through ${mp:-?}" heard "$tmp/f" $s
		else
			check "$label: $what is filtered out (while o1:4001 gets in)" blocked "$tmp/f" $s
		fi
		i=$((i + 1))
	done
	diag_if_failed "$tmp/f1" "$tmp/f"
}
filter_checks "a (full cone)" ia "y y y y"
filter_checks "b (address-dependent)" ib "y y n n"
filter_checks "c (address-and-port-dependent)" ic "y n n n"
filter_checks "d (symmetric)" id "y n n n"
filter_checks "c+icmp" ii "y n n n"

# --- lab_flush on a: the full-cone mapping of ia:5002 from the filter round is forgotten ---
mark
bglisten "$tmp/fl" ia 5002 &&
	probe o2 udp --port 4005 --send "$(pub sa):5002" --text before-flush >/dev/null 2>&1 &&
	wait_for "$tmp/fl" before-flush 20
lab_flush sa
probe o2 udp --port 4005 --send "$(pub sa):5002" --text after-flush >/dev/null 2>&1
finish ia 5002
check "lab_flush sa: o2 got in through $(pub sa):5002 before the flush, not after" \
	eval 'heard "$tmp/fl" before-flush && ! heard "$tmp/fl" after-flush'
diag_if_failed "$tmp/fl"

# --- a, two inside hosts on the same port 5006 ---
mark
p=$(pub nat1)
bgprobe "$tmp/s1" o1 udp --port 4051 --wait 5000 --count 1 &&
	bgprobe "$tmp/s2" o2 udp --port 4051 --wait 5000 --count 1 &&
	bgprobe "$tmp/s3" o1 udp --port 4052 --wait 5000 --count 1 &&
	bglisten "$tmp/h1" h1 5006 --send $o1:4051 --text out &&
	wait_for "$tmp/s1" '^from' 30 &&
	bglisten "$tmp/h2" h2 5006 --send $o2:4051 --send $o1:4052 --gap 100 --text out &&
	wait_for "$tmp/s2" '^from' 30 && wait_for "$tmp/s3" '^from' 30
x1=$(seen "$tmp/s1") x2=$(seen "$tmp/s2") x2b=$(seen "$tmp/s3")
[ -n "$x1" ] && probe o3 udp --send "$x1" --text for-h1 >/dev/null 2>&1
[ -n "$x2" ] && probe o3 udp --send "$x2" --text for-h2 >/dev/null 2>&1
finish h1 5006 h2 5006
check "a, h1 and h2 both from port 5006: h1 keeps $p:5006, h2 gets another port ($x1, $x2)" \
	eval '[ "$x1" = "$p:5006" ] && diff_map "$x1" "$x2" "$p"'
check "a: h2's mapping does not depend on the destination either (o2 saw $x2, o1 $x2b)" \
	same_map "$x2" "$x2b" "$p"
check "a: o3 reaches h1 through $x1 and h2 through $x2, each only its own" \
	eval 'heard "$tmp/h1" for-h1 && ! heard "$tmp/h1" for-h2 &&
		heard "$tmp/h2" for-h2 && ! heard "$tmp/h2" for-h1'
diag_if_failed "$tmp/s1" "$tmp/s2" "$tmp/s3" "$tmp/h1" "$tmp/h2"

# --- e: UDP blocked, TCP out ---
mark
pe=$(pub se)
bglisten "$tmp/e1" o1 4011 &&
	probe ie udp --port 5001 --send $o1:4011 --text from-e >/dev/null 2>&1 &&
	probe o2 udp --send $o1:4011 --text control >/dev/null 2>&1
finish o1 4011
check "e: no UDP leaves the site (o1 heard o2's control datagram, nothing from $pe)" \
	eval 'heard "$tmp/e1" control && ! grep -q "^from $pe:" "$tmp/e1"'
bgprobe "$tmp/t1" o1 tcp-serve --count 1 4021 8000 &&
	bgprobe "$tmp/t2" o2 tcp-serve --count 1 4021 8000 &&
	probe ie tcp-connect --port 5002 $o1:4021 $o2:4021 >"$tmp/tc" 2>&1
reap
tc1=$(sed -n '1s/^seen-as //p' "$tmp/tc") tc2=$(sed -n '2s/^seen-as //p' "$tmp/tc")
check "e: TCP from inside port 5002 connects to o1 and o2" eval '[ -n "$tc1" ] && [ -n "$tc2" ]'
check "e: TCP mapping is endpoint-independent: both see $pe:5002 ($tc1, $tc2)" \
	eval 'same_map "$tc1" "$tc2" "$pe" && [ "$tc1" = "$pe:5002" ]'
diag_if_failed "$tmp/e1" "$tmp/t1" "$tmp/t2" "$tmp/tc"

# --- no hairpin: node A sends to node B's public mapping (same router) ---
hairpin() { # label site a-node b-node
	local mp
	mark
	bgprobe "$tmp/hp1" o1 udp --port 4031 --wait 5000 --count 1 --reply o1-reply &&
		bglisten "$tmp/hp" "$4" 5003 --send $o1:4031 --text out &&
		wait_for "$tmp/hp1" '^from' 30
	mp=$(seen "$tmp/hp1")
	if [ -n "$mp" ]; then
		probe "$3" udp --port 5004 --send "$mp" --text hairpin >/dev/null 2>&1
		probe o2 udp --port 4032 --send "$mp" --text outside >/dev/null 2>&1
	fi
	finish "$4" 5003
	local what="$1, two nodes behind one router: $3's packet to $4's mapping ${mp:-?}"
	what="$what does not come back in (no hairpin)"
	if [ "$1" = a ]; then
		check "$what, while o2 from outside gets in" \
			eval 'heard "$tmp/hp" outside && ! heard "$tmp/hp" hairpin'
	else
		check "$what, while o1's answer gets in" \
			eval 'heard "$tmp/hp" o1-reply && ! heard "$tmp/hp" hairpin'
	fi
	diag_if_failed "$tmp/hp1" "$tmp/hp"
}
hairpin a nat1 h1 h2
hairpin c sc ic ic2

# --- unsolicited UDP from o3 to port 4999 of each router ---
mark
for s in sa sb sc sd se si; do
	bgprobe "$tmp/u.$s" o3 udp --connect --send "$(pub $s):4999" --text unsolicited --wait 1000
done
reap
check "c+icmp: unsolicited UDP to $(pub si):4999 is answered with an ICMP port unreachable" \
	grep -qx refused "$tmp/u.si"
for t in a b c d e; do
	check "$t: unsolicited UDP to $(pub s$t):4999 meets silence (no ICMP, no data)" \
		grep -qx silent "$tmp/u.s$t"
done
diag_if_failed "$tmp"/u.*

# --- expiry: c+short (ix), a+short (iy), c with default timeouts (ic) ---
mark
# a+short first: its mapping lives $lab_short_timeout s from iy's only outbound packet, and
# o2's "before" must come within that.
bgprobe "$tmp/x2" o1 udp --port 4042 --wait 5000 --count 1 &&
	bgprobe "$tmp/x1" o1 udp --port 4041 --wait 5000 --count 1 &&
	bgprobe "$tmp/x3" o1 udp --port 4043 --wait 5000 --count 1 &&
	bglisten "$tmp/yi" iy 5005 --send $o1:4042 --text out --wait 14000 &&
	bglisten "$tmp/xi" ix 5005 --send $o1:4041 --text out --wait 14000 &&
	bglisten "$tmp/ci" ic 5005 --send $o1:4043 --text out --wait 14000 &&
	wait_for "$tmp/x1" '^from' 30 && wait_for "$tmp/x2" '^from' 30 && wait_for "$tmp/x3" '^from' 30
mx=$(seen "$tmp/x1") my=$(seen "$tmp/x2") mc=$(seen "$tmp/x3")
expiry_send() { # text
	probe o2 udp --port 4042 --send "${my:-$(pub sy):5005}" --text "$1" >/dev/null 2>&1
	probe o1 udp --port 4041 --send "${mx:-$(pub sx):5005}" --text "$1" >/dev/null 2>&1
	probe o1 udp --port 4043 --send "${mc:-$(pub sc):5005}" --text "$1" >/dev/null 2>&1
}
expiry_send before
quiet=$(awk "BEGIN {print $lab_short_timeout + 2.5}")
sleep "$quiet"
expiry_send after
finish iy 5005 ix 5005 ic 5005
check "c+short: the contacted o1:4041 gets in through ${mx:-?}" heard "$tmp/xi" before
check "c+short: after ${quiet} s of quiet it no longer does (mapping expired)" \
	eval 'heard "$tmp/xi" before && ! heard "$tmp/xi" after'
check "a+short: o2 (never contacted) gets in through ${my:-?}" heard "$tmp/yi" before
check "a+short: after ${quiet} s of quiet it no longer does (mapping expired)" \
	eval 'heard "$tmp/yi" before && ! heard "$tmp/yi" after'
check "c, default timeouts: o1:4043 still gets in through ${mc:-?} after the same ${quiet} s" \
	eval 'heard "$tmp/ci" before && heard "$tmp/ci" after'
diag_if_failed "$tmp/x1" "$tmp/x2" "$tmp/x3" "$tmp/xi" "$tmp/yi" "$tmp/ci"

echo "# $(($(date +%s) - t0)) s"
tap_end
