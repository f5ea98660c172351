#!/usr/bin/env bash
# Creates the managed plugin from config.json and rootfs/ and enables it.
# An existing plugin of that name is replaced; its state on the host stays.
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

# docker plugin create sends its whole directory: give it only what it reads.
context=$(mktemp -d /var/tmp/gluster-plugin.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$top/config.json" "$context/"
cp -al "${ROOTFS:-$top/rootfs}" "$context/rootfs"
# Docker refuses two plugins with byte-identical root filesystems: the name
# makes each plugin's own. Replace, never write through, a hard link into the
# working tree.
rm -f "$context/rootfs/etc/gluster-plugin-name"
echo "$name" >"$context/rootfs/etc/gluster-plugin-name"

if docker plugin inspect "$name" >/dev/null 2>&1; then
  docker plugin disable -f "$name" >/dev/null 2>&1 || true
  docker plugin rm -f "$name" >/dev/null
fi
mkdir -p "$state"
# Docker refuses to enable a plugin whose mount source does not exist.
mkdir -p -m 0700 "$secrets"
docker plugin create "$name" "$context" >/dev/null
docker plugin set "$name" SERVERS="$servers" "${token_settings[@]}" state.source="$state" "${settings[@]}"
docker plugin enable "$name" >/dev/null
echo "plugin $name enabled (servers $servers, state $state)"
