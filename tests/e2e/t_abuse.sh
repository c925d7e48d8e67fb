# Oversized and hostile input, end to end: each case is refused with a clear
# message or served, and gitd goes on serving everyone else.
. "$(dirname "$0")/lib.sh"

new_key admin
new_key dev
new_key mallory
start_gitd
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add dev <$T/keys/dev.pub" >/dev/null
gssh admin repo create big >/dev/null
gssh admin repo create shop >/dev/null
gssh admin perm set shop dev write >/dev/null
gssh admin perm set big dev read >/dev/null

# The connection processes gitd has now (0 when idle: the listener forks one per connection).
children() { pgrep -P "$GITD_PID" | wc -l; }
# wait_idle SECONDS: until gitd has no connection process left; 0 if it got there.
wait_idle() {
	for _ in $(seq $(($1 * 10))); do
		[ "$(children)" -eq 0 ] && return 0
		sleep 0.1
	done
	return 1
}
serving() { expect_out "$1: gitd still serves" "^admin " gssh admin whoami; }

new_worktree big
head -c 20000000 /dev/urandom >"$T/work/big/blob"
git -C "$T/work/big" add blob && git -C "$T/work/big" commit -qm "20 MB"
git -C "$T/work/big" remote add origin "$(url big)"
expect_ok "20 MB push" as admin git -C "$T/work/big" push -q origin main
BIG_HEAD=$(git -C "$T/work/big" rev-parse HEAD)

# -- a ref name of 4000 bytes
new_worktree shop
git -C "$T/work/shop" remote add origin "$(url shop)"
as dev git -C "$T/work/shop" push -q origin main
long=refs/heads/$(head -c 3989 /dev/zero | tr '\0' a)
expect_fail "a 4000-byte ref name is refused" "error: invalid or over-long ref name \(limit 1024 bytes\) \[hook-input\]" \
	as dev git -C "$T/work/shop" push origin "HEAD:$long"
expect_ok "and was not created" sh -c "! git --git-dir=$DATA/repos/shop.git for-each-ref | grep -q aaaa"
long=refs/heads/$(for _ in $(seq 800); do printf 'abcd/'; done)x
expect_fail "a 4000-byte ref name of 800 directories is refused" "error: invalid or over-long ref name \(limit 1024 bytes\)" \
	as dev git -C "$T/work/shop" push origin "HEAD:$long"
serving "long ref names"

# -- 3000 refs in one push
for i in $(seq 3000); do echo "create refs/tags/t$i HEAD"; done | git -C "$T/work/shop" update-ref --stdin
start=$(date +%s)
expect_ok "a push of 3000 tags at once is served" as dev git -C "$T/work/shop" push -q origin 'refs/tags/*'
expect_out "all 3000 tags landed" "^3000$" sh -c "git --git-dir=$DATA/repos/shop.git for-each-ref refs/tags | wc -l"
echo "       (3000 tags took $(($(date +%s) - start)) s)"
expect_ok "and 3000 tag deletions, by an admin" as admin git -C "$T/work/shop" push -q origin \
	$(for i in $(seq 3000); do printf ':refs/tags/t%s ' "$i"; done)
serving "3000 refs"

# -- an object that fails git fsck (a commit without an author's email)
tree=$(git -C "$T/work/shop" rev-parse 'HEAD^{tree}')
bad=$(printf 'tree %s\nauthor nobody 1700000000 +0000\ncommitter nobody 1700000000 +0000\n\nbad\n' "$tree" |
	git -C "$T/work/shop" hash-object -t commit --literally -w --stdin)
expect_fail "a push with a malformed commit is refused by fsck" "$bad: .*missingEmail" \
	as dev git -C "$T/work/shop" push origin "$bad:refs/heads/bad"
expect_ok "and the branch was not created" sh -c "! git --git-dir=$DATA/repos/shop.git rev-parse -q --verify refs/heads/bad"

# -- a 10 MB manifest: Kubernetes stores at most 1.5 MB per object
mkdir -p "$T/work/shop/resources"
{
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n'
	head -c 7500000 /dev/urandom | base64 -w 100 | awk '{ printf "  k%d: %s\n", NR, $0 }'
} >"$T/work/shop/resources/huge.yaml"
printf 'image: nginx:1.27\nport: 8080\n' >"$T/work/shop/app.yaml"
git -C "$T/work/shop" add -A && git -C "$T/work/shop" commit -qm "10 MB manifest"
expect_fail "a 10 MB resources/*.yaml is refused, naming the 1.5 MB limit" \
	"resources/huge.yaml: error: larger than 1536 KiB, the most one Kubernetes object may be; split it into several files \[file\]" as dev git -C "$T/work/shop" push origin main
expect_ok "and main did not move" test "$(git --git-dir="$DATA/repos/shop.git" rev-parse main)" = \
	"$(git -C "$T/work/shop" rev-parse HEAD~1)"
serving "10 MB manifest"

# -- clients that stop reading in the middle of a clone
# The brief's case: the reader goes away after 1000 bytes of the ref advertisement.
sh -c "$(ssh_cmd dev) git@127.0.0.1 \"git-upload-pack 'big'\" </dev/null | head -c 1000 >/dev/null"
# A client that asks for the whole pack, reads 100 kB, then holds the connection without reading.
printf '0032want %s\n00000009done\n' "$BIG_HEAD" >"$T/want"
# (a session of its own, to end it with everything it started)
setsid sh -c "$(ssh_cmd dev) git@127.0.0.1 \"git-upload-pack 'big'\" <$T/want | { head -c 100000 >/dev/null; sleep 60; }" &
stalled=$!
sleep 2
expect_ok "another user clones while a client stalls mid-clone" as admin git clone -q "$(url big)" "$T/clone1"
expect_ok "and the clone is intact" test "$(git -C "$T/clone1" rev-parse HEAD)" = "$BIG_HEAD"
kill -- -"$stalled" 2>/dev/null
wait "$stalled" 2>/dev/null
expect_ok "the stalled client's processes end when it goes away" wait_idle 15
serving "stalled readers"

# -- garbage and truncated handshakes while a real user clones
as dev git clone -q "$(url big)" "$T/clone2" >"$T/clone2.log" 2>&1 &
cloning=$!
hostile() {
	local i
	for i in $(seq 10); do
		head -c 3000 /dev/urandom >/dev/tcp/127.0.0.1/"$PORT"
		# a banner, then half a key exchange packet
		printf 'SSH-2.0-OpenSSH_9.2\r\n\x00\x00\x05\xdc\x0a\x14%s' "$(head -c 200 /dev/urandom | base64 -w0)" \
			>/dev/tcp/127.0.0.1/"$PORT"
		# a banner, then a packet length of 4 GB
		printf 'SSH-2.0-x\r\n\xff\xff\xff\xff\x04' >/dev/tcp/127.0.0.1/"$PORT"
		# a banner line that never ends
		head -c 100000 /dev/zero | tr '\0' S >/dev/tcp/127.0.0.1/"$PORT"
		# the real client's greeting, cut off after a few bytes
		printf 'SSH-2.0-Open' >/dev/tcp/127.0.0.1/"$PORT"
	done 2>/dev/null
}
hostile
expect_out "whoami works during garbage handshakes" "^dev " gssh dev whoami
if wait "$cloning"; then pass "a clone running during the garbage completes"; else fail "a clone running during the garbage failed" "$T/clone2.log"; fi
expect_ok "and is intact" test "$(git -C "$T/clone2" rev-parse HEAD)" = "$BIG_HEAD"
expect_ok "failed handshakes are logged" grep -q "handshake-failed" "$T/gitd.log"
# The banners' bytes reach the log through libssh's error text: sanitized.
expect_ok "the log stays UTF-8 text" iconv -f UTF-8 -t UTF-8 -o /dev/null "$T/gitd.log"
expect_ok "without control characters" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' $T/gitd.log"
serving "garbage handshakes"

# -- a burst of 20 connections authenticating with an unknown key
pids=()
for i in $(seq 20); do
	sh -c "$(ssh_cmd mallory) git@127.0.0.1 whoami" >"$T/mallory$i.log" 2>&1 &
	pids+=($!)
done
refused=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}" && grep -q "Permission denied (publickey)" "$T/mallory$((i + 1)).log"; then
		refused=$((refused + 1))
	fi
done
if [ "$refused" -eq 20 ]; then pass "20 unknown-key connections at once are all refused"
else fail "only $refused/20 unknown-key connections were refused" "$T/mallory1.log"; fi
expect_out "unknown keys are logged" "^([2-9][0-9]|[0-9]{3,})$" sh -c "grep -c 'result=unknown-key' $T/gitd.log"
serving "unknown-key burst"

# -- a key probe without the private key: anyone may know alice's public key
# and ask "would you accept it?"; the answer is yes, but only a signature logs in.
mkdir -p "$T/probe"
cp "$T/keys/dev.pub" "$T/probe/k.pub"
echo "not a private key" >"$T/probe/k"
expect_fail "a probe with a known public key but no private key does not log in" \
	"Server accepts key: .*probe/k.*" sh -c "$(ssh_cmd dev | sed "s|-i $T/keys/dev|-i $T/probe/k|") -v git@127.0.0.1 whoami"
cp "$T/out" "$T/probe.log"
expect_ok "and ends in Permission denied" grep -q "Permission denied (publickey)" "$T/probe.log"

# -- at most limits.max_auth_tries (6) keys per connection: the 7th is not tried, even if good
many=""
for i in 1 2 3 4 5 6; do
	ssh-keygen -q -t ed25519 -N '' -f "$T/keys/x$i"
	many="$many -i $T/keys/x$i"
done
expect_fail "a good key offered after 6 unknown ones is refused" "Permission denied \(publickey\)" \
	sh -c "$(ssh_cmd admin | sed "s|-i $T/keys/admin|$many -i $T/keys/admin|") git@127.0.0.1 whoami"

# -- GIT_PROTOCOL is the only variable a client may set, and only with a plain value
hostile_protocol() {
	GIT_SSH_COMMAND="$(ssh_cmd dev) -o 'SetEnv=GIT_PROTOCOL=version=2;\$(touch\${IFS}$T/pwned)'" git ls-remote "$(url big)"
}
expect_ok "a GIT_PROTOCOL with shell characters is refused, the fetch still runs" hostile_protocol
expect_ok "nothing was executed" test ! -e "$T/pwned"
expect_ok "and the refusal is logged" grep -q "env-refused.*name=GIT_PROTOCOL" "$T/gitd.log"
# -- clients that finish the key exchange, then wait (here for a passphrase, after
# probing a public key anyone may know) until they hold every connection
echo "limits: { max_connections: 20, max_push_mb: 1, max_connections_per_user: 3 }" >>"$DATA/gitd.yaml"
kill -HUP "$GITD_PID"
for _ in $(seq 50); do grep -q "reloaded" "$T/gitd.log" && break; sleep 0.1; done
# (and a push over limits.max_push_mb is cut off as its pack arrives)
new_worktree toobig
head -c 3000000 /dev/urandom >"$T/work/toobig/blob"
git -C "$T/work/toobig" add blob && git -C "$T/work/toobig" commit -qm "3 MB"
expect_fail "a 3 MB push over max_push_mb: 1 is refused, saying why" "pack exceeds maximum allowed size" \
	as dev git -C "$T/work/toobig" push "$(url shop)" HEAD:refs/heads/toobig
expect_ok "and nothing landed" test -z "$(git --git-dir="$DATA/repos/shop.git" for-each-ref refs/heads/toobig)"
# (and one user cannot hold more than max_connections_per_user)
held=()
before=$(grep -c "git-upload-pack.*user=dev" "$T/gitd.log")
for _ in 1 2 3; do
	setsid bash -c "sleep 60 | $(ssh_cmd dev) git@127.0.0.1 git-upload-pack shop >/dev/null 2>&1" &
	held+=($!)
done
for _ in $(seq 200); do [ "$(grep -c "git-upload-pack.*user=dev" "$T/gitd.log")" -ge $((before + 3)) ] && break; sleep 0.1; done
expect_fail "a user's 4th connection at once is refused, saying why" \
	"dev already has 3 connections open, the most limits.max_connections_per_user allows" gssh dev whoami
expect_out "other users are not affected" "^admin " gssh admin whoami
expect_ok "the refusal is logged" grep -q "connection-refused.*user=dev.*reason=max_connections_per_user" "$T/gitd.log"
kill -- -"${held[0]}" 2>/dev/null
for _ in $(seq 50); do gssh dev whoami >/dev/null 2>&1 && break; sleep 0.1; done
expect_out "a slot is free again once a connection ends" "^dev " gssh dev whoami
for pid in "${held[@]}"; do kill -- -"$pid" 2>/dev/null; done
ssh-keygen -q -t ed25519 -N secret -f "$T/keys/locked"
cp "$T/keys/dev.pub" "$T/keys/locked.pub"
printf '#!/bin/sh\nsleep 60\n' >"$T/askpass" && chmod +x "$T/askpass"
stalls=()
for i in $(seq 20); do
	SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force setsid $(ssh_cmd dev | sed "s|-i $T/keys/dev|-i $T/keys/locked|; s|-o BatchMode=yes||") \
		git@127.0.0.1 whoami </dev/null >/dev/null 2>&1 &
	stalls+=($!)
done
for _ in $(seq 100); do [ "$(children)" -ge 20 ] && break; sleep 0.1; done
sleep 3.5 # past the point where they count as stalled
evicted=$(grep -c "evicted-unauthenticated" "$T/gitd.log")
expect_out "a user gets in while clients past the key exchange hold every connection" "^admin " gssh admin whoami
expect_ok "by evicting one of them" test "$(grep -c "evicted-unauthenticated" "$T/gitd.log")" -gt "$evicted"
for pid in "${stalls[@]}"; do kill -- -"$pid" 2>/dev/null; done
expect_ok "no connection process is left behind" wait_idle 10

finish
