#!/usr/bin/env bash
# Prepares an existing machine (a VPS, another cloud's VM, an on-premises server) for
# Kubernetes over SSH: what cloud-init does on Oracle Cloud, minus everything Oracle-specific.
# Idempotent: a second run changes nothing. lib.sh is put in front of it; settings on stdin:
#
#   prepare-host.sh [apply]   prepares the host (what pulumi up runs)
#   prepare-host.sh remove    removes what apply wrote (destroy, after the distribution's uninstall;
#                             the same stdin, kept in the state): see remove() for what stays
#
#   MODULES, SYSCTLS        the contents of the modules-load.d and sysctl.d files
#   DATA_VOLUME_SCRIPT      data-volume.sh (formats a data disk once, mounts it by UUID)
#   DATA_DISK               optional block device; DATA_DISK_RAW=yes leaves it unformatted (Rook-Ceph)
#   DATA_MOUNT_POINT        where a formatted data disk is mounted
#   RESOLV_CONF             the resolv.conf written for the kubelet: real upstream resolvers
#   UPSTREAM_DNS            optional resolvers (space-separated) when the host has none but a local stub
#   PACKAGES                optional packages the storage needs (open-iscsi for Longhorn, lvm2 for Ceph)
#   READY_MARKER            written last: the bootstrap waits for it
#   DISTRIBUTION            k3s, rke2 or kubeadm (kubeadm installs Debian's containerd)
#
# OCI_K8S_ROOT prefixes every path it reads and writes (tests point it at a temporary root).
set -euo pipefail

action="${1:-apply}"
read_settings
require_settings MODULES SYSCTLS DATA_VOLUME_SCRIPT DATA_MOUNT_POINT RESOLV_CONF READY_MARKER
root="${OCI_K8S_ROOT:-}"
# What apply writes, removed by remove.
modules_conf="$root/etc/modules-load.d/oci-k8s.conf"
sysctl_conf="$root/etc/sysctl.d/90-oci-k8s.conf"
swap_mark="# disabled by oci-k8s: "
# data-volume.sh's drop-ins: these services require the data disk's mount.
data_services=(k3s.service k3s-agent.service rke2-server.service rke2-agent.service kubelet.service)
data_dropin() { printf '%s' "$root/etc/systemd/system/$1.d/oci-k8s-data.conf"; }

# Ubuntu 22.04 and 24.04 and Debian 12: what the distributions' installers and this script know.
check_os() {
  local id version
  # shellcheck source=/dev/null
  id="$(. "$root/etc/os-release" && echo "${ID:-}")"
  # shellcheck source=/dev/null
  version="$(. "$root/etc/os-release" && echo "${VERSION_ID:-}")"
  case "$id $version" in
    "ubuntu 22.04" | "ubuntu 24.04" | "debian 12") log "$id $version" ;;
    *) die "this host runs '$id $version'; supported: ubuntu 22.04, ubuntu 24.04, debian 12" "use one of those releases, or prepare the host by hand" ;;
  esac
}

# ufw and firewalld keep their own tables (iptables or nftables), with default-drop input and
# forward chains: they drop what the cluster needs (the plan's port table, the pod network's
# forwarded traffic) even where our table accepts it, since every base chain must accept a packet.
# Refused before anything changes, never a half-open host.
other_firewalls() {
  if command -v ufw >/dev/null && { ufw status 2>/dev/null | grep -qx 'Status: active' || grep -qsx 'ENABLED=yes' "$root/etc/ufw/ufw.conf"; }; then
    die "ufw is active (or enabled at boot) on this host: its default-drop rules block the cluster's ports and the pod network's forwarded traffic" \
      "turn it off for good (sudo ufw disable) and set hostFirewall: true so the program's nftables table guards the host with exactly the ports the plan prints; then run pulumi up again"
  fi
  if systemctl is-active --quiet firewalld.service || systemctl is-enabled --quiet firewalld.service 2>/dev/null; then
    die "firewalld is running (or enabled at boot) on this host: its zones drop the cluster's ports and the pod network's forwarded traffic" \
      "stop and disable it (sudo systemctl disable --now firewalld) and set hostFirewall: true so the program's nftables table guards the host with exactly the ports the plan prints; then run pulumi up again"
  fi
}

installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

# kubeadm's node runs Debian's containerd package with its own config.toml: apt would remove
# Docker's containerd.io, and docker-ce with it, to install it. k3s and RKE2 bring their own
# containerd and leave Docker alone.
no_docker() {
  [[ "${DISTRIBUTION:-}" == kubeadm ]] || return 0
  local pkg found=()
  for pkg in docker-ce containerd.io; do if installed "$pkg"; then found+=("$pkg"); fi; done
  ((${#found[@]} == 0)) || die "this host runs Docker (${found[*]} installed); kubeadm's node would replace its containerd and stop Docker" \
    "use a host without Docker, or distribution: k3s or rke2 (their own containerd leaves Docker alone)"
}

kernel() {
  if write_file "$modules_conf" 0644 "${MODULES%$'\n'}"; then log "kernel modules set"; fi
  local module
  while read -r module; do [[ -n "$module" ]] && modprobe "$module"; done <<<"$MODULES"
  if write_file "$sysctl_conf" 0644 "${SYSCTLS%$'\n'}"; then log "kernel settings set"; fi
  sysctl --system >/dev/null
}

# Kubernetes wants no swap: off now, commented out of fstab, and swap.target masked, so no swap
# unit (a swap file's, zram's, one another package adds) comes back at boot.
no_swap() {
  swapoff -a
  sed -ri "/^[^#].*\\sswap\\s/s/^/$swap_mark/" "$root/etc/fstab"
  systemctl mask swap.target >/dev/null
}

# A running time sync is kept (timesyncd, chrony); with none, chrony is installed.
time_sync() {
  if systemctl is-active --quiet chrony.service || systemctl is-active --quiet systemd-timesyncd.service; then return 0; fi
  log "no time sync running; installing chrony"
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq chrony
  systemctl enable --now chrony.service
}

# The nameservers of a resolv.conf that are not on loopback (a local stub loops inside pods).
upstream_of() {
  [[ -f "$1" ]] || return 0
  awk '$1 == "nameserver" && $2 !~ /^127\./ && $2 != "::1" { print $2 }' "$1"
}

# The kubelet hands pods the host's real resolvers, never the 127.0.0.53 stub (story: a VPS whose
# pods resolved nothing): systemd-resolved's upstream list, the host's own, or UPSTREAM_DNS.
dns() {
  local servers source
  for source in "$root/run/systemd/resolve/resolv.conf" "$root/etc/resolv.conf"; do
    servers="$(upstream_of "$source")"
    [[ -n "$servers" ]] && break
  done
  if [[ -z "$servers" ]]; then
    servers="$(tr ' ' '\n' <<<"${UPSTREAM_DNS:-}" | sed '/^$/d')"
    source="UPSTREAM_DNS"
  fi
  [[ -n "$servers" ]] || die "this host has no upstream DNS resolver (only a local stub)" "set upstreamDns in the stack to resolvers the host can reach, e.g. [1.1.1.1, 9.9.9.9]"
  if write_file "$root$RESOLV_CONF" 0644 "$(awk '{ print "nameserver " $0 }' <<<"$servers")"; then log "kubelet resolvers from $source"; fi
}

# A raw disk for Ceph: it must exist, be a block device, and hold no filesystem or partition, or
# already be Ceph's (a later run, after Rook made an OSD of it: BlueStore, or LVM in Rook's LVM mode).
raw_disk() {
  local type
  [[ -b "$root$DATA_DISK" ]] || die "$DATA_DISK is not a block device on this host" "name the data disk by a path that exists (lsblk; /dev/disk/by-id/...)"
  type="$(blkid -p -s TYPE -o value "$root$DATA_DISK" 2>/dev/null || true)"
  case "$type" in
    ceph_bluestore | LVM2_member)
      log "$DATA_DISK already holds Ceph's data ($type); left as it is"
      return 0
      ;;
  esac
  if blkid -p "$root$DATA_DISK" >/dev/null 2>&1; then
    die "$DATA_DISK holds a filesystem or partition table; Rook-Ceph takes only an empty disk" "wipe it yourself if its data is not needed (wipefs -a $DATA_DISK), then run pulumi up again"
  fi
  if [[ -n "$(lsblk -no MOUNTPOINT "$root$DATA_DISK" | tr -d '[:space:]')" ]]; then die "$DATA_DISK is mounted" "unmount it and remove it from /etc/fstab"; fi
  log "$DATA_DISK left raw for Rook-Ceph"
}

# What the chosen storage needs on every host, installed once.
packages() {
  local -a missing=()
  local pkg
  for pkg in ${PACKAGES:-}; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]} > 0)) || return 0
  log "installing ${missing[*]}"
  apt_get update -qq
  DEBIAN_FRONTEND=noninteractive apt_get install -y -qq "${missing[@]}"
}

data_disk() {
  [[ -n "${DATA_DISK:-}" ]] || return 0
  if [[ "${DATA_DISK_RAW:-no}" == yes ]]; then
    raw_disk
  else
    # Exactly DATA_DISK, now: no search for another disk, no waiting for one to appear.
    OCI_K8S_DATA_EXACT=yes OCI_K8S_DATA_DEVICE="$root$DATA_DISK" OCI_K8S_ROOT="$root" bash -c "$DATA_VOLUME_SCRIPT" data-volume "$DATA_MOUNT_POINT"
  fi
}

apply() {
  check_os
  other_firewalls
  no_docker
  kernel
  no_swap
  time_sync
  packages
  dns
  data_disk
  mkdir -p "$(dirname "$root$READY_MARKER")"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$root$READY_MARKER"
  log "host prepared; wrote $READY_MARKER"
}

# Everything apply wrote, each only if it is there (a second run changes nothing). The marker goes
# first: a host half-way through never looks prepared. Swap comes back as the host had it: the
# fstab lines apply commented are uncommented (only those, by their mark) and swap.target is
# unmasked, so swap returns at the next boot (swapon -a turns it on now). Left: loaded modules and
# the running kernel settings (until the next boot), packages apply installed (chrony, the
# storage's), and a formatted data disk with its fstab line and data (yours to reclaim).
remove() {
  local service dropin removed=()
  for path in "$root$READY_MARKER" "$modules_conf" "$sysctl_conf" "$root$RESOLV_CONF"; do
    if [[ -e "$path" ]]; then rm -f "$path" && removed+=("${path#"$root"}"); fi
  done
  for service in "${data_services[@]}"; do
    dropin="$(data_dropin "$service")"
    if [[ -e "$dropin" ]]; then rm -f "$dropin" && removed+=("${dropin#"$root"}"); fi
    rmdir "$(dirname "$dropin")" 2>/dev/null || true
  done
  rmdir "$(dirname "$root$READY_MARKER")" "$(dirname "$root$RESOLV_CONF")" 2>/dev/null || true
  if grep -qsF "$swap_mark" "$root/etc/fstab"; then
    sed -i "s/^$swap_mark//" "$root/etc/fstab"
    removed+=("the swap lines' comments in /etc/fstab")
  fi
  if [[ "$(systemctl is-enabled swap.target 2>/dev/null || true)" == masked ]]; then systemctl unmask swap.target >/dev/null; fi
  systemctl daemon-reload
  if ((${#removed[@]})); then log "removed ${removed[*]}"; fi
  log "host preparation removed; swap returns at the next boot"
}

case "$action" in
  apply) apply ;;
  remove) remove ;;
  *) die "unknown action $action" "use apply or remove" ;;
esac
