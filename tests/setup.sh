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

if [ "$(id -u)" != 0 ]; then
  echo "setup: run as root: the tests start containers, mount FUSE file systems and install packages" >&2
  exit 1
fi
command -v go >/dev/null || { echo "setup: Go is needed to build the project: install Go 1.26 or newer" >&2; exit 1; }

# prometheus: the metrics test runs its own instance, never the package's service.
# iputils-ping: the bench's baseline client pings the servers, as the tutorial does.
need_packages docker.io glusterfs-client debootstrap iproute2 iputils-ping ca-certificates curl systemd docker-registry prometheus
start_dockerd
make --no-print-directory server-image rootfs
