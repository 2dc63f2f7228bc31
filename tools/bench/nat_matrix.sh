#!/bin/bash
# Time from `buri join` to the first ping reply for every pair of NAT types a..e, with the
# path each pair takes (docs/BENCHMARKS.md): tests/integration/nat_matrix.sh with ROUNDS
# rounds per pair; its summary lines ("# pair path median_ms p95_ms rounds") are the table.
# Root.
#
# usage: tools/bench/nat_matrix.sh BUILD_DIR [ROUNDS]     (default 10)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${2:-10} exec "$top/tests/integration/nat_matrix.sh" "$1"
