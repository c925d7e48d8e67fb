# Rendering: `gitd-render render` writes the deploy layout and prints the
# stream, byte-identical across runs; with kubectl, `kubectl kustomize
# ENV/APP` of the written layout prints exactly the stream, and an overlay
# renders exactly as kustomize builds the same overlay over the app's
# plain manifests.
. "$(dirname "$0")/lib.sh"

R=$BIN/gitd-render
A=$T/work/shop
mkdir -p "$A/resources" "$A/overlays/prod"
cat >"$A/app.yaml" <<'YAML'
image: nginxinc/nginx-unprivileged:1.27
port: 8080
replicas: 2
env:
  LOG_LEVEL: info
cpu: 250m
memory: 256Mi
health: /healthz
host: shop.example.com
environments:
  prod:
    replicas: 3
    env: { LOG_LEVEL: warn }
    host: shop.example.org
YAML
cat >"$A/resources/config.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
data:
  mode: quiet
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: shop
YAML
cat >"$A/resources/rbac.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: shop-view
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- kind: ServiceAccount
  name: shop
YAML
cat >"$A/overlays/prod/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- pdb.yaml
configMapGenerator:
- name: shop-flags
  literals:
  - checkout=v2
patches:
- path: probes.yaml
- target:
    kind: Deployment
    name: shop
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/envFrom
      value:
      - configMapRef:
          name: shop-flags
images:
- name: nginxinc/nginx-unprivileged
  newTag: 1.27.3
commonAnnotations:
  team: storefront
YAML
cat >"$A/overlays/prod/probes.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
      - name: shop
        livenessProbe:
          initialDelaySeconds: 20
YAML
cat >"$A/overlays/prod/pdb.yaml" <<'YAML'
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: shop
spec:
  minAvailable: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: shop
YAML

OUT=$T/deploy
for env in dev staging prod; do
	expect_out "render --env $env --out writes ENV/APP/" "^wrote [0-9]+ files to .*/$env/shop/\$" \
		"$R" render "$A" --env "$env" --out "$OUT"
	"$R" render "$A" --env "$env" >"$T/$env.yaml" 2>"$T/$env.err" || fail "render --env $env (stream)" "$T/$env.err"
done

(cd "$OUT" && find . -type f | sort) >"$T/files"
cat >"$T/files.want" <<'EOF'
./dev/shop/app/deployment-shop.yaml
./dev/shop/app/ingress-shop.yaml
./dev/shop/app/service-shop.yaml
./dev/shop/kustomization.yaml
./dev/shop/resources/configmap-shop-config.yaml
./dev/shop/resources/rolebinding-shop-view.yaml
./dev/shop/resources/serviceaccount-shop.yaml
./prod/shop/app/deployment-shop.yaml
./prod/shop/app/ingress-shop.yaml
./prod/shop/app/service-shop.yaml
./prod/shop/kustomization.yaml
./prod/shop/resources/configmap-shop-config.yaml
./prod/shop/resources/configmap-shop-flags-7gtc8m4gc8.yaml
./prod/shop/resources/poddisruptionbudget-shop.yaml
./prod/shop/resources/rolebinding-shop-view.yaml
./prod/shop/resources/serviceaccount-shop.yaml
./staging/shop/app/deployment-shop.yaml
./staging/shop/app/ingress-shop.yaml
./staging/shop/app/service-shop.yaml
./staging/shop/kustomization.yaml
./staging/shop/resources/configmap-shop-config.yaml
./staging/shop/resources/rolebinding-shop-view.yaml
./staging/shop/resources/serviceaccount-shop.yaml
EOF
expect_ok "the deploy layout has the expected files" diff -u "$T/files.want" "$T/files"
expect_out "objects are in the environment's namespace" "^  namespace: shop-prod\$" \
	cat "$OUT/prod/shop/resources/rolebinding-shop-view.yaml"
expect_out "ServiceAccount subjects follow the namespace" "^  namespace: shop-staging\$" \
	sed -n '/^subjects:/,$p' "$OUT/staging/shop/resources/rolebinding-shop-view.yaml"
expect_out "the overlay's image override reaches the generated Deployment" \
	"image: nginxinc/nginx-unprivileged:1.27.3" cat "$OUT/prod/shop/app/deployment-shop.yaml"
expect_out "per-environment values override the top level" "^  replicas: 3\$" \
	cat "$OUT/prod/shop/app/deployment-shop.yaml"

# Byte-identical output for identical input; nothing stale survives a render.
cp -r "$OUT" "$T/deploy.before"
touch "$OUT/dev/shop/app/stale.yaml"
for env in dev staging prod; do
	"$R" render "$A" --env "$env" --out "$OUT" >/dev/null
done
expect_ok "a second render writes the same bytes and removes stale files" diff -r "$T/deploy.before" "$OUT"
"$R" render "$A" --env prod >"$T/prod.again.yaml"
expect_ok "the stream is the same bytes every time" cmp "$T/prod.yaml" "$T/prod.again.yaml"

# Refusals: validation first, the built image for apps that build.
B=$T/work/built
mkdir -p "$B"
printf 'FROM scratch\n' >"$B/Dockerfile"
printf 'build: Dockerfile\nport: 8080\nreplica: 2\n' >"$B/app.yaml"
expect_fail "an invalid app is not rendered" "app.yaml:3:1: error: unknown key .replica." \
	"$R" render "$B" --env dev
expect_ok "nothing is printed on stdout for an invalid app" \
	sh -c "! \"$R\" render \"$B\" --env dev 2>/dev/null | grep -q ."
sed -i 's/^replica:/replicas:/' "$B/app.yaml"
expect_fail "an app that builds needs --image" "app.yaml:1:1: error: no image built yet" \
	"$R" render "$B" --env dev
expect_out "--image gives the built image" "image: 127.0.0.1:5000/built@sha256:0{64}" \
	"$R" render "$B" --env dev --image "127.0.0.1:5000/built@sha256:$(printf '0%.0s' $(seq 64))"
expect_fail "render needs --env" "render needs --env ENV" "$R" render "$B"
expect_fail "an unknown environment is a usage error" "unknown environment 'qa'" "$R" render "$B" --env qa

if ! command -v kubectl >/dev/null 2>&1; then
	echo "  skip kubectl kustomize comparisons: kubectl is not installed"
	finish
	exit $?
fi

# kustomize reads the written layout and prints exactly the stream.
for env in dev staging prod; do
	kubectl kustomize "$OUT/$env/shop" >"$T/$env.kustomize" 2>"$T/$env.kerr" ||
		fail "kubectl kustomize $env/shop" "$T/$env.kerr"
	expect_ok "kubectl kustomize $env/shop prints the stream byte for byte" \
		cmp "$T/$env.kustomize" "$T/$env.yaml"
done

# Agreement: the same overlay, built by kustomize over the app's plain
# manifests (the generated objects and resources/, rendered without the
# overlay and without the namespace gitd sets, as the overlay sees them),
# gives the same objects.
P=$T/work/plain/shop
mkdir -p "$P" "$T/tree/base" "$T/tree/overlay"
cp -r "$A/app.yaml" "$A/resources" "$P/"
"$R" render "$P" --env prod | sed '/^  namespace: shop-prod$/d' >"$T/tree/base/all.yaml"
printf 'resources:\n- all.yaml\n' >"$T/tree/base/kustomization.yaml"
cp "$A"/overlays/prod/* "$T/tree/overlay/"
# gitd's overlay has the app as its implicit base and the namespace set by gitd.
sed -i 's|^resources:$|resources:\n- ../base|' "$T/tree/overlay/kustomization.yaml"
printf 'namespace: shop-prod\n' >>"$T/tree/overlay/kustomization.yaml"
kubectl kustomize "$T/tree/overlay" >"$T/agree.yaml" 2>"$T/agree.err" || fail "kubectl kustomize overlay" "$T/agree.err"
expect_ok "an overlay renders as kustomize builds it over the plain manifests" \
	cmp "$T/agree.yaml" "$T/prod.yaml"

finish
