#!/usr/bin/env bash
# Scheduled etcd snapshots for kubeadm servers (k3s and RKE2 take them from their own config).
#
#   etcd-snapshot.sh install   from the bootstrap: checks that an etcdctl is at hand (one on PATH,
#                              or the one in the etcd image the cluster runs: nothing is
#                              installed, so an air-gapped server needs no package archive), puts
#                              this script as /usr/local/sbin/oci-k8s-etcd-snapshot, its settings
#                              (root-only) and a cron entry on SCHEDULE
#   oci-k8s-etcd-snapshot run  from cron (or by hand): one snapshot of the local etcd member,
#                              the newest RETENTION kept, uploaded to the bucket when one is set
#
# Settings (stdin of install): SCRIPT (this program), SCHEDULE, RETENTION, and with a bucket
# S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_FOLDER, S3_ACCESS_KEY, S3_SECRET_KEY. The keys stay in
# the root-only settings file and reach curl on its stdin, never on a command line.
set -euo pipefail

action="${1:?usage: etcd-snapshot.sh install | run}"
root="${OCI_K8S_ROOT:-}"
settings_file="$root/etc/oci-k8s/etcd-snapshot.settings"
tool="$root/usr/local/sbin/oci-k8s-etcd-snapshot"
dir="$root/var/lib/oci-k8s/etcd-snapshots"
pki="$root/etc/kubernetes/pki/etcd"

# s3 (s3.sh, in front of this script): signed requests to the bucket.

case "$action" in
  install)
    read_settings
    require_settings SCRIPT SCHEDULE RETENTION
    if ! command -v etcdctl >/dev/null; then
      probe="$(mktemp -d)"
      etcd_image_tool etcdctl "$probe" >/dev/null ||
        { rm -rf "$probe"; die "no etcdctl for the snapshots: none on PATH and none from the etcd image" "check that this is a kubeadm server whose etcd pod runs (kubectl -n kube-system get pods -l component=etcd)"; }
      rm -rf "$probe"
    fi
    write_file "$tool" 755 "$SCRIPT" || true
    stored=(SCHEDULE RETENTION S3_ENDPOINT S3_REGION S3_BUCKET S3_FOLDER S3_ACCESS_KEY S3_SECRET_KEY)
    lines=""
    for key in "${stored[@]}"; do
      lines+="$key=$(printf '%s' "${!key:-}" | base64 -w0)"$'\n'
    done
    write_file "$settings_file" 600 "${lines%$'\n'}" || true
    write_file "$root/etc/cron.d/oci-k8s-etcd-snapshot" 644 "$SCHEDULE root /usr/local/sbin/oci-k8s-etcd-snapshot run 2>&1 | logger -t oci-k8s-etcd-snapshot" || true
    log "etcd snapshots scheduled ($SCHEDULE), keeping $RETENTION${S3_BUCKET:+, uploaded to $S3_BUCKET/$S3_FOLDER}"
    ;;
  run)
    read_settings <"$settings_file"
    require_settings RETENTION
    mkdir -p "$dir"
    # etcdctl: the one on PATH, or a copy out of the etcd image the cluster runs now (an upgrade
    # may have changed it), removed again after the run.
    etcdctl_bin="$(command -v etcdctl || true)"
    if [[ -z "$etcdctl_bin" ]]; then
      work="$(mktemp -d)"
      trap 'rm -rf "$work"' EXIT
      etcdctl_bin="$(etcd_image_tool etcdctl "$work")" ||
        die "no etcdctl: none on PATH and none from the etcd image" "check the etcd pod: kubectl -n kube-system get pods -l component=etcd"
    fi
    name="etcd-snapshot-$(hostname)-$(date -u +%Y%m%dT%H%M%SZ).db"
    # etcdctl writes <path>.part itself and renames it to <path> when the snapshot is complete:
    # it saves to NAME.tmp (never over a finished snapshot), which becomes NAME only when whole.
    # Leftovers of a killed run (NAME.tmp, NAME.tmp.part) are removed here and on failure.
    tmp="$dir/$name.tmp"
    find "$dir" -maxdepth 1 -name 'etcd-snapshot-*.db.tmp*' -delete
    # Bounded: etcdctl waits forever for an etcd that is down; timeout kills it (and KILLs it if
    # it ignores TERM), so cron runs never pile up.
    limit="${OCI_K8S_SNAPSHOT_TIMEOUT:-120}"
    rc=0
    ETCDCTL_API=3 timeout --kill-after=5 "$limit" "$etcdctl_bin" --endpoints="${OCI_K8S_ETCD_ENDPOINT:-https://127.0.0.1:2379}" \
      --cacert="$pki/ca.crt" --cert="$pki/healthcheck-client.crt" --key="$pki/healthcheck-client.key" \
      --dial-timeout=10s --command-timeout="${limit}s" snapshot save "$tmp" >&2 || rc=$?
    if ((rc != 0)); then
      rm -f "$tmp" "$tmp.part"
      ((rc == 124 || rc == 137)) && die "etcdctl could not take a snapshot within ${limit}s (etcd is down or not answering)" "check the etcd pod: kubectl -n kube-system get pods -l component=etcd"
      die "etcdctl could not take a snapshot" "check the etcd pod: kubectl -n kube-system get pods -l component=etcd"
    fi
    [[ -s "$tmp" ]] || die "etcdctl reported a snapshot but wrote no file $tmp" "check the disk space on this server"
    mv "$tmp" "$dir/$name"
    log "snapshot $dir/$name"
    # The newest RETENTION snapshots stay (names sort by time).
    mapfile -t old < <(find "$dir" -maxdepth 1 -name 'etcd-snapshot-*.db' -printf '%f\n' | sort -r | tail -n "+$((RETENTION + 1))")
    for f in "${old[@]}"; do rm -f "${dir:?}/$f"; done
    if [[ -n "${S3_BUCKET:-}" ]]; then
      retry 3 s3 PUT "/$S3_BUCKET/$S3_FOLDER/$name" "" "$dir/$name" >&2 ||
        die "the upload of $name to $S3_BUCKET failed; the snapshot is kept on this server" "check the bucket settings and the customer secret key"
      log "uploaded to $S3_BUCKET/$S3_FOLDER/$name"
      prefix="$S3_FOLDER/etcd-snapshot-$(hostname)-"
      listing="$(s3 GET "/$S3_BUCKET" "list-type=2&prefix=$prefix")" || die "could not list $S3_BUCKET to prune old snapshots" "check the key's permissions"
      mapfile -t stale < <(grep -o '<Key>[^<]*</Key>' <<<"$listing" | sed 's/<[^>]*>//g' | sort -r | tail -n "+$((RETENTION + 1))")
      for key in "${stale[@]}"; do
        s3 DELETE "/$S3_BUCKET/$key" >&2 || log "could not delete old snapshot $key from the bucket"
      done
    fi
    ;;
  *) die "unknown action $action" "use install or run" ;;
esac
