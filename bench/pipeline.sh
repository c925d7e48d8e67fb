#!/bin/bash
# Push to deploy, end to end: what gitd adds to a `git push` of an app that
# builds no image, against the same push to OpenSSH's sshd running a plain
# git-receive-pack with no hooks (what pushing to any git host costs).
#
# gitd's `git push` returns only once the job has rendered and committed to
# the deploy repo: post-receive streams the job's log until it ends
# (hooks/post_receive.c). So the time of the push is the time from `git push`
# to a deploy commit, and its difference from the plain push is what the
# pipeline adds: validation (pre-receive), queueing, rendering dev and
# staging, the deploy commit, and streaming the result back.
#
# Each round makes two commits, each a one-line change of app.yaml (so every
# render makes a deploy commit):
#   - the first is pushed to gitd with `-o nowait`: the same SSH server,
#     receive-pack and validation, without waiting for the job (untimed: the
#     job's end is awaited, and the commit pushed to sshd, before going on);
#   - the second is pushed to gitd and to sshd, alternating which goes first.
# gitd's push minus the plain push is what gitd adds against its peer; gitd's
# push minus its nowait push is the job's share measured inside gitd, which
# the first figure could hide if gitd's SSH server is faster than sshd.
# Both repositories get the same git settings (gitd's, see gitd/gitserve.c),
# and the client offers sshd only the key exchange gitd negotiates
# (curve25519-sha256; libssh 0.10 has no sntrup761, which costs OpenSSH's
# client and server tens of ms more per connection), so the git and crypto
# work is the same on both sides. Every push to gitd must have made a new
# deploy commit of exactly that source commit, or the benchmark fails.
#
#   bash bench/pipeline.sh [PUSHES]     (default 30 rounds; make bench runs it)
#
# Target: under 300 ms added, judged on the larger of the two figures above
# (medians of per-round differences). Exit status 1 when missed. KEEP=1
# keeps the temp dir.
. "$(dirname "$0")/lib.bash"

PUSHES=${1:-30}
TARGET_MS=300
KEX=curve25519-sha256

[ -x /usr/sbin/sshd ] || { say "bench/pipeline.sh: /usr/sbin/sshd is missing (apt-get install openssh-server)"; exit 1; }
need_bin gitd

mkdir -p "$T/keys"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$T/keys/user"
start_sshd "$T/sshd" "$T/keys/user.pub"
start_gitd "$T/gitd" "$T/keys/user.pub"
SSH=$(ssh_command "$T/keys/user")
ME=$(id -un)
DATA=$T/gitd/data
DEPLOY=$DATA/repos/deploy.git
# shellcheck disable=SC2086 # a word list on purpose
$SSH -p "$GITD_PORT" git@127.0.0.1 repo create shop >/dev/null || exit 1
GITD_URL=ssh://git@127.0.0.1:$GITD_PORT/shop.git
PLAIN=$T/sshd/shop.git
PLAIN_URL=ssh://$ME@127.0.0.1:$SSHD_PORT$PLAIN
git init -q --bare "$PLAIN"
for kv in receive.fsckObjects=true receive.unpackLimit=1 receive.advertisePushOptions=true \
	uploadpack.allowFilter=true core.logAllRefUpdates=true receive.autogc=false; do
	git -C "$PLAIN" config "${kv%%=*}" "${kv#*=}"
done
[ -z "$(find "$PLAIN/hooks" -type f ! -name '*.sample')" ] || { say "the plain repository has hooks"; exit 1; }

# git_to SIDE ARGS...: git with the ssh command for SIDE's server.
git_to() {
	local side=$1
	shift
	if [ "$side" = sshd ]; then
		GIT_SSH_COMMAND="$SSH -o KexAlgorithms=$KEX" git -C "$W" "$@"
	else
		GIT_SSH_COMMAND=$SSH git -C "$W" "$@"
	fi
}

# The app: app.yaml (Deployment, Service, Ingress) and three resources.
W=$T/work
mkdir -p "$W/resources"
git init -q "$W"
cat >"$W/app.yaml" <<'YAML'
name: shop
image: registry.example.com/shop/web:1.4.2
port: 8080
replicas: 2
env:
  LOG_LEVEL: info
  ROUND: "0"
cpu: 250m
memory: 256Mi
health: /healthz
host: shop.example.com
YAML
for i in 1 2 3; do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-c%s\ndata:\n  k: "%s"\n' "$i" "$i" \
		>"$W/resources/c$i.yaml"
done
git -C "$W" add -A && git -C "$W" commit -qm "shop"

# new_commit LABEL: commit a changed ROUND; print the commit.
new_commit() {
	sed -i "s/^  ROUND: .*/  ROUND: \"$1\"/" "$W/app.yaml"
	git -C "$W" commit -qam "round $1"
	git -C "$W" rev-parse HEAD
}

deploy_main() { git --git-dir="$DEPLOY" rev-parse refs/heads/main 2>/dev/null; }
deployed_source() {
	git --git-dir="$DEPLOY" log -1 --format='%(trailers:key=Source-Commit,valueonly)' refs/heads/main 2>/dev/null |
		sed '/^$/d'
}

# A new deploy commit for exactly COMMIT, or the benchmark measured nothing.
check_deployed() {
	local before=$1 commit=$2 after src
	after=$(deploy_main) src=$(deployed_source)
	if [ "$after" = "$before" ] || [ "$src" != "$commit" ]; then
		say "push of $commit: no new deploy commit (main $before -> $after, Source-Commit ${src:-none})"
		exit 1
	fi
}

# wait_job COMMIT: until COMMIT is deployed and the queue is idle (at most 60 s).
wait_job() {
	for _ in $(seq 3000); do
		if [ "$(deployed_source)" = "$1" ] && [ -z "$(find "$DATA/queue/pending" "$DATA/queue/running" -type f)" ]; then
			return 0
		fi
		sleep 0.02
	done
	say "the job for $1 did not finish"
	exit 1
}

# push SIDE [OPTION]: push main to SIDE; append the wall time in ms to
# $T/push.SIDE[-OPTION], and for a waited gitd push "START-QUEUED
# QUEUED-DEPLOYED DEPLOYED-END" in ms to $T/phases: up to "job N queued"
# (SSH, receive-pack, pre-receive's validation, the enqueue), up to
# "deployed" (queue, render, deploy commit, the hook seeing the log), up to
# the end (the hook noticing the job's end, closing the connection).
push() {
	local side=$1 opt=${2:-} url=$PLAIN_URL name=$1 start queued='' deployed='' end line now
	[ "$side" = gitd ] && url=$GITD_URL
	[ -n "$opt" ] && name=$side-$opt
	: >"$T/push.out"
	start=${EPOCHREALTIME/./}
	while IFS= read -r line; do
		now=${EPOCHREALTIME/./}
		echo "$line" >>"$T/push.out"
		case "$line" in
		*"gitd: job "*" queued"*) queued=$now ;;
		*"gitd: deployed "*) deployed=$now ;;
		esac
	done < <(git_to "$side" push ${opt:+-o "$opt"} "$url" main 2>&1; echo "exit $?")
	end=${EPOCHREALTIME/./}
	[ "$(tail -1 "$T/push.out")" = "exit 0" ] || { say "push to $name failed:"; tail -20 "$T/push.out" >&2; exit 1; }
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", (b - a) / 1000 }' >>"$T/push.$name"
	[ "$name" = gitd ] || return 0
	[ -n "$queued" ] && [ -n "$deployed" ] || { say "gitd's push did not stream a deploy:"; cat "$T/push.out" >&2; exit 1; }
	echo "$(((queued - start) / 1000)) $(((deployed - queued) / 1000)) $(((end - deployed) / 1000))" >>"$T/phases"
}

say "== first push to each (creates the deploy folders; not timed)"
push gitd && push sshd
rm -f "$T"/push.* "$T/phases"
[ -n "$(deploy_main)" ] || { say "the first push deployed nothing"; exit 1; }

say "== $PUSHES rounds: a commit pushed to gitd with -o nowait; a commit pushed to gitd and to sshd"
for i in $(seq "$PUSHES"); do
	before=$(deploy_main)
	commit=$(new_commit "$i.1")
	push gitd nowait
	wait_job "$commit"
	check_deployed "$before" "$commit"
	push sshd && sed -i '$d' "$T/push.sshd" # keeps sshd's repository in step; not a sample
	before=$(deploy_main)
	commit=$(new_commit "$i.2")
	for side in $( ((i % 2)) && echo gitd sshd || echo sshd gitd); do
		push "$side"
	done
	check_deployed "$before" "$commit"
	[ "$(git --git-dir="$PLAIN" rev-parse refs/heads/main)" = "$commit" ] || { say "sshd did not get $commit"; exit 1; }
done
deploys=$(git --git-dir="$DEPLOY" rev-list --count refs/heads/main)

# diffs A B: the median of A's samples minus B's, round by round.
diffs() { paste -d' ' "$T/push.$1" "$T/push.$2" | awk '{ printf "%.1f\n", $1 - $2 }' | median; }
g=$(median <"$T/push.gitd") n=$(median <"$T/push.gitd-nowait") s=$(median <"$T/push.sshd")
added=$(diffs gitd sshd) job=$(diffs gitd gitd-nowait) front=$(diffs gitd-nowait sshd)
worst=$(awk -v a="$added" -v b="$job" 'BEGIN { print (a > b) ? a : b }')
p1=$(cut -d' ' -f1 "$T/phases" | median) p2=$(cut -d' ' -f2 "$T/phases" | median) p3=$(cut -d' ' -f3 "$T/phases" | median)
if awk -v a="$worst" -v t="$TARGET_MS" 'BEGIN { exit !(a < t) }'; then verdict=met; rc=0; else verdict="**missed**"; rc=1; fi

cat <<EOF
## Push to deploy: gitd vs a plain push to OpenSSH

$(describe_machine)
- git $(git --version | cut -d' ' -f3), OpenSSH $(/usr/sbin/sshd -V 2>&1 | sed -n 's/^OpenSSH_\([^ ,]*\).*/\1/p' | head -1), libssh $(pkg-config --modversion libssh 2>/dev/null || echo '?'), libgit2 $(pkg-config --modversion libgit2 2>/dev/null || echo '?'); key exchange $KEX on both
- app: app.yaml (no build; Deployment, Service, Ingress) and 3 ConfigMaps, rendered for dev and staging; $PUSHES rounds, each pushing a new commit (one changed env value) to gitd and to OpenSSH, and another to gitd with \`-o nowait\`
- every push to gitd made a new deploy commit of its source commit (checked); the deploy repo has $deploys commits

| git push, median of $PUSHES | ms | vs OpenSSH |
|---|---:|---:|
| OpenSSH + git-receive-pack, no hooks | $s | 1.000 |
| gitd, \`-o nowait\` (validation, enqueue; the job not awaited) | $n | $(ratio "$n" "$s") |
| gitd, until deployed | $g | $(ratio "$g" "$s") |

| added by gitd (medians of per-round differences) | ms |
|---|---:|
| until deployed, against OpenSSH (validation, queue, render, deploy commit, and gitd's SSH server against sshd) | $added |
| until deployed, against gitd's \`-o nowait\` push (queue, render, deploy commit, streaming) | $job |
| \`-o nowait\`, against OpenSSH (validation and enqueue, and the SSH servers' difference) | $front |
| **target: < $TARGET_MS ms, on the larger of the first two ($worst ms)** | $verdict |

Where gitd's push spends its time (medians in ms, from when each \`remote:\` line reached the client):
up to "job N queued" (SSH, receive-pack, pre-receive's validation, the enqueue) $p1;
from there to "deployed" (queue, render, deploy commit, the hook reading the log) $p2;
from "deployed" until \`git push\` returns $p3.

Raw samples (ms): gitd [$(paste -sd' ' "$T/push.gitd")]; gitd -o nowait [$(paste -sd' ' "$T/push.gitd-nowait")]; OpenSSH [$(paste -sd' ' "$T/push.sshd")].
EOF
exit $rc
