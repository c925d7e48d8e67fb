# Running as a service: metrics, SIGHUP reload, SIGTERM drain.
. "$(dirname "$0")/lib.sh"

new_key admin
start_gitd
stop_gitd
mport=$(( (RANDOM % 20000) + 30000 ))
echo "metrics_listen: 127.0.0.1:$mport" >>"$DATA/gitd.yaml"
start_gitd

scrape() { exec 3<>/dev/tcp/127.0.0.1/"$mport" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && cat <&3; exec 3>&-; }

gssh admin repo create shop >/dev/null
new_worktree shop
as admin git -C "$T/work/shop" push -q "$(url shop)" main
new_key mallory
gssh mallory whoami >/dev/null 2>&1
as admin git ls-remote "$(url nosuch)" >/dev/null 2>&1
expect_out "metrics: Prometheus text" "^# TYPE gitd_connections_total counter" scrape
expect_out "metrics: pushes counted" 'gitd_git_requests_total\{kind="push",result="ok"\} 1' scrape
expect_out "metrics: auth failures counted" 'gitd_auth_total\{result="failed"\} [1-9]' scrape
expect_out "metrics: refusals counted" 'gitd_git_requests_total\{kind="any",result="refused"\} 1' scrape
expect_out "metrics: other paths are 404" "404 Not Found" bash -c "exec 3<>/dev/tcp/127.0.0.1/$mport; printf 'GET /x HTTP/1.0\r\n\r\n' >&3; cat <&3"

# The pre-receive hook's refusals are counted by reason; job steps by duration.
printf 'image: nginx:1.27\nport: 0\n' >"$T/work/shop/app.yaml"
git -C "$T/work/shop" add app.yaml && git -C "$T/work/shop" commit -qm "port 0"
as admin git -C "$T/work/shop" push -q "$(url shop)" main >/dev/null 2>&1
expect_out "metrics: validation refusals counted" 'gitd_push_refusals_total\{reason="validation"\} 1' scrape
new_key dev
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add dev <$T/keys/dev.pub" >/dev/null
gssh admin perm set shop dev write >/dev/null
as dev git -C "$T/work/shop" push -q "$(url shop)" :main >/dev/null 2>&1
expect_out "metrics: access refusals counted apart" 'gitd_push_refusals_total\{reason="access"\} 1' scrape
printf 'image: nginx:1.27\nport: 8080\n' >"$T/work/shop/app.yaml"
git -C "$T/work/shop" commit -qam "port 8080"
as admin git -C "$T/work/shop" push -q "$(url shop)" main >/dev/null 2>&1
expect_out "metrics: the render step is timed" 'gitd_job_step_seconds_count\{step="render"\} 1' scrape
expect_out "metrics: no build, no build step" 'gitd_job_step_seconds_count\{step="build"\} 0' scrape
expect_out "metrics: queue depth" '^gitd_queue_depth 0$' scrape

# Scrapers that connect and say nothing hold up neither the SSH listener nor later scrapes for long.
silent=()
for _ in $(seq 30); do sleep 600 </dev/tcp/127.0.0.1/"$mport" & silent+=($!); done
expect_out "SSH is served while 30 scrapers stall" "^admin " timeout 20 bash -c "$(ssh_cmd admin) git@127.0.0.1 whoami"
kill "${silent[@]}" 2>/dev/null
wait "${silent[@]}" 2>/dev/null
expect_out "and scraping works again" "^gitd_connections " scrape

# SIGHUP reloads gitd.yaml; a broken file is reported and the old config kept.
sed -i 's/^log_format: text/log_format: json/' "$DATA/gitd.yaml"
kill -HUP "$GITD_PID"
sleep 0.5
gssh admin whoami >/dev/null
expect_ok "SIGHUP applied the new config (JSON logs)" grep -q '^{"time":.*"event":"auth"' "$T/gitd.log"
echo "bogus_key: 1" >>"$DATA/gitd.yaml"
kill -HUP "$GITD_PID"
sleep 0.5
expect_ok "a broken config on SIGHUP is refused and logged" grep -q "reload-failed" "$T/gitd.log"
expect_out "and gitd keeps serving" "^admin " gssh admin whoami
expect_out "metrics are served after the reloads" "^gitd_connections_total [1-9]" scrape
sed -i '/bogus_key/d' "$DATA/gitd.yaml"

# SIGTERM while a push is running: the push completes, gitd exits 0.
head -c 30000000 /dev/urandom >"$T/work/shop/blob"
git -C "$T/work/shop" add blob && git -C "$T/work/shop" commit -qm big
seen=$(grep -c "git-receive-pack" "$T/gitd.log")
as admin git -C "$T/work/shop" push -q "$(url shop)" main >"$T/push.log" 2>&1 &
push=$!
# wait until this push is authenticated and git runs (an earlier push logged the same event)
for _ in $(seq 200); do [ "$(grep -c "git-receive-pack" "$T/gitd.log")" -gt "$seen" ] && break; sleep 0.05; done
sleep 0.2
kill -TERM "$GITD_PID"
wait "$push" && pass "a push running at SIGTERM completes" || fail "a push running at SIGTERM completes" "$T/push.log"
wait "$GITD_PID"
rc=$?
GITD_PID=
[ "$rc" -eq 0 ] && pass "gitd exits 0 after draining" || fail "gitd exited $rc after SIGTERM" "$T/gitd.log"
expect_ok "the pushed commit is there" test "$(git --git-dir="$DATA/repos/shop.git" rev-parse main)" = "$(git -C "$T/work/shop" rev-parse HEAD)"
expect_ok "gitd-check-config accepts the data dir" "$BIN/gitd" check-config --data "$DATA"

finish
