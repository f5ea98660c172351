#!/usr/bin/env bash
# Creates the managed plugin NAME from config.json and a root filesystem
# built by `make rootfs` (rootfs/, or rootfs-ARCH/ for another architecture),
# without enabling it. An existing plugin of that name is replaced.
# DOCKER_HOST chooses the daemon, as for the docker command.
#
# usage: build/plugin-create.sh NAME ROOTFS
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 NAME ROOTFS" >&2
  exit 2
fi
name=$1 rootfs=$2
top=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -x "$rootfs/usr/local/bin/gluster-plugin" ]; then
  echo "$0: $rootfs holds no plugin root filesystem: build it with make rootfs [ARCH=...]" >&2
  exit 1
fi

# docker plugin create sends its whole directory: give it only what it reads.
context=$(mktemp -d /var/tmp/gluster-plugin.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$top/config.json" "$context/"
cp -al "$rootfs" "$context/rootfs"
# Docker refuses two plugins with byte-identical root filesystems: the name
# makes each plugin's own. Replace, never write through, a hard link into the
# working tree.
rm -f "$context/rootfs/etc/gluster-plugin-name"
echo "$name" >"$context/rootfs/etc/gluster-plugin-name"

if docker plugin inspect "$name" >/dev/null 2>&1; then
  docker plugin disable -f "$name" >/dev/null 2>&1 || true
  docker plugin rm -f "$name" >/dev/null
fi
docker plugin create "$name" "$context" >/dev/null
