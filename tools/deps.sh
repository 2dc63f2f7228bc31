#!/bin/sh
# Install every Debian 12 package that building and testing buri needs, and nothing that is
# already there. Idempotent; needs root (or sudo) only when something is missing.
#
# Build:   meson ninja-build pkg-config gcc libssl-dev libconfig-dev libsqlite3-dev
#          libjansson-dev (the control socket's JSON), libmnl-dev (netlink for buri0)
#          libdpdk-dev (pulls libipsec-mb-dev, libnuma-dev, ... for the data plane)
# Tests:   clang + libclang-rt-14-dev (libFuzzer, sanitizers), llvm (llvm-symbolizer: readable
#          sanitizer stacks, and LeakSanitizer suppressions match function names only through
#          it), python3, openssl (the independent reference implementation), clang-format,
#          iproute2 and iputils-ping (network namespace tests of the data plane), nftables
#          and conntrack (the NAT routers of the full-stack tests)
# `deps.sh bench` also installs what tools/bench/overlay_tcp.sh compares against:
#          iperf3, wireguard-go and wireguard-tools
set -eu

PKGS="meson ninja-build pkg-config gcc libc6-dev libssl-dev openssl libconfig-dev \
libsqlite3-dev libdpdk-dev libipsec-mb-dev clang libclang-rt-14-dev llvm python3 clang-format \
iproute2 iputils-ping libjansson-dev libmnl-dev nftables conntrack"
[ "${1:-}" = bench ] && PKGS="$PKGS iperf3 wireguard-go wireguard-tools"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
