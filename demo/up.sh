#!/usr/bin/env bash
# Brings up the demo on this machine, idempotently: two gluster server
# containers standing in for two storage hosts, the managed plugin "gluster"
# pointed at them, and a replica 2 Docker volume "demo-data" with a file in it.
# Everything runs with TLS: the servers make the cluster's CA, the plugin pins
# it and enrolls this host, and the token is read from a file, never given
# in settings or on command lines.
# Run it again at any time: what already runs is kept. `make demo-clean`
# (demo/down.sh) removes it all again.
#
# usage: demo/up.sh (as root; `make demo` runs `make setup` first)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
start=$SECONDS

network=gluster-demo-net
subnet=172.30.70.0/24
names=(gluster-demo-1 gluster-demo-2)
addresses=(172.30.70.11 172.30.70.12)
root=/var/lib/gluster-demo
image=gluster-server:latest
shell_image=gluster-server-base:bookworm
plugin=gluster
volume=demo-data
control_port=24080
pool_timeout=120

log() { echo "demo: $*"; }
die() { echo "demo: $*" >&2; exit 1; }

peers=$(IFS=,; echo "${addresses[*]}")

# --- prerequisites ---------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root: the demo starts containers and installs a managed plugin"
command -v curl >/dev/null || die "curl is missing: apt-get install curl (or run make setup)"
docker info >/dev/null 2>&1 || die "no Docker daemon answers: run make setup (it starts dockerd)"
for img in "$image" "$shell_image"; do
  docker image inspect "$img" >/dev/null 2>&1 || die "image $img is missing: run make setup (it builds it offline)"
done

# --- state and token -------------------------------------------------------
# The token lives alone in its directory: the servers and the plugin mount
# that directory, and nothing else of the demo's state.
secrets=$root/secrets
token_file=$secrets/token
mkdir -p "$root" "$secrets"
chmod 0700 "$root" "$secrets"
if [ ! -s "$token_file" ]; then
  # 64 hex digits: always longer than the 16 characters servers require.
  (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$token_file")
  log "generated a control API token in $token_file"
fi
# curl reads the header from a file descriptor, so that the token is on no
# command line.
auth_header() { printf 'Authorization: Bearer %s' "$(cat "$token_file")"; }
ca_file=$root/srv1/glusterd/cluster-tls/ca.pem

# --- network ---------------------------------------------------------------
if have_subnet=$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$network" 2>/dev/null); then
  case " $have_subnet " in
    *" $subnet "*) ;;
    *) die "network $network exists with subnet ${have_subnet% }, not $subnet: remove it (make demo-clean) and run again" ;;
  esac
else
  log "creating network $network ($subnet)"
  docker network create --subnet "$subnet" --label gluster-demo=1 "$network" >/dev/null
fi

# --- server containers -----------------------------------------------------
# env_of CONTAINER NAME prints the value of an environment variable of a
# container's configuration.
env_of() {
  docker container inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$1" | sed -n "s/^$2=//p"
}

run_server() {
  local name=$1 address=$2 dir=$3
  docker run -d --name "$name" --hostname "$name" \
    --restart unless-stopped \
    --network "$network" --ip "$address" \
    --cap-add SYS_ADMIN --device /dev/fuse --tmpfs /run \
    --label gluster-demo=1 \
    -e ADDRESS="$address" -e PEERS="$peers" -e TLS=on \
    -e TOKEN_FILE=/run/secrets/gluster/token -v "$secrets:/run/secrets/gluster:ro" \
    -v "$dir/glusterd:/var/lib/glusterd" \
    -v "$dir/log:/var/log/glusterfs" \
    -v "$dir/bricks:/bricks" \
    "$image" >/dev/null
}

for i in "${!names[@]}"; do
  name=${names[i]} address=${addresses[i]} dir=$root/srv$((i + 1))
  mkdir -p "$dir"/{glusterd,log,bricks}
  if running=$(docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null); then
    if [ "$(env_of "$name" TLS)" != on ]; then
      die "server $name runs without TLS (an earlier demo's): run make demo-clean, then make demo"
    fi
    if [ "$running" = true ] && [ "$(env_of "$name" ADDRESS)" = "$address" ]; then
      log "server $name ($address) is running"
      continue
    fi
    # Its state lives in $dir: a new container keeps the peer and its bricks.
    log "re-creating server $name ($address): it was stopped or configured differently"
    docker rm -f "$name" >/dev/null
  else
    log "starting server $name ($address)"
  fi
  run_server "$name" "$address" "$dir"
done

# --- storage pool ----------------------------------------------------------
log "waiting for both servers to join the storage pool (up to ${pool_timeout}s)"
waited=$SECONDS deadline=$((SECONDS + pool_timeout))
# Formed when each server sees each server connected under its address (not
# a name glusterd learned by reverse lookup, which the host cannot resolve).
pool_formed() {
  local server address
  for server in "${addresses[@]}"; do
    [ -s "$ca_file" ] || return 1
    answer=$(curl -fsS --max-time 5 --tlsv1.3 --cacert "$ca_file" -H @<(auth_header) \
      "https://$server:$control_port/v1/peers" 2>&1) || return 1
    for address in "${addresses[@]}"; do
      grep -q "\"address\":\"$address\",\"uuid\":\"[^\"]*\",\"connected\":true" <<<"$answer" || return 1
    done
  done
}
while ! pool_formed; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "demo: the pool did not form within ${pool_timeout}s; last answer: $answer" >&2
    for name in "${names[@]}"; do
      echo "--- last log lines of $name:" >&2
      docker logs --tail 20 "$name" 2>&1 | sed 's/^/    /' >&2
    done
    exit 1
  fi
  sleep 1
done
log "storage pool formed: $peers (after $((SECONDS - waited))s)"
fingerprint=$(docker exec "${names[0]}" gluster-admin ca)
log "cluster CA: $fingerprint"

# --- plugin ----------------------------------------------------------------
# A plugin that is enabled is kept as it is (volumes may be in use), provided
# it points at these servers and pins their CA.
if enabled=$(docker plugin inspect -f '{{.Enabled}}' "$plugin" 2>/dev/null) && [ "$enabled" = true ]; then
  settings=$(docker plugin inspect -f '{{range .Settings.Env}}{{println .}}{{end}}' "$plugin")
  have_servers=$(sed -n 's/^SERVERS=//p' <<<"$settings")
  have_ca=$(sed -n 's/^CA_FINGERPRINT=//p' <<<"$settings")
  if [ "$have_servers" != "$peers" ]; then
    die "plugin $plugin is enabled but points at SERVERS=$have_servers, not the demo's $peers: it is not the demo's; remove it (docker plugin disable $plugin && docker plugin rm $plugin) if you no longer need it, then run again"
  fi
  if [ "$have_ca" != "$fingerprint" ]; then
    die "plugin $plugin points at the demo's servers but pins another CA (${have_ca:-none}; from an earlier demo?): run make demo-clean, then make demo"
  fi
  log "plugin $plugin is enabled"
else
  log "installing plugin $plugin (builds its root filesystem)"
  make -s --no-print-directory -C "$top" plugin PLUGIN="$plugin" SERVERS="$peers" TOKEN_FILE="$token_file" \
    PLUGIN_SETTINGS="CA_FINGERPRINT=$fingerprint"
fi

# --- volume ----------------------------------------------------------------
if driver=$(docker volume inspect -f '{{.Driver}}' "$volume" 2>/dev/null); then
  case $driver in
    "$plugin" | "$plugin":*) log "volume $volume exists" ;;
    *) die "volume $volume exists with driver $driver, not $plugin: remove it (docker volume rm $volume) and run again" ;;
  esac
else
  log "creating volume $volume (replica 2)"
  docker volume create -d "$plugin" -o replica=2 "$volume" >/dev/null
fi

log "writing /data/hello.txt from a throwaway container"
docker run --rm --pull never -v "$volume:/data" "$shell_image" \
  sh -c 'echo "hello from container $(hostname), written $(date -u +%Y-%m-%dT%H:%M:%SZ)" >/data/hello.txt && cat /data/hello.txt'

# --- result ----------------------------------------------------------------
echo
echo "== docker volume inspect $volume"
docker volume inspect "$volume"
echo
echo "== the file as stored in each server's brick on this host"
for i in "${!names[@]}"; do
  brick=$root/srv$((i + 1))/bricks/$volume
  echo "-- ${names[i]} (${addresses[i]}): $brick/hello.txt"
  if [ -f "$brick/hello.txt" ]; then
    sed 's/^/   /' "$brick/hello.txt"
  else
    echo "   (not there)"
  fi
done

cat <<EOF

The demo is up ($((SECONDS - start))s). Two gluster servers (${names[*]}, at $peers)
keep every file of volume $volume on both of them; plugin $plugin mounts it.

Use it:
  docker run --rm -it -v $volume:/data $shell_image sh   # the same files, from any container
  docker volume create -d $plugin -o replica=2 NAME         # another replicated volume
  docker volume ls -f driver=$plugin:latest                 # the volumes of plugin $plugin

TLS everywhere: the control API, gluster's management and its data; cluster CA $fingerprint.
State and bricks: $root (token: $token_file)
Tear it all down: make demo-clean
EOF
