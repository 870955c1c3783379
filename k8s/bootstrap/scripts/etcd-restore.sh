#!/usr/bin/env bash
# Restores a cluster's etcd from a snapshot; installed on every server as
# /usr/local/sbin/oci-k8s-etcd-restore.
#
#   oci-k8s-etcd-restore k3s|rke2 restore SNAPSHOT   on the first server: reset etcd to SNAPSHOT
#                                                    (a local path, or a snapshot name in the
#                                                    configured S3 bucket), then start again
#   oci-k8s-etcd-restore k3s|rke2 rejoin             on each other server, after the restore:
#                                                    set its etcd data aside and join again
#   oci-k8s-etcd-restore kubeadm restore SNAPSHOT    on the first server: stop etcd and the API
#                                                    (their static pods), restore SNAPSHOT (a
#                                                    local file) as a one-member etcd, start them
#                                                    again; other servers are then replaced
#                                                    (pulumi up --replace their instance)
#
# The server's config file (with the S3 settings) applies to a k3s/RKE2 reset too. Old data is
# moved aside, never deleted.
set -euo pipefail

dist="${1:?usage: oci-k8s-etcd-restore k3s|rke2|kubeadm restore SNAPSHOT | rejoin}"
action="${2:?usage: oci-k8s-etcd-restore k3s|rke2|kubeadm restore SNAPSHOT | rejoin}"
case "$dist" in
  k3s) service=k3s ;;
  rke2) service=rke2-server ;;
  kubeadm) ;;
  *) die "unknown distribution $dist" "use k3s, rke2 or kubeadm" ;;
esac
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

if [[ "$dist" == kubeadm ]]; then
  root="${OCI_K8S_ROOT:-}"
  manifests="$root/etc/kubernetes/manifests"
  paused="$root/etc/kubernetes/oci-k8s-paused"
  data="$root/var/lib/etcd"
  [[ "$action" == restore ]] || die "kubeadm servers other than the first rejoin by replacement" "run: pulumi up --replace <the server's instance URN> (see README, Backup and restore)"
  snapshot="${3:?usage: oci-k8s-etcd-restore kubeadm restore SNAPSHOT}"
  [[ -f "$snapshot" ]] || die "no snapshot file $snapshot" "snapshots are in /var/lib/oci-k8s/etcd-snapshots; download one from the bucket first"
  peer="$(grep -o -- '--initial-advertise-peer-urls=[^ "]*' "$manifests/etcd.yaml" | head -n 1 | cut -d= -f2)"
  [[ -n "$peer" ]] || die "cannot read the etcd peer address from $manifests/etcd.yaml" "is this a kubeadm control-plane node?"
  name="$(hostname)"
  log "stopping etcd and the API server (moving their static pod manifests aside)"
  mkdir -p "$paused"
  mv "$manifests/etcd.yaml" "$manifests/kube-apiserver.yaml" "$paused/"
  for _ in $(seq 1 "${OCI_K8S_STOP_WAIT:-60}"); do pgrep -x etcd >/dev/null || break; sleep 1; done
  restored="$data.restored-$stamp"
  ETCDCTL_API=3 etcdctl snapshot restore "$snapshot" --data-dir "$restored" --name "$name" \
    --initial-cluster "$name=$peer" --initial-advertise-peer-urls "$peer" >&2 ||
    die "etcdctl could not restore $snapshot" "etcd and the API are stopped; their manifests are in $paused (move them back to $manifests to start them on the old data)"
  if [[ -d "$data" ]]; then
    mv "$data" "$data.before-restore-$stamp"
    log "moved the old etcd data to $data.before-restore-$stamp"
  fi
  mv "$restored" "$data"
  mv "$paused/etcd.yaml" "$paused/kube-apiserver.yaml" "$manifests/"
  log "restored; etcd and the API start again. With more servers, replace each other one: pulumi up --replace <its instance URN>"
  exit 0
fi

db="${OCI_K8S_ROOT:-}/var/lib/rancher/$dist/server/db"

case "$action" in
  restore)
    snapshot="${3:?usage: oci-k8s-etcd-restore $dist restore SNAPSHOT}"
    log "stopping $service"
    systemctl stop "$service"
    log "resetting etcd to $snapshot"
    "$dist" server --cluster-reset --cluster-reset-restore-path="$snapshot" >&2 ||
      die "the reset to $snapshot failed" "check the snapshot name ('$dist etcd-snapshot ls') and the S3 settings in /etc/rancher/$dist/config.yaml; $service is stopped"
    systemctl start "$service"
    log "restored; now run 'oci-k8s-etcd-restore $dist rejoin' on every other server"
    ;;
  rejoin)
    log "stopping $service"
    systemctl stop "$service"
    if [[ -d "$db" ]]; then
      aside="$db.before-restore-$stamp"
      mv "$db" "$aside"
      log "moved the old etcd data to $aside"
    fi
    systemctl start "$service"
    log "$service started; it joins the restored cluster"
    ;;
  *) die "unknown action $action" "use restore SNAPSHOT or rejoin" ;;
esac
