#!/bin/sh
# Run `gitd-render validate` on every case under tests/validate and compare.
#
# Each CASE/ directory is a small app repo (app.yaml, resources/, overlays/);
# CASE/expected holds the exact output, and CASE/args, when present, extra
# arguments (paths relative to CASE/). The app is validated from inside CASE/,
# so it is named after the case. Exit status must be 1 when the expected
# output has an error, else 0.
#
# Usage: tests/validate/run.sh [--update]   (--update rewrites every expected)
# GITD_RENDER overrides the binary (default: bin/gitd-render).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${GITD_RENDER:-$here/../../bin/gitd-render}
update=0
[ "${1:-}" = "--update" ] && update=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gitd-validate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cases=0
failed=0
for dir in "$here"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/expected" ] || [ "$update" -eq 1 ] || continue
	cases=$((cases + 1))
	args=""
	[ -f "$dir/args" ] && args=$(cat "$dir/args")
	status=0
	# shellcheck disable=SC2086 # args is a list of words by design
	(cd "$dir" && "$bin" validate . $args) >"$tmp/out" 2>&1 || status=$?
	if [ "$update" -eq 1 ]; then
		cp "$tmp/out" "$dir/expected"
		continue
	fi
	want=0
	grep -Eq ': error: |"errors": [1-9]' "$dir/expected" && want=1
	if ! cmp -s "$dir/expected" "$tmp/out"; then
		echo "FAIL $name: output differs"
		diff -u "$dir/expected" "$tmp/out" | sed 's/^/    /' || true
		failed=$((failed + 1))
	elif [ "$status" -ne "$want" ]; then
		echo "FAIL $name: exit status $status, expected $want"
		failed=$((failed + 1))
	fi
done
echo "validate: $cases cases, $failed failed"
[ "$failed" -eq 0 ]
