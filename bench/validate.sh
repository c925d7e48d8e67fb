#!/bin/bash
# Validator throughput: `gitd-render validate` against `kubectl kustomize` on the
# same generated app (Deployments, Services, ConfigMaps in resources/*.yaml,
# listed by a root kustomization.yaml for kubectl), at several sizes: the
# cost of one object, and how it grows with the number of objects.
# The two do different work: gitd-render checks (schema, names, policy) and
# prints nothing; kubectl kustomize builds and prints the objects, checking
# little. The comparison is what a CI step that checks a push costs.
#
#   bash bench/validate.sh   (make bench runs it; kubectl is optional)
#
# Environment: BENCH_RUNS (9) runs per measurement, BENCH_OBJECTS ("100 300 1000")
# objects per corpus, KEEP=1 keeps the temp dir. Markdown report on stdout.
. "$(dirname "$0")/lib.bash"

RUNS=${BENCH_RUNS:-9}
SIZES=${BENCH_OBJECTS:-100 300 1000}
need_bin gitd-render
KUBECTL=$(command -v kubectl || true)

# corpus DIR N: an app with N objects, N/3 of each kind, 6 objects per file.
corpus() {
	local dir=$1 n=$2 i file
	mkdir -p "$dir/resources"
	printf 'name: bench\nimage: registry.example.com/bench/web:1.4.2\nport: 8080\nreplicas: 2\n' >"$dir/app.yaml"
	printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n' >"$dir/kustomization.yaml"
	for ((i = 0; i < n; i++)); do
		file=$(printf 'resources/part-%04d.yaml' $((i / 6)))
		[ $((i % 6)) -eq 0 ] && echo "- $file" >>"$dir/kustomization.yaml"
		case $((i % 3)) in
		0) deployment "$i" ;;
		1) service "$i" ;;
		2) configmap "$i" ;;
		esac >>"$dir/$file"
	done
}

deployment() {
	cat <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-$1
  labels: { app.kubernetes.io/name: worker-$1, tier: backend }
  annotations: { example.com/owner: team-$(($1 % 7)) }
spec:
  replicas: 2
  selector:
    matchLabels: { app.kubernetes.io/name: worker-$1 }
  template:
    metadata:
      labels: { app.kubernetes.io/name: worker-$1, tier: backend }
    spec:
      containers:
        - name: worker
          image: registry.example.com/bench/worker:2.$(($1 % 10)).1
          args: ["--queue", "jobs-$1", "--concurrency", "4"]
          ports: [{ containerPort: 8080, name: http }]
          env:
            - { name: LOG_LEVEL, value: info }
            - { name: QUEUE, value: "jobs-$1" }
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { cpu: 500m, memory: 256Mi }
          readinessProbe:
            httpGet: { path: /healthz, port: http }
EOF
}

service() {
	cat <<EOF
---
apiVersion: v1
kind: Service
metadata:
  name: worker-$1
  labels: { app.kubernetes.io/name: worker-$1 }
spec:
  selector: { app.kubernetes.io/name: worker-$1 }
  ports:
    - { name: http, port: 80, targetPort: http }
EOF
}

configmap() {
	cat <<EOF
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings-$1
data:
  feature.flags: "search=on,checkout=off"
  timeout: "30s"
  config.json: |
    { "workers": 4, "queue": "jobs-$1", "retry": { "max": 5, "backoff": "2s" } }
EOF
}

declare -A RESULT
for n in $SIZES; do
	say "== corpus of $n objects"
	dir=$T/app-$n
	corpus "$dir" "$n"
	# Both must accept the corpus, or the timings compare different work.
	"$BIN/gitd-render" validate "$dir" >"$T/out" 2>&1 || { say "gitd-render refused the corpus:"; head -20 "$T/out" >&2; exit 1; }
	if [ -n "$KUBECTL" ]; then
		"$KUBECTL" kustomize "$dir" >"$T/kout" 2>&1 || { say "kubectl kustomize failed:"; head -20 "$T/kout" >&2; exit 1; }
		[ "$(grep -c '^kind:' "$T/kout")" -eq "$n" ] || { say "kubectl printed $(grep -c '^kind:' "$T/kout") objects, not $n"; exit 1; }
	fi
	for i in $(seq "$RUNS"); do
		timed "$T/gitd.$n" "$BIN/gitd-render" validate "$dir" || exit 1
		[ -n "$KUBECTL" ] && { timed "$T/kubectl.$n" "$KUBECTL" kustomize "$dir" || exit 1; }
	done
	RESULT[gitd.$n]=$(median <"$T/gitd.$n")
	RESULT[kubectl.$n]=$([ -n "$KUBECTL" ] && median <"$T/kubectl.$n" || echo nan)
done

rate() { awk -v t="$1" -v n="$2" 'BEGIN { if (t == "nan") print "n/a"; else printf "%.0f", n / (t / 1000) }'; }
per() { awk -v t="$1" -v n="$2" 'BEGIN { if (t == "nan") print "n/a"; else printf "%.0f µs", t * 1000 / n }'; }

cat <<EOF
## Validator: gitd-render validate vs kubectl kustomize

$(describe_machine)
- gitd-render from $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?'), $([ -n "$KUBECTL" ] && "$KUBECTL" version --client 2>/dev/null | paste -sd, - | sed "s/,/, /" || echo "kubectl not installed")
- medians of $RUNS runs; each corpus is Deployments, Services and ConfigMaps in equal parts, 6 per file

| objects | gitd-render validate | per object | objects/s | kubectl kustomize | per object | objects/s | gitd/kubectl |
|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for n in $SIZES; do
	g=${RESULT[gitd.$n]} k=${RESULT[kubectl.$n]}
	echo "| $n | $g ms | $(per "$g" "$n") | $(rate "$g" "$n") | $k ms | $(per "$k" "$n") | $(rate "$k" "$n") | $(ratio "$g" "$k") |"
done
