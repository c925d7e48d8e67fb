# Admin commands over SSH and validated pushes to the admin repo.
. "$(dirname "$0")/lib.sh"

new_key admin
new_key alice
new_key alice2 ecdsa
new_key bob rsa
start_gitd

expect_out "whoami" "^admin SHA256:" gssh admin whoami
expect_out "whoami --json" '"user": *"admin"' gssh admin whoami --json
expect_out "help lists commands" "repo create" gssh admin help
expect_out "every command has --help" "usage: repo create NAME" gssh admin repo create --help

expect_ok "user add (key on stdin)" sh -c "$(ssh_cmd admin) git@127.0.0.1 user add alice <$T/keys/alice.pub"
expect_ok "user add bob" sh -c "$(ssh_cmd admin) git@127.0.0.1 user add bob <$T/keys/bob.pub"
expect_fail "user add refuses a bad key" "users/eve.pub:1:[0-9]+: error: key data" \
	sh -c "echo 'ssh-ed25519 AAAAnotakey eve' | $(ssh_cmd admin) git@127.0.0.1 user add eve"
expect_fail "user add refuses a hostile name" "invalid user name" \
	sh -c "$(ssh_cmd admin) git@127.0.0.1 user add ../evil <$T/keys/alice.pub"
expect_out "user list" "alice" gssh admin user list
expect_out "alice can log in at once" "^alice SHA256:" gssh alice whoami

expect_ok "repo create" gssh admin repo create shop
expect_fail "repo create: invalid name" "invalid repository name" gssh admin repo create 'Shop;rm'
expect_fail "repo create: exists" "already exists" gssh admin repo create shop
expect_ok "perm set" gssh admin perm set shop alice write
expect_ok "perm set read" gssh admin perm set shop bob read
expect_out "perm list" "alice +write" gssh admin perm list shop
expect_out "perm list --json" '"alice"' gssh admin perm list shop --json
expect_fail "perm set: unknown permission" "unknown permission 'owner'" gssh admin perm set shop bob owner
expect_fail "perm set: unknown user" "no user 'zed'" gssh admin perm set shop zed read
expect_out "repo list for alice" "^shop" gssh alice repo list
expect_out "repo list --json" '"name": *"shop"' gssh alice repo list --json

# Server-admin checks guard whole command groups, even for a repo admin.
expect_ok "alice becomes admin of shop" gssh admin perm set shop alice admin
expect_fail "repo admin cannot add users" "only server admins" \
	sh -c "$(ssh_cmd alice) git@127.0.0.1 user add mallory <$T/keys/bob.pub"
expect_fail "repo admin cannot set permissions" "only server admins" gssh alice perm set shop bob write
expect_fail "repo admin cannot create repos" "only server admins" gssh alice repo create other
expect_fail "repo admin cannot delete repos" "only server admins" gssh alice repo delete shop

# Users manage their own keys.
expect_ok "alice adds a second key" sh -c "$(ssh_cmd alice) git@127.0.0.1 key add alice <$T/keys/alice2.pub"
expect_out "alice's second key works" "^alice " gssh alice2 whoami
expect_out "key list" "ecdsa" gssh alice key list
fp=$(ssh-keygen -lf "$T/keys/alice2.pub" | cut -d' ' -f2)
expect_fail "bob cannot remove alice's key" "only server admins" gssh bob key remove alice "$fp"
expect_ok "alice removes her second key" gssh alice key remove alice "$fp"
expect_fail "removed key stops working" "Permission denied" gssh alice2 whoami

# Everything above is in the admin repo's history, authored by who did it.
as admin git clone -q "$(url gitd-admin)" "$T/admin"
expect_out "history is the audit log" "alice.*key remove" git -C "$T/admin" log --format='%an %s'
expect_out "commands are authored by the admin" "^admin .*user add alice" git -C "$T/admin" log --format='%an %s'

# Pushes to the admin repo are validated.
printf 'admins: [admin]\nrepos:\n  shop: { alice: write, alice: read }\n' >"$T/admin/access.yaml"
git -C "$T/admin" commit -qam "dup key"
expect_fail "duplicate key refused with file:line" "access.yaml:3:[0-9]+: error: .*duplicate key" \
	as admin git -C "$T/admin" push origin main
git -C "$T/admin" reset -q --hard origin/main
printf 'admins: [admin]\nrepos:\n  shop: { zed: write }\n' >"$T/admin/access.yaml"
git -C "$T/admin" commit -qam "unknown user"
expect_fail "unknown user refused" "access.yaml:3:[0-9]+: error: .*zed" as admin git -C "$T/admin" push origin main
git -C "$T/admin" reset -q --hard origin/main
printf 'admins: [admin]\nrepos:\n  shop: { alice: owner }\n' >"$T/admin/access.yaml"
git -C "$T/admin" commit -qam "unknown perm"
expect_fail "unknown permission refused" "access.yaml:3:[0-9]+: error: .*owner" as admin git -C "$T/admin" push origin main
git -C "$T/admin" reset -q --hard origin/main
printf 'admins: [admin\n' >"$T/admin/access.yaml"
git -C "$T/admin" commit -qam "bad yaml"
expect_fail "bad YAML refused" "access.yaml:[0-9]+:[0-9]+: error" as admin git -C "$T/admin" push origin main
git -C "$T/admin" reset -q --hard origin/main
expect_ok "nothing landed" sh -c "test \"\$(git --git-dir=$DATA/repos/gitd-admin.git rev-parse main)\" = \"\$(git -C $T/admin rev-parse HEAD)\""
expect_fail "non-admin cannot push the admin repo" "not found, or you do not have access" \
	as alice git -C "$T/admin" push origin main

expect_ok "repo delete" gssh admin repo delete shop
expect_fail "deleted repo is gone" "not found" as alice git ls-remote "$(url shop)"
expect_ok "deleted repo is kept in the trash" sh -c "ls -d $DATA/trash/shop-*.git"
expect_fail "deploy repo cannot be deleted" "cannot be deleted" gssh admin repo delete deploy
expect_ok "user remove" gssh admin user remove bob
expect_fail "removed user cannot log in" "Permission denied" gssh bob whoami

finish
