#!/usr/bin/env bash
# Pushes the managed plugin built from config.json and ROOTFS to a registry
# as REF (REGISTRY/NAME:TAG), then removes it from this daemon, where it was
# only created to be pushed (an installed plugin of the same name would
# clash with it). Docker's managed plugins are not multi-architecture: the
# tag says the architecture (`make push-plugins` pushes VERSION-amd64,
# VERSION-arm64 and VERSION-armhf).
#
# usage: build/plugin-push.sh REF ROOTFS
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 REGISTRY/NAME:TAG ROOTFS" >&2
  exit 2
fi
ref=$1 rootfs=$2
here=$(dirname "$0")

"$here/plugin-create.sh" "$ref" "$rootfs"
trap 'docker plugin rm -f "$ref" >/dev/null' EXIT
docker plugin push "$ref" >/dev/null
echo "pushed $ref (from $rootfs)"
