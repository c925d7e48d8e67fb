# An OpenSSH server on loopback for the mirror tests and benchmarks: its own
# host key, one authorized key ($T/sshd/authorized_keys), and this user's
# git-receive-pack serving whatever bare repos the caller makes. Source
# after lib.sh; stop_sshd before exiting.
ME=$(id -un)
SSHD_PID=
SSHD_PORT=

# Public-key authentication only, for this user; no ForceCommand.
write_sshd_config() {
	cat >"$T/sshd/config" <<CFG
ListenAddress 127.0.0.1:$SSHD_PORT
HostKey $T/sshd/host_key
PidFile $T/sshd/sshd.pid
AuthorizedKeysFile $T/sshd/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $ME
LogLevel VERBOSE
CFG
}

start_sshd() {
	mkdir -p "$T/sshd"
	[ -f "$T/sshd/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C sshd -f "$T/sshd/host_key"
	[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd # sshd's privilege separation directory
	for _ in $(seq 20); do
		[ -n "$SSHD_PORT" ] || { SSHD_PORT=$((20000 + RANDOM % 20000)); write_sshd_config; }
		: >"$T/sshd/log"
		/usr/sbin/sshd -f "$T/sshd/config" -D -e 2>>"$T/sshd/log" &
		SSHD_PID=$!
		for _ in $(seq 50); do
			grep -q "Server listening" "$T/sshd/log" && return 0
			kill -0 "$SSHD_PID" 2>/dev/null || break
			sleep 0.05
		done
		stop_sshd
		SSHD_PORT= # taken: try another
	done
	echo "sshd did not start:"; cat "$T/sshd/log"; exit 1
}

stop_sshd() {
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# sshd_known_hosts: the known_hosts line for this server.
sshd_known_hosts() {
	printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$T/sshd/host_key.pub")"
}
