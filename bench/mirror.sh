#!/bin/bash
# Mirror benchmark: how long after a push the mirror is up to date, and how
# many mirror runs a burst of pushes costs, against a real OpenSSH server on
# loopback (tests/e2e/sshd.sh). Targets (docs/mirror.md): the mirror is up
# to date under 1 s after the render of a small push; a burst of 20 pushes
# costs at most 3 runs. Exits 1 when a target is missed.
#
# The peer is the floor any mirror has: a direct `git push` of the same
# commit to the same OpenSSH server, with the same key, into a repository in
# the same state as the mirror's was before (beside the mirror's shop.git and
# deploy.git). After each round's mirror is up to date, the app commit is
# pushed to peer-alone.git by itself (what pushing straight to the mirror's
# host costs a developer), then the app commit and the deploy commit to
# peer-shop.git and peer-deploy.git in parallel (what gitd's mirror does
# after a render: app repo and deploy repo at once). The client offers only curve25519-sha256, the key
# exchange gitd's mirror (libgit2 with libssh2) negotiates, so the floor is
# not raised by OpenSSH's slower default.
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
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

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
# median COLUMN FILE: the median of that column.
median() {
	cut -d' ' -f"$1" "$2" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

new_key admin
new_key mirror
mkdir -p "$T/sshd" "$T/remote"
cp "$T/keys/mirror.pub" "$T/sshd/authorized_keys"
start_sshd
sshd_known_hosts >"$T/sshd/known_hosts"
for r in shop deploy peer-alone peer-shop peer-deploy; do git init -q --bare "$T/remote/$r.git"; done
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

# The peer's git: OpenSSH's client with the mirror's key and known_hosts.
DIRECT_SSH="ssh -F /dev/null -o UserKnownHostsFile=$T/sshd/known_hosts -o StrictHostKeyChecking=yes \
-o IdentitiesOnly=yes -o BatchMode=yes -o KexAlgorithms=curve25519-sha256 -i $T/keys/mirror"
peer_url() { echo "ssh://$ME@127.0.0.1:$SSHD_PORT$T/remote/peer-$1.git"; }
# direct PEER: push main to peer-PEER.git: gitd's deploy repo's for deploy, the work tree's otherwise.
direct() {
	if [ "$1" = deploy ]; then
		GIT_SSH_COMMAND=$DIRECT_SSH git --git-dir="$DATA/repos/deploy.git" push -q "$(peer_url deploy)" main
	else
		GIT_SSH_COMMAND=$DIRECT_SSH git -C "$w" push -q "$(peer_url "$1")" main
	fi
}
# direct_both: both at once, as a mirror run after a render does; fails if either does.
direct_both() {
	local a b
	direct shop & a=$!
	direct deploy & b=$!
	wait "$a" && wait "$b"
}

w=$T/work/shop
mkdir -p "$w"
git -C "$w" init -q
printf 'name: shop\nimage: nginx:1.27\nport: 8080\ncpu: 100m\nmemory: 64Mi\nreplicas: 1\n' >"$w/app.yaml"
git -C "$w" add -A && git -C "$w" commit -qm first
git -C "$w" remote add origin "$(url shop)"
as admin git -C "$w" push -q origin main >/dev/null 2>&1
wait_sync shop && wait_sync deploy || { echo "the first push was not mirrored"; exit 1; }
direct alone && direct_both || { echo "the direct push to the peer repositories failed"; exit 1; }

# Each push changes replicas, so the render commits and the deploy repo is mirrored too.
echo "== $PUSHES single pushes (app repo and deploy repo mirrored after each render)" >&2
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
	sleep 0.2 # the mirror's processes are gone
	t3=$(now)
	direct alone || { echo "the direct push $i failed"; exit 1; }
	t4=$(now)
	sleep 0.2
	t5=$(now)
	direct_both || { echo "the direct pushes $i failed"; exit 1; }
	t6=$(now)
	after=$(elapsed "$t1" "$t2")
	case $after in -*) after=0 ;; esac # the mirror finished before the push returned
	printf '%s %s %s %s\n' "$after" "$(elapsed "$t0" "$t2")" "$(elapsed "$t3" "$t4")" "$(elapsed "$t5" "$t6")" >>"$T/after"
done
# How long the mirror runs themselves took (SSH login and receive-pack on the target), as gitd logs them.
push_ms=$(tail -n +"$((log_lines + 1))" "$T/gitd.log" | sed -n 's/.*mirror-ok .* ms=\([0-9]*\).*/\1/p' | sort -n |
	awk '{ ms[NR] = $1 } END { if (NR) printf "%.3f", ms[int((NR + 1) / 2)] / 1000; else print "nan" }')

echo "== a burst of $BURST pushes" >&2
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

after=$(median 1 "$T/after") max_after=$(sort -g "$T/after" | tail -1 | cut -d' ' -f1)
total=$(median 2 "$T/after") alone=$(median 3 "$T/after") both=$(median 4 "$T/after")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.0f", s * 1000 }'; }
rc=0
v1=met v2=met
if [ "$(echo "$max_after < 1" | bc -l)" -ne 1 ]; then v1="**missed** (max $(ms "$max_after") ms)"; rc=1; fi
if [ "$shop_runs" -gt 3 ] || [ "$deploy_runs" -gt 3 ]; then v2="**missed**"; rc=1; fi

cat <<EOF
## Mirror: gitd's mirror vs a direct push to the same OpenSSH server

- CPU: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(uname -sr); $(. /etc/os-release && echo "$PRETTY_NAME")
- load average (1, 5, 15 min) at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)
- mirror target: OpenSSH $(/usr/sbin/sshd -V 2>&1 | sed -n 's/^OpenSSH_\([^ ,]*\).*/\1/p' | head -1) on 127.0.0.1, git-receive-pack $(git --version | cut -d' ' -f3); $PUSHES pushes of a one-line app.yaml change, each rendered (a deploy commit) and mirrored (app repo and deploy repo)

| per push, median of $PUSHES | ms | ratio |
|---|---:|---:|
| direct \`git push\` of the app commit to the target (the peer) | $(ms "$alone") | 1.00 |
| gitd: from \`git push\` to the mirror up to date (push, render, mirror) | $(ms "$total") | $(ratio "$total" "$alone") |
| direct pushes of the app commit and the deploy commit at once (the mirror step's floor) | $(ms "$both") | 1.00 |
| gitd: the mirror up to date after the push returned (the job asks for the mirror after its render, before the push returns) | $(ms "$after") | $(ratio "$after" "$both") |
| each of those mirror runs, app repo and deploy repo in parallel (gitd's log) | $(ms "$push_ms") | $(ratio "$push_ms" "$both") |

| burst of $BURST pushes (\`-o nowait\`) | |
|---|---|
| pushes took | $(elapsed "$t0" "$t1" | xargs printf '%.2f') s |
| mirror up to date after the last push | $(elapsed "$t1" "$t2" | xargs printf '%.2f') s |
| mirror runs: app repo, deploy repo | $shop_runs, $deploy_runs |

| target (docs/mirror.md) | |
|---|---|
| mirror up to date under 1 s after the render, every push | $v1 (max $(ms "$max_after") ms) |
| a burst of $BURST costs at most 3 runs per repository | $v2 |
EOF
stop_gitd
exit $rc
