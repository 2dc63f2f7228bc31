#!/bin/sh
# buri-mediator's settings: the reference config parses; every kind of mistake stops the
# program with "file:line: key: reason" and exit status 2. TAP output.
# usage: mediator_cfg.sh BURI_MEDIATOR SOURCE_ROOT
set -u
bin=$1
root=$2
dir=$(mktemp -d /tmp/buri-cfg.XXXXXX)
trap 'rm -rf "$dir"' EXIT
n=0
bad=0

check() { # name, expected status, expected stderr pattern, args...
	name=$1 want=$2 pat=$3
	shift 3
	n=$((n + 1))
	"$bin" "$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" -eq "$want" ] && grep -Eq -- "$pat" "$dir/err" "$dir/out"; then
		echo "ok $n - $name"
	else
		bad=$((bad + 1))
		echo "not ok $n - $name (status $got, wanted $want; output:)"
		sed 's/^/# /' "$dir/err" "$dir/out"
	fi
}

cfg() { # file name, contents
	printf '%s\n' "$2" >"$dir/$1"
	echo "$dir/$1"
}

check "reference config is valid" 0 "OK: tcp 0.0.0.0:7770" -c "$root/configs/mediator.cfg" --check
check "flags override the file" 0 "tcp 127.0.0.1:9000, tls 0" -c "$root/configs/mediator.cfg" \
	--check -l 127.0.0.1 -p 9000 -t 0
f=$(cfg range.cfg 'key = "k"; store = { path = "s"; };
listen = { tcp_port = 70000; };')
check "out of range: file:line: key: reason" 2 "range.cfg:2: listen.tcp_port: 70000 is out of range" -c "$f" --check
f=$(cfg missing.cfg 'store = { path = "s"; };')
check "missing required key" 2 "missing.cfg: key: missing required setting" -c "$f" --check
check "required key given by flag" 0 "key /tmp/k.pem" -c "$f" --check -k /tmp/k.pem
f=$(cfg unknown.cfg 'key = "k"; store = { path = "s"; };
limits = { member_per_network = 3; };')
check "unknown (misspelt) key" 2 "unknown.cfg:2: limits.member_per_network: unknown setting" -c "$f" --check
f=$(cfg type.cfg 'key = "k"; store = { path = "s"; };
limits = { idle_timeout = "60"; };')
check "wrong type" 2 "type.cfg:2: limits.idle_timeout: expected an integer" -c "$f" --check
f=$(cfg prefix.cfg 'key = "k"; store = { path = "s"; };
overlay = { prefix = "100.64.0.1/10"; };')
check "prefix with host bits" 2 "prefix.cfg:2: overlay.prefix: .* is not a network address" -c "$f" --check
f=$(cfg token.cfg 'key = "k"; store = { path = "s"; };
registration = { mode = "token"; };')
check "token mode without tokens" 2 "token.cfg.*registration.tokens: mode \"token\" needs" -c "$f" --check
f=$(cfg syntax.cfg 'key = "k";
store = { path = ; };')
check "syntax error names the line" 2 "syntax.cfg:2" -c "$f" --check
sec=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
f=$(cfg relay.cfg "key = \"k\"; store = { path = \"s\"; };
relay = { address = \"198.51.100.2\"; secret = \"$sec\"; };")
check "a relay with the default ports" 0 "relay 198.51.100.2 udp 7790 tcp 7791" -c "$f" --check
f=$(cfg relaysec.cfg 'key = "k"; store = { path = "s"; };
relay = { address = "198.51.100.2"; secret = "0011"; };')
check "relay secret of the wrong length" 2 "relaysec.cfg:2: relay.secret: must be 64 hex digits" -c "$f" --check
f=$(cfg relayaddr.cfg "key = \"k\"; store = { path = \"s\"; };
relay = { address = \"relay.example\"; secret = \"$sec\"; };")
check "relay address not IPv4" 2 "relayaddr.cfg:2: relay.address: .* is not an IPv4 address" -c "$f" --check
check "missing file" 2 "cannot open" -c "$dir/nonexistent.cfg" --check
check "bad flag value" 2 "out of range" -c "$root/configs/mediator.cfg" --check -p 0
check "25.0.0.0/8 is possible" 0 "prefix 25.0.0.0/8" -c "$root/configs/mediator.cfg" --check -P 25.0.0.0/8
echo "1..$n"
[ "$bad" -eq 0 ]
