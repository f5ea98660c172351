#!/usr/bin/env bash
# Removes what demo/up.sh made, by name, and nothing else: the volume
# demo-data, the plugin "gluster" if it points at the demo's servers, the
# server containers gluster-demo-1 and gluster-demo-2, the network
# gluster-demo-net and /var/lib/gluster-demo. Running it again is harmless.
#
# usage: demo/down.sh (as root; `make demo-clean` runs it)
set -euo pipefail

network=gluster-demo-net
names=(gluster-demo-1 gluster-demo-2)
first_server=172.30.70.11
root=/var/lib/gluster-demo
plugin=gluster
volume=demo-data

log() { echo "demo-clean: $*"; }
die() { echo "demo-clean: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root"
docker info >/dev/null 2>&1 || die "no Docker daemon answers"

# --- what is the demo's ----------------------------------------------------
demo_plugin=false
if servers=$(docker plugin inspect -f '{{range .Settings.Env}}{{println .}}{{end}}' "$plugin" 2>/dev/null); then
  servers=$(sed -n 's/^SERVERS=//p' <<<"$servers")
  case ",$servers," in
    *",$first_server,"*) demo_plugin=true ;;
    *) log "plugin $plugin points at SERVERS=$servers, not the demo's servers: kept" ;;
  esac
fi

demo_volume=false
if driver=$(docker volume inspect -f '{{.Driver}}' "$volume" 2>/dev/null); then
  case $driver in
    "$plugin" | "$plugin":*) demo_volume=true ;;
    *) log "volume $volume has driver $driver, it is not the demo's: kept" ;;
  esac
fi

# Check before removing anything, so that a refusal leaves the demo whole.
if $demo_volume; then
  users=$(docker ps -a --filter "volume=$volume" --format '{{.Names}}' | paste -sd' ' -)
  [ -z "$users" ] || die "volume $volume is used by container(s) $users: remove them first (docker rm -f $users), then run again"
fi
if $demo_plugin; then
  others=$(docker volume ls -q --filter "driver=$plugin:latest" | grep -vx "$volume" | paste -sd' ' - || true)
  [ -z "$others" ] || die "plugin $plugin still has other volumes: $others; they live on the demo's servers and would be lost: remove them first (docker volume rm $others), then run again"
fi

# --- volume ------------------------------------------------------------------
# The plugin deletes the gluster volume through the servers' control API, and
# gluster deletes a volume only with every server up: start stopped servers.
wait_pool() {
  local deadline answer connected
  deadline=$((SECONDS + 120))
  log "waiting for the servers to form the pool again (up to 120s)"
  while :; do
    # The header comes from a file descriptor: the token is on no command line.
    answer=$(curl -fsS --max-time 5 --tlsv1.3 --cacert "$root/srv1/glusterd/cluster-tls/ca.pem" \
      -H @<(printf 'Authorization: Bearer %s' "$(cat "$root/secrets/token")") \
      "https://$first_server:24080/v1/peers" 2>&1) || true
    connected=$({ grep -o '"connected":true' <<<"$answer" || true; } | wc -l)
    [ "$connected" -ge "${#names[@]}" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "the servers did not form the pool: $answer"
      return 1
    fi
    sleep 1
  done
}
if $demo_volume && $demo_plugin; then
  started=false
  for name in "${names[@]}"; do
    if [ "$(docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = false ]; then
      log "starting stopped server $name to delete the volume's data"
      docker start "$name" >/dev/null
      started=true
    fi
  done
  if $started; then wait_pool || true; fi
fi
if $demo_volume; then
  log "removing volume $volume"
  if ! err=$(docker volume rm "$volume" 2>&1 >/dev/null); then
    # The servers may be gone already; the gluster volume then goes with
    # their state below, and only Docker's record of it is left to drop.
    log "the plugin could not remove $volume ($err); dropping Docker's record of it"
    docker volume rm -f "$volume" >/dev/null
  fi
fi

# --- plugin ----------------------------------------------------------------
if $demo_plugin; then
  log "removing plugin $plugin"
  # A clean disable lets the plugin unmount; rm -f also takes a plugin that
  # does not answer any more.
  docker plugin disable "$plugin" >/dev/null 2>&1 || true
  docker plugin rm -f "$plugin" >/dev/null
fi

# --- servers, network, state ---------------------------------------------------
for name in "${names[@]}"; do
  if docker container inspect "$name" >/dev/null 2>&1; then
    log "removing server container $name"
    docker rm -f -v "$name" >/dev/null
  fi
done

if docker network inspect "$network" >/dev/null 2>&1; then
  log "removing network $network"
  docker network rm "$network" >/dev/null
fi

if [ -e "$root" ]; then
  # Never delete through a mount point into a file system that is not ours.
  mounted=$(awk -v root="$root" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo)
  [ -z "$mounted" ] || die "file systems are still mounted under $root: $mounted; unmount them, then run again"
  log "removing $root"
  rm -rf --one-file-system "$root"
fi

log "done"
