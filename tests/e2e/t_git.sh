# git over SSH: clone, push, fetch; keys of all three types; every refusal.
. "$(dirname "$0")/lib.sh"

new_key admin
new_key alice rsa
new_key bob ecdsa
new_key carol
new_key mallory
start_gitd

# The admin declares users and permissions by pushing the admin repo.
as admin git clone -q "$(url gitd-admin)" "$T/admin" 2>"$T/out" || { cat "$T/out"; exit 1; }
cp "$T/keys/alice.pub" "$T/admin/users/alice.pub"
cp "$T/keys/bob.pub" "$T/admin/users/bob.pub"
cp "$T/keys/carol.pub" "$T/admin/users/carol.pub"
cat >"$T/admin/access.yaml" <<YAML
admins: [admin]
repos:
  shop: { alice: write, bob: read, carol: write }
  deploy: { bob: read }
refs:
  shop:
    refs/tags/v*: [alice]
YAML
git -C "$T/admin" add -A && git -C "$T/admin" commit -qm "add alice, bob, carol; shop"
expect_ok "admin pushes users and access.yaml" as admin git -C "$T/admin" push -q origin main
expect_ok "a repo declared in access.yaml is created" test -d "$DATA/repos/shop.git"

new_worktree shop
git -C "$T/work/shop" remote add origin "$(url shop)"
expect_ok "alice (rsa key) pushes" as alice git -C "$T/work/shop" push -q origin main
expect_ok "bob (ecdsa key) clones" as bob git clone -q "$(url shop)" "$T/bob-shop"
expect_ok "clone has alice's commit" test -f "$T/bob-shop/README"
expect_ok "scp-style path without .git clones" as bob git clone -q "git@127.0.0.1:shop" "$T/bob-shop2" \
	-c core.sshCommand="$(ssh_cmd bob) -o Port=$PORT"
expect_ok "protocol v0 fetch" as bob git -C "$T/bob-shop" -c protocol.version=0 fetch -q
expect_ok "protocol v2 fetch" as bob git -C "$T/bob-shop" -c protocol.version=2 fetch -q
expect_out "git archive --remote" "README" sh -c "GIT_SSH_COMMAND='$(ssh_cmd bob)' git archive --remote=$(url shop) main | tar tf -"

echo change >>"$T/bob-shop/README"
git -C "$T/bob-shop" commit -qam "bob's change"
expect_fail "read-only user cannot push" "read-only access to 'shop'" as bob git -C "$T/bob-shop" push origin main
expect_fail "unknown key is refused" "Permission denied \(publickey\)" as mallory git clone "$(url shop)" "$T/m"
expect_fail "unknown repo" "not found, or you do not have access" as alice git clone "$(url nosuch)" "$T/x1"
expect_fail "repo without permission looks the same as unknown" "repository 'gitd-admin' not found, or you do not have access" \
	as alice git clone "$(url gitd-admin)" "$T/x2"
expect_fail "path traversal refused" "invalid repository name" as alice git clone "ssh://git@127.0.0.1:$PORT/../shop.git" "$T/x3"
expect_fail "absolute path refused" "invalid repository name" gssh alice "git-upload-pack '/etc/passwd'"
expect_fail "semicolon injection refused" "invalid repository name" gssh alice "git-upload-pack 'shop;touch $T/pwned'"
expect_fail "command substitution refused" "invalid repository name" gssh alice "git-upload-pack '\$(touch $T/pwned)'"
expect_fail "option injection refused" "invalid repository name" gssh alice "git-upload-pack --help"
expect_ok "nothing was executed" test ! -e "$T/pwned"
expect_fail "unknown command" "unknown command" gssh alice "ls /"
expect_fail "deploy repo is not writable, even by admins" "written only by gitd" \
	as admin git -C "$T/work/shop" push "$(url deploy)" main
expect_fail "deploy repo is not writable by a reader" "written only by gitd" \
	as bob git -C "$T/work/shop" push "$(url deploy)" main

# Shell, pty, subsystems, forwarding, environment.
expect_fail "interactive login gets the no-shell line" "Hi alice! gitd does not provide shell access" \
	sh -c "$(ssh_cmd alice) -T git@127.0.0.1 </dev/null"
expect_fail "pty is refused" "PTY allocation request failed" sh -c "$(ssh_cmd alice) -tt git@127.0.0.1 whoami </dev/null"
expect_fail "sftp subsystem refused" "subsystem request failed" sh -c "$(ssh_cmd alice) -s git@127.0.0.1 sftp </dev/null"
expect_fail "port forwarding refused" "forwarding|administratively prohibited|open failed" \
	sh -c "$(ssh_cmd alice) -o ExitOnForwardFailure=yes -W 127.0.0.1:22 git@127.0.0.1 </dev/null"
expect_ok "LD_PRELOAD from the client is dropped, command still runs" \
	sh -c "GIT_SSH_COMMAND='$(ssh_cmd bob) -o SetEnv=LD_PRELOAD=/nonexistent.so' git ls-remote $(url shop)"
expect_ok "the refused variable is logged" grep -q "env-refused.*name=LD_PRELOAD" "$T/gitd.log"

# Ref rules and force pushes.
git -C "$T/work/shop" tag v1.0
expect_fail "tag rule: carol may not push v* tags" "refs/tags/v1.0: only alice may create or move refs matching refs/tags/v\*" \
	as carol git -C "$T/work/shop" push origin v1.0
expect_ok "tag rule: alice may" as alice git -C "$T/work/shop" push -q origin v1.0
git -C "$T/work/shop" commit -q --amend -m "rewritten"
expect_fail "force push needs admin" "force" as alice git -C "$T/work/shop" push -f origin main
expect_fail "deleting a branch needs admin" "delet" as alice git -C "$T/work/shop" push origin :main
expect_ok "admin may force push" as admin git -C "$T/work/shop" push -q -f origin main

# A removed key stops working on the next connection.
expect_ok "bob can read before removal" as bob git ls-remote "$(url shop)"
rm "$T/admin/users/bob.pub"
sed -i 's/, bob: read//; s/deploy: { bob: read }/deploy: {}/' "$T/admin/access.yaml"
git -C "$T/admin" commit -qam "remove bob"
expect_ok "admin removes bob" as admin git -C "$T/admin" push -q origin main
expect_fail "bob's key no longer works" "Permission denied \(publickey\)" as bob git ls-remote "$(url shop)"

# Big transfers both ways do not deadlock.
head -c 30000000 /dev/urandom >"$T/work/shop/blob"
git -C "$T/work/shop" add blob && git -C "$T/work/shop" commit -qm "30 MB"
expect_ok "30 MB push" as alice git -C "$T/work/shop" push -q origin main
expect_ok "30 MB clone" as alice git clone -q "$(url shop)" "$T/big"
expect_ok "clone is intact" cmp "$T/big/blob" "$T/work/shop/blob"
expect_ok "fsck clean" git --git-dir="$DATA/repos/shop.git" fsck --no-progress

finish
