#!/bin/sh
# `make run`: a working local gitd in ./var, with a local OCI registry.
#
# The first admin is you: your ~/.ssh/id_ed25519.pub (generated if absent).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
var=$top/var
data=$var/data
port=${GITD_PORT:-2222}
key=$HOME/.ssh/id_ed25519

mkdir -p "$var"
if [ ! -f "$key.pub" ]; then
	mkdir -p "$HOME/.ssh"
	ssh-keygen -q -t ed25519 -N '' -f "$key"
	echo "gitd: generated $key for you"
fi
if [ ! -d "$data" ]; then
	"$top/bin/gitd" init --data "$data" --admin-key "$key.pub"
fi

# A local registry for image builds (the docker-registry package), on loopback only.
if command -v docker-registry >/dev/null 2>&1 &&
	! kill -0 "$(cat "$var/registry.pid" 2>/dev/null)" 2>/dev/null; then
	mkdir -p "$var/registry"
	cat >"$var/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $var/registry
http:
  addr: 127.0.0.1:5000
log:
  level: warn
YAML
	docker-registry serve "$var/registry.yml" >"$var/registry.log" 2>&1 &
	echo $! >"$var/registry.pid"
fi

cat <<MSG

gitd is starting on 127.0.0.1:$port (data in $data). You are its admin.

  ssh -p $port git@127.0.0.1 whoami
  ssh -p $port git@127.0.0.1 repo create hello
  git remote add gitd ssh://git@127.0.0.1:$port/hello.git
  git push gitd main

Stop with Ctrl-C.
MSG
exec "$top/bin/gitd" serve --data "$data" --listen "127.0.0.1:$port"
