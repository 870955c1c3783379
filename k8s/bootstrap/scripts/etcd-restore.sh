#!/usr/bin/env bash
# Restores a cluster's etcd from a snapshot; installed on every etcd member (servers and
# etcd-only nodes) as /usr/local/sbin/oci-k8s-etcd-restore. The procedure, as RKE2's "Restoring a
# Snapshot to Existing Nodes" (docs.rke2.io/backup_restore) and k3s's cluster-reset docs give it:
#
#   1. oci-k8s-etcd-restore DIST stop               on every member but the first: stop it (k3s,
#                                                    rke2-server; kubeadm: its etcd and API static
#                                                    pods), so the old cluster has no quorum left
#   2. oci-k8s-etcd-restore DIST restore SNAPSHOT   on the first server: refuses while another
#                                                    member's etcd still answers; then resets etcd
#                                                    to SNAPSHOT (k3s/RKE2: a local path, or a
#                                                    snapshot name in the configured S3 bucket;
#                                                    kubeadm: a local file) and starts again
#   3. oci-k8s-etcd-restore k3s|rke2 rejoin         on every other member: set its etcd data aside
#                                                    and join the restored cluster; on kubeadm the
#                                                    other servers are replaced instead
#                                                    (pulumi up --replace their instance)
#
#   etcd-restore.sh install                          from the bootstrap: this tool and the other
#                                                    members' addresses (settings on stdin: SCRIPT,
#                                                    MEMBERS, one private IP a line)
#
# The server's config file (with the S3 settings) applies to a k3s/RKE2 reset too, so a local
# snapshot is restored with --etcd-s3=false (else the reset fetches a snapshot of that name from
# the bucket). Old data is moved aside, never deleted.
set -euo pipefail

usage="usage: oci-k8s-etcd-restore k3s|rke2|kubeadm stop | restore SNAPSHOT | rejoin"
members_file="${OCI_K8S_ROOT:-}/etc/oci-k8s/etcd-restore.settings"
if [[ "${1:-}" == install ]]; then
  read_settings
  require_settings SCRIPT
  write_file "${OCI_K8S_ROOT:-}/usr/local/sbin/oci-k8s-etcd-restore" 755 "$SCRIPT" || true
  write_file "$members_file" 600 "MEMBERS=$(printf '%s' "${MEMBERS:-}" | base64 -w0)" || true
  log "etcd restore tool installed: sudo oci-k8s-etcd-restore (see docs/operations.md, Restore)"
  exit 0
fi
dist="${1:?$usage}"
action="${2:?$usage}"
case "$dist" in
  k3s) service=k3s ;;
  rke2) service=rke2-server ;;
  kubeadm) ;;
  *) die "unknown distribution $dist" "use k3s, rke2 or kubeadm" ;;
esac
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
client_port="${OCI_K8S_ETCD_CLIENT_PORT:-2379}"

# others_stopped: refuses to go on while another member's etcd still accepts connections on its
# client port: the old cluster would keep its quorum (and its data) beside the restored one.
others_stopped() {
  [[ -f "$members_file" ]] || die "no member list $members_file" "run pulumi up once to install the restore tool with it, then try again"
  read_settings <"$members_file"
  local ip running=()
  while IFS= read -r ip; do
    [[ -z "$ip" ]] && continue
    if timeout 3 bash -c ": <'/dev/tcp/$ip/$client_port'" 2>/dev/null; then running+=("$ip"); fi
  done <<<"${MEMBERS:-}"
  ((${#running[@]} == 0)) ||
    die "etcd still runs on ${running[*]} (port $client_port): the old cluster would keep its quorum; nothing was changed" \
      "on each of those members run: sudo oci-k8s-etcd-restore $dist stop; then run this restore again"
}

# flag NAME: the value of --NAME=VALUE in the etcd static pod manifest.
flag() { grep -o -- "--$1=[^ \"]*" "$manifests/etcd.yaml" | head -n 1 | cut -d= -f2-; }

# etcd_tool VERSION: prints the path of an etcdutl of the running server's minor version. One
# given in OCI_K8S_ETCDUTL or on PATH is used when its version matches; otherwise it is copied
# out of the etcd image the cluster already runs (containerd: ctr images mount, read-only).
etcd_tool() {
  local want=$1 have tool="${OCI_K8S_ETCDUTL:-$(command -v etcdutl || true)}"
  if [[ -n "$tool" ]]; then
    have="$("$tool" version 2>/dev/null | sed -n 's/^etcdutl version: \([0-9]*\.[0-9]*\).*/\1/p')"
    [[ "$have" == "$want" ]] && { echo "$tool"; return; }
  fi
  etcd_image_tool etcdutl "$work" ||
    die "no etcdutl $want here, and none from the etcd image in $manifests/etcd.yaml (see above)" "set OCI_K8S_ETCDUTL to an etcdutl $want, or check containerd: ctr -n k8s.io images ls | grep etcd"
}

# stopped: etcd has let go of its database (bbolt holds an exclusive flock on it while it runs).
# The lock is taken and dropped at once on a descriptor of this shell's subshell.
stopped() { [[ ! -e "$data/member/snap/db" ]] || (flock -n 9) 9<"$data/member/snap/db"; }

if [[ "$dist" == kubeadm ]]; then
  root="${OCI_K8S_ROOT:-}"
  manifests="$root/etc/kubernetes/manifests"
  paused="$root/etc/kubernetes/oci-k8s-paused"
  if [[ "$action" == stop ]]; then
    mkdir -p "$paused"
    for pod in etcd kube-apiserver; do
      if [[ -f "$manifests/$pod.yaml" ]]; then mv "$manifests/$pod.yaml" "$paused/"; fi
    done
    log "etcd and the API server stop (their manifests are in $paused); after the restore on the first server, replace this server: pulumi up --replace <its instance URN>"
    exit 0
  fi
  [[ "$action" == restore ]] || die "kubeadm servers other than the first rejoin by replacement" "run: pulumi up --replace <the server's instance URN> (see docs/operations.md, Restore)"
  snapshot="${3:?usage: oci-k8s-etcd-restore kubeadm restore SNAPSHOT}"
  [[ -f "$snapshot" ]] || die "no snapshot file $snapshot" "snapshots are in /var/lib/oci-k8s/etcd-snapshots; download one from the bucket first"
  [[ -f "$manifests/etcd.yaml" ]] || die "no $manifests/etcd.yaml" "is this a kubeadm control-plane node with etcd running?"
  peer="$(flag initial-advertise-peer-urls)"
  name="$(flag name)"
  data="$root$(flag data-dir)"
  [[ -n "$peer" && -n "$name" && "$data" != "$root" ]] || die "cannot read --name, --initial-advertise-peer-urls and --data-dir from $manifests/etcd.yaml" "is this a kubeadm control-plane node?"
  version="$(grep -o 'image: *[^ ]*etcd:[0-9]*\.[0-9]*' "$manifests/etcd.yaml" | head -n 1 | sed 's/.*etcd://')"
  version="${OCI_K8S_ETCD_VERSION:-$version}"
  [[ -n "$version" ]] || die "cannot read etcd's version from the image in $manifests/etcd.yaml" "set OCI_K8S_ETCD_VERSION (e.g. 3.6)"
  work="$(mktemp -d)"
  restored="$data.restored-$stamp"
  # Until the new data is in place, any failure removes the half-built directory.
  trap 'rm -rf "$work" "$restored"' EXIT
  # The restore itself runs first, while etcd still serves: it checks the snapshot's appended
  # SHA-256, so a corrupt or truncated file is refused before anything is stopped.
  log "restoring $snapshot as member $name (etcd $version) into $restored"
  if [[ "$version" == 3.4 ]]; then
    # 3.4's restore cannot bump the revision: Kubernetes watches may see it go back.
    log "warning: etcd 3.4 cannot bump the revision on restore; restart every kube-apiserver and watcher afterwards"
    ETCDCTL_API=3 etcdctl snapshot restore "$snapshot" --data-dir "$restored" --name "$name" \
      --initial-cluster "$name=$peer" --initial-advertise-peer-urls "$peer" >&2 ||
      die "etcdctl refused the snapshot $snapshot (corrupt or truncated?); nothing was stopped" "take or download another snapshot"
  else
    etcdutl="$(etcd_tool "$version")"
    # The revision jumps past anything a client has seen and the old ones read as compacted, so
    # Kubernetes watches start over instead of going back in time.
    "$etcdutl" snapshot restore "$snapshot" --data-dir "$restored" --name "$name" \
      --initial-cluster "$name=$peer" --initial-advertise-peer-urls "$peer" \
      --bump-revision "${OCI_K8S_BUMP_REVISION:-1000000000}" --mark-compacted >&2 ||
      die "etcdutl refused the snapshot $snapshot (corrupt or truncated?); nothing was stopped" "take or download another snapshot"
  fi
  others_stopped
  log "stopping etcd and the API server (moving their static pod manifests aside)"
  mkdir -p "$paused"
  mv "$manifests/etcd.yaml" "$manifests/kube-apiserver.yaml" "$paused/"
  wait="${OCI_K8S_STOP_WAIT:-60}"
  for ((i = 0; i < wait; i++)); do stopped && break; sleep 1; done
  if ! stopped; then
    mv "$paused/etcd.yaml" "$paused/kube-apiserver.yaml" "$manifests/"
    die "etcd did not stop within ${wait}s; the restore is aborted and the manifests are back (etcd keeps its old data)" "find out why the kubelet did not stop the etcd pod (crictl ps; journalctl -u kubelet), then try again"
  fi
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
    config="${OCI_K8S_ROOT:-}/etc/rancher/$dist/config.yaml"
    # --cluster-reset-restore-path takes a local file by its full path, or with etcd-s3 set (in the
    # config file, which the reset reads) the name of a snapshot in the bucket. With etcd-s3 in the
    # config, a local file needs --etcd-s3=false, or the reset looks for it in the bucket (RKE2
    # docs, backup_restore: "Restoring a local snapshot" when S3 is configured).
    from=()
    if [[ -f "$snapshot" ]]; then
      snapshot="$(realpath "$snapshot")"
      from=(--etcd-s3=false)
    elif [[ "$snapshot" == */* ]]; then
      die "no snapshot file $snapshot" "list them: $dist etcd-snapshot ls"
    elif ! grep -qs '^etcd-s3: *true' "$config"; then
      die "$snapshot is not a local file and no S3 bucket is configured in $config" "give the full path of a local snapshot (in /var/lib/rancher/$dist/server/db/snapshots)"
    fi
    others_stopped
    log "stopping $service"
    systemctl stop "$service"
    log "resetting etcd to $snapshot"
    "$dist" server --cluster-reset --cluster-reset-restore-path="$snapshot" "${from[@]}" >&2 ||
      die "the reset to $snapshot failed" "check the snapshot name ('$dist etcd-snapshot ls') and the S3 settings in /etc/rancher/$dist/config.yaml; $service is stopped"
    systemctl start "$service"
    log "restored; now run 'oci-k8s-etcd-restore $dist rejoin' on every other server and etcd member"
    ;;
  stop)
    log "stopping $service"
    systemctl stop "$service"
    log "$service stopped; once the first server is restored, run: sudo oci-k8s-etcd-restore $dist rejoin"
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
  *) die "unknown action $action" "use stop, restore SNAPSHOT or rejoin" ;;
esac
