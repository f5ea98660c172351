#!/usr/bin/env bash
# Builds a trimmed Debian root filesystem with debootstrap and loads it into
# Docker as an image, offline (no registry is needed). Does nothing if the
# image already exists.
#
# ARCH (a Debian architecture: amd64, arm64 or armhf; default amd64) chooses
# the packages' architecture. Another architecture than the machine's needs
# its emulator registered with binfmt_misc (tests/setup.sh does it): the
# second stage of debootstrap runs the target's programs.
#
# usage: [ARCH=arm64] build/base-image.sh IMAGE PACKAGE[,PACKAGE...]
set -euo pipefail

image=$1 packages=$2
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# shellcheck source=build/arch.sh
. "$(dirname "$0")/arch.sh"

# The image's platform as Docker and registries name it: Debian's armhf is
# ARMv7 with hardware floating point.
case $arch in
  amd64) platform=(amd64 "") ;;
  arm64) platform=(arm64 v8) ;;
  armhf) platform=(arm v7) ;;
esac

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "base image $image exists"
  exit 0
fi

start=$SECONDS
work=$(mktemp -d /var/tmp/gluster-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "debootstrap $suite ($arch) with $packages into $work"
debootstrap --variant=minbase --arch="$arch" --include="$packages" "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log"; exit 1; }

# Trim what a container never reads: package caches and lists, docs, man pages, locales.
rm -rf "$work"/rootfs/var/cache/apt/* "$work"/rootfs/var/lib/apt/lists/* \
  "$work"/rootfs/usr/share/doc/* "$work"/rootfs/usr/share/man/* \
  "$work"/rootfs/usr/share/info/* "$work"/rootfs/usr/share/locale/* \
  "$work"/rootfs/var/log/*.log "$work"/rootfs/var/cache/debconf/*-old

# A one-layer image in `docker save` form rather than `docker import`, which
# on a daemon without experimental features labels every image with the
# daemon's own architecture: an arm64 image must say arm64, or Docker on a
# Raspberry Pi warns that it does not match.
mkdir "$work/image"
tar -C "$work/rootfs" -c . >"$work/image/layer.tar"
layer=$(sha256sum "$work/image/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"%s","variant":"%s","os":"linux","created":"%s","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","comment":"debootstrap %s %s"}]}\n' \
  "${platform[0]}" "${platform[1]}" "$(date -u +%FT%TZ)" "$layer" "$(date -u +%FT%TZ)" "$suite" "$arch" >"$work/image/config.json"
printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "$image" >"$work/image/manifest.json"
tar -C "$work/image" -c config.json manifest.json layer.tar | docker load >/dev/null
echo "built $image ($arch, $(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec)) in $((SECONDS - start))s"
