# Shared helpers for the end-to-end tests: each t_*.sh sources this file,
# starts its own gitd on an ephemeral loopback port in a temp dir, and
# drives it with the real OpenSSH client and git.
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$TOP/bin
T=$(mktemp -d /tmp/gitd-e2e.XXXXXX)
DATA=$T/data
PORT=
GITD_PID=
FAILED=0
PASSED=0

cleanup() {
	stop_gitd
	if [ "$FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "  (left $T for inspection)"; fi
}
trap cleanup EXIT

# Everything git or ssh might pick up from the machine stays out.
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name "Test User"
git config --global user.email test@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

pass() { PASSED=$((PASSED + 1)); echo "  ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $1"; [ -n "${2:-}" ] && sed 's/^/       | /' "$2" | head -40; return 0; }

# new_key NAME [TYPE]: a key pair in $T/keys/NAME (ed25519 unless TYPE is rsa or ecdsa).
new_key() {
	mkdir -p "$T/keys"
	case "${2:-ed25519}" in
	rsa) ssh-keygen -q -t rsa -b 2048 -N '' -C "$1" -f "$T/keys/$1" ;;
	ecdsa) ssh-keygen -q -t ecdsa -b 256 -N '' -C "$1" -f "$T/keys/$1" ;;
	*) ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$T/keys/$1" ;;
	esac
}

# start_gitd: init (once) with the admin key, then serve on an ephemeral port.
start_gitd() {
	if [ ! -d "$DATA" ]; then
		[ -f "$T/keys/admin" ] || new_key admin
		"$BIN/gitd" init --data "$DATA" --admin-key "$T/keys/admin.pub" >"$T/init.log" 2>&1 ||
			{ cat "$T/init.log"; exit 1; }
	fi
	: >"$T/gitd.log"
	# a session of its own, so crash_gitd can kill it with every process it forked
	setsid "$BIN/gitd" serve --data "$DATA" --listen 127.0.0.1:0 2>>"$T/gitd.log" &
	GITD_PID=$!
	for _ in $(seq 100); do
		PORT=$(sed -n 's/.*listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/gitd.log" | tail -1)
		[ -n "$PORT" ] && break
		sleep 0.05
	done
	[ -n "$PORT" ] || { echo "gitd did not start:"; cat "$T/gitd.log"; exit 1; }
	for f in "$DATA"/host_keys/*.pub; do
		printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$f")"
	done >"$T/known_hosts"
}

stop_gitd() {
	if [ -n "$GITD_PID" ]; then
		kill "$GITD_PID" 2>/dev/null
		wait "$GITD_PID" 2>/dev/null
		GITD_PID=
	fi
}

# kill -9 gitd and everything it forked (connections, jobs), as a power cut would.
crash_gitd() {
	kill -9 -- "-$GITD_PID" 2>/dev/null
	wait "$GITD_PID" 2>/dev/null
	GITD_PID=
}

# The ssh command line for user NAME (their key only, host key verified).
ssh_cmd() {
	echo "ssh -F /dev/null -o UserKnownHostsFile=$T/known_hosts -o StrictHostKeyChecking=yes" \
		"-o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -i $T/keys/$1 -p $PORT"
}

# as NAME git ARGS...: run git with NAME's key.
as() {
	local who=$1
	shift
	GIT_SSH_COMMAND=$(ssh_cmd "$who") "$@"
}

# gssh NAME COMMAND...: run a gitd command over SSH as NAME.
gssh() {
	local who=$1
	shift
	# shellcheck disable=SC2046 # ssh_cmd is a word list on purpose
	$(ssh_cmd "$who") git@127.0.0.1 "$@"
}

url() { echo "ssh://git@127.0.0.1:$PORT/$1.git"; }

# expect_ok DESC CMD...: CMD must succeed.
expect_ok() {
	local desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then pass "$desc"; else fail "$desc (exit $?)" "$T/out"; fi
}

# expect_fail DESC PATTERN CMD...: CMD must fail and its output must match PATTERN (grep -E).
expect_fail() {
	local desc=$1 pattern=$2
	shift 2
	if "$@" >"$T/out" 2>&1; then
		fail "$desc (succeeded, should have failed)" "$T/out"
	elif ! grep -Eq -- "$pattern" "$T/out"; then
		fail "$desc (no /$pattern/ in output)" "$T/out"
	else
		pass "$desc"
	fi
}

# expect_out DESC PATTERN CMD...: CMD must succeed with output matching PATTERN.
expect_out() {
	local desc=$1 pattern=$2
	shift 2
	if ! "$@" >"$T/out" 2>&1; then
		fail "$desc (exit $?)" "$T/out"
	elif ! grep -Eq -- "$pattern" "$T/out"; then
		fail "$desc (no /$pattern/ in output)" "$T/out"
	else
		pass "$desc"
	fi
}

# wait_for SECONDS CMD...: poll until CMD succeeds; fails after SECONDS.
wait_for() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# A commit in a fresh work tree at $T/work/NAME.
new_worktree() {
	rm -rf "$T/work/$1"
	mkdir -p "$T/work/$1"
	git -C "$T/work/$1" init -q
	echo "$1" >"$T/work/$1/README"
	git -C "$T/work/$1" add README
	git -C "$T/work/$1" commit -qm "first"
}

finish() {
	stop_gitd
	if grep -Eq "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/gitd.log" 2>/dev/null; then
		fail "sanitizer reports in gitd's log" "$T/gitd.log"
	fi
	echo "  $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
