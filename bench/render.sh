#!/bin/bash
# Rendering speed: `gitd-render render` against `kubectl kustomize` on the
# same apps, in one run on the same machine.
#
#   bash bench/render.sh [RUNS]        (default 9 timed runs of each)
#
# Three apps, each rendered for prod:
#   - big: app.yaml (one generated Deployment, Service and Ingress) plus
#     resources/ with 150 Deployments, each with its Service and ConfigMap;
#     the prod overlay has one strategic-merge patch per Deployment and an
#     image override (453 objects);
#   - shop, a small app: app.yaml with a prod override, three resources (a ConfigMap, a
#     CronJob, a PodDisruptionBudget), a prod overlay with a strategic-merge
#     patch, a configMapGenerator and an image override;
#   - boutique: Google's Online Boutique (its kustomize base as resources/,
#     no app.yaml), with a prod overlay made of four of its own components
#     (network policies, without-loadgenerator, cymbal-branding,
#     custom-base-url) plus images and replicas. Its manifests are not in
#     this repository: BENCH_BOUTIQUE names the directory holding base/ and
#     components/ (default /work/shared/corpus/online-boutique); without it
#     the app is skipped and the report says so.
# kustomize builds the equivalent tree: the app's objects as gitd hands them
# to the overlay (gitd's render without the overlay and the namespace) as a
# base, and the same overlay over it, plus the namespace gitd sets. gitd's
# time includes everything `render` does: validation, generation, the
# overlay, YAML output. Both outputs are compared byte for byte first.
#
# Each timed sample runs the command BATCH times in a row (1 for big, 10 for
# the others, whose renders take a few ms: bash's timer counts whole ms) and
# divides; gitd and kustomize take turns, alternating which goes first, so
# drift in the machine's load hits both alike. Prints a Markdown report of
# the median wall and CPU (user + system) times per run and the ratios. The
# target is >= 20x in wall time for every app (exit status 1 below it).
. "$(dirname "$0")/lib.bash"
set -e

RENDER=${GITD_RENDER:-$BIN/gitd-render}
RUNS=${1:-9}
BOUTIQUE=${BENCH_BOUTIQUE:-/work/shared/corpus/online-boutique}
TARGET=20
N=150

command -v kubectl >/dev/null || { say "bench/render.sh: kubectl is not installed"; exit 1; }
[ -x "$RENDER" ] || { say "bench/render.sh: build first (make): no $RENDER"; exit 1; }

# big_app DIR: the 150-Deployment app.
big_app() {
	local a=$1 i
	mkdir -p "$a/resources" "$a/overlays/prod/patches"
	cat >"$a/app.yaml" <<-'YAML'
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
	} >"$a/overlays/prod/kustomization.yaml"
	for i in $(seq -w 1 $N); do
		big_worker "$i" >"$a/resources/svc-$i.yaml"
		big_patch "$i" >"$a/overlays/prod/patches/worker-$i.yaml"
		echo "- path: patches/worker-$i.yaml" >>"$a/overlays/prod/kustomization.yaml"
	done
}

big_worker() {
	cat <<-YAML
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: worker-$1
	  labels:
	    app.kubernetes.io/name: worker-$1
	spec:
	  replicas: 1
	  selector:
	    matchLabels:
	      app.kubernetes.io/name: worker-$1
	  template:
	    metadata:
	      labels:
	        app.kubernetes.io/name: worker-$1
	    spec:
	      containers:
	      - name: worker
	        image: registry.example.com/big/worker:2.0.0
	        args: ["--queue", "q-$1", "--concurrency", "4"]
	        ports:
	        - containerPort: 9000
	          name: http
	        envFrom:
	        - configMapRef:
	            name: worker-$1-config
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
	  name: worker-$1
	spec:
	  selector:
	    app.kubernetes.io/name: worker-$1
	  ports:
	  - name: http
	    port: 80
	    targetPort: http
	---
	apiVersion: v1
	kind: ConfigMap
	metadata:
	  name: worker-$1-config
	data:
	  QUEUE: q-$1
	  RETRIES: "5"
	  TIMEOUT: 30s
	YAML
}

big_patch() {
	cat <<-YAML
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: worker-$1
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
}

# small_app DIR: what a typical service repo holds.
small_app() {
	local a=$1
	mkdir -p "$a/resources" "$a/overlays/prod"
	cat >"$a/app.yaml" <<-'YAML'
	image: registry.example.com/shop/web:1.4.2
	port: 8080
	replicas: 2
	env:
	  LOG_LEVEL: info
	  CART_URL: http://cart
	cpu: 250m
	memory: 256Mi
	health: /healthz
	host: shop.example.com
	environments:
	  prod:
	    replicas: 4
	    env: { LOG_LEVEL: warn }
	YAML
	cat >"$a/resources/settings.yaml" <<-'YAML'
	apiVersion: v1
	kind: ConfigMap
	metadata:
	  name: shop-settings
	data:
	  currency: EUR
	  page_size: "20"
	YAML
	cat >"$a/resources/cleanup.yaml" <<-'YAML'
	apiVersion: batch/v1
	kind: CronJob
	metadata:
	  name: shop-cleanup
	spec:
	  schedule: "17 3 * * *"
	  jobTemplate:
	    spec:
	      template:
	        spec:
	          restartPolicy: OnFailure
	          containers:
	          - name: cleanup
	            image: registry.example.com/shop/web:1.4.2
	            args: ["cleanup", "--older-than", "30d"]
	            resources:
	              requests: { cpu: 50m, memory: 64Mi }
	YAML
	cat >"$a/resources/pdb.yaml" <<-'YAML'
	apiVersion: policy/v1
	kind: PodDisruptionBudget
	metadata:
	  name: shop
	spec:
	  minAvailable: 1
	  selector:
	    matchLabels:
	      app.kubernetes.io/name: shop
	YAML
	cat >"$a/overlays/prod/kustomization.yaml" <<-'YAML'
	apiVersion: kustomize.config.k8s.io/v1beta1
	kind: Kustomization
	patches:
	- path: web.yaml
	configMapGenerator:
	- name: shop-flags
	  literals:
	  - checkout=on
	  - search=beta
	images:
	- name: registry.example.com/shop/web
	  newTag: 1.4.3
	YAML
	cat >"$a/overlays/prod/web.yaml" <<-'YAML'
	apiVersion: apps/v1
	kind: Deployment
	metadata:
	  name: shop
	spec:
	  template:
	    spec:
	      containers:
	      - name: shop
	        resources:
	          limits:
	            memory: 512Mi
	        envFrom:
	        - configMapRef:
	            name: shop-flags
	YAML
}

# boutique_app DIR: Online Boutique's base as resources/, four of its
# components turned into one prod overlay.
boutique_app() {
	local a=$1 c=$BOUTIQUE/components s
	mkdir -p "$a/resources" "$a/overlays/prod"
	cp "$BOUTIQUE"/base/*.yaml "$a/resources/"
	rm "$a/resources/kustomization.yaml"
	cp "$c"/network-policies/network-policy-*.yaml "$c/without-loadgenerator/delete-loadgenerator.patch.yaml" \
		"$a/overlays/prod/"
	{
		echo "apiVersion: kustomize.config.k8s.io/v1beta1"
		echo "kind: Kustomization"
		echo "resources:"
		grep '^- network-policy-' "$c/network-policies/kustomization.yaml"
		echo "patches:"
		echo "- path: delete-loadgenerator.patch.yaml"
		sed -n '/^patches:$/,$p' "$c/cymbal-branding/kustomization.yaml" | tail -n +2
		sed -n '/^patches:$/,$p' "$c/custom-base-url/kustomization.yaml" | tail -n +2
		echo "images:"
		for s in adservice cartservice checkoutservice currencyservice emailservice frontend \
			paymentservice productcatalogservice recommendationservice shippingservice; do
			echo "- name: us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/$s"
			echo "  newName: registry.example.com/boutique/$s"
			echo "  newTag: v0.10.7"
		done
		echo "replicas:"
		echo "- name: frontend"
		echo "  count: 3"
	} >"$a/overlays/prod/kustomization.yaml"
}

# kustomize_tree APP: $T/tree/APP/overlay, the tree kubectl kustomize builds
# for $T/apps/APP: gitd's render without the overlay and the namespace as
# the base, the same overlay over it (the base first among its resources).
kustomize_tree() {
	local app=$1 src=$T/apps/$1 k=$T/tree/$1 ns="$1-prod"
	mkdir -p "$T/plain/$app" "$k/base" "$k/overlay"
	cp -r "$src/resources" "$T/plain/$app/"
	[ -f "$src/app.yaml" ] && cp "$src/app.yaml" "$T/plain/$app/"
	"$RENDER" render "$T/plain/$app" --env prod | sed "/^  namespace: $ns\$/d" >"$k/base/all.yaml"
	printf 'resources:\n- all.yaml\n' >"$k/base/kustomization.yaml"
	cp -r "$src/overlays/prod/." "$k/overlay/"
	if grep -q '^resources:$' "$k/overlay/kustomization.yaml"; then
		sed -i 's|^resources:$|resources:\n- ../base|' "$k/overlay/kustomization.yaml"
	else
		printf 'resources:\n- ../base\n' >>"$k/overlay/kustomization.yaml"
	fi
	echo "namespace: $ns" >>"$k/overlay/kustomization.yaml"
}

# same_output APP: both print the same bytes, or the timings compare different work.
same_output() {
	"$RENDER" render "$T/apps/$1" --env prod >"$T/$1.gitd.yaml"
	kubectl kustomize "$T/tree/$1/overlay" >"$T/$1.kustomize.yaml"
	if ! cmp -s "$T/$1.gitd.yaml" "$T/$1.kustomize.yaml"; then
		say "bench/render.sh: $1: outputs differ; not comparing speed"
		diff "$T/$1.kustomize.yaml" "$T/$1.gitd.yaml" | head -20 >&2
		exit 1
	fi
}

# sample FILE BATCH CMD...: run CMD BATCH times; append "WALL CPU" per run, in ms.
sample() {
	local file=$1 batch=$2 t j
	local TIMEFORMAT='%3R %3U %3S'
	shift 2
	t=$( { time for ((j = 0; j < batch; j++)); do "$@" >/dev/null 2>&1 || exit 1; done; } 2>&1 ) ||
		{ say "failed: $*"; exit 1; }
	echo "$t" | awk -v b="$batch" '{ printf "%.2f %.2f\n", $1 * 1000 / b, ($2 + $3) * 1000 / b }' >>"$file"
}

# med COLUMN FILE: the median of that column, one decimal.
med() { cut -d' ' -f"$1" "$2" | median | xargs printf '%.1f'; }
speedup() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "nan" }'; }

declare -A ROW
APPS=(big shop)
mkdir -p "$T/apps"
say "== generating the apps"
big_app "$T/apps/big"
small_app "$T/apps/shop"
if [ -d "$BOUTIQUE/base" ] && [ -d "$BOUTIQUE/components" ]; then
	boutique_app "$T/apps/boutique"
	APPS+=(boutique)
else
	say "no Online Boutique manifests in $BOUTIQUE (BENCH_BOUTIQUE): skipping that app"
fi

missed=0
for app in "${APPS[@]}"; do
	kustomize_tree "$app"
	same_output "$app"
	objects=$(grep -c '^kind:' "$T/$app.gitd.yaml")
	batch=10
	[ "$app" = big ] && batch=1
	say "== $app: $objects objects, $RUNS samples of $batch runs each"
	for i in $(seq "$RUNS"); do
		for side in $( ((i % 2)) && echo gitd kustomize || echo kustomize gitd); do
			if [ "$side" = gitd ]; then
				sample "$T/$app.gitd" "$batch" "$RENDER" render "$T/apps/$app" --env prod
			else
				sample "$T/$app.kustomize" "$batch" kubectl kustomize "$T/tree/$app/overlay"
			fi
		done
	done
	gw=$(med 1 "$T/$app.gitd") gc=$(med 2 "$T/$app.gitd")
	kw=$(med 1 "$T/$app.kustomize") kc=$(med 2 "$T/$app.kustomize")
	rw=$(speedup "$kw" "$gw") rc=$(speedup "$kc" "$gc")
	if awk -v r="$rw" -v t="$TARGET" 'BEGIN { exit !(r >= t) }'; then verdict=met; else verdict="**missed**"; missed=1; fi
	ROW[$app]="| $app | $objects | $gw | $gc | $kw | $kc | ${rw}x | ${rc}x | $verdict |"
done

cat <<EOF
## Rendering: gitd-render render vs kubectl kustomize

$(describe_machine)
- gitd-render from $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?'), $(kubectl version --client 2>/dev/null | paste -sd, - | sed "s/,/, /")
- per app: identical output (checked byte for byte first); median of $RUNS samples, each sample the mean of 1 (big) or 10 (shop, boutique) runs in a row; times in ms per run; CPU is user + system

| app | objects | gitd wall | gitd CPU | kustomize wall | kustomize CPU | faster, wall | faster, CPU | target >= ${TARGET}x wall |
|---|---:|---:|---:|---:|---:|---:|---:|---|
EOF
for app in "${APPS[@]}"; do echo "${ROW[$app]}"; done
[ -d "$T/apps/boutique" ] || echo "(Online Boutique skipped: no manifests in $BOUTIQUE)"
exit $missed
