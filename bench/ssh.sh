#!/bin/bash
# git over SSH: gitd against OpenSSH's sshd running git-upload-pack and
# git-receive-pack (what gitolite and plain git hosting use), same machine,
# same run, same client, same repository on disk.
#
#   bash bench/ssh.sh        (make bench runs it; needs bin/gitd and openssh-server)
#
# Environment: BENCH_RUNS (7) timed runs of each clone and push,
# BENCH_LS_RUNS (30) of ls-remote, BENCH_SIZE_MB (40) size of the random
# blob, BENCH_CONCURRENCY ("50 200") clones at once, BENCH_BURST_MB (5)
# size of the blob the concurrent clones fetch (smaller, so that the six
# bursts stay within a few minutes: what they test, many key exchanges and
# processes at once, happens at the start of each clone), KEEP=1 keeps the
# temp dir.
# Prints a Markdown report on stdout; progress goes to stderr.
. "$(dirname "$0")/lib.bash"

RUNS=${BENCH_RUNS:-7}
LS_RUNS=${BENCH_LS_RUNS:-30}
SIZE_MB=${BENCH_SIZE_MB:-40}
BURST_MB=${BENCH_BURST_MB:-5}
CONCURRENCY=${BENCH_CONCURRENCY:-50 200}

# Many clients from one address at once. OpenSSH's default MaxStartups
# 10:30:100 drops connections at random beyond 10 unauthenticated ones, so
# sshd gets room. gitd runs each burst twice: with its default limits (over
# max_unauthenticated_per_source: 10 it evicts unauthenticated connections
# that have not finished the key exchange 3 s after connecting, which a
# burst of key exchanges on a busy machine can exceed: gitd/server.c
# STALLED_MS), then with room as sshd has it (RAISED, applied with SIGHUP).
SSHD_EXTRA="MaxStartups 256"
RAISED="limits:
  max_unauthenticated: 256
  max_unauthenticated_per_source: 256"

[ -x /usr/sbin/sshd ] || { say "bench/ssh.sh: /usr/sbin/sshd is missing (apt-get install openssh-server)"; exit 1; }
need_bin gitd

mkdir -p "$T/keys"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$T/keys/user"
start_sshd "$T/sshd" "$T/keys/user.pub" "$SSHD_EXTRA"
start_gitd "$T/gitd" "$T/keys/user.pub"
cp "$T/gitd/data/gitd.yaml" "$T/gitd.yaml.defaults"
export GIT_SSH_COMMAND
GIT_SSH_COMMAND=$(ssh_command "$T/keys/user")
ME=$(id -un)
gitd_url() { echo "ssh://git@127.0.0.1:$GITD_PORT/$1.git"; }
sshd_url() { echo "ssh://$ME@127.0.0.1:$SSHD_PORT$1"; }
# shellcheck disable=SC2086 # a word list on purpose
gitd_cmd() { $GIT_SSH_COMMAND -p "$GITD_PORT" git@127.0.0.1 "$@"; }

# A bare repository for sshd with the git settings gitd gives its own (gitserve.c),
# so that both sides do the same git work and the difference is the server.
sshd_repo() {
	git init -q --bare "$1"
	git -C "$1" config receive.fsckObjects true
	git -C "$1" config receive.unpackLimit 1
	git -C "$1" config receive.advertisePushOptions true
	git -C "$1" config uploadpack.allowFilter true
	git -C "$1" config core.logAllRefUpdates true
}

say "== preparing a ${SIZE_MB} MB repository"
W=$T/work
git init -q "$W"
head -c $((SIZE_MB * 1000 * 1000)) /dev/urandom >"$W/blob"
git -C "$W" add blob && git -C "$W" commit -qm "random blob"
HEAD_ID=$(git -C "$W" rev-parse HEAD)
gitd_cmd repo create big >/dev/null || exit 1
git -C "$W" push -q "$(gitd_url big)" main || exit 1
# sshd serves the very repository gitd serves: the same pack, byte for byte.
BIG=$T/gitd/data/repos/big.git
say "== preparing a ${BURST_MB} MB repository for the concurrent clones"
B=$T/work-burst
git init -q "$B"
head -c $((BURST_MB * 1000 * 1000)) /dev/urandom >"$B/blob"
git -C "$B" add blob && git -C "$B" commit -qm "random blob"
BURST_HEAD=$(git -C "$B" rev-parse HEAD)
gitd_cmd repo create burst >/dev/null || exit 1
git -C "$B" push -q "$(gitd_url burst)" main || exit 1
BURST=$T/gitd/data/repos/burst.git

# Each round runs gitd and OpenSSH back to back, alternating which goes first,
# so that drift in the machine's load hits both alike.
say "== clone, $RUNS runs each"
for i in $(seq "$RUNS"); do
	for side in $( ((i % 2)) && echo gitd sshd || echo sshd gitd); do
		rm -rf "$T/clone"
		if [ "$side" = gitd ]; then url=$(gitd_url big); else url=$(sshd_url "$BIG"); fi
		timed "$T/clone.$side" git clone -q "$url" "$T/clone" || exit 1
		[ "$(git -C "$T/clone" rev-parse HEAD)" = "$HEAD_ID" ] || { say "bad clone"; exit 1; }
	done
done
rm -rf "$T/clone"

say "== push into an empty repository, $RUNS runs each"
for i in $(seq "$RUNS"); do
	gitd_cmd repo create "push$i" >/dev/null || exit 1
	sshd_repo "$T/sshd/push$i.git"
	git init -q --bare "$T/sshd/stock$i.git"
	for side in $( ((i % 2)) && echo gitd sshd stock || echo stock sshd gitd); do
		case $side in
		gitd) url=$(gitd_url "push$i") ;;
		sshd) url=$(sshd_url "$T/sshd/push$i.git") ;;
		stock) url=$(sshd_url "$T/sshd/stock$i.git") ;;
		esac
		timed "$T/push.$side" git -C "$W" push -q "$url" main || exit 1
	done
	rm -rf "$T/sshd/push$i.git" "$T/sshd/stock$i.git"
	gitd_cmd repo delete "push$i" >/dev/null 2>&1
done
rm -rf "$T/gitd/data/trash"

say "== ls-remote, $LS_RUNS runs each"
for i in $(seq "$LS_RUNS"); do
	for side in $( ((i % 2)) && echo gitd sshd || echo sshd gitd); do
		if [ "$side" = gitd ]; then url=$(gitd_url big); else url=$(sshd_url "$BIG"); fi
		timed "$T/ls.$side" git ls-remote "$url" || exit 1
	done
done

# gitd_limits default|raised: gitd's limits for the next burst (SIGHUP reloads gitd.yaml).
gitd_limits() {
	local before
	cp "$T/gitd.yaml.defaults" "$T/gitd/data/gitd.yaml"
	[ "$1" = raised ] && printf '%s\n' "$RAISED" >>"$T/gitd/data/gitd.yaml"
	before=$(grep -c 'reloaded' "$T/gitd/gitd.log")
	kill -HUP "$GITD_PID"
	for _ in $(seq 100); do
		[ "$(grep -c 'reloaded' "$T/gitd/gitd.log")" -gt "$before" ] && return 0
		sleep 0.05
	done
	say "gitd did not reload its config"
	exit 1
}

# concurrent SIDE N: N bare clones at once (the server does the same work as for
# a clone with checkout); prints "OK SECONDS EVICTED" and the peaks of tree_mem.
concurrent() {
	local side=$1 n=$2 url root comm start pids=() ok=0 evicted
	if [ "$side" = sshd ]; then url=$(sshd_url "$BURST") root=$SSHD_PID comm=sshd
	else url=$(gitd_url burst) root=$GITD_PID comm=gitd; gitd_limits "${side#gitd-}"; fi
	evicted=$(grep -c 'evicted-unauthenticated' "$T/gitd/gitd.log")
	rm -rf "$T/cc" && mkdir -p "$T/cc"
	sample_mem "$root" "$T/peak" "$comm"
	start=$(now_ns)
	for j in $(seq "$n"); do
		(
			timeout 900 git clone -q --bare "$url" "$T/cc/$j" >"$T/cc/$j.log" 2>&1 &&
				[ "$(git -C "$T/cc/$j" rev-parse HEAD)" = "$BURST_HEAD" ]
			rc=$?
			rm -rf "$T/cc/$j"
			exit $rc
		) &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" && ok=$((ok + 1)); done
	secs=$(awk -v a="$start" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	sleep 0.3
	stop_sampler
	[ "$ok" -eq "$n" ] || { say "$side: $((n - ok)) of $n clones failed, e.g.:"; cat "$T"/cc/*.log | sort | uniq -c | head -5 >&2; }
	evicted=$(($(grep -c 'evicted-unauthenticated' "$T/gitd/gitd.log") - evicted))
	[ "$side" = sshd ] && evicted=-
	echo "$ok $secs $evicted $(cat "$T/peak")"
}

SIDES="gitd-default gitd-raised sshd"
declare -A CONC
for n in $CONCURRENCY; do
	for side in $SIDES; do
		say "== $n concurrent clones, $side"
		CONC[$side.$n]=$(concurrent "$side" "$n")
	done
done

# verdict RATIO LIMIT: whether a gitd/OpenSSH ratio meets a target.
verdict() { awk -v r="$1" -v l="$2" 'BEGIN { print (r <= l) ? "met" : "**missed**" }'; }

c_g=$(median <"$T/clone.gitd") c_s=$(median <"$T/clone.sshd")
p_g=$(median <"$T/push.gitd") p_s=$(median <"$T/push.sshd") p_k=$(median <"$T/push.stock")
l_g=$(median <"$T/ls.gitd") l_s=$(median <"$T/ls.sshd")
cat <<EOF
## git over SSH: gitd vs OpenSSH

$(describe_machine)
- git $(git --version | cut -d' ' -f3), OpenSSH $(/usr/sbin/sshd -V 2>&1 | sed -n 's/^OpenSSH_\([^ ,]*\).*/\1/p' | head -1), libssh $(pkg-config --modversion libssh 2>/dev/null || echo '?')
- repository: one ${SIZE_MB} MB blob of random bytes; medians of $RUNS runs ($LS_RUNS for ls-remote); the concurrent clones fetch a repository of one ${BURST_MB} MB blob

| operation | gitd | OpenSSH | gitd/OpenSSH | target |
|---|---:|---:|---:|---|
| clone | $c_g ms | $c_s ms | $(ratio "$c_g" "$c_s") | <= 1.05: $(verdict "$(ratio "$c_g" "$c_s")" 1.05) |
| push into an empty repo | $p_g ms | $p_s ms | $(ratio "$p_g" "$p_s") | <= 1.05: $(verdict "$(ratio "$p_g" "$p_s")" 1.05) |
| push, OpenSSH side with git's stock settings | | $p_k ms | $(ratio "$p_g" "$p_k") | |
| ls-remote | $l_g ms | $l_s ms | $(ratio "$l_g" "$l_s") | <= 1.00: $(verdict "$(ratio "$l_g" "$l_s")" 1.00) |

| clones at once | server | succeeded | evicted | wall time | vs OpenSSH | peak PSS, server and git | peak PSS, server processes | vs OpenSSH | peak RSS sum, server processes |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for n in $CONCURRENCY; do
	read -r _ s_secs _ _ s_own _ <<<"${CONC[sshd.$n]}"
	for side in $SIDES; do
		read -r ok secs evicted all own ownrss <<<"${CONC[$side.$n]}"
		case $side in
		gitd-default) name="gitd, default limits" ;;
		gitd-raised) name="gitd, max_unauthenticated(_per_source): 256" ;;
		sshd) name="OpenSSH, MaxStartups 256" ;;
		esac
		echo "| $n | $name | $ok/$n | $evicted | $secs s | $(ratio "$secs" "$s_secs") | $(mib "$all") | $(mib "$own") | $(ratio "$own" "$s_own") | $(mib "$ownrss") |"
	done
done
echo
echo "Raw samples (ms): clone gitd [$(paste -sd' ' "$T/clone.gitd")] OpenSSH [$(paste -sd' ' "$T/clone.sshd")];" \
	"push gitd [$(paste -sd' ' "$T/push.gitd")] OpenSSH [$(paste -sd' ' "$T/push.sshd")]."
