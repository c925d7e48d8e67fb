# Validation at push time: a bad push never lands and says where it is wrong.
. "$(dirname "$0")/lib.sh"

# The corpus of broken app repos, each with the exact output it must produce.
expect_ok "gitd-render validate corpus (tests/validate)" sh "$TOP/tests/validate/run.sh"

new_key admin
new_key dev
start_gitd
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add dev <$T/keys/dev.pub" >/dev/null
gssh admin repo create shop >/dev/null
gssh admin perm set shop dev write >/dev/null

w=$T/work/shop
mkdir -p "$w/resources"
git -C "$w" init -q
cat >"$w/app.yaml" <<'YAML'
name: shop
image: nginx:1.27
port: 8080
replica: 2
env:
  DEBUG: on
YAML
cat >"$w/resources/config.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
data:
  mode: "quiet"
YAML
git -C "$w" add -A && git -C "$w" commit -qm "broken app"
git -C "$w" remote add origin "$(url shop)"
expect_fail "a broken app is refused, naming file:line:col" "app.yaml:4:1: error: unknown key .replica.; did you mean .replicas.\?" \
	as dev git -C "$w" push origin main
grep -q "app.yaml:6:10: error: .*quote it" "$T/out" && pass "every problem of the push is reported" ||
	fail "every problem of the push is reported" "$T/out"
expect_ok "the ref did not move" sh -c "! git --git-dir=$DATA/repos/shop.git rev-parse --verify -q refs/heads/main"

sed -i 's/^replica:/replicas:/' "$w/app.yaml"
sed -i 's/DEBUG: on/DEBUG: "on"/' "$w/app.yaml"
git -C "$w" commit -qam "fixed"
expect_out "a valid app is accepted" "no problems in" as dev git -C "$w" push origin main
expect_ok "the ref moved" git --git-dir="$DATA/repos/shop.git" rev-parse --verify -q refs/heads/main

# A tag deploys to prod: validated too.
cat >"$w/resources/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: debug
spec:
  containers:
  - name: sh
    image: busybox:latest
    securityContext:
      privileged: true
YAML
git -C "$w" add -A && git -C "$w" commit -qm "debug pod"
git -C "$w" tag v1.0
expect_fail "a tag with policy errors is refused" "resources/pod.yaml:[0-9]+:[0-9]+: error: .*latest" \
	as dev git -C "$w" push origin v1.0
expect_ok "the tag was not created" sh -c "! git --git-dir=$DATA/repos/shop.git rev-parse --verify -q refs/tags/v1.0"
expect_fail "the same commit on a branch that deploys is refused" "error" as dev git -C "$w" push origin HEAD:main
expect_ok "a branch that deploys nowhere is not validated" as dev git -C "$w" push -q origin HEAD:feature
expect_ok "deleting a ref is not validated" as admin git -C "$w" push -q origin :feature

# A repo that is not an app is plain git hosting.
new_worktree plain
gssh admin repo create plain >/dev/null
expect_out "a plain repo is accepted with a note" "plain git hosting" \
	as admin git -C "$T/work/plain" push "$(url plain)" main

finish
