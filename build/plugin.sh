#!/usr/bin/env bash
# Creates the managed plugin from config.json and rootfs/ (ROOTFS=DIR for
# another, such as rootfs-arm64/) and enables it. An existing plugin of that
# name is replaced; its state on the host stays.
#
# usage: build/plugin.sh NAME SERVERS TOKEN [STATE_DIR [KEY=VALUE...]]
# TOKEN is the control API token (at least 16 characters), or file:PATH for
# a file on the host holding it: PATH's directory is then mounted read-only
# into the plugin (the mount secrets.source, at /etc/docker-gluster) and
# TOKEN_FILE names the file there, so that `docker plugin inspect` does not
# show the token. The KEY=VALUE settings are set before the plugin is
# enabled. DOCKER_HOST chooses the daemon, as for the docker command; ROOTFS
# another root filesystem than rootfs/ (such as rootfs-trixie/).
set -euo pipefail

name=$1 servers=$2 token=$3 state=${4:-/var/lib/docker-gluster}
settings=("${@:5}")
top=$(cd "$(dirname "$0")/.." && pwd)

die() {
  echo "$0: $*" >&2
  exit 1
}

# The secrets mount of config.json: the host directory and where the plugin
# sees it.
secrets=/etc/docker-gluster
secrets_inside=/etc/docker-gluster
make_token="make one with: openssl rand -hex 32"
case $token in
  file:*)
    file=$(realpath -m "${token#file:}")
    [ -s "$file" ] || die "token file $file is missing or empty: put the servers' token in it ($make_token > $file; chmod 0600 $file)"
    secrets=$(dirname "$file")
    token_settings=(TOKEN= TOKEN_FILE="$secrets_inside/$(basename "$file")" secrets.source="$secrets")
    ;;
  *)
    [ "${#token}" -ge 16 ] || die "the token has ${#token} characters, fewer than 16: use the servers' token ($make_token)"
    token_settings=(TOKEN="$token")
    ;;
esac
for s in "${settings[@]}"; do
  case $s in secrets.source=*) secrets=${s#secrets.source=} ;; esac
done

"$(dirname "$0")/plugin-create.sh" "$name" "${ROOTFS:-$top/rootfs}"
mkdir -p "$state"
# Docker refuses to enable a plugin whose mount source does not exist.
mkdir -p -m 0700 "$secrets"
docker plugin set "$name" SERVERS="$servers" "${token_settings[@]}" state.source="$state" "${settings[@]}"
docker plugin enable "$name" >/dev/null
echo "plugin $name enabled (servers $servers, state $state)"
