#!/bin/bash
# Mirror benchmark: how long after a push the mirror is up to date, and how
# many mirror runs a burst of pushes costs, against a real OpenSSH server on
# loopback (tests/e2e/sshd.sh). Targets (docs/mirror.md): the mirror is up
# to date under 1 s after the render of a small push; a burst of 20 pushes
# costs at most 3 runs. Exits 1 when a target is missed.
#
#   bash bench/mirror.sh [PUSHES]      PUSHES: single pushes timed (default 10)
. "$(dirname "$0")/../tests/e2e/lib.sh"
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
. "$TOP/tests/e2e/sshd.sh"
export LSAN_OPTIONS=suppressions=$TOP/tests/e2e/lsan.supp # libgit2's own leaks
trap 'stop_sshd; cleanup' EXIT
PUSHES=${1:-10}
BURST=20

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc -l | sed 's/^\./0./; s/^-\./-0./'; }
local_ref() { git --git-dir="$DATA/repos/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
remote_ref() { git --git-dir="$T/remote/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
in_sync() { [ "$(local_ref "$1" "$2")" = "$(remote_ref "$1" "$2")" ]; }
# wait_sync REPO: until the mirror has the local main (at most 60 s).
wait_sync() {
	local i
	for i in $(seq 6000); do in_sync "$1" refs/heads/main && return 0; sleep 0.01; done
	return 1
}
runs() { grep -cE "mirror-(ok|failed) .*repo=$1 " "$T/gitd.log"; }

new_key admin
new_key mirror
mkdir -p "$T/sshd" "$T/remote"
cp "$T/keys/mirror.pub" "$T/sshd/authorized_keys"
start_sshd
sshd_known_hosts >"$T/sshd/known_hosts"
for r in shop deploy; do git init -q --bare "$T/remote/$r.git"; done
start_gitd
cat >>"$DATA/gitd.yaml" <<YAML
mirrors:
  - repos: "*"
    url: ssh://$ME@127.0.0.1:$SSHD_PORT$T/remote/{repo}.git
    key: $T/keys/mirror
    known_hosts: $T/sshd/known_hosts
YAML
stop_gitd
start_gitd
gssh admin repo create shop >/dev/null

w=$T/work/shop
mkdir -p "$w"
git -C "$w" init -q
printf 'name: shop\nimage: nginx:1.27\nport: 8080\ncpu: 100m\nmemory: 64Mi\nreplicas: 1\n' >"$w/app.yaml"
git -C "$w" add -A && git -C "$w" commit -qm first
git -C "$w" remote add origin "$(url shop)"
as admin git -C "$w" push -q origin main >/dev/null 2>&1
wait_sync shop && wait_sync deploy || { echo "the first push was not mirrored"; exit 1; }

# Each push changes replicas, so the render commits and the deploy repo is mirrored too.
echo "== $PUSHES single pushes (app repo and deploy repo mirrored after each render)"
: >"$T/after"
log_lines=$(wc -l <"$T/gitd.log")
for i in $(seq "$PUSHES"); do
	sleep 1.2 # longer than the settle time: each push finds the mirror idle
	sed -i "s/^replicas: .*/replicas: $((i % 5 + 2))/" "$w/app.yaml"
	git -C "$w" commit -qam "push $i"
	t0=$(now)
	as admin git -C "$w" push -q origin main >/dev/null 2>&1 # returns when the job (render) is done
	t1=$(now)
	wait_sync shop && wait_sync deploy || { echo "push $i was not mirrored"; exit 1; }
	t2=$(now)
	printf '%s %s\n' "$(elapsed "$t1" "$t2")" "$(elapsed "$t0" "$t2")" >>"$T/after"
done
sort -n "$T/after" | awk -v n="$PUSHES" '
	{ after[NR] = $1 < 0 ? 0 : $1; total += $2 }
	END {
		printf "  mirror up to date after the render: median %.3f s, max %.3f s\n", after[int((n + 1) / 2)], after[n]
		printf "  from git push to mirror up to date (incl. render): mean %.3f s\n", total / n
	}'
max_after=$(sort -n "$T/after" | tail -1 | cut -d' ' -f1)
# How long the pushes themselves took (SSH login and receive-pack on the target), as gitd logs them.
tail -n +"$((log_lines + 1))" "$T/gitd.log" | sed -n 's/.*mirror-ok .* ms=\([0-9]*\).*/\1/p' | sort -n |
	awk '{ ms[NR] = $1 } END { if (NR) printf "  of which the push itself (SSH login, receive-pack): median %.3f s, max %.3f s\n", ms[int((NR + 1) / 2)] / 1000, ms[NR] / 1000 }'

echo "== a burst of $BURST pushes"
sleep 1.2
before_shop=$(runs shop)
before_deploy=$(runs deploy)
t0=$(now)
for i in $(seq "$BURST"); do
	sed -i "s/^replicas: .*/replicas: $((i % 7 + 2))/" "$w/app.yaml"
	git -C "$w" commit -qam "burst $i"
	as admin git -C "$w" push -q -o nowait origin main >/dev/null 2>&1
done
t1=$(now)
wait_sync shop && wait_sync deploy || { echo "the burst was not mirrored"; exit 1; }
t2=$(now)
sleep 2 # let any run still going finish and be counted
shop_runs=$(($(runs shop) - before_shop))
deploy_runs=$(($(runs deploy) - before_deploy))
printf '  %d pushes in %.2f s; mirror up to date %.2f s after the last push\n' "$BURST" \
	"$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")"
printf '  mirror runs: %d for the app repo, %d for the deploy repo\n' "$shop_runs" "$deploy_runs"

rc=0
if [ "$(echo "$max_after < 1" | bc -l)" -ne 1 ]; then echo "MISSED: a mirror took ${max_after} s after the render (target: under 1 s)"; rc=1; fi
if [ "$shop_runs" -gt 3 ] || [ "$deploy_runs" -gt 3 ]; then echo "MISSED: the burst cost more than 3 runs per repo"; rc=1; fi
[ "$rc" -eq 0 ] && echo "targets met: under 1 s after the render; at most 3 runs for a burst of $BURST"
stop_gitd
exit $rc
