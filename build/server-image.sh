#!/usr/bin/env bash
# Builds the gluster server image offline: a debootstrapped Debian base with
# glusterfs-server, plus the gluster-server binary as its entrypoint.
# DEBIAN_SUITE (default bookworm) chooses the Debian release, and with it the
# GlusterFS version: bookworm has 10, trixie 11.
#
# ARCH (amd64, arm64 or armhf; see build/arch.sh) is BINARY's architecture
# and the base's; the default IMAGE and the base's tag end in its suffix.
#
# usage: [ARCH=arm64] build/server-image.sh BINARY [IMAGE]
set -euo pipefail

here=$(dirname "$0")
# shellcheck source=build/arch.sh
. "$here/arch.sh"
binary=$1 image=${2:-gluster-server:latest$tag_suffix}
base=gluster-server-base:${DEBIAN_SUITE:-bookworm}$tag_suffix

"$here/base-image.sh" "$base" glusterfs-server,procps,iproute2

previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
container=$(docker create "$base" /bin/true)
trap 'docker rm -f "$container" >/dev/null' EXIT
docker cp "$binary" "$container:/usr/local/bin/gluster-server"
# The admin command is the same binary under another name.
links=$(mktemp -d)
ln -s gluster-server "$links/gluster-admin"
docker cp "$links/gluster-admin" "$container:/usr/local/bin/gluster-admin"
rm -r "$links"
# The package's option profiles (gluster volume set VOL group NAME) live in
# /var/lib/glusterd, which a host directory hides: the server copies them
# back from here at start (server/groups.go).
# glusterd reconnects to a peer only once its pending connection attempt
# fails, which the kernel's retries drag out to minutes after a partition:
# TCP's user timeout of 5 s ends it (docs/failures.md).
etc=$(mktemp -d)
docker cp "$container:/etc/glusterfs/glusterd.vol" "$etc/glusterd.vol"
grep -q 'transport.tcp-user-timeout' "$etc/glusterd.vol" ||
  sed -i 's|^\( *\)type mgmt/glusterd$|&\n\1option transport.tcp-user-timeout 5|' "$etc/glusterd.vol"
grep -q 'option transport.tcp-user-timeout 5' "$etc/glusterd.vol" || { echo "glusterd.vol: could not set transport.tcp-user-timeout" >&2; exit 1; }
docker cp "$etc/glusterd.vol" "$container:/etc/glusterfs/glusterd.vol"
rm -r "$etc"
share=$(mktemp -d)
docker cp "$container:/var/lib/glusterd/groups" "$share/groups"
docker cp "$share/." "$container:/usr/share/gluster-server"
rm -r "$share"
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/gluster-server"]' \
  --change 'CMD []' \
  --change 'HEALTHCHECK --interval=60s --timeout=60s --start-period=2m --retries=2 CMD ["/usr/local/bin/gluster-server", "health"]' \
  --change 'LABEL org.opencontainers.image.title=gluster-server' \
  "$container" "$image" >/dev/null
# The image replaced is of no use any more, unless a container still runs it.
current=$(docker image inspect -f '{{.Id}}' "$image")
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
  docker rmi "$previous" >/dev/null 2>&1 || true
fi
echo "built $image ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec))"
