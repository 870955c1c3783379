#!/usr/bin/env bash
# Prepares an Oracle Cloud Ubuntu host for Kubernetes; cloud-init runs it once at first boot and
# it is safe to run again. The last step writes the marker that the cluster bootstrap waits for,
# so the marker exists only when every step before it succeeded.
#
# Reads /etc/oci-k8s/node.env (written by cloud-init): DATA_MOUNT_POINT, OCI_K8S_DATA_DEVICE,
# READY_MARKER and, when the node has a data volume, DATA_VOLUME=yes.
set -euo pipefail

set -a # the data volume script reads OCI_K8S_DATA_DEVICE from the same file
# shellcheck source=/dev/null
source "${OCI_K8S_NODE_ENV:-/etc/oci-k8s/node.env}"
set +a
bin_dir="${OCI_K8S_BIN_DIR:-/usr/local/sbin}"
fstab="${OCI_K8S_FSTAB:-/etc/fstab}"

# Kernel modules and sysctls for container networking (files written by cloud-init).
systemctl restart systemd-modules-load.service
sysctl --system >/dev/null

# Kubernetes wants no swap (Oracle's images ship none; a user-added one is turned off for good).
swapoff -a
sed -ri '/^[^#].*\sswap\s/s/^/# disabled by oci-k8s: /' "$fstab"

"$bin_dir/oci-k8s-firewall-fix"

# Pods off the instance metadata service (its user data holds this node's SSH host key): the
# table now, and at every boot before the network is up. restart: a re-run loads a changed file.
systemctl daemon-reload
systemctl enable oci-k8s-metadata-guard.service
systemctl restart oci-k8s-metadata-guard.service
nft list table ip oci_k8s_metadata >/dev/null

if [[ "${DATA_VOLUME:-no}" == "yes" ]]; then
  "$bin_dir/oci-k8s-data-volume" "$DATA_MOUNT_POINT"
fi

systemctl enable --now chrony.service unattended-upgrades.service

mkdir -p "$(dirname "$READY_MARKER")"
date -u +%Y-%m-%dT%H:%M:%SZ >"$READY_MARKER"
echo "host-prep: done; wrote $READY_MARKER"
