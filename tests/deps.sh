#!/bin/sh
# Install the Debian packages that the build, the tests and `make run` need,
# when they are missing. As root this runs apt-get; otherwise it prints the
# exact command to run.
set -eu

packages="build-essential pkg-config git openssh-client openssh-server
libssh-dev libssl-dev libgit2-dev libcurl4-openssl-dev libyaml-dev libjansson-dev check
clang libclang-rt-14-dev buildah docker-registry curl systemd groff-base
lighttpd lighttpd-mod-openssl jq bc"

missing=""
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "gitd: installing missing packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "gitd: not root; run:  sudo apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing ||
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; }
