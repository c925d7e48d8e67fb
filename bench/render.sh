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
# Prints the median wall and CPU times of each and the ratios; the target is
# >= 20x in wall time (exit status 1 below it).
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

# measure CMD...: run CMD $RUNS times; print the median wall time and the
# median CPU time (user + system, all threads) in ms. CPU time says more on
# a busy machine; wall time is what a user waits for.
measure() {
	local walls=() cpus=() t
	local TIMEFORMAT='%3R %3U %3S'
	for _ in $(seq "$RUNS"); do
		t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
		walls+=("$(echo "$t" | awk '{ print $1 * 1000 }')")
		cpus+=("$(echo "$t" | awk '{ print ($2 + $3) * 1000 }')")
	done
	echo "$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")" \
		"$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")"
}

read -r gitd_wall gitd_cpu < <(measure "$RENDER" render "$A" --env prod)
read -r kust_wall kust_cpu < <(measure kubectl kustomize "$W/tree/overlay")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / (b > 0 ? b : 1) }'; }
wall_ratio=$(ratio "$kust_wall" "$gitd_wall")
cpu_ratio=$(ratio "$kust_cpu" "$gitd_cpu")

echo "render: $objects objects, $N patches, identical output, median of $RUNS runs"
printf '  %-30s %9s %9s\n' "" "wall ms" "CPU ms"
printf '  %-30s %9s %9s\n' "gitd-render render --env prod" "$gitd_wall" "$gitd_cpu" \
	"kubectl kustomize" "$kust_wall" "$kust_cpu"
echo "  gitd-render is ${wall_ratio}x faster in wall time, ${cpu_ratio}x in CPU time (target: >= 20x wall)"
awk -v r="$wall_ratio" 'BEGIN { exit !(r >= 20) }' || { echo "  below target" >&2; exit 1; }
