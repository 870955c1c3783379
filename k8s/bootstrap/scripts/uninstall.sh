#!/usr/bin/env bash
# Removes the distribution, and everything the bootstrap wrote, from a node that leaves the
# cluster or a stack being destroyed. Usage: uninstall.sh k3s|rke2|kubeadm
#
# It must work whatever the install got to: the config file with the cluster token is written
# before the download, so after a failed first install there may be no uninstall script of the
# distribution's own. Each thing is removed only if it is there; a second run changes nothing.
# Not removed: local etcd snapshots (/var/lib/oci-k8s/etcd-snapshots: data, and the only copy
# when no bucket is set) and the host preparation's files (cloud-init's on Oracle Cloud; on existing
# hosts prepare-host.sh remove takes them away, after this).
set -euo pipefail

dist="${1:?usage: uninstall.sh k3s|rke2|kubeadm}"
root="${OCI_K8S_ROOT:-}"
case "$dist" in
  k3s)
    for script in /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh; do
      if [[ -x "$root$script" ]]; then "$root$script" >&2; fi
    done
    ;;
  rke2)
    for script in /usr/bin/rke2-uninstall.sh /usr/local/bin/rke2-uninstall.sh; do
      if [[ -x "$root$script" ]]; then "$root$script" >&2; fi
    done
    ;;
  kubeadm)
    if command -v kubeadm >/dev/null; then kubeadm reset -f >&2; fi
    # The endpoint pin kubeadm.sh keeps in /etc/hosts and in cloud-init's hosts templates.
    for hosts in "$root/etc/hosts" "$root"/etc/cloud/templates/hosts.*.tmpl; do
      if grep -qs ' # oci-k8s control-plane endpoint$' "$hosts"; then
        grep -v ' # oci-k8s control-plane endpoint$' "$hosts" >"$hosts.oci-k8s" || true
        cat "$hosts.oci-k8s" >"$hosts"
        rm -f "$hosts.oci-k8s"
      fi
    done
    ;;
  *) die "unknown distribution $dist" "use k3s, rke2 or kubeadm" ;;
esac

# What the program wrote, whether or not the distribution's uninstaller ran (or existed): the
# distribution's config (the cluster token, the bucket keys), kubeadm's configuration and paused
# manifests, and the etcd and recovery tools with their settings (the bucket keys) and cron entries.
removed=()
for path in \
  "/etc/rancher/$dist" \
  /etc/kubernetes/oci-k8s \
  /etc/kubernetes/oci-k8s-paused \
  /usr/local/sbin/oci-k8s-etcd-restore \
  /usr/local/sbin/oci-k8s-etcd-snapshot \
  /usr/local/sbin/oci-k8s-etcd-drill \
  /etc/oci-k8s/etcd-restore.settings \
  /etc/oci-k8s/etcd-snapshot.settings \
  /etc/oci-k8s/etcd-drill.env \
  /etc/cron.d/oci-k8s-etcd-snapshot \
  /etc/cron.d/oci-k8s-etcd-drill \
  /usr/local/sbin/oci-k8s-recovery \
  /etc/oci-k8s/recovery.settings \
  /etc/oci-k8s/recovery.crt \
  /etc/cron.d/oci-k8s-recovery \
  /usr/local/lib/oci-k8s \
  /var/lib/node_exporter/textfile/etcd_drill.prom; do
  if [[ -e "$root$path" || -L "$root$path" ]]; then
    # Not "${root:?}": on a real host root is empty, and that expansion ends the script there.
    target="$root$path"
    rm -rf -- "$target"
    removed+=("$path")
  fi
done
rmdir "$root/etc/rancher" 2>/dev/null || true
if ((${#removed[@]})); then log "removed ${removed[*]}"; fi
log "$dist removed from this node"
