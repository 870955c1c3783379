#!/usr/bin/env bash
# Places kube-vip's static pod on a server. Usage: kube-vip.sh MANIFEST_PATH NODE_IP [INTERFACE]
#
# The manifest arrives on stdin with @VIP_INTERFACE@ where its vip_interface goes: INTERFACE
# (apiVipInterface) when given, checked to exist here; otherwise the interface holding NODE_IP,
# the servers' network. (kube-vip's own detection, for an empty vip_interface, takes the default
# route's interface (kube-vip v1.0.4 cmd/kube-vip.go): on a host with a private network beside
# its public one, that is the wrong segment for a VIP on the servers' network.)
set -euo pipefail

dest="${1:?usage: kube-vip.sh MANIFEST_PATH NODE_IP [INTERFACE]}"
node_ip="${2:?usage: kube-vip.sh MANIFEST_PATH NODE_IP [INTERFACE]}"
iface="${3:-}"
manifest="$(cat)"
[[ "$manifest" == *@VIP_INTERFACE@* ]] || die "the kube-vip manifest has no @VIP_INTERFACE@" "this is a bug in oci-k8s; report it"

if [[ -z "$iface" ]]; then iface="$(private_iface "$node_ip")"; fi
VIP_INTERFACE="$iface" check_vip_interface
if write_file "${OCI_K8S_ROOT:-}$dest" 600 "${manifest//@VIP_INTERFACE@/$iface}"; then
  log "kube-vip announces the API address on $iface"
else
  log "kube-vip already in place on $iface"
fi
