#!/bin/bash
# Rendering speed: `gitd-render render` against `kubectl kustomize` on the
# same large app, in one run on the same machine.
#
#   bash bench/render.sh [RUNS]        (default 9 runs of each)
#
# The app: app.yaml (one generated Deployment, Service and Ingress) plus
# resources/ with 150 Deployments, each with its Service and ConfigMap; the
# prod overlay has one strategic-merge patch per Deployment and an image
# override. kustomize builds the equivalent tree: the same objects as a
# base, the same overlay (plus the namespace gitd sets). gitd's time
# includes everything `render` does: validation, generation, the overlay,
# YAML output. Both outputs are compared byte for byte first.
#
# Prints the median wall time of each and the ratio; the target is >= 20x.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
RENDER=${GITD_RENDER:-$TOP/bin/gitd-render}
RUNS=${1:-9}
N=150
W=$(mktemp -d /tmp/gitd-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

command -v kubectl >/dev/null || { echo "bench/render.sh: kubectl is not installed" >&2; exit 1; }
[ -x "$RENDER" ] || { echo "bench/render.sh: build first (make): no $RENDER" >&2; exit 1; }

A=$W/big
mkdir -p "$A/resources" "$A/overlays/prod/patches"
cat >"$A/app.yaml" <<'YAML'
image: registry.example.com/big/frontend:1.0.0
port: 8080
replicas: 2
env:
  LOG_LEVEL: info
cpu: 250m
memory: 256Mi
health: /healthz
host: big.example.com
YAML

{
	echo "apiVersion: kustomize.config.k8s.io/v1beta1"
	echo "kind: Kustomization"
	echo "images:"
	echo "- name: registry.example.com/big/worker"
	echo "  newTag: 2.1.0"
	echo "patches:"
} >"$A/overlays/prod/kustomization.yaml"

for i in $(seq -w 1 $N); do
	cat >"$A/resources/svc-$i.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-$i
  labels:
    app.kubernetes.io/name: worker-$i
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: worker-$i
  template:
    metadata:
      labels:
        app.kubernetes.io/name: worker-$i
    spec:
      containers:
      - name: worker
        image: registry.example.com/big/worker:2.0.0
        args: ["--queue", "q-$i", "--concurrency", "4"]
        ports:
        - containerPort: 9000
          name: http
        envFrom:
        - configMapRef:
            name: worker-$i-config
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
          limits:
            cpu: 500m
            memory: 256Mi
        readinessProbe:
          httpGet:
            path: /ready
            port: http
---
apiVersion: v1
kind: Service
metadata:
  name: worker-$i
spec:
  selector:
    app.kubernetes.io/name: worker-$i
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: worker-$i-config
data:
  QUEUE: q-$i
  RETRIES: "5"
  TIMEOUT: 30s
YAML
	cat >"$A/overlays/prod/patches/worker-$i.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-$i
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: worker
        resources:
          limits:
            memory: 512Mi
YAML
	echo "- path: patches/worker-$i.yaml" >>"$A/overlays/prod/kustomization.yaml"
done

# kustomize's tree: the app's objects as gitd hands them to the overlay
# (rendered without the overlay and the namespace), and the same overlay.
P=$W/plain/big
mkdir -p "$P" "$W/tree/base" "$W/tree/overlay"
cp -r "$A/app.yaml" "$A/resources" "$P/"
"$RENDER" render "$P" --env prod | sed '/^  namespace: big-prod$/d' >"$W/tree/base/all.yaml"
printf 'resources:\n- all.yaml\n' >"$W/tree/base/kustomization.yaml"
cp -r "$A/overlays/prod/." "$W/tree/overlay/"
printf 'namespace: big-prod\nresources:\n- ../base\n' >>"$W/tree/overlay/kustomization.yaml"

"$RENDER" render "$A" --env prod >"$W/gitd.yaml"
kubectl kustomize "$W/tree/overlay" >"$W/kustomize.yaml"
if ! cmp -s "$W/gitd.yaml" "$W/kustomize.yaml"; then
	echo "bench/render.sh: outputs differ; not comparing speed" >&2
	diff "$W/kustomize.yaml" "$W/gitd.yaml" | head -20 >&2
	exit 1
fi
objects=$(grep -c '^kind:' "$W/gitd.yaml")

# median_ms CMD...: run CMD $RUNS times, print the median wall time in ms.
median_ms() {
	local times=() t0 t1
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p" |
		awk '{ printf "%.1f", $1 / 1000 }'
}

gitd_ms=$(median_ms "$RENDER" render "$A" --env prod)
kust_ms=$(median_ms kubectl kustomize "$W/tree/overlay")
ratio=$(awk -v a="$kust_ms" -v b="$gitd_ms" 'BEGIN { printf "%.1f", a / b }')

echo "render: $objects objects, $N patches, identical output, median of $RUNS runs"
printf '  %-32s %8s ms\n' "gitd-render render --env prod" "$gitd_ms" "kubectl kustomize" "$kust_ms"
echo "  gitd-render is ${ratio}x faster (target: >= 20x)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 20) }' || { echo "  below target" >&2; exit 1; }
