# Image builds: a push builds the app's image with the real buildah, pushes
# it to a real registry on loopback, and the deploy repo pins its digest.
. "$(dirname "$0")/lib.sh"

for tool in buildah docker-registry gcc curl sha256sum base64; do
	command -v "$tool" >/dev/null 2>&1 || { echo "  FAIL $tool is missing (tests/deps.sh installs it)"; exit 1; }
done
RECEIVER=$TOP/build/tests/webhook-receiver
[ -x "$RECEIVER" ] || { echo "  FAIL $RECEIVER is missing (make build/tests/webhook-receiver)"; exit 1; }

REGISTRY_PID=
RECEIVER_PID=
trap 'kill $REGISTRY_PID $RECEIVER_PID 2>/dev/null; cleanup' EXIT

# A registry of its own (the docker-registry package), storage in $T, on a free loopback port.
start_registry() {
	mkdir -p "$T/registry"
	for _ in $(seq 10); do
		RPORT=$((20000 + RANDOM % 20000))
		cat >"$T/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$RPORT
log:
  level: warn
YAML
		docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
		REGISTRY_PID=$!
		for _ in $(seq 100); do
			if curl -fsS "http://127.0.0.1:$RPORT/v2/" >/dev/null 2>&1; then
				sleep 0.3 # a registry that lost the port to another exits by now
				kill -0 "$REGISTRY_PID" 2>/dev/null && return 0
			fi
			kill -0 "$REGISTRY_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$REGISTRY_PID" 2>/dev/null
		wait "$REGISTRY_PID" 2>/dev/null
	done
	echo "cannot start docker-registry:"
	cat "$T/registry.log"
	exit 1
}

SECRET="registry-password-$RANDOM$RANDOM"

# write_config KIND [EXTRA YAML LINES]: gitd.yaml with builder KIND.
write_config() {
	local kind=$1
	shift
	cat >"$DATA/gitd.yaml" <<YAML
environments:
  - { name: dev, ref: refs/heads/main }
  - { name: staging, ref: refs/heads/main }
  - { name: prod, ref: "refs/tags/v*" }
  - { name: demo, ref: refs/heads/demo }
registry: 127.0.0.1:$RPORT
builder:
  kind: $kind
YAML
	for line in "$@"; do
		echo "  $line" >>"$DATA/gitd.yaml"
	done
}

# reload: SIGHUP gitd and wait until it says so.
reload() {
	local before
	before=$(grep -c "reloaded" "$T/gitd.log")
	kill -HUP "$GITD_PID"
	wait_for 10 sh -c "test \$(grep -c reloaded '$T/gitd.log') -gt $before" || fail "gitd reloads its config" "$T/gitd.log"
}

new_key admin
new_key alice
new_key bob
new_key ci
start_registry
"$BIN/gitd" init --data "$DATA" --admin-key "$T/keys/admin.pub" >"$T/init.log" 2>&1 || { cat "$T/init.log"; exit 1; }
printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}\n' "$RPORT" "$(printf 'gitd:%s' "$SECRET" | base64 -w0)" >"$T/auth.json"
write_config buildah "timeout: 600" "auth_file: $T/auth.json"
start_gitd

as admin git clone -q "$(url gitd-admin)" "$T/admin" 2>"$T/out" || { cat "$T/out"; exit 1; }
for u in alice bob ci; do cp "$T/keys/$u.pub" "$T/admin/users/$u.pub"; done
cat >"$T/admin/access.yaml" <<YAML
admins: [admin]
repos:
  hello: { alice: write, bob: write, ci: read }
refs:
  hello:
    refs/heads/demo: [alice]
roles:
  builder: [ci]
YAML
git -C "$T/admin" add -A && git -C "$T/admin" commit -qm "hello, alice, bob, ci"
as admin git -C "$T/admin" push -q origin main 2>"$T/out" || { cat "$T/out"; exit 1; }

# The app: a static binary in a FROM scratch image.
W=$T/work/hello
mkdir -p "$W"
git -C "$W" init -q
cat >"$W/hello.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--sleep"))
		sleep((unsigned)atoi(argv[2]));
	puts("hello from a static binary");
	return 0;
}
C
gcc -static -Os -s -o "$W/hello" "$W/hello.c" || { echo "  FAIL gcc -static"; exit 1; }
printf 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello"]\n' >"$W/Dockerfile"
cat >"$W/app.yaml" <<YAML
name: hello
build: Dockerfile
port: 8080
replicas: 1
cpu: 100m
memory: 64Mi
YAML
git -C "$W" add -A && git -C "$W" commit -qm "hello"
git -C "$W" remote add origin "$(url hello)"

deploy_git() { git --git-dir="$DATA/repos/deploy.git" "$@"; }
image_of() { deploy_git show "main:$1/hello/app/deployment-hello.yaml" 2>/dev/null | sed -n 's/^[ -]*image: //p'; }
head_source() { deploy_git log -1 --format=%B main | sed -n 's/^Source-Commit: //p'; }
newest_log() { find "$DATA/jobs/hello" -name '*.log' | sort | tail -1; }
# process_gone PID: not running (or a zombie nobody reaped yet)
process_gone() { ! [ -e "/proc/$1/stat" ] || [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" = Z; }

# ---- build, push, pin ----
expect_out "push streams the build" "build: STEP 1/3: FROM scratch" as alice git -C "$W" push origin main
cp "$T/out" "$T/push1"
expect_out "push reports the built image" "gitd: built 127\.0\.0\.1:$RPORT/hello@sha256:[0-9a-f]{64} in" cat "$T/push1"
expect_out "push deploys dev and staging" "deployed dev, staging" cat "$T/push1"
IMG=$(image_of dev)
DIGEST=${IMG#*@}
expect_ok "Deployment runs REGISTRY/APP@sha256" sh -c "echo '$IMG' | grep -Eqx '127\.0\.0\.1:$RPORT/hello@sha256:[0-9a-f]{64}'"
expect_ok "staging runs the same image" test "$(image_of staging)" = "$IMG"
expect_out "deploy commit has the Image: trailer" "^Image: $IMG\$" deploy_git log -1 --format=%B main
curl -fsS -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://127.0.0.1:$RPORT/v2/hello/manifests/$DIGEST" -o "$T/manifest" 2>"$T/out"
expect_ok "registry serves the manifest by the pinned digest" test "sha256:$(sha256sum <"$T/manifest" | cut -d' ' -f1)" = "$DIGEST"
expect_out "the manifest is an OCI image" "application/vnd.oci.image.manifest.v1\+json" cat "$T/manifest"
expect_out "status shows the image" "\"image\": \"$IMG\"" gssh alice status hello --json
expect_out "logs keep the build output" "build: STEP 2/3: COPY hello /hello" gssh alice logs hello 1
expect_ok "the build's temp dir is gone" test -z "$(ls "$DATA/builds/tmp")"

# ---- a tag renders the image already built: no rebuild ----
git -C "$W" tag v1.0
expect_out "tag push reuses the image" "using $IMG, already built for" as alice git -C "$W" push origin v1.0
expect_ok "no build ran for the tag" sh -c "! grep -q 'build: STEP' '$T/out'"
expect_ok "prod runs the same digest" test "$(image_of prod)" = "$IMG"

# ---- promote ----
expect_fail "promote refused without the right to push TO's refs" "only alice may .*refs/heads/demo" \
	gssh bob promote hello staging demo
expect_fail "promote of an unknown environment" "no environment .qa. in gitd.yaml" gssh alice promote hello staging qa
expect_out "promote renders what staging runs into demo" "deployed demo" gssh alice promote hello staging demo
expect_ok "demo runs staging's image" test "$(image_of demo)" = "$IMG"
expect_out "status says demo was promoted from staging" "\"promoted_from\": \"staging\"" gssh alice status hello --json

# ---- a broken Dockerfile fails cleanly ----
before=$(deploy_git rev-parse main)
printf 'FROM scratch\nFROBNICATE hello\n' >"$W/Dockerfile"
git -C "$W" commit -qam "broken"
as alice git -C "$W" push origin main >"$T/push2" 2>&1
expect_out "the pusher sees the build's own error line" "error: the build of [0-9a-f]{7} failed: Error: .*FROBNICATE" cat "$T/push2"
expect_ok "the deploy repo is untouched" test "$(deploy_git rev-parse main)" = "$before"
expect_out "status shows failed" "^dev +failed" gssh alice status hello
expect_out "logs say why" "build failed: Error: " gssh alice logs hello
expect_ok "dev still runs the last good image" test "$(image_of dev)" = "$IMG"

# ---- a newer push supersedes a running build ----
printf 'FROM scratch\nCOPY hello /hello\nRUN ["/hello", "--sleep", "300"]\nENTRYPOINT ["/hello"]\n' >"$W/Dockerfile"
git -C "$W" commit -qam "slow"
slow=$(git -C "$W" rev-parse HEAD)
as alice git -C "$W" push -q -o nowait origin main >/dev/null 2>&1
wait_for 120 grep -q "still building" "$(newest_log)" ||
	fail "a silent build gets heartbeat lines" "$(newest_log)"
slow_log=$(newest_log)
expect_out "heartbeat while the build prints nothing" "gitd: still building \([0-9]+ s\)" cat "$slow_log"
printf 'FROM scratch\nCOPY hello /hello\nENTRYPOINT ["/hello", "v2"]\n' >"$W/Dockerfile"
git -C "$W" commit -qam "fast"
fast=$(git -C "$W" rev-parse HEAD)
expect_out "the newer push deploys" "deployed dev, staging" as alice git -C "$W" push origin main
expect_out "the older build was cancelled" "superseded by job [0-9]+: build of ${slow:0:7} cancelled" cat "$slow_log"
expect_ok "only the newer commit is deployed" test "$(head_source)" = "$fast"
expect_ok "the older commit never reached the deploy repo" sh -c "! git --git-dir=$DATA/repos/deploy.git log main | grep -q 'Source-Commit: $slow'"
expect_out "logs show the older job superseded" "superseded" gssh alice logs hello
expect_ok "no build temp dir left" test -z "$(ls "$DATA/builds/tmp")"
FAST_IMG=$(image_of dev)

# ---- gitd killed mid-build: the build runs again after restart ----
printf 'FROM scratch\nCOPY hello /hello\nRUN ["/hello", "--sleep", "10"]\nENTRYPOINT ["/hello", "v3"]\n' >"$W/Dockerfile"
git -C "$W" commit -qam "crash"
crash=$(git -C "$W" rev-parse HEAD)
prev_log=$(newest_log)
as alice git -C "$W" push -q -o nowait origin main >/dev/null 2>&1
running_build() {
	local log
	log=$(newest_log)
	[ "$log" != "$prev_log" ] && grep -q 'STEP 3/4: RUN' "$log" && ls "$DATA"/builds/tmp/*/builder.pid
}
wait_for 120 running_build || fail "the build started" "$(newest_log)"
old_builder=$(cut -d' ' -f1 "$DATA"/builds/tmp/*/builder.pid | head -1)
crash_gitd
cp "$T/gitd.log" "$T/gitd-before-crash.log" # start_gitd starts a new log
start_gitd
wait_for 180 sh -c "test \"\$(git --git-dir=$DATA/repos/deploy.git log -1 --format=%B main | sed -n 's/^Source-Commit: //p')\" = $crash"
expect_ok "the interrupted build completed after restart" test "$(head_source)" = "$crash"
expect_out "the builder gitd lost was killed at restart" "stale-build-killed pgid=$old_builder" cat "$T/gitd.log"
expect_ok "and is gone" process_gone "$old_builder"
expect_ok "no build temp dir left after the restart" test -z "$(ls "$DATA/builds/tmp")"

# ---- registry credentials never leak ----
b64=$(printf 'gitd:%s' "$SECRET" | base64 -w0)
expect_ok "credentials not in job logs" sh -c "! grep -rqF -e '$SECRET' -e '$b64' $DATA/jobs"
expect_ok "credentials not in gitd's log" sh -c "! grep -qF -e '$SECRET' -e '$b64' $T/gitd.log"
expect_ok "credentials not in the deploy repo" sh -c "! git --git-dir=$DATA/repos/deploy.git log -p --all | grep -qF -e '$SECRET' -e '$b64'"

# ---- the webhook builder ----
printf 'hook-secret-%s\n' "$RANDOM$RANDOM" >"$T/hook.secret"
mkdir -p "$T/hooks"
"$RECEIVER" "$T/hook.port" "$T/hook.secret" "$T/hooks" 2>"$T/receiver.log" &
RECEIVER_PID=$!
wait_for 10 test -s "$T/hook.port" || { fail "webhook receiver starts" "$T/receiver.log"; finish; exit 1; }
write_config webhook "url: http://127.0.0.1:$(cat "$T/hook.port")/build" "secret_file: $T/hook.secret" \
	"timeout: 120" "retries: 1"
reload

echo "webhook" >"$W/NOTE" && git -C "$W" add NOTE && git -C "$W" commit -qm "webhook build"
hooked=$(git -C "$W" rev-parse HEAD)
as alice git -C "$W" push origin main >"$T/push3" 2>&1 &
push=$!
wait_for 60 test -f "$T/hooks/1.json" || fail "the CI receives a signed build request" "$T/receiver.log"
job=$(sed -n 's/.*"job":\([0-9]*\).*/\1/p' "$T/hooks/1.json")
expect_out "the request names commit and image" "\"commit\":\"$hooked\".*\"image\":\"127\.0\.0\.1:$RPORT/hello:$hooked\"" cat "$T/hooks/1.json"
expect_fail "build-done needs the builder role" "only users with the builder role" gssh bob build-done "$job" "$DIGEST"
expect_fail "build-done checks the digest" "DIGEST must be sha256:" gssh ci build-done "$job" sha256:beef
expect_out "the CI reports build-done over SSH" "job $job: build result recorded" gssh ci build-done "$job" "$DIGEST"
wait $push
expect_out "the webhook build deploys" "deployed dev, staging" cat "$T/push3"
expect_ok "dev runs the digest the CI reported" test "$(image_of dev)" = "127.0.0.1:$RPORT/hello@$DIGEST"
expect_fail "a report for a job that no longer waits" "is not waiting for a build" gssh ci build-done "$job" "$DIGEST"

echo "webhook 2" >"$W/NOTE" && git -C "$W" commit -qam "webhook failure"
as alice git -C "$W" push origin main >"$T/push4" 2>&1 &
push=$!
wait_for 60 test -f "$T/hooks/2.json" || fail "second build request" "$T/receiver.log"
job=$(sed -n 's/.*"job":\([0-9]*\).*/\1/p' "$T/hooks/2.json")
expect_ok "the CI reports build-failed" gssh ci build-failed "$job" unit tests failed
wait $push
expect_out "the pusher sees the CI's reason" "the builder reported: unit tests failed" cat "$T/push4"

printf 'another-secret\n' >"$T/hook.secret" # gitd signs with it; the receiver still knows the old one
echo "webhook 3" >"$W/NOTE" && git -C "$W" commit -qam "bad signature"
as alice git -C "$W" push origin main >"$T/push5" 2>&1
expect_out "a request with a bad signature is refused" "refused the build request: HTTP 401: bad signature" cat "$T/push5"
expect_ok "the receiver saw the bad signature" test -f "$T/hooks/3.rejected"

# ---- builder none: apps that build are refused with the reason ----
write_config none
reload
echo "none" >"$W/NOTE" && git -C "$W" commit -qam "no builder"
expect_out "builder none explains itself" "builder.kind is none: set .image:. in app.yaml" as alice git -C "$W" push origin main

if grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/gitd-before-crash.log"; then
	fail "sanitizer reports in gitd's log before the crash" "$T/gitd-before-crash.log"
fi
finish
