# Backup and restore of a data directory, following docs/operating.md.
. "$(dirname "$0")/lib.sh"

new_key admin
new_key alice
start_gitd
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add alice <$T/keys/alice.pub" >/dev/null
gssh admin repo create shop >/dev/null
gssh admin perm set shop alice write >/dev/null
new_worktree shop
as alice git -C "$T/work/shop" push -q "$(url shop)" main 2>/dev/null

# Online backup, repo by repo, while gitd serves (the commands of docs/operating.md).
data=$DATA backup=$T/backup
mkdir -p "$backup/repos"
cp -a "$data/host_keys" "$data/gitd.yaml" "$backup/"
for repo in "$data"/repos/*.git; do
	name=${repo##*/}; name=${name%.git}
	if [ -n "$(git -c safe.directory='*' -C "$repo" for-each-ref --count=1)" ]; then
		git -c safe.directory='*' -C "$repo" bundle create -q "$backup/repos/$name.bundle" --all
	else
		: >"$backup/repos/$name.empty"
	fi
done
expect_ok "backup holds every repo" test -f "$backup/repos/shop.bundle" -a -f "$backup/repos/gitd-admin.bundle"
stop_gitd

# Restore into an empty data directory.
data=$T/restored
install -d -m 0700 "$data" "$data/repos"
cp -a "$backup/host_keys" "$backup/gitd.yaml" "$data/"
for f in "$backup"/repos/*; do
	name=${f##*/}; name=${name%.*}
	git init -q --bare -b main "$data/repos/$name.git"
	case $f in *.bundle) git -C "$data/repos/$name.git" fetch -q "$f" '+refs/*:refs/*' ;; esac
done
expect_ok "gitd init completes the restored directory" "$BIN/gitd" init --data "$data"
DATA=$data
start_gitd
expect_out "restored host keys serve (clients keep their known_hosts)" "^admin " gssh admin whoami
expect_out "users and permissions restored" "^shop +write" gssh alice repo list
expect_ok "repo content restored" as alice git clone -q "$(url shop)" "$T/clone"
expect_ok "clone is complete" test -f "$T/clone/README"

finish
