#!/usr/bin/env bash
# Prepares this machine for the end-to-end tests and the demo, idempotently:
# installs what is missing from the distribution's packages, starts dockerd
# when no daemon answers, and builds the images offline.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "setup: $*"; }

need_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

start_dockerd() {
  docker info >/dev/null 2>&1 && return
  if [ -d /run/systemd/system ] && systemctl list-unit-files docker.service >/dev/null 2>&1; then
    log "starting docker.service"
    systemctl start docker
  else
    log "starting dockerd (log: /var/log/gluster-testbed-dockerd.log)"
    nohup dockerd >>/var/log/gluster-testbed-dockerd.log 2>&1 &
  fi
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  echo "setup: dockerd did not answer within 60s; see /var/log/gluster-testbed-dockerd.log" >&2
  exit 1
}

# enable_emulation: lets this amd64 machine run arm64 and armhf programs
# through Debian's qemu-user-static, for the ARM builds and their tests
# (systemd-binfmt does this at boot where systemd runs). The handlers are
# registered with the F flag, so the kernel opens the emulator once and it
# works inside chroots and containers that do not have it. A kernel without
# binfmt_misc only loses the ARM builds.
enable_emulation() {
  local binfmt=/proc/sys/fs/binfmt_misc arch
  if ! mountpoint -q "$binfmt" && ! mount -t binfmt_misc binfmt_misc "$binfmt"; then
    log "binfmt_misc cannot be mounted: ARM builds and make test-arm will not work here"
    return
  fi
  for arch in aarch64 arm; do
    [ -e "$binfmt/qemu-$arch" ] && continue
    log "registering the qemu-$arch emulator with binfmt_misc"
    cat "/usr/lib/binfmt.d/qemu-$arch.conf" >"$binfmt/register"
  done
}

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root: the tests start containers, mount FUSE file systems and install packages" >&2
  exit 1
fi
command -v go >/dev/null || { echo "setup: Go is needed to build the project: install Go 1.26 or newer" >&2; exit 1; }

# prometheus: the metrics test runs its own instance, never the package's service.
# iputils-ping: the bench's baseline client pings the servers, as the tutorial does.
# qemu-user-static: emulates arm64 and armhf for the ARM builds and tests.
# iptables: tests make a server's port refuse connections (testbed.RefuseTCP).
need_packages docker.io glusterfs-client debootstrap iproute2 iptables iputils-ping ca-certificates curl systemd docker-registry prometheus qemu-user-static tcpdump
enable_emulation
start_dockerd
make --no-print-directory server-image rootfs
