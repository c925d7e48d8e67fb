#!/bin/sh
# Regenerate every CASE/expected.yaml with the reference implementation:
#   sh tests/kustomize/regen.sh [CASE...]
# Each CASE holds base/ (a kustomization listing the app's objects) and
# overlay/ (the overlay, as kustomize reads it: `resources: [../base, ...]`
# and `namespace:` for the namespace gitd would set). expected.yaml is what
# `kubectl kustomize` (kustomize v5.5) prints for overlay/.
set -eu
cd "$(dirname "$0")"
if [ $# -eq 0 ]; then
	set -- $(ls -d */ | tr -d /)
fi
for c in "$@"; do
	kubectl kustomize "$c/overlay" > "$c/expected.yaml.new" 2> "$c/stderr.new" || {
		cat "$c/stderr.new" >&2
		rm -f "$c/expected.yaml.new" "$c/stderr.new"
		exit 1
	}
	rm -f "$c/stderr.new"
	mv "$c/expected.yaml.new" "$c/expected.yaml"
	echo "$c: $(grep -c '^kind:' "$c/expected.yaml") objects"
done
