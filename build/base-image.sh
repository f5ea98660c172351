#!/usr/bin/env bash
# Builds a trimmed Debian root filesystem with debootstrap and imports it as a
# Docker image, offline (no registry is needed). Does nothing if the image
# already exists.
#
# usage: build/base-image.sh IMAGE PACKAGE[,PACKAGE...]
set -euo pipefail

image=$1 packages=$2
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image exists"
  exit 0
fi

work=$(mktemp -d /var/tmp/gluster-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debootstrap $suite with $packages into $work"
debootstrap --variant=minbase --include="$packages" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }

# Trim what a container never reads: package caches and lists, docs, man pages, locales.
rm -rf "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/lib/apt/lists/* \
  "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* \
  "$work"/rootfs/usr/share/info/* "$work"/rootfs/usr/share/locale/* \
  "$work"/rootfs/var/log/*.log "$work"/rootfs/var/cache/debconf/*-old

tar -C "$work/rootfs" -c . | docker import - "$image" >/dev/null
echo "imported $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
