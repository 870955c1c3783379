#!/usr/bin/env bash
# Installs or joins a k3s or RKE2 node. Usage: rancher.sh k3s|rke2 server|agent|etcd
#
# `etcd` is an etcd-only member: installed as a server whose config disables the API server,
# scheduler and controller manager, so it is ready when its service is, not its (absent) API.
# Settings (stdin): VERSION, CONFIG (the distribution's config.yaml, with the token), NODE_IP
# (the node's privateIp: the pod network leaves by the interface holding it), for servers
# KUBECTL, and for RKE2 servers optionally CANAL_CONFIG (a HelmChartConfig for rke2-canal);
# with kube-vip and an apiVipInterface, VIP_INTERFACE (which must exist here). A second run with the same settings changes nothing; a changed config
# restarts the service; another version runs the pinned installer again (an in-place upgrade).
set -euo pipefail

dist="${1:?usage: rancher.sh k3s|rke2 server|agent|etcd}"
role="${2:?usage: rancher.sh k3s|rke2 server|agent|etcd}"
read_settings
require_settings VERSION CONFIG NODE_IP

# What the distribution installs: an etcd-only member is a server to it.
kind="$role"
if [[ "$role" == etcd ]]; then kind=server; fi
case "$dist/$kind" in
  k3s/server) service=k3s ;;
  k3s/agent) service=k3s-agent ;;
  rke2/server | rke2/agent) service="rke2-$kind" ;;
  *) die "unknown distribution or role: $dist $role" "use k3s or rke2, and server, agent or etcd" ;;
esac
config_file="${OCI_K8S_ROOT:-}/etc/rancher/$dist/config.yaml"

# The interface holding the node's privateIp: k3s's flannel takes it by name (flannel-iface);
# RKE2's Canal is told on the servers (CANAL_CONFIG), so here it is only checked.
iface="$(private_iface "$NODE_IP")"
log "the pod network leaves by $iface, which holds $NODE_IP"
check_vip_interface
if [[ "$dist" == k3s ]]; then CONFIG="$CONFIG"$'\n'"flannel-iface: $iface"; fi

installed_version() {
  "$dist" --version 2>/dev/null | awk 'NR == 1 { print $3 }'
}

install() {
  local installer url status=0
  installer="$(mktemp)"
  if [[ "$dist" == k3s ]]; then url="https://raw.githubusercontent.com/k3s-io/k3s/${VERSION//+/%2B}/install.sh"; fi
  if [[ "$dist" == rke2 ]]; then url="https://raw.githubusercontent.com/rancher/rke2/${VERSION//+/%2B}/install.sh"; fi
  retry 5 curl -sfL "$url" -o "$installer" ||
    die "could not download the $dist $VERSION installer from $url" "check the node's outbound internet access (NAT gateway or public IP) and that $VERSION is a $dist release"
  log "installing $dist $VERSION as $role"
  if [[ "$dist" == k3s ]]; then
    INSTALL_K3S_VERSION="$VERSION" INSTALL_K3S_EXEC="$kind" sh "$installer" >&2 || status=$?
  else
    INSTALL_RKE2_VERSION="$VERSION" INSTALL_RKE2_TYPE="$kind" sh "$installer" >&2 || status=$?
  fi
  rm -f "$installer"
  ((status == 0)) || die "the $dist $VERSION installer exited with status $status" "read its output above and 'journalctl -u $service' on the node, then run pulumi up again"
}

changed=no
if write_file "$config_file" 600 "$CONFIG"; then changed=yes; fi
if [[ "$dist" == rke2 && -n "${CANAL_CONFIG:-}" ]]; then
  write_file "${OCI_K8S_ROOT:-}/var/lib/rancher/rke2/server/manifests/oci-k8s-canal-config.yaml" 600 "$CANAL_CONFIG" || true
fi

if [[ "$(installed_version)" != "$VERSION" ]]; then
  install
  systemctl enable "$service" >&2
  systemctl restart "$service" >&2
elif [[ "$changed" == yes ]] || ! systemctl is-active --quiet "$service"; then
  log "configuration changed; restarting $service"
  systemctl restart "$service" >&2
else
  log "$dist $VERSION $role already installed and configured; nothing to do"
fi

if [[ "$role" == server ]]; then
  require_settings KUBECTL
  retry 60 kctl get --raw=/readyz >/dev/null ||
    die "the Kubernetes API on this server did not become ready" "read 'journalctl -u $service' on the node"
else
  retry 60 systemctl is-active --quiet "$service" ||
    die "$service did not stay active" "read 'journalctl -u $service' on the node; check that it reaches the first server on 6443/9345"
fi
log "$dist $role ready"
