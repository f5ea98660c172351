#!/usr/bin/env bash
# Creates the managed plugin from config.json and rootfs/ and enables it.
# An existing plugin of that name is replaced; its state on the host stays.
#
# usage: build/plugin.sh NAME SERVERS TOKEN [STATE_DIR]
set -euo pipefail

name=$1 servers=$2 token=$3 state=${4:-/var/lib/docker-gluster}
top=$(cd "$(dirname "$0")/.." && pwd)

# docker plugin create sends its whole directory: give it only what it reads.
context=$(mktemp -d /var/tmp/gluster-plugin.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$top/config.json" "$context/"
cp -al "$top/rootfs" "$context/rootfs"
# Docker refuses two plugins with byte-identical root filesystems: the name
# makes each plugin's own.
echo "$name" >"$context/rootfs/etc/gluster-plugin-name"

if docker plugin inspect "$name" >/dev/null 2>&1; then
  docker plugin disable -f "$name" >/dev/null 2>&1 || true
  docker plugin rm -f "$name" >/dev/null
fi
mkdir -p "$state"
docker plugin create "$name" "$context" >/dev/null
docker plugin set "$name" SERVERS="$servers" TOKEN="$token" state.source="$state"
docker plugin enable "$name" >/dev/null
echo "plugin $name enabled (servers $servers, state $state)"
