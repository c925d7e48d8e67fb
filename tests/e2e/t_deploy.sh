# Deployment: `make install`, the installed programs serving a push, the
# example configs, the systemd unit, the Kubernetes and ArgoCD manifests,
# the man pages. Checks whose tool is missing are skipped, saying so.
. "$(dirname "$0")/lib.sh"

ROOT=$T/root
PROGS="gitd gitd-pre-receive gitd-post-receive gitd-render"
MANS="man8/gitd.8 man1/gitd-render.1 man5/gitd.yaml.5"

skip() { echo "  skip $1"; }

# make install with the programs already built: -o keeps make from rebuilding
# them (a `make SANITIZE=1 check` run must keep testing its own build).
install_into() {
	local dest=$1 old=() p
	shift
	for p in $PROGS; do old+=(-o "bin/$p"); done
	make -C "$TOP" --no-print-directory install DESTDIR="$dest" "$@" "${old[@]}"
}

# ---- make install / uninstall

expect_ok "make install DESTDIR PREFIX=/usr" install_into "$ROOT" PREFIX=/usr
missing=""
for f in $(for p in $PROGS; do echo "usr/bin/$p"; done) \
	$(for m in $MANS; do echo "usr/share/man/$m"; done) \
	usr/lib/systemd/system/gitd.service usr/lib/sysusers.d/gitd.conf \
	usr/share/gitd/gitd.yaml.example; do
	[ -f "$ROOT/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then pass "every file installed"; else fail "not installed:$missing"; fi
for p in $PROGS; do
	[ -x "$ROOT/usr/bin/$p" ] || fail "$p is not executable"
done
expect_out "unit runs the installed gitd" '^ExecStart=/usr/bin/gitd serve --data /var/lib/gitd$' \
	cat "$ROOT/usr/lib/systemd/system/gitd.service"

expect_ok "make install PREFIX=/opt/gitd" install_into "$T/opt" PREFIX=/opt/gitd
expect_out "unit follows BINDIR" '^ExecStart=/opt/gitd/bin/gitd serve' \
	cat "$T/opt/opt/gitd/lib/systemd/system/gitd.service"
expect_ok "make uninstall" make -C "$TOP" --no-print-directory uninstall DESTDIR="$T/opt" PREFIX=/opt/gitd
left=$(find "$T/opt" -type f)
if [ -z "$left" ]; then pass "uninstall removes every file"; else fail "left after uninstall: $left"; fi

# ---- the installed programs

expect_out "installed gitd --help" '^usage: gitd init --data DIR' "$ROOT/usr/bin/gitd" --help
BIN=$ROOT/usr/bin
start_gitd
link=$(readlink "$DATA/hooks/pre-receive")
if [ "$link" = "$ROOT/usr/bin/gitd-pre-receive" ]; then
	pass "hooks link to the installed programs"
else
	fail "hooks/pre-receive links to '$link'"
fi
expect_ok "repo create" gssh admin repo create hello
new_worktree hello
git -C "$T/work/hello" remote add origin "$(url hello)"
expect_ok "push through the installed hooks" as admin git -C "$T/work/hello" push -q origin main
stop_gitd

# ---- configs: every one we ship must pass check-config

check_config() {
	mkdir -p "$T/cfg"
	cp "$1" "$T/cfg/gitd.yaml"
	"$BIN/gitd" check-config --data "$T/cfg"
}
expect_out "check-config: gitd init's default" 'gitd.yaml: ok' "$BIN/gitd" check-config --data "$DATA"
expect_out "check-config: the installed example" 'gitd.yaml: ok' \
	check_config "$ROOT/usr/share/gitd/gitd.yaml.example"
# The example's commented-out entries (mirrors, metrics_listen, schemas) too.
sed 's/^#  /  /; s/^mirrors: \[\]$/mirrors:/; s/^# \(metrics_listen\|schemas\):/\1:/' \
	"$TOP/deploy/gitd.yaml.example" >"$T/example-all.yaml"
expect_out "example has every key uncommented" '^metrics_listen: ' cat "$T/example-all.yaml"
expect_out "check-config: the example, every entry on" 'gitd.yaml: ok' check_config "$T/example-all.yaml"
expect_out "check-config: the Kubernetes ConfigMap" 'gitd.yaml: ok' \
	check_config "$TOP/deploy/kubernetes/gitd.yaml"
printf 'listen: 127.0.0.1:2222\nlimits:\n  max_conections: 5\n' >"$T/bad.yaml"
# shellcheck disable=SC2016 # backquotes are part of the message
expect_fail "check-config: a typo fails" 'did you mean `max_connections`' check_config "$T/bad.yaml"

# ---- the Kubernetes init container's script, run here with local paths

K=$T/k8s
mkdir -p "$K/etc/config" "$K/etc/admin" "$K/etc/host-keys" "$K/data"
cp "$TOP/deploy/kubernetes/gitd.yaml" "$K/etc/config/gitd.yaml"
ssh-keygen -q -t ed25519 -N '' -C secret -f "$K/etc/host-keys/ssh_host_ed25519_key"
rm "$K/etc/host-keys/ssh_host_ed25519_key.pub"
k8s_init() { PATH=$BIN:$PATH sh "$TOP/deploy/kubernetes/init.sh" "$K/data" "$K/etc"; }
expect_fail "k8s init: no admin key" 'Secret gitd-admin-key' k8s_init
cp "$T/keys/admin.pub" "$K/etc/admin/admin.pub"
expect_out "k8s init: first start" 'gitd.yaml: ok' k8s_init
want=$(ssh-keygen -lf "$K/etc/host-keys/ssh_host_ed25519_key" | cut -d' ' -f2)
got=$(ssh-keygen -lf "$K/data/host_keys/ssh_host_ed25519_key.pub" | cut -d' ' -f2)
if [ -n "$want" ] && [ "$want" = "$got" ]; then pass "k8s init: host key from the Secret"; else fail "k8s init: host key $got, want $want"; fi
if [ -f "$K/data/host_keys/ssh_host_rsa_key" ]; then pass "k8s init: missing host keys generated"; else fail "k8s init: no rsa host key"; fi
if [ "$(readlink "$K/data/gitd.yaml")" = "$K/etc/config/gitd.yaml" ]; then
	pass "k8s init: gitd.yaml is the ConfigMap's"
else
	fail "k8s init: gitd.yaml is not linked to the ConfigMap"
fi
rm "$K/etc/admin/admin.pub"
expect_out "k8s init: later starts need no admin key" 'gitd.yaml: ok' k8s_init

# ---- systemd

UNIT=$ROOT/usr/lib/systemd/system/gitd.service
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the programs where the unit says: point it at the installed tree.
	sed "s|/usr/bin/gitd|$ROOT/usr/bin/gitd|g" "$UNIT" >"$T/gitd.service"
	expect_ok "systemd-analyze verify gitd.service" \
		env MANPATH="$ROOT/usr/share/man" systemd-analyze verify "$T/gitd.service"
	if [ -s "$T/out" ]; then fail "systemd-analyze verify printed warnings" "$T/out"; fi
	expect_ok "systemd-analyze security: exposure at most 2.0" \
		systemd-analyze security --offline=yes --threshold=20 "$T/gitd.service"
else
	skip "systemd-analyze verify (no systemd-analyze; install the systemd package)"
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$T/sysroot/etc" "$T/sysroot/usr/lib/sysusers.d"
	: >"$T/sysroot/etc/passwd"
	: >"$T/sysroot/etc/group"
	cp "$ROOT/usr/lib/sysusers.d/gitd.conf" "$T/sysroot/usr/lib/sysusers.d/"
	systemd-sysusers --root="$T/sysroot" >"$T/out" 2>&1
	expect_out "sysusers.d creates user gitd" '^gitd:x:[0-9]+:[0-9]+:gitd git server:/var/lib/gitd:/usr/sbin/nologin$' \
		cat "$T/sysroot/etc/passwd"
else
	skip "sysusers.d entry (no systemd-sysusers)"
fi

# ---- Kubernetes and ArgoCD manifests

if command -v kubectl >/dev/null 2>&1; then
	expect_ok "kubectl kustomize deploy/kubernetes" kubectl kustomize "$TOP/deploy/kubernetes"
	cp "$T/out" "$T/k8s.yaml"
	for want in 'kind: StatefulSet' 'kind: Service' 'kind: NetworkPolicy' 'name: gitd-config-' \
		'readOnlyRootFilesystem: true' 'runAsNonRoot: true' 'type: RuntimeDefault' \
		'image: registry.example.com/platform/gitd:'; do
		grep -q -- "$want" "$T/k8s.yaml" || fail "deploy/kubernetes: no '$want'"
	done
	expect_ok "kubectl kustomize deploy/argocd" kubectl kustomize "$TOP/deploy/argocd"
	cp "$T/out" "$T/argocd.yaml"
	expect_out "argocd: the ApplicationSet" '^kind: ApplicationSet$' cat "$T/argocd.yaml"
	# Every example file must be a valid object too, not only those the kustomization lists.
	mkdir -p "$T/argocd"
	cp "$TOP"/deploy/argocd/*.yaml "$T/argocd/"
	{
		echo "resources:"
		for f in "$TOP"/deploy/argocd/*.yaml; do
			case $f in */kustomization.yaml) ;; *) echo "  - ${f##*/}" ;; esac
		done
	} >"$T/argocd/kustomization.yaml"
	expect_ok "kubectl kustomize: every argocd example" kubectl kustomize "$T/argocd"
else
	skip "kubectl kustomize deploy/kubernetes deploy/argocd (no kubectl)"
fi

# ---- man pages

if command -v groff >/dev/null 2>&1; then
	for m in $MANS; do
		groff -man -Tutf8 -ww -z "$ROOT/usr/share/man/$m" >"$T/out" 2>&1
		if [ -s "$T/out" ]; then fail "groff warns on $m" "$T/out"; else pass "groff -ww clean: $m"; fi
	done
	if command -v lexgrog >/dev/null 2>&1; then
		for m in $MANS; do
			name=${m#*/}
			expect_out "whatis entry of $m" ": \"${name%.*} - " lexgrog "$ROOT/usr/share/man/$m"
		done
	fi
else
	skip "man pages (no groff)"
fi

finish
