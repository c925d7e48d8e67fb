# Mirrors over HTTPS with a token: git http-backend behind lighttpd (TLS, basic auth) on loopback.
. "$(dirname "$0")/lib.sh"
export LSAN_OPTIONS=suppressions=$TOP/tests/e2e/lsan.supp # libgit2's own leaks

if [ ! -x /usr/sbin/lighttpd ] || [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	echo "  skip: lighttpd and lighttpd-mod-openssl are not installed (tests/deps.sh installs them)"
	finish
	exit $?
fi

H=$T/https
HTTPD_PID=
HTTPD_PORT=
TOKEN=ghp_e2eSecretToken0123456789abcdef

stop_httpd() {
	[ -n "$HTTPD_PID" ] || return 0
	kill "$HTTPD_PID" 2>/dev/null
	wait "$HTTPD_PID" 2>/dev/null
	HTTPD_PID=
}
trap 'stop_httpd; cleanup' EXIT

# A certificate for localhost only, and push access for user "bot" with the token as password.
mkdir -p "$H" "$T/remote"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$H/key.pem" -out "$H/cert.pem" 2>/dev/null
cat "$H/cert.pem" "$H/key.pem" >"$H/server.pem"
printf 'bot:%s\n' "$TOKEN" >"$H/users"
for r in shop blog; do git init -q --bare "$T/remote/$r.git"; done

start_httpd() {
	for _ in $(seq 20); do
		HTTPD_PORT=$((20000 + RANDOM % 20000))
		cat >"$H/lighttpd.conf" <<CFG
server.modules = ("mod_alias", "mod_setenv", "mod_cgi", "mod_auth", "mod_authn_file", "mod_openssl")
server.document-root = "$H"
server.bind = "127.0.0.1"
server.port = $HTTPD_PORT
server.errorlog = "$H/error.log"
ssl.engine = "enable"
ssl.pemfile = "$H/server.pem"
auth.backend = "plain"
auth.backend.plain.userfile = "$H/users"
auth.require = ("/git/" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
alias.url = ("/git" => "/usr/lib/git-core/git-http-backend")
\$HTTP["url"] =~ "^/git" {
	cgi.assign = ("" => "")
	setenv.add-environment = ("GIT_PROJECT_ROOT" => "$T/remote", "GIT_HTTP_EXPORT_ALL" => "1")
}
CFG
		/usr/sbin/lighttpd -D -f "$H/lighttpd.conf" 2>"$H/stderr" &
		HTTPD_PID=$!
		sleep 0.3
		kill -0 "$HTTPD_PID" 2>/dev/null && return 0
		HTTPD_PID=
	done
	echo "lighttpd did not start:"; cat "$H/stderr"; exit 1
}

local_ref() { git --git-dir="$DATA/repos/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
remote_ref() { git --git-dir="$T/remote/$1.git" rev-parse -q --verify "$2" 2>/dev/null; }
in_sync() { [ -n "$(local_ref "$1" "$2")" ] && [ "$(local_ref "$1" "$2")" = "$(remote_ref "$1" "$2")" ]; }
mirror_state() { gssh admin mirror status --json | jq -r ".[] | select(.repo == \"$1\") | .$2"; }
state_is() { [ "$(mirror_state "$1" state)" = "$2" ]; }

start_httpd
printf '%s\n' "$TOKEN" >"$T/token"
new_key admin
# gitd trusts the test's certificate through SSL_CERT_FILE, as OpenSSL programs do
export SSL_CERT_FILE=$H/cert.pem
start_gitd
cat >>"$DATA/gitd.yaml" <<YAML
mirrors:
  - repos: shop
    url: https://bot@localhost:$HTTPD_PORT/git/{repo}.git
    token_file: $T/token
  - repos: blog
    url: https://127.0.0.1:$HTTPD_PORT/git/{repo}.git
    token_file: $T/token
YAML
stop_gitd
start_gitd
for r in shop blog; do
	gssh admin repo create $r >/dev/null
	new_worktree $r
	git -C "$T/work/$r" remote add origin "$(url $r)"
done

expect_out "push" "mirroring shop to https://bot@localhost:$HTTPD_PORT/git/shop.git" \
	as admin git -C "$T/work/shop" push origin main
expect_ok "main reaches the HTTPS mirror" wait_for 10 in_sync shop refs/heads/main
git -C "$T/work/shop" checkout -q -b topic
expect_ok "push a branch" as admin git -C "$T/work/shop" push -q origin topic
expect_ok "the branch reaches the HTTPS mirror" wait_for 10 in_sync shop refs/heads/topic

printf 'wrong-token\n' >"$T/token"
echo more >>"$T/work/shop/README" && git -C "$T/work/shop" commit -qam more
as admin git -C "$T/work/shop" push -q origin topic >/dev/null 2>&1
expect_ok "a refused token pauses the mirror" wait_for 20 state_is shop paused
expect_out "status says the token was refused" "authentication failed: the server refused the token" \
	mirror_state shop last_error
printf '%s\n' "$TOKEN" >"$T/token"
expect_ok "retry" gssh admin mirror retry shop
expect_ok "the mirror catches up" wait_for 10 in_sync shop refs/heads/topic

expect_ok "push blog, whose mirror URL names 127.0.0.1" as admin git -C "$T/work/blog" push -q origin main
expect_ok "a certificate for another name is refused" wait_for 10 state_is blog retrying
expect_out "status says why" "TLS certificate of 127.0.0.1 is not trusted" mirror_state blog last_error
expect_ok "nothing was pushed" test -z "$(remote_ref blog refs/heads/main)"

gssh admin mirror status --json >"$T/status.json"
expect_ok "the token is in no log line" sh -c "! grep -qF '$TOKEN' '$T/gitd.log'"
expect_ok "the token is in no state file" sh -c "! grep -rqF '$TOKEN' '$DATA/mirror'"
expect_ok "the token is not in the status" sh -c "! grep -qF '$TOKEN' '$T/status.json'"
expect_ok "the token is in no job log" sh -c "! grep -rqF '$TOKEN' '$DATA/jobs'"

stop_httpd
finish
