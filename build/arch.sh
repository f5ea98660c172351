# Sourced by the build scripts. ARCH is the Debian architecture to build for
# (amd64, arm64 or armhf; default amd64). tag_suffix goes after the tags of
# the images built for it: none for amd64, so that its tags stay as they
# always were, "-arm64" or "-armhf" for the others, so that they never
# replace the amd64 images of the same name.
# shellcheck shell=bash
arch=${ARCH:-amd64}
case $arch in
  amd64) tag_suffix= ;;
  arm64 | armhf) tag_suffix=-$arch ;;
  *) echo "$0: ARCH=$arch: use amd64, arm64 or armhf" >&2; exit 2 ;;
esac
