#!/bin/sh
# Install the Debian packages memvisor needs, if any are missing.
# Used by `make deps` (and so by demo, check, asan, bench) and by .ci/run.
set -e
PKGS="build-essential pkg-config clang libclang-rt-dev liblz4-dev libxxhash-dev libxml2-dev libzstd-dev libjansson-dev libncurses-dev libcmocka-dev libvirt-dev lz4 tmux gdb time qemu-system-x86 openmpi-bin libopenmpi-dev"
[ -n "$MV_EXTRA_PKGS" ] && PKGS="$PKGS $MV_EXTRA_PKGS"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "memvisor: installing missing packages:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
