#!/usr/bin/env bash
# Removes the distribution from a node that leaves the cluster. Usage: uninstall.sh k3s|rke2|kubeadm
set -euo pipefail

dist="${1:?usage: uninstall.sh k3s|rke2|kubeadm}"
case "$dist" in
  k3s)
    for script in /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh; do
      if [[ -x "${OCI_K8S_ROOT:-}$script" ]]; then "${OCI_K8S_ROOT:-}$script" >&2; fi
    done
    ;;
  rke2)
    for script in /usr/bin/rke2-uninstall.sh /usr/local/bin/rke2-uninstall.sh; do
      if [[ -x "${OCI_K8S_ROOT:-}$script" ]]; then "${OCI_K8S_ROOT:-}$script" >&2; fi
    done
    ;;
  kubeadm)
    if command -v kubeadm >/dev/null; then kubeadm reset -f >&2; fi
    ;;
  *) die "unknown distribution $dist" "use k3s, rke2 or kubeadm" ;;
esac
log "$dist removed from this node"
