# Mirrors: pushes reach a real OpenSSH server, durably (docs/mirror.md).
. "$(dirname "$0")/lib.sh"
export LSAN_OPTIONS=suppressions=$TOP/tests/e2e/lsan.supp # libgit2's own leaks

. "$(dirname "$0")/sshd.sh"
REMOTE=$T/remote

trap 'stop_sshd; cleanup' EXIT

local_ref() { git --git-dir="$DATA/repos/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
remote_ref() { git --git-dir="$REMOTE/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
# in_sync REPO REF: the remote's REF is the local one.
in_sync() { [ -n "$(local_ref "$1" "$2")" ] && [ "$(local_ref "$1" "$2")" = "$(remote_ref "$1" "$2")" ]; }
remote_lacks() { [ -z "$(remote_ref "$1" "$2")" ]; }
mirror_state() { gssh admin mirror status --json | jq -r ".[] | select(.repo == \"$1\") | .$2"; }
state_is() { [ "$(mirror_state "$1" state)" = "$2" ]; }

new_key admin
new_key alice
new_key mirror
new_key stranger
mkdir -p "$T/sshd"
cp "$T/keys/mirror.pub" "$T/sshd/authorized_keys"
start_sshd
sshd_known_hosts >"$T/sshd/known_hosts"
cp "$T/sshd/known_hosts" "$T/sshd/known_hosts.good"
mkdir -p "$REMOTE"
for r in shop deploy gitd-admin; do git init -q --bare "$REMOTE/$r.git"; done

start_gitd
mport=$(( (RANDOM % 20000) + 30000 ))
cat >>"$DATA/gitd.yaml" <<YAML
metrics_listen: 127.0.0.1:$mport
mirrors:
  - repos: "*"
    url: ssh://$ME@127.0.0.1:$SSHD_PORT$REMOTE/{repo}.git
    key: $T/keys/mirror
    known_hosts: $T/sshd/known_hosts
  - repos: gitd-admin
    url: ssh://$ME@127.0.0.1:$SSHD_PORT$REMOTE/{repo}.git
    key: $T/keys/mirror
    known_hosts: $T/sshd/known_hosts
YAML
stop_gitd
start_gitd
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add alice <$T/keys/alice.pub" >/dev/null
gssh admin repo create shop >/dev/null
gssh admin perm set shop alice write >/dev/null

# An app, so its push renders into the deploy repo.
w=$T/work/shop
mkdir -p "$w"
git -C "$w" init -q
cat >"$w/app.yaml" <<YAML
name: shop
image: nginx:1.27
port: 8080
cpu: 100m
memory: 64Mi
YAML
git -C "$w" add -A && git -C "$w" commit -qm first
git -C "$w" remote add origin "$(url shop)"

# push_as USER ARGS...: push quietly (the checks look at the mirror, not at the output).
push_as() { local who=$1; shift; as "$who" git -C "$w" push -q "$@" >/dev/null 2>&1; }
commit() { echo "$1" >>"$w/log.txt" && git -C "$w" add log.txt && git -C "$w" commit -qm "$1"; }

echo "-- mirror after push"
expect_out "the pusher is told where it is mirrored" "mirroring shop to ssh://$ME@127.0.0.1:$SSHD_PORT" \
	as alice git -C "$w" push origin main
expect_ok "main reaches the mirror" wait_for 10 in_sync shop refs/heads/main
expect_ok "the deploy repo is mirrored after the render" wait_for 10 in_sync deploy refs/heads/main
expect_out "the mirrored deploy commit names its source" "Source-Repo: shop" \
	git --git-dir="$REMOTE/deploy.git" log -1 --format=%B main
expect_ok "gitd-admin, named by a mirror, is mirrored after an admin command" wait_for 10 in_sync gitd-admin refs/heads/main
expect_out "gitd-admin has one target (\"*\" does not select it)" '^1$' \
	sh -c "$(ssh_cmd admin) git@127.0.0.1 mirror status --json | jq '[.[] | select(.repo == \"gitd-admin\")] | length'"
expect_out "status: ok" '^ok$' mirror_state shop state
expect_out "status: no pending refs" '^0$' mirror_state shop "pending_refs | length"

echo "-- branches, tags, deletions, force"
git -C "$w" checkout -q -b feature && commit feature && git -C "$w" checkout -q main
expect_ok "push a new branch" as alice git -C "$w" push -q origin feature
expect_ok "the branch reaches the mirror" wait_for 10 in_sync shop refs/heads/feature
git -C "$w" tag -a v1 -m "release 1"
expect_ok "push an annotated tag" as alice git -C "$w" push -q origin v1
expect_ok "the tag reaches the mirror" wait_for 10 in_sync shop refs/tags/v1
expect_ok "delete the branch (an admin may)" as admin git -C "$w" push -q origin :feature
expect_ok "the deletion reaches the mirror" wait_for 10 remote_lacks shop refs/heads/feature
commit second && push_as alice origin main
wait_for 10 in_sync shop refs/heads/main
git -C "$w" commit -q --amend -m "second, rewritten"
expect_ok "force push (an admin may)" as admin git -C "$w" push -q -f origin main
expect_ok "the forced update reaches the mirror" wait_for 10 in_sync shop refs/heads/main
git --git-dir="$REMOTE/shop.git" update-ref refs/pull/1/head "$(remote_ref shop refs/heads/main)"
commit third
push_as alice origin main
wait_for 10 in_sync shop refs/heads/main
expect_ok "refs outside heads and tags are left alone" test -n "$(remote_ref shop refs/pull/1/head)"

scrape() { exec 3<>/dev/tcp/127.0.0.1/"$mport" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3; exec 3>&-; }
# metric NAME: its value in a scrape
metric() { scrape | awk -v n="$1" '$1 == n { print $2 }'; }
lag_positive() { awk -v v="$(metric gitd_mirror_lag_seconds)" 'BEGIN { exit !(v > 0) }'; }
no_lag() { [ "$(metric gitd_mirror_lag_seconds)" = 0.000 ]; }
expect_ok "metrics: no mirror lag when in sync" wait_for 10 no_lag
expect_out "metrics: mirror runs are timed" "^[1-9]" metric 'gitd_job_step_seconds_count{step="mirror"}'

echo "-- the mirror is down during pushes, then back"
stop_sshd
commit down-1 && push_as alice origin main
expect_ok "the run fails and is retried" wait_for 10 state_is shop retrying
expect_out "status gives a short reason" "cannot connect" mirror_state shop last_error
expect_out "status lists the pending ref" "refs/heads/main" mirror_state shop pending_refs
expect_out "status gives the next retry" "^20[0-9-]+T" mirror_state shop next_retry
expect_ok "metrics: the mirror lag grows" wait_for 5 lag_positive
expect_out "metrics: failing targets" "^[1-9]" metric gitd_mirror_targets_failing
expect_out "metrics: failed mirror runs" "^[1-9]" metric 'gitd_job_step_failures_total{step="mirror"}'
commit down-2
expect_out "the pusher sees a warning, and the push succeeds" "warning: the last mirror of shop .* failed \\(cannot connect" \
	as alice git -C "$w" push origin main
expect_ok "nothing reached the mirror meanwhile" test "$(remote_ref shop refs/heads/main)" != "$(local_ref shop refs/heads/main)"
start_sshd
expect_ok "after the mirror is back, it catches up with back-off" wait_for 40 in_sync shop refs/heads/main
expect_ok "status: ok again" wait_for 5 state_is shop ok
expect_ok "metrics: no lag once caught up" wait_for 10 no_lag

echo "-- gitd killed with mirrors pending"
stop_sshd
commit crash && push_as alice origin main
wait_for 10 state_is shop retrying
crash_gitd
start_sshd
start_gitd
expect_ok "a restart retries pending mirrors at once" wait_for 5 in_sync shop refs/heads/main
expect_ok "and the deploy repo's" wait_for 5 in_sync deploy refs/heads/main

echo "-- host keys are verified"
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/keys/stranger.pub")" >"$T/sshd/known_hosts"
commit hostkey && push_as alice origin main
expect_ok "a wrong host key pauses the mirror" wait_for 20 state_is shop paused
expect_out "status says why" "host key \\[127.0.0.1\\]:$SSHD_PORT does not match known_hosts" mirror_state shop last_error
expect_ok "nothing was pushed to the impostor" test "$(remote_ref shop refs/heads/main)" != "$(local_ref shop refs/heads/main)"
expect_out "the text status shows the pause" "state +paused" gssh admin mirror status
commit paused
expect_out "the pusher is told the mirror is paused" "warning: the mirror of shop .* is paused" \
	as alice git -C "$w" push origin main
cp "$T/sshd/known_hosts.good" "$T/sshd/known_hosts"
expect_out "an admin resumes it" "retrying 1 mirror$" gssh admin mirror retry shop
expect_ok "the mirror catches up" wait_for 10 in_sync shop refs/heads/main

echo "-- credentials"
: >"$T/sshd/authorized_keys"
commit auth && push_as alice origin main
expect_ok "a refused key pauses the mirror" wait_for 20 state_is shop paused
expect_out "status says the key was refused" "authentication failed" mirror_state shop last_error
cp "$T/keys/mirror.pub" "$T/sshd/authorized_keys"
expect_out "retry every mirror" "retrying [0-9]+ mirrors" gssh admin mirror retry
expect_ok "the mirror catches up" wait_for 10 in_sync shop refs/heads/main
expect_ok "no private key material in the log" sh -c "! grep -qF \"$(sed -n 2p "$T/keys/mirror")\" '$T/gitd.log'"
expect_ok "no private key material in the state" sh -c "! grep -rqF \"$(sed -n 2p "$T/keys/mirror")\" '$DATA/mirror'"

echo "-- a burst of pushes coalesces"
runs_before=$(grep -c "mirror-ok.*repo=shop" "$T/gitd.log")
for i in $(seq 10); do commit "burst $i" && push_as alice -o nowait origin main; done
expect_ok "the burst reaches the mirror" wait_for 20 in_sync shop refs/heads/main
sleep 1
runs=$(($(grep -c "mirror-ok.*repo=shop" "$T/gitd.log") - runs_before))
expect_ok "10 pushes cost at most 3 runs (took $runs)" test "$runs" -le 3

echo "-- commands"
expect_fail "mirror status is for admins" "only server admins may run .mirror status." gssh alice mirror status
expect_fail "mirror retry is for admins" "only server admins may run .mirror retry." gssh alice mirror retry shop
expect_fail "retry of an unknown repo" "no repository 'nope'" gssh admin mirror retry nope
expect_out "status --json has every field" "last_success.*last_error.*pending_refs.*next_retry" \
	sh -c "$(ssh_cmd admin) git@127.0.0.1 mirror status --json | jq -c '.[0] | keys_unsorted'"
expect_out "help lists the mirror commands" "mirror retry \\[REPO\\]" gssh admin help

stop_sshd
finish
