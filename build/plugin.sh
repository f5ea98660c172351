#!/usr/bin/env bash
# Creates the managed plugin from config.json and rootfs/ and enables it.
# An existing plugin of that name is replaced; its state on the host stays.
#
# usage: build/plugin.sh NAME SERVERS TOKEN [STATE_DIR [KEY=VALUE...]]
# The KEY=VALUE settings are set before the plugin is enabled. DOCKER_HOST
# chooses the daemon, as for the docker command.
set -euo pipefail

name=$1 servers=$2 token=$3 state=${4:-/var/lib/docker-gluster}
settings=("${@:5}")
top=$(cd "$(dirname "$0")/.." && pwd)

# docker plugin create sends its whole directory: give it only what it reads.
context=$(mktemp -d /var/tmp/gluster-plugin.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$top/config.json" "$context/"
cp -al "$top/rootfs" "$context/rootfs"
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
docker plugin create "$name" "$context" >/dev/null
docker plugin set "$name" SERVERS="$servers" TOKEN="$token" state.source="$state" "${settings[@]}"
docker plugin enable "$name" >/dev/null
echo "plugin $name enabled (servers $servers, state $state)"
