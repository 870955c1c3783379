#!/usr/bin/env bash
# Formats the node's data block volume once and mounts it at a stable path.
#
# Usage: data-volume.sh MOUNT_POINT
#
# The volume is attached after the instance starts, so this waits for it. A disk that already
# holds a filesystem is never formatted again (a reinstalled or rebooted node keeps its data);
# it is mounted by filesystem UUID through /etc/fstab with nofail, so a missing volume never
# stops a boot; the services that keep data there (the distribution's, the kubelet) get
# RequiresMountsFor, so they never start on the root filesystem's empty mount point instead.
#
# OCI_K8S_DATA_EXACT=yes (existing hosts): the disk is exactly OCI_K8S_DATA_DEVICE, a block device
# that must exist now: no search by label, no spare disk, no waiting.
set -euo pipefail

mount_point="${1:?usage: data-volume.sh MOUNT_POINT}"
label="k8s-data"
# The consistent device path Oracle's images provide for the attachment's `device`.
device_link="${OCI_K8S_DATA_DEVICE:-/dev/oracleoci/oraclevdb}"
# OCI_K8S_ROOT prefixes the files and directories it writes (tests point it at a temporary root).
root="${OCI_K8S_ROOT:-}"
fstab="${OCI_K8S_FSTAB:-$root/etc/fstab}"
timeout_s="${OCI_K8S_DATA_VOLUME_TIMEOUT:-900}"
exact="${OCI_K8S_DATA_EXACT:-no}"
unit_dir="${OCI_K8S_UNIT_DIR:-$root/etc/systemd/system}"
# The services whose data lives on the volume: k3s, RKE2 and kubeadm's kubelet (local-path, Longhorn).
data_services=(k3s.service k3s-agent.service rke2-server.service rke2-agent.service kubelet.service)

log() { echo "data-volume: $*"; }

# Prints an unpartitioned, unmounted whole disk other than the boot disk, if there is one.
spare_disk() {
  local root_source root_disk disk
  root_source="$(findmnt -no SOURCE /)"
  root_disk="$(lsblk -no PKNAME "$root_source" 2>/dev/null | head -n 1)"
  while read -r disk; do
    [[ "$(basename "$disk")" == "$root_disk" ]] && continue
    [[ "$(lsblk -nlo NAME "$disk" | wc -l)" -gt 1 ]] && continue
    [[ -n "$(lsblk -no MOUNTPOINT "$disk" | tr -d '[:space:]')" ]] && continue
    echo "$disk"
    return 0
  done < <(lsblk -dnpo NAME,TYPE | awk '$2 == "disk" { print $1 }')
  return 1
}

find_device() {
  local dev
  if dev="$(blkid -L "$label" 2>/dev/null)"; then
    echo "$dev"
  elif [[ -e "$device_link" ]]; then
    readlink -f "$device_link"
  else
    spare_disk
  fi
}

if [[ "$exact" == yes ]]; then
  if [[ ! -b "$device_link" ]]; then
    echo "data-volume: $device_link is not a block device on this host; name the data disk by a path that exists (lsblk; /dev/disk/by-id/...)" >&2
    exit 1
  fi
  find_device() { readlink -f "$device_link"; }
fi

waited=0
until device="$(find_device)"; do
  if ((waited >= timeout_s)); then
    echo "data-volume: no data volume appeared after ${timeout_s}s; check the volume attachment of this instance in the OCI console, then rerun $0 $mount_point" >&2
    exit 1
  fi
  sleep 5
  waited=$((waited + 5))
done

if blkid -p "$device" >/dev/null 2>&1; then
  log "$device already holds a filesystem; keeping it"
else
  log "formatting $device (first use)"
  mkfs.ext4 -q -L "$label" -m 0 "$device"
fi

uuid="$(blkid -s UUID -o value "$device")"
if [[ -z "$uuid" ]]; then
  echo "data-volume: $device has a filesystem without a UUID; refusing to mount it by an unstable name" >&2
  exit 1
fi
fstype="$(blkid -s TYPE -o value "$device")"

mkdir -p "$root$mount_point"
if ! grep -q "^UUID=$uuid " "$fstab"; then
  echo "UUID=$uuid $mount_point $fstype defaults,nofail,x-systemd.device-timeout=60s 0 2" >>"$fstab"
  log "added $mount_point to $fstab"
fi
if ! mountpoint -q "$root$mount_point"; then
  mount "$root$mount_point"
  log "mounted $device at $mount_point"
fi

changed=no
for service in "${data_services[@]}"; do
  dropin="$unit_dir/$service.d/oci-k8s-data.conf"
  content="[Unit]
RequiresMountsFor=$mount_point"
  if [[ -f "$dropin" ]] && [[ "$(cat "$dropin")" == "$content" ]]; then continue; fi
  mkdir -p "$(dirname "$dropin")"
  printf '%s\n' "$content" >"$dropin"
  changed=yes
done
if [[ "$changed" == yes ]]; then
  log "${data_services[*]} require $mount_point"
  # Only where systemd runs (not in a chroot or image build).
  if [[ -d /run/systemd/system ]]; then systemctl daemon-reload; fi
fi
