#!/bin/sh
# Run every end-to-end test script; fail if any fails.
cd "$(dirname "$0")" || exit 1
failed=""
for t in t_*.sh; do
	echo "== e2e $t"
	bash "$t" || failed="$failed $t"
done
if [ -n "$failed" ]; then
	echo "e2e: FAILED:$failed"
	exit 1
fi
echo "e2e: all passed"
