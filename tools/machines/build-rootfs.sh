#!/usr/bin/env bash
# Builds (once) the Debian 12 root filesystem the booted-machine tests (test/machines) copy for
# each machine, with debootstrap from Debian's own archive. The result is cached outside the repo,
# under a key made of the package list, the suite, the mirror and this script, so a clean clone
# reuses a warm cache and any change to the list builds a new one.
# Prints the root filesystem's path on stdout; everything else goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

SUITE="${MACHINES_SUITE:-bookworm}"
# The archive this machine's own apt uses (deb.debian.org unless told otherwise).
MIRROR="${MACHINES_MIRROR:-http://deb.debian.org/debian}"
CACHE="${MACHINES_CACHE:-/var/cache/oci-k8s-machines}"

packages="$(grep -v '^\s*#' "$here/packages.txt" | grep -v '^\s*$' | sort -u | paste -sd, -)"
install="$(tr , '\n' <<<"$packages" | grep -v '^download:' | paste -sd, -)"
download="$(tr , '\n' <<<"$packages" | sed -n 's/^download://p' | paste -sd, -)"
key="$({ echo "$SUITE $MIRROR $packages"; cat "$0"; } | sha256sum | cut -c1-16)"
target="$CACHE/$SUITE-$key"

if [[ -f "$target/.complete" ]]; then
  echo "$target/rootfs"
  exit 0
fi

mkdir -p "$CACHE"
# One build at a time (two suites started together would otherwise both build).
exec 9>"$CACHE/.lock"
flock -w 1800 9
if [[ -f "$target/.complete" ]]; then
  echo "$target/rootfs"
  exit 0
fi

root="$target.tmp/rootfs"
echo "building $SUITE root filesystem ($packages) into $target" >&2
# debootstrap's own resolver does not follow virtual packages (python3-cryptography's cffi API),
# so it lays down a minimal system with systemd, and apt inside installs the rest. A build cut
# short after debootstrap finished goes on from there.
if [[ ! -f "$target.tmp/.debootstrapped" ]]; then
  rm -rf "$target.tmp"
  mkdir -p "$target.tmp"
  nice -n 10 debootstrap --variant=minbase --include=systemd,systemd-sysv "$SUITE" "$root" "$MIRROR" >&2
  touch "$target.tmp/.debootstrapped"
fi
# --keep-unit: this machine's PID 1 is not systemd, so there is no bus to register a scope on.
in_root() { nice -n 10 systemd-nspawn -q --register=no --keep-unit -D "$root" --setenv=DEBIAN_FRONTEND=noninteractive "$@" >&2; }
in_root apt-get update -qq
# shellcheck disable=SC2086 # one word per package
in_root apt-get install -y -qq --no-install-recommends ${install//,/ }
if [[ -f "$root/etc/locale.gen" ]]; then
  sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$root/etc/locale.gen"
  in_root locale-gen
fi
mkdir -p "$root/opt/oci-k8s-machines/debs"
if [[ -n "$download" ]]; then
  # shellcheck disable=SC2086
  in_root --chdir=/opt/oci-k8s-machines/debs apt-get download -qq ${download//,/ }
fi
# A machine is made from a copy; each copy gets its own machine-id at first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# No host keys in the image: cloud-init installs the program's (or the test's) at first boot.
rm -f "$root"/etc/ssh/ssh_host_*
# The machines have no egress: apt has no sources, so `apt-get update` succeeds with nothing to
# fetch and installs of what is already here are no-ops (as from an empty local mirror).
: >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
# cloud-init reads only the NoCloud seed the suite writes (no network metadata service to probe).
cat >"$root/etc/cloud/cloud.cfg.d/90-machines.cfg" <<'CFG'
datasource_list: [NoCloud, None]
CFG
# Root logs in with keys only (the suite's client key, placed per machine); no password anywhere.
passwd -R "$root" -l root >/dev/null
apt-get -o RootDir="$root" clean 2>/dev/null || rm -rf "$root"/var/cache/apt/archives/*.deb
rm -f "$target.tmp/.debootstrapped"
touch "$target.tmp/.complete"
rm -rf "$target"
mv "$target.tmp" "$target"
echo "$target/rootfs"
