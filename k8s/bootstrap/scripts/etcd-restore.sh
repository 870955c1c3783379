#!/usr/bin/env bash
# Restores a k3s or RKE2 cluster's etcd from a snapshot; installed on every server as
# /usr/local/sbin/oci-k8s-etcd-restore.
#
#   oci-k8s-etcd-restore k3s|rke2 restore SNAPSHOT   on the first server: reset etcd to SNAPSHOT
#                                                    (a local path, or a snapshot name in the
#                                                    configured S3 bucket), then start again
#   oci-k8s-etcd-restore k3s|rke2 rejoin             on each other server, after the restore:
#                                                    set its etcd data aside and join again
#
# The server's config file (with the S3 settings) applies to the reset too. Old data is moved
# aside, never deleted.
set -euo pipefail

dist="${1:?usage: oci-k8s-etcd-restore k3s|rke2 restore SNAPSHOT | rejoin}"
action="${2:?usage: oci-k8s-etcd-restore k3s|rke2 restore SNAPSHOT | rejoin}"
case "$dist" in
  k3s) service=k3s ;;
  rke2) service=rke2-server ;;
  *) die "unknown distribution $dist" "use k3s or rke2" ;;
esac
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
      aside="$db.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
      mv "$db" "$aside"
      log "moved the old etcd data to $aside"
    fi
    systemctl start "$service"
    log "$service started; it joins the restored cluster"
    ;;
  *) die "unknown action $action" "use restore SNAPSHOT or rejoin" ;;
esac
