# SPDX-License-Identifier: MIT
# A small Internet in network namespaces, for the full-stack tests and the demo (sourced,
# bash). Only TEST-NET-2 (198.51.100.0/24) and private addresses, all inside namespaces this
# file creates; lab_cleanup removes them.
#
#   "internet": a namespace with one bridge; every public address sits on it
#   lab_public NAME ADDR          a namespace with a public address (the mediator's)
#   lab_site NAME N [TYPE]        a NAT router NAME: public 198.51.100.(10+N), LAN 10.N.0.1/24
#                                 TYPE c (default): Linux masquerade, port preserved when free,
#                                 endpoint-independent mapping, address-and-port-dependent
#                                 filtering (a port-restricted cone); d: random ports per
#                                 destination (symmetric). (Issue 6 adds the other RFC 4787
#                                 behaviours.)
#   lab_node SITE NAME            a node namespace on SITE's LAN; its wan veth "wan0" is left
#                                 without an address (the data plane takes it); the address it
#                                 should use is $lab_addr_NAME, the gateway $lab_gw_NAME
#   lab_nodes_behind_nats TYPE NODE...  a site nat1, nat2, ... of TYPE per node, in order
#   lab_flush SITE                forget every NAT mapping of SITE (conntrack -F)
#   lab_ns NAME                   the namespace name of NAME (per-run suffix)
#
# Names carry the test's PID, so concurrent runs never meet.

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

lab_site() { # name n [type]
	local ns snat
	ns=$(lab_ns "$1")
	lab_ns_add "$1"
	lab_uplink "$1" pub0
	ip -n "$ns" addr add "198.51.100.$((10 + $2))/24" dev pub0
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link set br0 up
	ip -n "$ns" addr add "10.$2.0.1/24" dev br0
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
	eval "lab_n_$1=$2"
	eval "lab_nodes_$1=0"
	case "${3:-c}" in
	c) snat="masquerade" ;;
	d) snat="masquerade random" ;;
	*) echo "lab_site: no NAT type $3" >&2; return 1 ;;
	esac
	ip netns exec "$ns" nft -f - <<NFT
table ip nat {
	chain snat_out { type nat hook postrouting priority 100; oifname "pub0" $snat; }
}
table ip filter {
	chain filter_fwd {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "br0" oifname "pub0" accept
	}
	# Unsolicited packets to the router itself are dropped before conntrack confirms them:
	# an entry for (peer -> our public port) would make the later outbound mapping of that
	# same port clash and move to another port, which no real cone NAT does.
	chain filter_in {
		type filter hook input priority 0; policy accept;
		iifname "pub0" ct state new drop
	}
}
NFT
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

lab_nodes_behind_nats() { # type node...
	local type=$1 i=1 node
	shift
	for node in "$@"; do
		lab_site "nat$i" $i "$type" || return 1
		lab_node "nat$i" "$node"
		i=$((i + 1))
	done
}

lab_flush() { # site
	ip netns exec "$(lab_ns "$1")" conntrack -F >/dev/null 2>&1
}
