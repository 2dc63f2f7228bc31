#!/bin/sh
# Every C file follows .clang-format (the house style, docs/STYLE.md). Prints TAP: one line
# per file that differs, with the first lines of the difference.
set -u
root=${1:-.}
cd "$root" || exit 1
n=0
bad=0
for f in $(find common control dataplane mediator relay tools tests -name '*.[ch]' 2>/dev/null | sort); do
	n=$((n + 1))
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "ok $n - $f"
	else
		bad=$((bad + 1))
		echo "not ok $n - $f"
		clang-format "$f" | diff "$f" - | head -n 12 | sed 's/^/# /'
	fi
done
echo "1..$n"
[ "$bad" -eq 0 ]
