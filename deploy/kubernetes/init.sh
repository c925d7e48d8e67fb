#!/bin/sh
# The gitd pod's init container: make the data directory ready for
# `gitd serve`. Safe to run at every start: it creates only what is missing.
#
#   init.sh [DATA [ETC]]    (defaults: /var/lib/gitd /etc/gitd)
#
# ETC/config/gitd.yaml   the ConfigMap gitd-config; DATA/gitd.yaml links to it
# ETC/admin/admin.pub    the Secret gitd-admin-key: the first admin's public
#                        key, needed until the admin repo exists
# ETC/host-keys/         the optional Secret gitd-host-keys: host keys that
#                        replace those on the volume; missing ones are generated
set -eu
data=${1:-/var/lib/gitd}
etc=${2:-/etc/gitd}

mkdir -p "$data/host_keys"
chmod 700 "$data/host_keys"
for key in "$etc"/host-keys/ssh_host_*_key; do
  [ -f "$key" ] || continue
  name=${key##*/}
  install -m 600 "$key" "$data/host_keys/$name"
  ssh-keygen -y -f "$data/host_keys/$name" >"$data/host_keys/$name.pub"
done

# gitd reads DATA/gitd.yaml: make it the ConfigMap's, which wins over any
# file left on the volume.
ln -sfn "$etc/config/gitd.yaml" "$data/gitd.yaml"

if [ ! -d "$data/repos/gitd-admin.git" ] && [ ! -f "$etc/admin/admin.pub" ]; then
  echo "gitd: the first start needs the first admin's public key in the Secret gitd-admin-key:" >&2
  echo "  kubectl -n gitd create secret generic gitd-admin-key --from-file=admin.pub=KEY.pub" >&2
  exit 1
fi
gitd init --data "$data" --admin-key "$etc/admin/admin.pub"
exec gitd check-config --data "$data"
