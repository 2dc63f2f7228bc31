# SPDX-License-Identifier: MIT
# A small Internet in network namespaces, for the full-stack tests and the demo (sourced,
# bash). Only TEST-NET-2 (198.51.100.0/24) and private addresses, all inside namespaces this
# file creates; lab_cleanup removes them.
#
#   "internet": a namespace with one bridge; every public address sits on it
#   lab_public NAME ADDR          a namespace with a public address (the mediator's)
#   lab_site NAME N [TYPE]        a NAT router NAME: public 198.51.100.(10+N), LAN 10.N.0.1/24
#                                 (TYPE below; c when left out)
#   lab_node SITE NAME            a node namespace on SITE's LAN; its wan veth "wan0" is left
#                                 without an address (the data plane takes it); the address it
#                                 should use is $lab_addr_NAME, the gateway $lab_gw_NAME
#   lab_node_up NAME              gives node NAME's wan0 that address and a default route, for
#                                 tests with plain sockets (no data plane)
#   lab_nodes_behind_nats TYPE NODE...      a site nat1, nat2, ... of TYPE per node, in order
#   lab_nodes_behind_one_nat TYPE NODE...   one site nat1 of TYPE with every node on its LAN
#   lab_flush SITE                forget every NAT mapping of SITE (conntrack -F, and the
#                                 mapping sets of types a and b)
#   lab_ns NAME                   the namespace name of NAME (per-run suffix)
#
# TYPE is a letter, the router's behaviour in RFC 4787 terms (EIM: endpoint-independent
# mapping), then options, each "+word" (e.g. "a+short+icmp"). The letters describe UDP; a, b
# and e map and filter TCP as c does, d maps TCP to random ports too.
#
#   a  EIM, endpoint-independent filtering (full cone). Once an inside address:port has sent
#      anything out through public port X, any outside address:port can send to X and reach
#      it. nft: a map cone_in {X : inside addr . port}, filled from the router's own outbound
#      packets after SNAT (postrouting, priority srcnat + 10, `update @cone_in`), read by a
#      prerouting `dnat ip to udp dport map @cone_in`; forward accepts `ct status dnat`. A map
#      cone_out {inside addr . port : public addr . port} makes later flows of the same inside
#      endpoint reuse X (`snat ip to ip saddr . udp sport map @cone_out`), so the mapping does
#      not depend on the destination even when masquerade alone would pick another port. A
#      new endpoint keeps its port (masquerade) unless that port is already someone's X (set
#      cone_ports), then it gets a random one (which masquerade does not check against
#      cone_ports: a clash is possible, at odds of about 1 in 64000). The sets' entries live 120 s (conntrack's UDP
#      stream timeout; the short timeout with +short) after the last packet that went out
#      through X; inbound packets do not refresh them.
#   b  EIM, address-dependent filtering (restricted cone): as a, but only outside addresses
#      that X has sent to (set cone_peers {X . remote addr}) may send in, from any port.
#   c  EIM, address-and-port-dependent filtering (port-restricted cone), the Linux default:
#      `masquerade`, the source port kept when free; only the exact address:port contacted
#      gets in (conntrack). Unchanged since the first lab: its rules are the same text.
#   d  endpoint-dependent mapping (symmetric): `masquerade random`, a fresh random public port
#      per destination; filtering as in c.
#   e  all UDP blocked, in and out (forward: `meta l4proto udp drop`); TCP (and the rest) as
#      in c, so TCP out works with c's port-preserving mapping.
#
# Options:
#   +icmp   unsolicited UDP to the public address (no mapping lets it in) is answered with an
#           ICMP port unreachable (`reject`) instead of dropped silently; ICMP rate limiting
#           is off in the router, so every probe gets its answer.
#   +short  conntrack UDP timeouts (nf_conntrack_udp_timeout and _stream, per namespace) of
#           $lab_short_timeout seconds (default 3), and the same lifetime for a and b's sets,
#           so mappings expire within seconds.
#
# No type hairpins: a packet from the LAN to the router's public address (even to a mapped
# port) is the router's own, and with nothing listening there it is answered with an ICMP
# port unreachable; it never reaches the node behind that mapping (two nodes behind one site:
# lab_nodes_behind_one_nat, or lab_node twice). Unsolicited packets from outside that no
# mapping lets in never create conntrack entries (see filter_in below).
# tests/integration/natlab.sh checks all of this with probes (tests/harness/natprobe.py).
#
# Names carry the test's PID, so concurrent runs never meet.

lab_short_timeout=${lab_short_timeout:-3}

lab_init() {
	lab_sfx=$$
	lab_all=""
	lab_ns_add inet
	ip -n "$(lab_ns inet)" link add br0 type bridge
	ip -n "$(lab_ns inet)" link set br0 up
}

lab_ns() { echo "bl-$1-$lab_sfx"; }

lab_ns_add() {
	ip netns add "$(lab_ns "$1")"
	lab_all="$lab_all $1"
	ip -n "$(lab_ns "$1")" link set lo up
	ip netns exec "$(lab_ns "$1")" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

lab_cleanup() {
	local n
	for n in $lab_all; do ip netns del "$(lab_ns "$n")" 2>/dev/null; done
	lab_all=""
}

# A veth from namespace $1 (device $2) to the internet bridge.
lab_uplink() {
	ip link add "$2" netns "$(lab_ns "$1")" type veth peer name "u-$1" netns "$(lab_ns inet)"
	ip -n "$(lab_ns inet)" link set "u-$1" master br0 up
	ip -n "$(lab_ns "$1")" link set "$2" up
}

lab_public() { # name addr
	lab_ns_add "$1"
	lab_uplink "$1" pub0
	ip -n "$(lab_ns "$1")" addr add "$2/24" dev pub0
}

# The nat table of the cone types (a, b): $1 is a or b, $2 the sets' lifetime in seconds.
lab_cone_nat() {
	local dnat='iifname "pub0"' d ep
	[ "$1" = b ] && dnat="$dnat udp dport . ip saddr @cone_peers"
	cat <<NFT
	# public port -> inside endpoint; inside endpoint -> public endpoint; the public ports in
	# use; the (public port, remote address) pairs that went out, for b's filter
	map cone_in {
		type inet_service : ipv4_addr . inet_service
		flags dynamic,timeout; timeout $2s
	}
	map cone_out {
		type ipv4_addr . inet_service : ipv4_addr . inet_service
		flags dynamic,timeout; timeout $2s
	}
	set cone_ports { type inet_service; flags dynamic,timeout; timeout $2s; }
	set cone_peers { type inet_service . ipv4_addr; flags dynamic,timeout; timeout $2s; }
	chain dnat_in {
		type nat hook prerouting priority -100;
		$dnat dnat ip to udp dport map @cone_in
	}
	chain snat_out {
		type nat hook postrouting priority 100;
		oifname "pub0" meta l4proto udp snat ip to ip saddr . udp sport map @cone_out
		oifname "pub0" meta l4proto udp udp sport @cone_ports masquerade random
		oifname "pub0" masquerade
	}
	# After SNAT: udp sport is the public port X. The inside endpoint is the original source
	# of a flow the inside started, the reply source of one let in by dnat_in. (The l4proto
	# match tells nft that proto-src is a port.)
	chain cone_learn {
		type filter hook postrouting priority 110;
		oifname "pub0" meta l4proto udp ct direction vmap {
			original : jump learn_original, reply : jump learn_reply }
	}
NFT
	for d in original reply; do
		ep="ct $d ip saddr . ct $d proto-src"
		cat <<NFT
	chain learn_$d {
		meta l4proto udp update @cone_in { udp sport : $ep }
		meta l4proto udp update @cone_out { $ep : ip saddr . udp sport }
		update @cone_ports { udp sport }
		update @cone_peers { udp sport . ip daddr }
	}
NFT
	done
}

lab_site() { # name n [type[+option...]]
	local ns spec type opt nat fwd1="" fwd2="" in="" short="" icmp="" life=120
	local snat='chain snat_out { type nat hook postrouting priority 100; oifname "pub0"'
	ns=$(lab_ns "$1")
	spec=${3:-c}
	type=${spec%%+*}
	for opt in $(echo "${spec#"$type"}" | tr '+' ' '); do
		case "$opt" in
		icmp) icmp=1 ;;
		short) short=1 life=$lab_short_timeout ;;
		*) echo "lab_site: no option +$opt" >&2; return 1 ;;
		esac
	done
	case "$type" in
	a | b)
		nat=$(lab_cone_nat "$type" "$life")
		fwd2='iifname "pub0" oifname "br0" ct status dnat accept'
		;;
	c) nat="$snat masquerade; }" ;;
	d) nat="$snat masquerade random; }" ;;
	e)
		nat="$snat masquerade; }"
		fwd1='meta l4proto udp drop'
		;;
	*) echo "lab_site: no NAT type $type" >&2; return 1 ;;
	esac
	[ -n "$icmp" ] && in='iifname "pub0" ct state new meta l4proto udp reject'
	lab_ns_add "$1"
	lab_uplink "$1" pub0
	ip -n "$ns" addr add "198.51.100.$((10 + $2))/24" dev pub0
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 up
	ip -n "$ns" addr add "10.$2.0.1/24" dev br0
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	eval "lab_n_$1=$2"
	eval "lab_nodes_$1=0"
	eval "lab_type_$1=$type"
	ip netns exec "$ns" nft -f - <<NFT || return 1
table ip nat {
	$nat
}
table ip filter {
	chain filter_fwd {
		type filter hook forward priority 0; policy drop;
		$fwd1
		ct state established,related accept
		$fwd2
		iifname "br0" oifname "pub0" accept
	}
	# Unsolicited packets to the router itself are dropped before conntrack confirms them:
	# an entry for (peer -> our public port) would make the later outbound mapping of that
	# same port clash and move to another port, which no real cone NAT does. (+icmp rejects
	# them instead, which drops them just as early.)
	chain filter_in {
		type filter hook input priority 0; policy accept;
		$in
		iifname "pub0" ct state new drop
	}
}
NFT
	if [ -n "$short" ]; then
		ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$life" \
			net.netfilter.nf_conntrack_udp_timeout_stream="$life" || return 1
	fi
	[ -z "$icmp" ] || ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0
}

lab_node() { # site name
	local sns n k
	sns=$(lab_ns "$1")
	eval "n=\$lab_n_$1"
	eval "k=\$lab_nodes_$1"
	k=$((k + 1))
	eval "lab_nodes_$1=$k"
	lab_ns_add "$2"
	ip link add wan0 netns "$(lab_ns "$2")" type veth peer name "l-$2" netns "$sns"
	ip -n "$sns" link set "l-$2" master br0 up
	ip -n "$(lab_ns "$2")" link set wan0 up
	eval "lab_addr_$2=10.$n.0.$((1 + k))/24"
	eval "lab_gw_$2=10.$n.0.1"
}

lab_node_up() { # name
	local ns a g
	ns=$(lab_ns "$1")
	eval "a=\$lab_addr_$1 g=\$lab_gw_$1"
	ip -n "$ns" addr add "$a" dev wan0 && ip -n "$ns" route add default via "$g" dev wan0
}

lab_nodes_behind_nats() { # type node...
	local type=$1 i=1 node
	shift
	for node in "$@"; do
		lab_site "nat$i" $i "$type" || return 1
		lab_node "nat$i" "$node"
		i=$((i + 1))
	done
}

lab_nodes_behind_one_nat() { # type node...
	local node
	lab_site nat1 1 "$1" || return 1
	shift
	for node in "$@"; do lab_node nat1 "$node"; done
}

lab_flush() { # site
	local ns t
	ns=$(lab_ns "$1")
	eval "t=\${lab_type_$1:-c}"
	ip netns exec "$ns" conntrack -F >/dev/null 2>&1
	case "$t" in
	a | b)
		ip netns exec "$ns" nft -f - <<NFT
flush map ip nat cone_in
flush map ip nat cone_out
flush set ip nat cone_ports
flush set ip nat cone_peers
NFT
		;;
	esac
}
