#!/usr/bin/env bash
# Installs or joins a k3s or RKE2 node. Usage: rancher.sh k3s|rke2 server|agent|etcd
#
# `etcd` is an etcd-only member: installed as a server whose config disables the API server,
# scheduler and controller manager, so it is ready when its service is, not its (absent) API.
# Settings (stdin): VERSION, CONFIG (the distribution's config.yaml, with the token), NODE_IP
# (the node's privateIp: the pod network leaves by the interface holding it), for servers
# KUBECTL, and for RKE2 servers optionally CANAL_CONFIG (a HelmChartConfig for rke2-canal);
# with kube-vip and an apiVipInterface, VIP_INTERFACE (which must exist here); air-gapped,
# ARTIFACT_SOURCE and ARTIFACTS (see install below). The first server also gets REJOIN_URLS:
# where the cluster answers if it already exists (this server replaced). A second run with the
# same settings changes nothing; a changed config
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

# The installer and, air-gapped (settings ARTIFACT_SOURCE and ARTIFACTS), everything it would
# download, from the pinned artifacts: k3s's binary and image tarball where its install.sh
# expects them with INSTALL_K3S_SKIP_DOWNLOAD (k3s docs, "Air-Gap Install"; k3s-ansible's
# airgap_dir), RKE2's tarballs and checksums in INSTALL_RKE2_ARTIFACT_PATH (RKE2 docs, "Air-Gap
# Install", tarball method).
install() {
  local work installer url arch status=0 root="${OCI_K8S_ROOT:-}"
  work="$(mktemp -d)"
  installer="$work/install.sh"
  if [[ -n "${ARTIFACT_SOURCE:-}" ]]; then
    arch="$(node_arch)"
    fetch_artifact install.sh "$installer"
    if [[ "$dist" == k3s ]]; then
      fetch_artifact "k3s$([[ "$arch" == amd64 ]] || echo "-$arch")" "$root/usr/local/bin/k3s"
      chmod 0755 "$root/usr/local/bin/k3s"
      fetch_artifact "k3s-airgap-images-$arch.tar.zst" "$root/var/lib/rancher/k3s/agent/images/k3s-airgap-images-$arch.tar.zst"
    else
      for file in "rke2.linux-$arch.tar.gz" "rke2-images.linux-$arch.tar.zst" "sha256sum-$arch.txt"; do
        fetch_artifact "$file" "$work/artifacts/$file"
      done
    fi
  else
    if [[ "$dist" == k3s ]]; then url="https://raw.githubusercontent.com/k3s-io/k3s/${VERSION//+/%2B}/install.sh"; fi
    if [[ "$dist" == rke2 ]]; then url="https://raw.githubusercontent.com/rancher/rke2/${VERSION//+/%2B}/install.sh"; fi
    download "$url" "$installer" 60 ||
      die "could not download the $dist $VERSION installer from $url" "check the node's outbound internet access (NAT gateway or public IP) and that $VERSION is a $dist release, or install from pinned artifacts (artifactSource in docs/configuration.md)"
  fi
  log "installing $dist $VERSION as $role"
  # The installer downloads with curl of its own, unbounded: the whole run is bounded instead.
  local bound="timeout ${OCI_K8S_INSTALL_TIME:-1800}"
  if [[ "$dist" == k3s && -n "${ARTIFACT_SOURCE:-}" ]]; then
    INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION="$VERSION" INSTALL_K3S_EXEC="$kind" $bound sh "$installer" >&2 || status=$?
  elif [[ "$dist" == k3s ]]; then
    INSTALL_K3S_VERSION="$VERSION" INSTALL_K3S_EXEC="$kind" $bound sh "$installer" >&2 || status=$?
  elif [[ -n "${ARTIFACT_SOURCE:-}" ]]; then
    INSTALL_RKE2_ARTIFACT_PATH="$work/artifacts" INSTALL_RKE2_VERSION="$VERSION" INSTALL_RKE2_TYPE="$kind" $bound sh "$installer" >&2 || status=$?
  else
    INSTALL_RKE2_VERSION="$VERSION" INSTALL_RKE2_TYPE="$kind" $bound sh "$installer" >&2 || status=$?
  fi
  rm -rf "$work"
  if ((status == 124)); then die "the $dist $VERSION installer did not finish within ${OCI_K8S_INSTALL_TIME:-1800}s" "check the node's outbound access to the release downloads, or install from pinned artifacts"; fi
  ((status == 0)) || die "the $dist $VERSION installer exited with status $status" "read its output above and 'journalctl -u $service' on the node, then run pulumi up again"
}

# rejoin_config : a first server that was replaced (no config yet) while the cluster it founded
# still answers at one of REJOIN_URLS joins it through that address instead of starting a new
# cluster (cluster-init); once joined it keeps joining there.
rejoin_config() {
  local current="" url
  [[ -n "${REJOIN_URLS:-}" ]] || return 0
  if [[ -f "$config_file" ]]; then
    current="$(grep -m1 '^server: ' "$config_file" || true)"
  else
    for url in $REJOIN_URLS; do
      if curl -sk --connect-timeout 5 --max-time 10 -o /dev/null "$url/cacerts"; then
        current="server: $url"
        log "the cluster already answers at $url: this replaced first server joins it"
        break
      fi
    done
  fi
  [[ -n "$current" ]] || return 0
  CONFIG="$(grep -vx 'cluster-init: true' <<<"$CONFIG")"$'\n'"$current"
}
rejoin_config

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
