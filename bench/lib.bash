# Shared helpers for the benchmarks (bench/*.sh source this file; it is not
# a benchmark itself, hence .bash). Everything runs in a temp dir on
# 127.0.0.1 and is removed on exit, with every server the script started.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
T=$(mktemp -d /tmp/gitd-bench.XXXXXX)
BENCH_PIDS=()

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ -z "${KEEP:-}" ]; then rm -rf "$T"; else echo "(left $T)" >&2; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Nothing from the machine's git or ssh configuration takes part.
export HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
mkdir -p "$HOME"
git config --global user.name "Bench"
git config --global user.email bench@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

# Other work on the machine skews the numbers: the report shows the load.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { echo "$*" >&2; }

need_bin() {
	[ -x "$BIN/$1" ] || { say "$BIN/$1 is missing: run make first"; exit 1; }
}

now_ns() { date +%s%N; }

# ms_since START_NS: milliseconds since START_NS, one decimal.
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B: A/B with three decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }

# timed FILE CMD...: run CMD, append its wall time in ms to FILE; fail if CMD fails.
timed() {
	local file=$1 start rc
	shift
	start=$(now_ns)
	"$@" >"$T/timed.out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ]; then
		say "failed (exit $rc): $*"
		sed 's/^/  | /' "$T/timed.out" | head -20 >&2
		return "$rc"
	fi
	ms_since "$start" >>"$file"
	echo >>"$file"
}

# The machine, as the results need it described.
describe_machine() {
	local cpu mem
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "- CPU: $(nproc) x ${cpu:-unknown}, memory $mem"
	echo "- kernel: $(uname -sr), $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")"
	echo "- load average (1, 5, 15 min) at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# A free TCP port on 127.0.0.1 (nothing answers there now).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$(((RANDOM % 20000) + 30000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# start_gitd DIR ADMIN_PUB [LIMITS_YAML]: init DIR/data, serve it; sets GITD_PORT, GITD_PID.
start_gitd() {
	local dir=$1 pub=$2 limits=${3:-}
	need_bin gitd
	mkdir -p "$dir"
	"$BIN/gitd" init --data "$dir/data" --admin-key "$pub" >"$dir/init.log" 2>&1 ||
		{ cat "$dir/init.log" >&2; exit 1; }
	[ -n "$limits" ] && printf '%s\n' "$limits" >>"$dir/data/gitd.yaml"
	setsid "$BIN/gitd" serve --data "$dir/data" --listen 127.0.0.1:0 2>"$dir/gitd.log" &
	GITD_PID=$!
	BENCH_PIDS+=("$GITD_PID")
	GITD_PORT=
	for _ in $(seq 100); do
		GITD_PORT=$(sed -n 's/.*listening address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/gitd.log" | tail -1)
		[ -n "$GITD_PORT" ] && break
		sleep 0.05
	done
	[ -n "$GITD_PORT" ] || { say "gitd did not start:"; cat "$dir/gitd.log" >&2; exit 1; }
	for f in "$dir"/data/host_keys/*.pub; do
		printf '[127.0.0.1]:%s %s\n' "$GITD_PORT" "$(cut -d' ' -f1,2 "$f")"
	done >>"$T/known_hosts"
}

# start_sshd DIR AUTHORIZED_KEYS [EXTRA_CONFIG]: OpenSSH's sshd on 127.0.0.1 with its
# own host key and config; sets SSHD_PORT, SSHD_PID. Needs no root; as root,
# sshd wants its privilege separation directory, which systemd would create.
start_sshd() {
	local dir=$1 keys=$2 extra=${3:-}
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && mkdir -p -m 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$dir/host_ed25519" || exit 1
	for _ in 1 2 3 4 5; do
		SSHD_PORT=$(free_port) || { say "no free port"; exit 1; }
		cat >"$dir/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$SSHD_PORT
		HostKey $dir/host_ed25519
		AuthorizedKeysFile $keys
		PidFile $dir/sshd.pid
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		AcceptEnv GIT_PROTOCOL
		$extra
		EOF
		/usr/sbin/sshd -f "$dir/sshd_config" -D -e 2>"$dir/sshd.log" &
		SSHD_PID=$!
		for _ in $(seq 100); do
			grep -q 'Server listening' "$dir/sshd.log" && break
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
		done
		if grep -q 'Server listening' "$dir/sshd.log"; then
			BENCH_PIDS+=("$SSHD_PID")
			printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$dir/host_ed25519.pub")" \
				>>"$T/known_hosts"
			return 0
		fi
		kill "$SSHD_PID" 2>/dev/null
		wait "$SSHD_PID" 2>/dev/null
	done
	say "sshd did not start:"
	cat "$dir/sshd.log" >&2
	exit 1
}

# The ssh command git uses: key KEY only, host keys verified.
ssh_command() {
	echo "ssh -F /dev/null -o UserKnownHostsFile=$T/known_hosts -o StrictHostKeyChecking=yes" \
		"-o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=60 -o LogLevel=ERROR -i $1"
}

# tree_mem PID COMM: "PSS_ALL PSS_OWN RSS_OWN" in kB: the proportional set size
# of PID and all its descendants, then PSS and RSS of those named COMM. PSS
# divides each shared page among the processes that map it, so unlike RSS
# it adds up: a sum of RSS counts shared libraries and the repository's
# mmapped pack once per process.
tree_mem() {
	ps -e -o pid=,ppid=,rss=,comm= | awk -v root="$1" -v only="$2" '
		function pss(pid,   line, f, kb) {
			f = "/proc/" pid "/smaps_rollup"
			kb = 0
			while ((getline line < f) > 0)
				if (line ~ /^Pss:/) { split(line, w, " "); kb = w[2]; break }
			close(f)
			return kb
		}
		{ ppid[$1] = $2; rss[$1] = $3; comm[$1] = $4 }
		END {
			for (p in ppid) {
				q = p
				for (depth = 0; q != root && q > 1 && depth < 64; depth++) q = ppid[q]
				if (q != root) continue
				k = pss(p)
				all += k
				if (comm[p] == only) { own += k; ownrss += rss[p] }
			}
			print all + 0, own + 0, ownrss + 0
		}'
}

# sample_mem PID OUT COMM: in the background, every 200 ms until stopped, write
# to OUT the peak of each figure of tree_mem PID COMM; sets SAMPLER_PID.
sample_mem() {
	local pid=$1 out=$2 comm=$3
	echo "0 0 0" >"$out"
	(
		p1=0 p2=0 p3=0
		while :; do
			read -r a b c < <(tree_mem "$pid" "$comm")
			[ "$a" -gt "$p1" ] && p1=$a
			[ "$b" -gt "$p2" ] && p2=$b
			[ "$c" -gt "$p3" ] && p3=$c
			echo "$p1 $p2 $p3" >"$out.tmp" && mv "$out.tmp" "$out"
			sleep 0.2
		done
	) &
	SAMPLER_PID=$!
}

stop_sampler() {
	kill "$SAMPLER_PID" 2>/dev/null
	wait "$SAMPLER_PID" 2>/dev/null
}

mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; }
