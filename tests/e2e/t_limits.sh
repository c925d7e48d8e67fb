# Connection limits: half-open floods, garbage handshakes, many clients at once.
. "$(dirname "$0")/lib.sh"

new_key admin
start_gitd
stop_gitd
cat >>"$DATA/gitd.yaml" <<'YAML'
limits:
  login_grace_time: 5
  max_unauthenticated: 20
  max_unauthenticated_per_source: 10
  max_connections: 150
YAML
start_gitd

expect_ok "repo create" gssh admin repo create big
new_worktree big
head -c 40000000 /dev/urandom >"$T/work/big/blob"
git -C "$T/work/big" add blob && git -C "$T/work/big" commit -qm "40 MB"
git -C "$T/work/big" remote add origin "$(url big)"
expect_ok "40 MB push" as admin git -C "$T/work/big" push -q origin main

# 200 connections that never say anything, from the same address as the user:
# more than max_connections, so the user's connection must evict a stalled one.
flood() {
	local fds=()
	for _ in $(seq 200); do
		exec {fd}<>/dev/tcp/127.0.0.1/"$PORT" 2>/dev/null && fds+=("$fd")
	done
	sleep "$1"
	for fd in "${fds[@]}"; do exec {fd}>&-; done
}
flood 12 &
flood_pid=$!
sleep 4 # past the point where the flood's connections count as stalled
expect_out "a real user gets in during a half-open flood" "^admin " gssh admin whoami
expect_ok "and can clone during it" as admin git clone -q "$(url big)" "$T/clone-during-flood"
wait "$flood_pid"
expect_ok "evictions were logged" grep -q "evicted-unauthenticated" "$T/gitd.log"

# Garbage instead of an SSH handshake.
for _ in $(seq 20); do
	head -c 3000 /dev/urandom >/dev/tcp/127.0.0.1/"$PORT" 2>/dev/null
done
printf 'SSH-2.0-evil\r\n%s' "$(head -c 2000 /dev/urandom | base64 -w0)" >/dev/tcp/127.0.0.1/"$PORT"
expect_out "still serving after garbage handshakes" "^admin " gssh admin whoami

# A connection that never authenticates is closed after login_grace_time.
exec {idle}<>/dev/tcp/127.0.0.1/"$PORT"
sleep 7
if timeout 5 cat <&"$idle" >/dev/null; then pass "idle unauthenticated connection closed after the grace time"
else fail "idle unauthenticated connection still open after the grace time"; fi
exec {idle}>&-

# 50 concurrent clones of the 40 MB repo all succeed.
pids=()
for i in $(seq 50); do
	as admin git clone -q "$(url big)" "$T/c$i" >"$T/c$i.log" 2>&1 &
	pids+=($!)
done
ok=0
for i in "${!pids[@]}"; do wait "${pids[$i]}" && ok=$((ok + 1)); done
if [ "$ok" -eq 50 ]; then pass "50 concurrent clones of a 40 MB repo"; else fail "only $ok/50 concurrent clones succeeded" "$T/c1.log"; fi
same=0
for i in $(seq 50); do cmp -s "$T/c$i/blob" "$T/work/big/blob" && same=$((same + 1)); done
if [ "$same" -eq 50 ]; then pass "every clone is intact"; else fail "only $same/50 clones intact"; fi
rm -rf "$T"/c[0-9]*

finish
