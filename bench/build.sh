#!/bin/bash
# bench/build.sh: the time gitd adds around an image build, without the
# builder's own time.
#
# gitd serves an app that builds its image with the `command` builder; the
# builder is a shell one-liner that writes a digest (a new one per commit,
# so every push changes the Deployment) and exits, and gitd
# reports how long it ran ("builder N ms"). For each of ROUNDS pushes of a
# new commit, the time from the pusher seeing "job N queued" to seeing
# "deployed" is queueing, exporting the tree, running the builder,
# rendering, committing to the deploy repo and streaming the log back;
# minus the builder's time, that is gitd's overhead. Target: under 200 ms.
#
#   bench/build.sh [ROUNDS]        (default 20; needs `make` first)
. "$(dirname "$0")/../tests/e2e/lib.sh"
TOP=$(cd "$(dirname "$0")/.." && pwd) # lib.sh guessed from tests/e2e/
BIN=$TOP/bin

ROUNDS=${1:-20}
TARGET_MS=200
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

new_key admin
"$BIN/gitd" init --data "$DATA" --admin-key "$T/keys/admin.pub" >"$T/init.log" 2>&1 || { cat "$T/init.log"; exit 1; }
cat >"$DATA/gitd.yaml" <<YAML
registry: 127.0.0.1:5000
builder:
  kind: command
  command: [/bin/sh, -c, 'printf "sha256:%s" "\$(printf %s "\$2" | sha256sum | cut -c1-64)" >"\$1"',
            sh, "{digestfile}", "{image}"]
YAML
start_gitd
gssh admin repo create bench >/dev/null

W=$T/work/bench
mkdir -p "$W/resources"
git -C "$W" init -q
printf 'FROM scratch\nCOPY . /\n' >"$W/Dockerfile"
printf 'name: bench\nbuild: Dockerfile\nport: 8080\nreplicas: 2\ncpu: 100m\nmemory: 64Mi\nhealth: /healthz\n' >"$W/app.yaml"
for i in $(seq 20); do
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c%s\ndata:\n  k: "%s"\n' "$i" "$i" >"$W/resources/c$i.yaml"
done
git -C "$W" add -A && git -C "$W" commit -qm "bench app"
git -C "$W" remote add origin "$(url bench)"

# One push; prints "TOTAL_MS BUILDER_MS" (queued-to-deployed, and the builder's own time).
timed_push() {
	local queued= deployed= builder= line now
	while IFS= read -r line; do
		now=${EPOCHREALTIME/./}
		case "$line" in
		*"gitd: job "*" queued"*) queued=$now ;;
		*"gitd: built "*"(builder "*) builder=${line##*(builder }; builder=${builder%% ms)*} ;;
		*"gitd: deployed "*) deployed=$now ;;
		esac
	done < <(as admin git -C "$W" push origin main 2>&1)
	if [ -z "$queued" ] || [ -z "$deployed" ] || [ -z "$builder" ]; then
		echo "push did not build and deploy" >&2
		return 1
	fi
	echo "$(((deployed - queued) / 1000)) $builder"
}

as admin git -C "$W" push -q origin main 2>/dev/null # first deploy: creates the folders
: >"$T/rounds"
for i in $(seq "$ROUNDS"); do
	echo "$i" >"$W/round" && git -C "$W" add round && git -C "$W" commit -qm "round $i"
	timed_push >>"$T/rounds" || { cat "$T/gitd.log" | tail -20; exit 1; }
done

# overhead = total - builder, per round; report the median and the worst.
awk '{ print $1 - $2, $1, $2 }' "$T/rounds" | sort -n >"$T/overhead"
median=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' "$T/overhead")
worst=$(tail -1 "$T/overhead" | cut -d' ' -f1)
builder=$(awk '{ s += $3 } END { printf "%d", s / NR }' "$T/overhead")
echo "## Build overhead: gitd around a \`command\` builder"
echo
echo "- CPU: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $(uname -sr); $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "- load average (1, 5, 15 min) at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "gitd build overhead over $ROUNDS pushes (queue, export, render, commit, stream; builder excluded):"
echo "  median ${median} ms, worst ${worst} ms (the builder itself: ${builder} ms on average)"
if [ "$median" -lt "$TARGET_MS" ]; then
	echo "  ok: under the ${TARGET_MS} ms target"
else
	echo "  over the ${TARGET_MS} ms target"
	FAILED=1
fi
stop_gitd
[ "$FAILED" -eq 0 ]
