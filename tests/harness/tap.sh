# SPDX-License-Identifier: MIT
# TAP output for the shell tests (sourced):
#   ok NAME / notok NAME    one check passed / failed
#   diag FILE...            the last 25 lines of each file, as TAP comments
#   tap_end                 the plan; the exit status says whether every check passed
#   bail NAME FILE...       a failed check that ends the test (diag of the files, the plan)
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /' "$@" 2>/dev/null | tail -25; }
tap_end() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
bail() {
	notok "$1"
	shift
	diag "$@"
	tap_end
	exit 1
}
