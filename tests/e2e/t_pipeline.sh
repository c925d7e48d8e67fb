# Push to deploy: the durable job renders every environment into the deploy repo.
. "$(dirname "$0")/lib.sh"

new_key admin
new_key argocd
start_gitd
sh -c "$(ssh_cmd admin) git@127.0.0.1 user add argocd <$T/keys/argocd.pub" >/dev/null
gssh admin perm set deploy argocd read >/dev/null
gssh admin repo create shop >/dev/null
gssh admin repo create blog >/dev/null

# new_app NAME PORT: a small app with a generated part, a resource and a prod overlay.
new_app() {
	local w=$T/work/$1
	mkdir -p "$w/resources" "$w/overlays/prod"
	git -C "$w" init -q
	cat >"$w/app.yaml" <<YAML
name: $1
image: nginx:1.27
port: $2
replicas: 1
cpu: 100m
memory: 64Mi
health: /healthz
environments:
  prod:
    replicas: 3
YAML
	cat >"$w/resources/config.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1-settings
data:
  mode: standard
YAML
	cat >"$w/overlays/prod/kustomization.yaml" <<YAML
commonAnnotations:
  team: web
YAML
	git -C "$w" add -A && git -C "$w" commit -qm "first"
	git -C "$w" remote add origin "$(url "$1")"
}

deploy_file() { git --git-dir="$DATA/repos/deploy.git" show "main:$1" 2>/dev/null; }
deploy_commits() { git --git-dir="$DATA/repos/deploy.git" rev-list --count main 2>/dev/null || echo 0; }

new_app shop 8080
expect_out "push streams the job to the pusher" "deployed" as admin git -C "$T/work/shop" push origin main
expect_ok "dev folder rendered" deploy_file dev/shop/kustomization.yaml
expect_ok "staging folder rendered" deploy_file staging/shop/kustomization.yaml
expect_ok "no prod folder before a tag" sh -c "! git --git-dir=$DATA/repos/deploy.git cat-file -e main:prod/shop"
expect_out "generated manifests under app/" "kind: Deployment" sh -c "git --git-dir=$DATA/repos/deploy.git ls-tree -r --name-only main dev/shop/app | head -1 | xargs -I{} git --git-dir=$DATA/repos/deploy.git show main:{}"
expect_out "own resources under resources/" "shop-settings" sh -c "git --git-dir=$DATA/repos/deploy.git grep -h name main -- dev/shop/resources"
expect_out "namespace is APP-ENV" "namespace: shop-dev" sh -c "git --git-dir=$DATA/repos/deploy.git grep -h namespace main -- dev/shop/app"
expect_out "commit names source and pusher in trailers" "Source-Repo: shop" git --git-dir="$DATA/repos/deploy.git" log -1 --format=%B main
expect_out "Pushed-By trailer" "Pushed-By: admin" git --git-dir="$DATA/repos/deploy.git" log -1 --format=%B main
expect_out "ArgoCD ApplicationSet is there" "kind: ApplicationSet" deploy_file argocd/applicationset.yaml
expect_out "status shows the environments" "dev +ok" gssh admin status shop
expect_out "logs lists the job" "ok" gssh admin logs shop

# An unchanged render makes no commit.
before=$(deploy_commits)
git -C "$T/work/shop" commit -q --allow-empty -m "no change"
expect_ok "push with no manifest change" as admin git -C "$T/work/shop" push -q origin main
expect_ok "no empty deploy commit" test "$(deploy_commits)" = "$before"

# A tag deploys to prod, with the overlay applied.
git -C "$T/work/shop" tag v1.0
expect_ok "tag push" as admin git -C "$T/work/shop" push -q origin v1.0
expect_out "prod rendered with its overlay" "team: web" sh -c "git --git-dir=$DATA/repos/deploy.git grep -h team main -- prod/shop"
expect_out "prod has 3 replicas" "replicas: 3" sh -c "git --git-dir=$DATA/repos/deploy.git grep -h replicas main -- prod/shop"

# A resource removed from the app disappears from the deploy repo.
git -C "$T/work/shop" rm -q resources/config.yaml
git -C "$T/work/shop" commit -qm "drop config"
expect_ok "push removing a resource" as admin git -C "$T/work/shop" push -q origin main
expect_ok "stale manifest pruned" sh -c "! git --git-dir=$DATA/repos/deploy.git grep -q shop-settings main -- dev/shop"

# Two apps pushed at the same moment both land.
new_app blog 3000
echo "x" >"$T/work/shop/note" && git -C "$T/work/shop" add note && git -C "$T/work/shop" commit -qm note
sed -i 's/replicas: 1/replicas: 2/' "$T/work/shop/app.yaml" && git -C "$T/work/shop" commit -qam "2 replicas"
as admin git -C "$T/work/shop" push -q origin main >"$T/p1" 2>&1 &
p1=$!
as admin git -C "$T/work/blog" push -q origin main >"$T/p2" 2>&1 &
p2=$!
wait $p1 && wait $p2 && pass "concurrent pushes of two apps" || fail "concurrent pushes of two apps" "$T/p1"
expect_ok "blog landed" deploy_file dev/blog/kustomization.yaml
expect_out "shop's change landed" "replicas: 2" sh -c "git --git-dir=$DATA/repos/deploy.git grep -h replicas main -- dev/shop"

# -o nowait returns at once; the job runs anyway.
sed -i 's/replicas: 2/replicas: 4/' "$T/work/shop/app.yaml" && git -C "$T/work/shop" commit -qam "4 replicas"
expect_out "push -o nowait" "not waiting" as admin git -C "$T/work/shop" push -o nowait origin main
for _ in $(seq 100); do
	git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 4" main -- dev/shop 2>/dev/null && break
	sleep 0.1
done
expect_ok "the job ran anyway" git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 4" main -- dev/shop

# gitd killed with a job queued: the restart completes it.
stop_gitd
sed -i 's/replicas: 4/replicas: 5/' "$T/work/shop/app.yaml" && git -C "$T/work/shop" commit -qam "5 replicas"
git -C "$T/work/shop" push -q "$DATA/repos/shop.git" main 2>/dev/null # lands without gitd: no hook, no job
start_gitd
for _ in $(seq 100); do
	git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 5" main -- dev/shop 2>/dev/null && break
	sleep 0.1
done
expect_ok "restart reconciles a push whose job was lost" git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 5" main -- dev/shop

# gitd and its job killed mid-job: the restart completes the render.
sed -i 's/replicas: 5/replicas: 6/' "$T/work/shop/app.yaml" && git -C "$T/work/shop" commit -qam "6 replicas"
as admin git -C "$T/work/shop" push -q -o nowait origin main >/dev/null 2>&1
crash_gitd
start_gitd
for _ in $(seq 100); do
	git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 6" main -- dev/shop 2>/dev/null && break
	sleep 0.1
done
expect_ok "a job interrupted by kill -9 completes after restart" git --git-dir="$DATA/repos/deploy.git" grep -q "replicas: 6" main -- dev/shop
expect_ok "no job left running" test -z "$(ls "$DATA/queue/running")"

# ArgoCD's key reads the deploy repo; kustomize builds every folder.
expect_ok "argocd clones the deploy repo" as argocd git clone -q "$(url deploy)" "$T/deploy"
if command -v kubectl >/dev/null 2>&1; then
	for d in "$T"/deploy/*/*/; do
		case "$d" in */argocd/*) continue ;; esac
		expect_ok "kubectl kustomize ${d#"$T"/deploy/}" kubectl kustomize "$d"
	done
else
	echo "  skip kubectl kustomize checks: kubectl is not installed"
fi
# Deleting an app repo removes its folders, so ArgoCD prunes the app.
expect_out "repo delete undeploys the app" "removed blog from every environment" gssh admin repo delete blog
expect_ok "blog's folders are gone" sh -c "! git --git-dir=$DATA/repos/deploy.git cat-file -e main:dev/blog"
expect_ok "shop's are still there" git --git-dir="$DATA/repos/deploy.git" cat-file -e main:dev/shop
expect_ok "deploy repo fsck" git --git-dir="$DATA/repos/deploy.git" fsck --no-progress

finish
