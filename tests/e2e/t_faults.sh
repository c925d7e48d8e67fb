# Faults, end to end: a full disk, kill -9 of gitd while a push is being
# received and while a mirror push runs, and ten pushers at once. Each case
# injects the fault for real, then checks what the developer saw, that no
# repository or queue entry is half-written, and that gitd recovers without
# manual repair. The last lines tally how often each fault was injected.
. "$(dirname "$0")/lib.sh"
export LSAN_OPTIONS=suppressions=$TOP/tests/e2e/lsan.supp # libgit2's own leaks

. "$(dirname "$0")/sshd.sh"
REMOTE=$T/remote

# The data directory lives on a tmpfs of its own, so the disk can be filled.
FS=$T/fs
DATA=$FS/data
MOUNTED=
mkdir -p "$FS"
if mount -t tmpfs -o size=32m,mode=0700 gitd-faults "$FS" 2>"$T/mount.err"; then
	MOUNTED=1
fi

unmount() {
	[ -n "$MOUNTED" ] || return 0
	# post-receive hooks of the last pushes may still be closing their files
	for _ in $(seq 50); do
		umount "$FS" 2>/dev/null && { MOUNTED=; return 0; }
		sleep 0.1
	done
	umount -l "$FS" && MOUNTED=
}

on_exit() {
	stop_sshd
	stop_gitd
	if [ -n "$MOUNTED" ] && { [ "$FAILED" -ne 0 ] || [ -n "${KEEP:-}" ]; }; then
		rm -f "$FS/filler"
		cp -a "$DATA" "$T/data.kept" # the tmpfs goes away: keep a copy to look at
	fi
	unmount
	cleanup
}
trap on_exit EXIT

INJECT_FULL=0 INJECT_KILL_RECEIVE=0 INJECT_KILL_MIRROR=0 INJECT_PUSHES=0

# git_as USER ARGS...: git with USER's key, given 60 s at most (exit 124: it hung).
git_as() {
	local who=$1
	shift
	timeout 60 env GIT_SSH_COMMAND="$(ssh_cmd "$who")" git "$@"
}
# push_as USER DIR ARGS...: git push from DIR.
push_as() {
	local who=$1 dir=$2
	shift 2
	git_as "$who" -C "$dir" push "$@"
}

ref_of() { git --git-dir="$DATA/repos/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
queue_idle() { [ -z "$(find "$DATA/queue/pending" "$DATA/queue/running" -type f)" ]; }

# fsck_all: git fsck finds nothing wrong in any repository, dangling objects aside.
fsck_all() {
	local r rc=0
	for r in "$DATA"/repos/*.git; do
		git --git-dir="$r" fsck --no-dangling --no-progress >"$T/fsck" 2>&1 || rc=1
		grep -v '^notice:' "$T/fsck" | sed "s|^|${r##*/}: |"
	done
	return $rc
}
expect_fsck() {
	if fsck_all >"$T/fsck.all" 2>&1 && [ ! -s "$T/fsck.all" ]; then
		pass "$1: git fsck is clean on every repo"
	else
		fail "$1: git fsck is clean on every repo" "$T/fsck.all"
	fi
}

# leftovers: what an interrupted write would leave: temporary files, git's
# quarantine directories and temporary packs, ref locks (gitd's own lock
# files are permanent and taken with flock/fcntl, so they are not listed).
leftovers() {
	find "$DATA" \( -name '*.tmp.*' -o -name 'tmp_*' -o -name 'incoming-*' \) -print
	find "$DATA/repos" -name '*.lock' ! -name 'gitd-*.lock' -print
}
expect_no_leftovers() {
	leftovers >"$T/left" 2>&1
	if [ -s "$T/left" ]; then fail "$1: nothing half-written is left" "$T/left"; else pass "$1: nothing half-written is left"; fi
}

# queue_whole: every queue entry is a whole job, and the id counter a number.
queue_whole() {
	local f
	for f in "$DATA"/queue/pending/* "$DATA"/queue/running/* "$DATA"/queue/done/*; do
		[ -e "$f" ] || continue
		case "${f##*/}" in [0-9]*.json) ;; *) echo "stray file $f"; continue ;; esac
		jq -e '(.id | type == "number") and (.repo | type == "string") and (.updates | type == "array")' \
			"$f" >/dev/null 2>&1 || echo "not a whole job: $f"
	done
	[ ! -e "$DATA/queue/seq" ] || grep -Eqx '[0-9]+' "$DATA/queue/seq" || echo "queue/seq is not a number"
}
expect_queue_whole() {
	queue_whole >"$T/q" 2>&1
	if [ -s "$T/q" ]; then fail "$1: every queue entry is whole" "$T/q"; else pass "$1: every queue entry is whole"; fi
}

deploy_git() { git --git-dir="$DATA/repos/deploy.git" "$@"; }
# deployed_from APP: the source commit of APP's latest deploy commit.
deployed_from() {
	deploy_git log -1 --format=%B --grep="^Source-Repo: $1\$" main 2>/dev/null | sed -n 's/^Source-Commit: //p'
}
# rendered APP COMMIT: the deploy repo's latest render of APP is COMMIT's, in dev and staging.
rendered() {
	[ "$(deployed_from "$1")" = "$2" ] &&
		deploy_git cat-file -e "main:dev/$1/kustomization.yaml" &&
		deploy_git cat-file -e "main:staging/$1/kustomization.yaml"
}

# new_app NAME: a work tree at $T/work/NAME with an app, its origin set.
new_app() {
	local w=$T/work/$1
	rm -rf "$w"
	mkdir -p "$w/resources"
	git -C "$w" init -q
	printf 'name: %s\nimage: nginx:1.27\nport: 8080\ncpu: 100m\nmemory: 64Mi\n' "$1" >"$w/app.yaml"
	git -C "$w" add -A && git -C "$w" commit -qm first
	git -C "$w" remote add origin "$(url "$1")"
}
# add_config DIR NAME: commit a ConfigMap NAME, so the next render differs.
add_config() {
	mkdir -p "$1/resources"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: v\n' "$2" >"$1/resources/$2.yaml"
	git -C "$1" add "resources/$2.yaml" && git -C "$1" commit -qm "$2"
}

free_blocks() { stat -f -c %a "$FS"; }
# fill_leaving N: fill the data file system until exactly N blocks stay free.
fill_leaving() {
	rm -f "$FS/filler"
	dd if=/dev/zero of="$FS/filler" bs="$(stat -f -c %S "$FS")" 2>/dev/null
	truncate -s "-$(($1 * $(stat -f -c %S "$FS")))" "$FS/filler"
	[ "$(free_blocks)" -eq "$1" ] || { echo "fill_leaving: $(free_blocks) blocks free, not $1"; return 1; }
	INJECT_FULL=$((INJECT_FULL + 1))
}

# restart_gitd: start gitd again, keeping the log of the last one for finish's sanitizer check.
restart_gitd() {
	cat "$T/gitd.log" >>"$T/gitd.before"
	start_gitd
}

new_key admin
new_key mirror
mkdir -p "$T/sshd" "$REMOTE"
cp "$T/keys/mirror.pub" "$T/sshd/authorized_keys"
start_sshd
sshd_known_hosts >"$T/sshd/known_hosts"
git init -q --bare "$REMOTE/huge.git"
# keep what arrives as a pack, as gitd does, so a push in flight shows as a growing tmp_pack
git --git-dir="$REMOTE/huge.git" config receive.unpackLimit 1
start_gitd
cat >>"$DATA/gitd.yaml" <<YAML
mirrors:
  - repos: huge
    url: ssh://$ME@127.0.0.1:$SSHD_PORT$REMOTE/{repo}.git
    key: $T/keys/mirror
    known_hosts: $T/sshd/known_hosts
YAML
stop_gitd
restart_gitd
gssh admin repo create shop >/dev/null
gssh admin repo create huge >/dev/null

# ---------------------------------------------------------------------------
echo "-- 1. the disk fills up"
if [ -z "$MOUNTED" ]; then
	echo "  skip: cannot mount a tmpfs for the data directory ($(cat "$T/mount.err")); no disk-full cases"
else
	w=$T/work/shop
	new_app shop
	expect_ok "a first push" push_as admin "$w" -q origin main
	wait_for 20 queue_idle
	main_before=$(ref_of shop main)

	echo "  (a) a push whose pack does not fit"
	head -c 3000000 /dev/urandom >"$w/blob" && git -C "$w" add blob
	add_config "$w" big
	big_commit=$(git -C "$w" rev-parse HEAD)
	fill_leaving 256
	expect_fail "the push is refused, saying the disk is full" \
		"remote: fatal: write error: No space left on device" push_as admin "$w" origin main
	cp "$T/out" "$T/out.a"
	expect_out "and that the ref was not updated" \
		"^ ! \[remote rejected\] main -> main \(unpacker error\)$" cat "$T/out.a"
	expect_ok "main did not move" test "$(ref_of shop main)" = "$main_before"
	expect_ok "the refused pack's space is given back" test "$(free_blocks)" -eq 256
	expect_fsck "(a)"
	expect_no_leftovers "(a)"
	expect_queue_whole "(a)"
	git -C "$w" reset -q --hard HEAD~1

	echo "  (b) a push that fits, but its render does not"
	# The commits are on the server already (on a branch that deploys
	# nowhere), so moving main needs only its ref: the render is what fails.
	for recover in push restart; do
		add_config "$w" "full-$recover"
		commit=$(git -C "$w" rev-parse HEAD)
		push_as admin "$w" -q origin "HEAD:refs/heads/seed-$recover" >/dev/null 2>&1
		wait_for 20 queue_idle
		deploy_before=$(deploy_git rev-parse main)
		fill_leaving 8
		expect_out "($recover) the push lands; its render fails, saying why" \
			"gitd: error: cannot commit to the deploy repo: .*No space left on device" \
			push_as admin "$w" origin main
		expect_ok "($recover) main moved" test "$(ref_of shop main)" = "$commit"
		expect_ok "($recover) the deploy repo did not move" test "$(deploy_git rev-parse main)" = "$deploy_before"
		expect_ok "($recover) the job is finished, not left running" wait_for 10 queue_idle
		expect_fsck "($recover)"
		expect_no_leftovers "($recover)"
		expect_queue_whole "($recover)"
		rm -f "$FS/filler"
		if [ "$recover" = push ]; then
			# reconciliation after any push of the repo queues what was not deployed
			push_as admin "$w" -q origin "HEAD:refs/heads/after-full" >/dev/null 2>&1
			expect_ok "once there is room, the next push of the repo renders it" wait_for 20 rendered shop "$commit"
		else
			stop_gitd
			restart_gitd
			expect_ok "once there is room, a restart renders it" wait_for 20 rendered shop "$commit"
		fi
	done

	echo "  (c) room again"
	git -C "$w" cherry-pick "$big_commit" >/dev/null
	expect_out "the push that did not fit now lands" "deployed dev, staging" push_as admin "$w" origin main
	expect_ok "and is rendered" rendered shop "$(git -C "$w" rev-parse HEAD)"
	expect_fsck "(c)"
	expect_no_leftovers "(c)"
	expect_queue_whole "(c)"
	# room for the 40 MB pushes below
	mount -o remount,size=1g "$FS"
fi

# ---------------------------------------------------------------------------
echo "-- 2. gitd killed (kill -9) while it receives a push"
w=$T/work/huge
new_app huge
head -c 40000000 /dev/urandom >"$w/blob" && git -C "$w" add blob
add_config "$w" huge-40mb
quarantine() { find "$DATA/repos/huge.git/objects" -path '*/tmp_objdir-incoming-*/pack/tmp_pack_*' -size "+$1" 2>/dev/null | grep -q .; }
for at in 1M 24M; do
	push_as admin "$w" origin main >"$T/killed" 2>&1 &
	pusher=$!
	if wait_for 30 quarantine "$at"; then
		crash_gitd
		INJECT_KILL_RECEIVE=$((INJECT_KILL_RECEIVE + 1))
		pass "killed with more than ${at}B of the pack received"
	else
		fail "the pack never reached ${at}B in quarantine" "$T/killed"
		crash_gitd
	fi
	wait "$pusher"
	rc=$?
	expect_ok "the push failed, and did not hang (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
	expect_out "the pusher is told the connection went" "^fatal: the remote end hung up unexpectedly$" cat "$T/killed"
	restart_gitd
	expect_out "after ${at}B: the restart removed the dead push's objects" \
		"info dead-push-removed .*repo=huge dir=tmp_objdir-incoming-" cat "$T/gitd.log"
	expect_ok "after ${at}B: main was not created" test -z "$(ref_of huge main)"
	expect_fsck "after ${at}B"
	expect_no_leftovers "after ${at}B"
	expect_queue_whole "after ${at}B"
done
expect_out "the same push again lands" "deployed dev, staging" push_as admin "$w" origin main
expect_ok "and is rendered" rendered huge "$(git -C "$w" rev-parse HEAD)"
expect_fsck "after the retry"

# ---------------------------------------------------------------------------
echo "-- 3. gitd killed (kill -9) while it mirrors"
remote_ref() { git --git-dir="$REMOTE/huge.git" rev-parse -q --verify "$1" 2>/dev/null; }
refs_of() { git --git-dir="$1" for-each-ref --format='%(refname) %(objectname)' refs/heads refs/tags; }
# in_sync: the mirror's branches and tags are exactly gitd's
in_sync() { [ "$(refs_of "$REMOTE/huge.git")" = "$(refs_of "$DATA/repos/huge.git")" ]; }
remote_quarantine() { find "$REMOTE/huge.git/objects" -path '*/tmp_objdir-incoming-*/pack/tmp_pack_*' -size +1M 2>/dev/null | grep -q .; }
mirror_states_whole() {
	for f in "$DATA"/mirror/*.json; do jq -e 'type == "object"' "$f" >/dev/null 2>&1 || echo "not whole: $f"; done
}
# The first round mirrors the retried 40 MB push above; the second a new 20 MB commit.
for round in 1 2; do
	if [ "$round" = 2 ]; then
		head -c 20000000 /dev/urandom >"$w/blob2" && git -C "$w" add blob2
		add_config "$w" huge-20mb
		expect_ok "a 20 MB push" push_as admin "$w" -q origin main
	fi
	remote_before=$(remote_ref main)
	if wait_for 30 remote_quarantine; then
		crash_gitd
		INJECT_KILL_MIRROR=$((INJECT_KILL_MIRROR + 1))
		pass "($round) killed while the mirror's pack was in flight"
	else
		fail "($round) no mirror push was seen in flight" "$T/gitd.log"
		crash_gitd
	fi
	expect_ok "($round) the mirror's main did not move" test "$(remote_ref main)" = "$remote_before"
	mirror_states_whole >"$T/ms" 2>&1
	expect_ok "($round) the mirror state files are whole" test ! -s "$T/ms"
	restart_gitd
	expect_ok "($round) after the restart the mirror completes" wait_for 60 in_sync
	expect_out "($round) and says so" "^ok\$" sh -c "$(ssh_cmd admin) git@127.0.0.1 mirror status --json | jq -r '.[] | select(.repo == \"huge\") | .state'"
	expect_ok "($round) git fsck is clean on the mirror" git --git-dir="$REMOTE/huge.git" fsck --no-dangling --no-progress
done
expect_fsck "after the mirror runs"

# ---------------------------------------------------------------------------
echo "-- 4. ten pushers at once"
echo "  (a) ten clones of one app push to main"
new_app busy
gssh admin repo create busy >/dev/null
# Every push arrives as a pack (receive.unpackLimit=1): with at most one
# pack, every push makes git want to repack, so gcs started by receive-pack
# would collide ("Unable to create .../gc.pid.lock") under these pushers.
git --git-dir="$DATA/repos/busy.git" config gc.autoPackLimit 1
one_pack() { [ "$(find "$DATA/repos/$1.git/objects/pack" -name '*.pack' | wc -l)" -eq 1 ]; }
push_as admin "$T/work/busy" -q origin main >/dev/null 2>&1
for n in $(seq 10); do git_as admin clone -q "$(url busy)" "$T/work/busy-$n"; done
# pusher ROUND N: push; after a refusal, rebase and push again, up to 20
# times. Each attempt's output and exit code are kept in $T/busy-ROUND/.
pusher() {
	local dir=$T/busy-$1 n=$2 d=$T/work/busy-$2 try rc
	while [ ! -e "$dir/go" ]; do sleep 0.01; done
	for try in $(seq 20); do
		push_as admin "$d" origin main >"$dir/$n.$try" 2>&1
		rc=$?
		echo "$rc" >"$dir/$n.$try.rc"
		[ "$rc" -eq 0 ] && return 0
		[ "$rc" -eq 124 ] && return 1
		git_as admin -C "$d" pull -q --rebase origin main >"$dir/$n.$try.pull" 2>&1 || return 1
	done
	return 1
}
# What a push may print: when it lands, and when it is refused because
# main moved under it. git refuses in one of two places: the client, when
# the main it is shown is not in its history ("fetch first"), or
# receive-pack, when main moves between the moment it is shown and the
# update (its compare-and-swap fails: "cannot lock ref ... is at X but
# expected Y"). Either way nothing changed; nothing else may appear.
# classify OUTPUT RC REPO: landed, refused, or what else happened.
classify() {
	local lines to="To ssh://127\.0\.0\.1:[0-9]+/$3\.git"
	local landed="^(remote: gitd: (no problems in [0-9]+ files?|job [0-9]+ queued|rendering $3@[0-9a-f]{7} for dev, staging|deployed dev, staging: deploy@[0-9a-f]{7})|$to|   [0-9a-f]{7}\.\.[0-9a-f]{7}  main -> main| \* \[new branch\] +main -> main)\$"
	local refused="^($to| ! \[rejected\] +main -> main \((fetch first|non-fast-forward)\)|remote: gitd: no problems in [0-9]+ files?|remote: error: cannot lock ref 'refs/heads/main': is at [0-9a-f]{40} but expected [0-9a-f]{40}| ! \[remote rejected\] main -> main \(failed to update ref\)|error: failed to push some refs to 'ssh://127\.0\.0\.1:[0-9]+/$3\.git'|hint: .*)\$"

	lines=$(sed 's/ *$//' "$1")
	if [ "$2" -eq 0 ] && ! grep -Evq "$landed" <<<"$lines" && grep -q "deployed dev, staging" <<<"$lines"; then
		echo landed
	elif [ "$2" -eq 1 ] && ! grep -Evq "$refused" <<<"$lines" && grep -Eq "^ ! \[(remote )?rejected\]" <<<"$lines"; then
		echo refused
	else
		echo "other (exit $2)"
	fi
}
# Two rounds: the post-receive of one push and the reconciliation after
# another race only now and then, and each round gives them ~50 chances.
for round in 1 2; do
	mkdir -p "$T/busy-$round"
	for n in $(seq 10); do
		[ "$round" = 1 ] || git_as admin -C "$T/work/busy-$n" pull -q --rebase origin main
		add_config "$T/work/busy-$n" "busy-$n-$round"
	done
	pids=
	for n in $(seq 10); do pusher "$round" "$n" & pids="$pids $!"; done
	touch "$T/busy-$round/go"
	gave_up=0
	for p in $pids; do wait "$p" || gave_up=$((gave_up + 1)); done
	landed=0 refused=0 other=0
	for f in "$T/busy-$round"/*.rc; do
		case $(classify "${f%.rc}" "$(cat "$f")" busy) in
		landed) landed=$((landed + 1)) ;;
		refused) refused=$((refused + 1)) ;;
		*)
			other=$((other + 1))
			fail "($round) push attempt ${f%.rc}: $(classify "${f%.rc}" "$(cat "$f")" busy)" "${f%.rc}"
			;;
		esac
	done
	INJECT_PUSHES=$((INJECT_PUSHES + landed + refused + other))
	expect_ok "($round) every pusher landed in the end, pulling after each refusal" test "$gave_up" -eq 0
	expect_ok "($round) each of $((landed + refused + other)) attempts landed ($landed) or was refused as non-fast-forward ($refused)" \
		test "$other" -eq 0 -a "$landed" -eq 10
	expect_ok "($round) main has every pusher's commit" \
		test "$(git --git-dir="$DATA/repos/busy.git" ls-tree --name-only main resources/ | wc -l)" -eq $((round * 10))
	expect_ok "($round) the queue empties" wait_for 60 queue_idle
	expect_ok "($round) the deploy repo ends with the render of the final main" rendered busy "$(ref_of busy main)"
	expect_out "($round) with every pusher's ConfigMap" "^$((round * 10))\$" \
		sh -c "git --git-dir='$DATA/repos/deploy.git' grep -h '^  name: busy-[0-9]*-[0-9]\$' main -- dev/busy | sort -u | wc -l"
done
expect_ok "gitd's gc after each job packs busy.git into one pack" wait_for 60 one_pack busy
expect_out "every deploy commit names its pusher" "^Pushed-By: admin\$" \
	sh -c "git --git-dir='$DATA/repos/deploy.git' log --format=%B --grep='^Source-Repo: busy\$' main | grep '^Pushed-By:' | sort -u"
expect_fsck "(a)"

echo "  (b) ten apps pushed at once"
for n in $(seq 0 9); do
	gssh admin repo create "app$n" >/dev/null
	new_app "app$n"
done
for round in 1 2; do
	[ "$round" = 1 ] || for n in $(seq 0 9); do add_config "$T/work/app$n" "app$n-r2"; done
	pids=
	for n in $(seq 0 9); do
		push_as admin "$T/work/app$n" origin main >"$T/app$n.out" 2>&1 &
		pids="$pids $!"
	done
	n=0
	for p in $pids; do
		wait "$p"
		rc=$?
		INJECT_PUSHES=$((INJECT_PUSHES + 1))
		if [ "$(classify "$T/app$n.out" "$rc" "app$n")" = landed ]; then
			pass "($round) app$n's push landed and deployed"
		else
			fail "($round) app$n's push landed and deployed (exit $rc)" "$T/app$n.out"
		fi
		n=$((n + 1))
	done
	expect_ok "($round) the queue empties" wait_for 60 queue_idle
	for n in $(seq 0 9); do
		expect_ok "($round) app$n's folders hold its latest render" rendered "app$n" "$(ref_of "app$n" main)"
	done
done
expect_out "each app's second ConfigMap is in dev" "^10\$" \
	sh -c "git --git-dir='$DATA/repos/deploy.git' grep -l '^  name: app[0-9]-r2\$' main -- 'dev/*' | wc -l"
expect_fsck "(b)"
expect_no_leftovers "(b)"
expect_queue_whole "(b)"

echo "-- 5. a job log that cannot be written"
# A file where the app's log folder should be: neither the job nor the hook can make it.
new_app logless
gssh admin repo create logless >/dev/null
rm -rf "$DATA/jobs/logless"
echo "not a folder" >"$DATA/jobs/logless"
expect_out "the push says how its job ended" "^remote: gitd: job [0-9]+ ok: deployed" \
	push_as admin "$T/work/logless" origin main
expect_ok "and it is rendered" rendered logless "$(ref_of logless main)"
rm -f "$DATA/jobs/logless"

echo "-- tally of injected faults"
echo "  disk full:                    $INJECT_FULL times"
echo "  kill -9 during receive-pack:  $INJECT_KILL_RECEIVE times"
echo "  kill -9 during a mirror push: $INJECT_KILL_MIRROR times"
echo "  concurrent push attempts:     $INJECT_PUSHES"
cat "$T/gitd.before" >>"$T/gitd.log" 2>/dev/null
stop_sshd
finish
