#!/usr/bin/env bash
# Builds, offline, the images the end-to-end tests use in place of the
# official images the examples name (nginx:alpine, node:20-alpine, mariadb),
# which cannot be pulled without a registry:
#
#   gluster-standin-web:bookworm      Debian's nginx-light and nodejs
#   gluster-standin-mariadb:bookworm  Debian's mariadb-server
#
# Each image is built from debootstrap (build/base-image.sh), then given a
# sensible default command, and checked to run. An image that exists already
# is left alone, so running this again does nothing.
#
# usage: build/standin-images.sh [web] [mariadb]     (default: both)
set -euo pipefail

here=$(dirname "$0")
web=gluster-standin-web:bookworm
mariadb=gluster-standin-mariadb:bookworm

log() { echo "standin-images: $*"; }

size() { docker image inspect -f '{{.Size}}' "$1" | numfmt --to=iec; }

# finish IMAGE BASE CHANGE...: commits BASE's filesystem with the given
# Dockerfile instructions as IMAGE.
finish() {
  local image=$1 base=$2 container
  shift 2
  container=$(docker create "$base" /bin/true)
  local args=()
  for change in "$@"; do
    args+=(--change "$change")
  done
  docker commit "${args[@]}" "$container" "$image" >/dev/null
  docker rm -f "$container" >/dev/null
  docker rmi "$base" >/dev/null
}

build_web() {
  if docker image inspect "$web" >/dev/null 2>&1; then
    log "$web exists"
    return
  fi
  local start=$SECONDS base=gluster-standin-web-base:bookworm
  "$here/base-image.sh" "$base" nginx-light,nodejs
  # Laid out as the official nginx image: the site in
  # /etc/nginx/conf.d/default.conf (Debian's nginx.conf includes conf.d),
  # serving /usr/share/nginx/html; logs to the container's output.
  local container
  container=$(docker create "$base" sh -c '
    set -e
    rm -f /etc/nginx/sites-enabled/default
    printf "%s\n" "server {" "    listen 80 default_server;" "    root /usr/share/nginx/html;" "    index index.html;" "}" \
      >/etc/nginx/conf.d/default.conf
    mkdir -p /usr/share/nginx/html
    echo "<h1>gluster-standin-web</h1>" >/usr/share/nginx/html/index.html
    ln -sf /dev/stdout /var/log/nginx/access.log
    ln -sf /dev/stderr /var/log/nginx/error.log')
  docker start -a "$container" >/dev/null
  docker commit "$container" "$base" >/dev/null
  docker rm -f "$container" >/dev/null
  finish "$web" "$base" \
    'CMD ["nginx", "-g", "daemon off;"]' \
    'EXPOSE 80' \
    'LABEL org.opencontainers.image.title=gluster-standin-web'
  check_web
  log "built $web in $((SECONDS - start))s ($(size "$web"))"
}

build_mariadb() {
  if docker image inspect "$mariadb" >/dev/null 2>&1; then
    log "$mariadb exists"
    return
  fi
  local start=$SECONDS base=gluster-standin-mariadb-base:bookworm
  "$here/base-image.sh" "$base" mariadb-server
  # The socket's directory, which Debian's init script would make.
  local container
  container=$(docker create "$base" sh -c 'mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld')
  docker start -a "$container" >/dev/null
  docker commit "$container" "$base" >/dev/null
  docker rm -f "$container" >/dev/null
  finish "$mariadb" "$base" \
    'CMD ["mariadbd", "--user=mysql", "--bind-address=0.0.0.0"]' \
    'EXPOSE 3306' \
    'LABEL org.opencontainers.image.title=gluster-standin-mariadb'
  check_mariadb
  log "built $mariadb in $((SECONDS - start))s ($(size "$mariadb"))"
}

# check_web: nginx serves a directory in the foreground, and node runs, the
# asteroids example's game server too when this is a checkout with examples.
check_web() {
  local out app=() server=$here/../examples/asteroids/server
  [ -f "$server/server.js" ] && app=(-v "$(cd "$server" && pwd):/app:ro")
  out=$(docker run --rm --network none "${app[@]}" "$web" sh -c '
    set -e
    echo standin-ok >/usr/share/nginx/html/index.html
    nginx -g "daemon off;" >/dev/null 2>&1 &
    [ -f /app/server.js ] && node -e "require(\"/app/server.js\")" >/dev/null &
    node -e "
      const http = require(\"http\");
      const get = (url, n) => new Promise((ok, fail) => http.get(url, (r) => {
        let b = \"\"; r.on(\"data\", (c) => b += c); r.on(\"end\", () => ok(b.trim()));
      }).on(\"error\", (e) => n > 0 ? setTimeout(() => get(url, n - 1).then(ok, fail), 200) : fail(e)));
      (async () => {
        console.log(\"node\", process.version, \"nginx:\", await get(\"http://127.0.0.1/\", 25));
        if (require(\"fs\").existsSync(\"/app/server.js\")) console.log(\"game:\", await get(\"http://127.0.0.1:8080/\", 25));
      })().catch((e) => { console.error(e.message); process.exit(1); });"
    kill $(jobs -p) 2>/dev/null || true') || { log "$web does not run: $out"; docker rmi "$web" >/dev/null; exit 1; }
  case $out in
  *"nginx: standin-ok"*) log "$web runs: $(echo "$out" | tr '\n' ' ')" ;;
  *) log "$web: unexpected answer: $out"; docker rmi "$web" >/dev/null; exit 1 ;;
  esac
}

# check_mariadb: mariadbd starts on the data directory the package made and
# answers a query.
check_mariadb() {
  local out
  out=$(docker run --rm --network none "$mariadb" sh -c '
    mariadbd --user=mysql --skip-networking >/tmp/mariadbd.log 2>&1 &
    for i in $(seq 60); do
      mariadb -N -e "select version()" 2>/dev/null && exit 0
      sleep 0.5
    done
    tail -20 /tmp/mariadbd.log; exit 1') || { log "$mariadb does not run: $out"; docker rmi "$mariadb" >/dev/null; exit 1; }
  log "$mariadb runs: mariadbd $out"
}

targets=("$@")
((${#targets[@]})) || targets=(web mariadb)
for target in "${targets[@]}"; do
  case $target in
  web) build_web ;;
  mariadb) build_mariadb ;;
  *) echo "usage: $0 [web] [mariadb]" >&2; exit 2 ;;
  esac
done
