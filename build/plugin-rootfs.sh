#!/usr/bin/env bash
# Builds the managed plugin's root filesystem: the Debian base with the
# GlusterFS FUSE client, trimmed to what a client-only mount needs, plus the
# plugin binary. DEST's contents are replaced (a DEST/README.md is kept).
#
# What stays: sh and bash, coreutils, sed, awk, grep, findutils, util-linux
# (mount, umount, mountpoint, ...), getfattr/setfattr, and glusterfs with the
# libraries, transport and translators a client graph can load.
# /sbin/mount.glusterfs execs glusterfs, whose graph comes from the server's
# client volfile (protocol/client, cluster/*, performance/*, features/utime,
# shard, snapview-client, cloudsync, quiesce, cdc, debug/*) plus what glusterfs
# inserts itself (mount/fuse, meta, debug/io-stats, and features/read-only,
# features/worm, system/posix-acl, features/selinux, features/gfid-access when
# mount options ask for them).
#
# DEBIAN_SUITE (default bookworm) chooses the Debian release, and with it the
# GlusterFS client version: bookworm has 10, trixie 11.
#
# Needs root (the tree keeps its owners, and the final check runs in a chroot).
#
# ARCH (amd64, arm64 or armhf; see build/arch.sh) is BINARY's architecture
# and the Debian packages'; another than the machine's runs the checks
# through its emulator (binfmt_misc).
#
# usage: [ARCH=arm64] build/plugin-rootfs.sh BINARY DEST
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BINARY DEST" >&2
  exit 2
fi
here=$(dirname "$0")
# shellcheck source=build/arch.sh
. "$here/arch.sh"
binary=$1 dest=$2
base=gluster-plugin-base:${DEBIAN_SUITE:-bookworm}$tag_suffix
start=$SECONDS

[ -f "$binary" ] || { echo "$binary: no such file" >&2; exit 1; }
case $(realpath -m "$dest") in
  / | /usr | /etc | /var | /home | /root) echo "refusing to replace $dest" >&2; exit 1 ;;
esac

"$here/base-image.sh" "$base" glusterfs-client,attr

# Whole trees a FUSE client never reads; they are not even extracted.
# - python (geo-replication, events, glusterfind only), perl (debconf, adduser)
# - documentation, translations, time zones (without /etc/localtime, glibc
#   and Go use UTC, as gluster's logs do anyway), character set converters
#   (gluster does no iconv; glibc has UTF-8 built in)
# - package management state and caches, logs, init system, cron, logrotate
# - gluster's server, geo-replication, events and NFS-Ganesha parts. Translators:
#   those that glusterd puts only in brick, self-heal, snapshot and quota daemon
#   volfiles, the management daemon, gfapi's "mount", and the auth modules of
#   protocol/server.
gl='usr/lib/*/glusterfs'
skip=(
  'usr/lib/python3*' 'usr/local/lib/python3*' 'usr/share/python3' 'etc/python3*' 'var/lib/python'
  'usr/lib/*/perl-base' 'usr/share/perl5'
  usr/share/{doc,doc-base,man,info,locale,i18n,lintian,bug,bash-completion,emacs}
  usr/share/{common-licenses,menu,pixmaps,applications,polkit-1,gdb,initramfs-tools,binfmts,dict}
  usr/share/zoneinfo etc/localtime etc/timezone
  usr/lib/locale 'usr/lib/*/gconv' usr/lib/valgrind
  'var/lib/dpkg/info/*.md5sums' 'var/cache/*' var/lib/apt 'var/log/*' 'var/backups/*'
  usr/lib/systemd usr/lib/tmpfiles.d usr/lib/binfmt.d var/lib/systemd
  etc/{apt,dpkg,logrotate.d,cron.d,cron.daily,systemd,init.d} 'etc/rc[0-6S].d'
  "$gl/"{gsyncd,glfsheal,gverify.sh,mount-shared-storage.sh,'peer_*',python,gfevents}
  "$gl/"{glusterfind,gfind_missing_files,scripts,set_geo_rep_pem_keys.sh}
  "$gl/*/auth" "$gl/*/xlator/"{mgmt,storage,playground,protocol/server.so,mount/api.so}
  "$gl/*/xlator/features/"{access-control,arbiter,barrier,bit-rot,bitrot-stub,changelog}.so
  "$gl/*/xlator/features/"{index,leases,locks,posix-locks,marker,namespace,quota,quotad}.so
  "$gl/*/xlator/features/"{sdfs,snapview-server,thin-arbiter,trash,upcall}.so
  'usr/lib/*/ganesha' usr/lib/ocf usr/lib/firewalld usr/share/glusterfs
  usr/sbin/{gf_attach,gluster-setgfid2path,gluster-georep-sshkey,gluster-mountbroker}
  usr/sbin/{glustereventsd,gluster-eventsapi} usr/bin/glusterfind
  usr/bin/openssl usr/bin/c_rehash usr/sbin/{pam-auth-update,pam_getenv} .dockerenv
)

# Start from an empty DEST, keeping its README.md.
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf --one-file-system {} +

container=$(docker create "$base" /bin/true)
trap 'docker rm -f "$container" >/dev/null' EXIT
echo "exporting $base into $dest"
docker export "$container" | tar -C "$dest" -x --numeric-owner --anchored "${skip[@]/#/--exclude=}"
docker rm -f "$container" >/dev/null
trap - EXIT

# Packages a FUSE client never uses: package management, interpreters, the
# server-side gluster libraries and their dependencies (libxml2 and ICU come
# only with glusterd), file system tools, login and passwords, and the
# libraries only those used (the check at the end proves that every program
# and library left still finds all of its own). Globs on package names without
# the architecture. A file that a kept package also lists stays.
remove_packages=(
  apt 'libapt-pkg*' dpkg debconf debian-archive-keyring gpgv adduser
  perl-base init-system-helpers
  'python3*' 'libpython3*' libexpat1 libreadline8 readline-common
  libglusterd0 libgfapi0 libgfchangelog0 'liburcu*' libxml2 'libicu*' 'libstdc++*'
  e2fsprogs libext2fs2 libss2 logsave xfsprogs libinih1 dmsetup 'libdevmapper*' libaio1
  login passwd libpam-modules libpam-modules-bin 'libsemanage*' libsepol2 libdb5.3
  tar diffutils tzdata
  libgnutls30 libp11-kit0 libtasn1-6 libnettle8 libhogweed6 libunistring2 libidn2-0
  libedit2 libbsd0 libmd0 libbz2-1.0 libseccomp2 libncursesw6 libnsl2
)
case ${DEBIAN_SUITE:-bookworm} in
  bookworm) remove_packages+=(libsqlite3-0 libffi8 libxxhash0) ;;
  # Debian 13 renamed some by the 64-bit time_t transition; there util-linux
  # needs sqlite, lz4 needs xxhash, and glib (which the client links) libffi.
  *) remove_packages+=(libreadline8t64 libext2fs2t64 libaio1t64 libdb5.3t64 libgnutls30t64
    libnettle8t64 libhogweed6t64 libunistring5 sqv) ;;
esac
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT
: >"$lists/drop"
: >"$lists/keep"
for list in "$dest"/var/lib/dpkg/info/*.list; do
  name=${list##*/} name=${name%.list} name=${name%%:*} out=keep
  for pattern in "${remove_packages[@]}"; do
    # shellcheck disable=SC2053 # the patterns are globs
    if [[ $name == $pattern ]]; then out=drop; break; fi
  done
  # dpkg lists /bin, /sbin and /lib paths; the tree is merged-/usr.
  sed -E 's#^/(bin|sbin|lib|lib64)(/|$)#/usr/\1\2#' "$list" >>"$lists/$out"
done
sort -u "$lists/drop" -o "$lists/drop"
sort -u "$lists/keep" -o "$lists/keep"
comm -23 "$lists/drop" "$lists/keep" >"$lists/remove"
# Files (and links) first, then the directories they leave empty, deepest first.
while IFS= read -r path; do
  if [ -L "$dest$path" ] || { [ -e "$dest$path" ] && [ ! -d "$dest$path" ]; }; then printf '%s\0' "$dest$path"; fi
done <"$lists/remove" | xargs -0r rm -f
sort -r "$lists/remove" | while IFS= read -r path; do
  if [ ! -L "$dest$path" ] && [ -d "$dest$path" ]; then printf '%s\0' "$dest$path"; fi
done | xargs -0r rmdir --ignore-fail-on-non-empty
rm -rf "$dest/var/lib/dpkg"

# Links left pointing at removed files (resolved inside DEST: many are absolute).
chroot "$dest" /usr/bin/find /etc/alternatives /usr -xdev -xtype l -delete
chroot "$dest" /sbin/ldconfig

# The plugin and the directories it uses.
install -D -m 0755 "$binary" "$dest/usr/local/bin/gluster-plugin"
mkdir -p "$dest"/{mnt/volumes,var/lib/docker-gluster,run/docker/plugins,var/log/glusterfs}
# With TLS (CA_FINGERPRINT), GlusterFS finds the host's certificate in
# OpenSSL's directory and turns TLS on for its management connection when
# glusterd's secure-access file exists: both are links into the plugin's
# state, where the plugin keeps its certificate once enrolled
# (plugin/certificate.go). Links to nothing leave gluster's traffic in clear.
# GlusterFS 10 (Debian 12) looks in /usr/lib/ssl, 11 (Debian 13) in /etc/ssl
# (certstore.GlusterSSLDirs).
tls=/var/lib/docker-gluster/tls
for ssl in usr/lib/ssl etc/ssl; do
  mkdir -p "$dest/$ssl"
  ln -sfn "$tls/cert.pem" "$dest/$ssl/glusterfs.pem"
  ln -sfn "$tls/key.pem" "$dest/$ssl/glusterfs.key"
  ln -sfn "$tls/ca.pem" "$dest/$ssl/glusterfs.ca"
done
mkdir -p "$dest/var/lib/glusterd"
ln -sfn "$tls/secure-access" "$dest/var/lib/glusterd/secure-access"

# Check that the client is complete: every program and library finds its
# libraries, glusterfs starts, mount.glusterfs finds its tools, and the
# translators every client graph loads are there.
missing=$(chroot "$dest" /usr/bin/find / -xdev -type f \( -perm -u+x -o -name '*.so*' \) -exec sh -c '
    for rtld in $(sed -n "s/^RTLDLIST=//p" /usr/bin/ldd | tr -d "\""); do [ -x "$rtld" ] && break; done
    for f; do
      # 0: dynamically linked program, 2: shared library; skip the rest.
      "$rtld" --verify "$f" >/dev/null 2>&1
      case $? in 0 | 2) ;; *) continue ;; esac
      LD_TRACE_LOADED_OBJECTS=1 "$rtld" "$f" 2>/dev/null | sed -n "s|^\s*\(\S*\) => not found|$f: \1|p"
    done' sh {} +)
if [ -n "$missing" ]; then
  echo "missing libraries in $dest:" >&2
  echo "$missing" >&2
  exit 1
fi
chroot "$dest" /usr/sbin/glusterfs --version | sed -n 1p
# The plugin runs on this architecture: without settings it stops at once,
# asking for its servers.
started=$(chroot "$dest" /usr/bin/env -i /usr/local/bin/gluster-plugin 2>&1 || true)
case $started in
  *"SERVERS is empty"*) ;;
  *) echo "$binary does not run in $dest ($arch): $started" >&2; exit 1 ;;
esac
chroot "$dest" /sbin/mount.glusterfs -V >/dev/null
for cmd in sh bash mount umount mountpoint getfattr sed awk grep stat uname wc cat; do
  chroot "$dest" sh -c "command -v $cmd" >/dev/null || { echo "$cmd is missing in $dest" >&2; exit 1; }
done
gldir=$(find "$dest"/usr/lib/*/glusterfs -mindepth 1 -maxdepth 1 -type d -name '[0-9]*' | sed -n 1p)
for xl in xlator/protocol/client xlator/cluster/replicate xlator/cluster/distribute xlator/cluster/disperse \
  xlator/features/utime xlator/features/shard xlator/performance/write-behind xlator/debug/io-stats \
  xlator/meta xlator/mount/fuse rpc-transport/socket; do
  [ -e "$gldir/$xl.so" ] || { echo "$xl is missing in $dest" >&2; exit 1; }
done

echo "built $dest ($(du -sh "$dest" | cut -f1)) in $((SECONDS - start))s"
