#!/usr/bin/env bash
# Restore drill for servers: proves, on a schedule, that the newest local snapshot restores into a
# working etcd.
#
#   etcd-drill.sh install      from the bootstrap: this script as /usr/local/sbin/oci-k8s-etcd-drill
#                              and a cron entry on SCHEDULE (settings on stdin: SCRIPT, SCHEDULE).
#                              k3s and RKE2 embed etcd and ship no etcd tools: their settings add
#                              ETCD_URL, ETCD_SHA256, ETCD_VERSION and SNAPSHOT_DIR, and the release
#                              tarball is downloaded, checked against ETCD_SHA256 and installed under
#                              /usr/local/lib/oci-k8s (a wrong sum installs and schedules nothing)
#   oci-k8s-etcd-drill run     from cron, or by hand: restores the newest snapshot into a temporary
#                              directory, starts a throwaway etcd from it in a network namespace
#                              of its own (unshare -n: only its own loopback, which nothing else on
#                              the server shares, so no process or pod can reach its plain-text
#                              client port, and no squatter on the host's ports answers for it), checks
#                              that it answers with the snapshot's revision and holds KEY
#                              (/registry/namespaces/kube-system), stops it by its PID and removes it
#
# The result goes to node-exporter's textfile collector (etcd_drill.prom): success, revision,
# duration and the time of the last run and last success; the EtcdRestoreDrill alerts read them.
# The restore uses the etcd version the cluster runs: on kubeadm, from the etcd static pod manifest,
# with etcdutl and etcd of that version from PATH, OCI_K8S_ETCDUTL / OCI_K8S_ETCD, or copied out of
# the etcd image; on k3s and RKE2, the release installed with the drill (/etc/oci-k8s/etcd-drill.env).
set -euo pipefail

action="${1:?usage: etcd-drill.sh install | run}"
root="${OCI_K8S_ROOT:-}"
tool="$root/usr/local/sbin/oci-k8s-etcd-drill"
dir="$root/var/lib/oci-k8s/etcd-snapshots"
manifests="$root/etc/kubernetes/manifests"
metrics="${OCI_K8S_DRILL_METRICS:-$root/var/lib/node_exporter/textfile}"
address="${OCI_K8S_DRILL_ADDRESS:-127.0.0.1}"
client="http://$address:${OCI_K8S_DRILL_CLIENT_PORT:-23790}"
peer="http://$address:${OCI_K8S_DRILL_PEER_PORT:-23800}"
key="${OCI_K8S_DRILL_KEY:-/registry/namespaces/kube-system}"
drill_env="$root/etc/oci-k8s/etcd-drill.env"
glob='etcd-snapshot-*.db'
etcdctl_bin=etcdctl
# k3s and RKE2: where their snapshots are, and the etcd release installed for the drill.
if [[ -f "$drill_env" ]]; then
  # shellcheck source=/dev/null
  source "$drill_env"
  dir="$root$SNAPSHOT_DIR"
  glob='etcd-snapshot-*'
  export OCI_K8S_ETCD="${OCI_K8S_ETCD:-$root$ETCD_BIN_DIR/etcd}" OCI_K8S_ETCDUTL="${OCI_K8S_ETCDUTL:-$root$ETCD_BIN_DIR/etcdutl}"
  etcdctl_bin="$root$ETCD_BIN_DIR/etcdctl"
fi

# report SUCCESS REVISION: writes the metrics (atomically: a .prom file is never read half-written).
report() {
  local ok=$1 revision=$2 now last=0
  now="$(date +%s)"
  [[ -f "$metrics/etcd_drill.prom" ]] &&
    last="$(sed -n 's/^oci_k8s_etcd_drill_last_success_timestamp_seconds \([0-9]*\)$/\1/p' "$metrics/etcd_drill.prom")"
  ((ok == 1)) && last=$now
  mkdir -p "$metrics"
  cat >"$metrics/etcd_drill.prom.tmp" <<METRICS
# HELP oci_k8s_etcd_drill_success Whether the last restore drill of the newest etcd snapshot passed.
# TYPE oci_k8s_etcd_drill_success gauge
oci_k8s_etcd_drill_success $ok
# HELP oci_k8s_etcd_drill_last_run_timestamp_seconds When the last restore drill ran.
# TYPE oci_k8s_etcd_drill_last_run_timestamp_seconds gauge
oci_k8s_etcd_drill_last_run_timestamp_seconds $now
# HELP oci_k8s_etcd_drill_last_success_timestamp_seconds When a restore drill last passed (0: never).
# TYPE oci_k8s_etcd_drill_last_success_timestamp_seconds gauge
oci_k8s_etcd_drill_last_success_timestamp_seconds ${last:-0}
# HELP oci_k8s_etcd_drill_revision The etcd revision the last drill restored.
# TYPE oci_k8s_etcd_drill_revision gauge
oci_k8s_etcd_drill_revision $revision
# HELP oci_k8s_etcd_drill_duration_seconds How long the last restore drill took.
# TYPE oci_k8s_etcd_drill_duration_seconds gauge
oci_k8s_etcd_drill_duration_seconds $((now - started))
METRICS
  mv "$metrics/etcd_drill.prom.tmp" "$metrics/etcd_drill.prom"
}

# fail MESSAGE HINT: the drill failed; the metric says so, then the script exits 1.
fail() {
  report 0 0
  die "restore drill failed: $1" "$2"
}

# binary NAME VERSION: NAME (etcd, etcdctl or etcdutl) of the cluster's etcd minor VERSION.
binary() {
  local name=$1 want=$2 override tool have
  override="OCI_K8S_$(tr '[:lower:]' '[:upper:]' <<<"$name")"
  tool="${!override:-$(command -v "$name" || true)}"
  if [[ -n "$tool" ]]; then
    have="$("$tool" --version 2>/dev/null | sed -n 's/^etcd[a-z]* [Vv]ersion: \([0-9]*\.[0-9]*\).*/\1/p' | head -n 1)"
    [[ -z "$have" ]] && have="$("$tool" version 2>/dev/null | sed -n 's/^etcd[a-z]* version: \([0-9]*\.[0-9]*\).*/\1/p' | head -n 1)"
    [[ "$have" == "$want" ]] && { echo "$tool"; return; }
  fi
  etcd_image_tool "$name" "$work"
}

# fetch_release: downloads ETCD_URL, checks ETCD_SHA256, installs etcd, etcdctl and etcdutl under
# /usr/local/lib/oci-k8s/etcd-v$ETCD_VERSION and records where the drill finds them and the snapshots.
fetch_release() {
  require_settings ETCD_SHA256 ETCD_VERSION SNAPSHOT_DIR
  local bin_dir="/usr/local/lib/oci-k8s/etcd-v$ETCD_VERSION" tmp
  tmp="$(mktemp -d)"
  retry 5 curl -fsSL --max-time 300 -o "$tmp/etcd.tar.gz" "$ETCD_URL" || { rm -rf "$tmp"; die "could not download $ETCD_URL" "check the server's access to github.com, then run pulumi up again"; }
  if ! sha256sum -c - <<<"$ETCD_SHA256  $tmp/etcd.tar.gz" >/dev/null 2>&1; then
    rm -rf "$tmp"
    die "$ETCD_URL does not match its pinned sha256 $ETCD_SHA256; nothing was installed" "the download was altered, or the pinned sum is wrong (k8s/bootstrap/etcd-release.ts)"
  fi
  tar -xzf "$tmp/etcd.tar.gz" -C "$tmp" --strip-components=1
  mkdir -p "$root$bin_dir"
  for name in etcd etcdctl etcdutl; do install -m 0755 "$tmp/$name" "$root$bin_dir/$name"; done
  rm -rf "$tmp"
  write_file "$drill_env" 644 "SNAPSHOT_DIR=$SNAPSHOT_DIR
ETCD_BIN_DIR=$bin_dir
ETCD_MINOR=${ETCD_VERSION%.*}" || true
  log "etcd $ETCD_VERSION installed for the drill (sha256 checked)"
}

case "$action" in
  install)
    read_settings
    require_settings SCRIPT SCHEDULE
    if [[ -n "${ETCD_URL:-}" ]]; then fetch_release; fi
    write_file "$tool" 755 "$SCRIPT" || true
    write_file "$root/etc/cron.d/oci-k8s-etcd-drill" 644 "$SCHEDULE root /usr/local/sbin/oci-k8s-etcd-drill run 2>&1 | logger -t oci-k8s-etcd-drill" || true
    log "etcd restore drill scheduled ($SCHEDULE); run it by hand: sudo oci-k8s-etcd-drill run"
    ;;
  run)
    started="$(date +%s)"
    work="$(mktemp -d)"
    pid=""
    # The throwaway etcd is stopped by its PID and its directory removed, whatever happens.
    cleanup() {
      if [[ -n "$pid" ]]; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
      fi
      rm -rf "$work"
    }
    trap cleanup EXIT
    snapshot="$(find "$dir" -maxdepth 1 -type f -name "$glob" ! -name '*.tmp*' ! -name '*.part' 2>/dev/null | sort | tail -n 1)"
    [[ -n "$snapshot" ]] || fail "no snapshot in $dir" "take one: sudo oci-k8s-etcd-snapshot run"
    version="$(grep -o 'image: *[^ ]*etcd:[0-9]*\.[0-9]*' "$manifests/etcd.yaml" 2>/dev/null | head -n 1 | sed 's/.*etcd://')" || true
    version="${OCI_K8S_ETCD_VERSION:-${ETCD_MINOR:-$version}}"
    [[ -n "$version" ]] || fail "cannot read etcd's version from $manifests/etcd.yaml" "set OCI_K8S_ETCD_VERSION (e.g. 3.6)"
    etcd="$(binary etcd "$version")" || fail "no etcd $version binary" "set OCI_K8S_ETCD or check that containerd has the etcd image"
    # kubeadm: an etcdctl to ask the restored etcd, from the same image when none is on PATH.
    if [[ ! -f "$drill_env" && "$version" != 3.4 ]]; then
      etcdctl_bin="$(binary etcdctl "$version")" || fail "no etcdctl $version binary" "set OCI_K8S_ETCDCTL or check that containerd has the etcd image"
    fi
    log "drill: restoring $snapshot (etcd $version) into $work"
    restore=(snapshot restore "$snapshot" --data-dir "$work/data" --name drill --initial-cluster "drill=$peer" --initial-advertise-peer-urls "$peer")
    if [[ "$version" == 3.4 ]]; then
      status="$(ETCDCTL_API=3 etcdctl snapshot status -w json "$snapshot" 2>&1)" || fail "the snapshot is unreadable: $status" "take another snapshot"
      ETCDCTL_API=3 etcdctl "${restore[@]}" >"$work/restore.log" 2>&1 || fail "the restore failed: $(tail -n 3 "$work/restore.log")" "the snapshot $snapshot is corrupt or truncated; take another"
    else
      etcdutl="$(binary etcdutl "$version")" || fail "no etcdutl $version binary" "set OCI_K8S_ETCDUTL or check that containerd has the etcd image"
      status="$("$etcdutl" snapshot status -w json "$snapshot" 2>&1)" || fail "the snapshot is unreadable: $status" "take another snapshot"
      "$etcdutl" "${restore[@]}" >"$work/restore.log" 2>&1 || fail "the restore failed: $(tail -n 3 "$work/restore.log")" "the snapshot $snapshot is corrupt or truncated; take another"
    fi
    expected="$(grep -o '"revision": *[0-9]*' <<<"$status" | grep -o '[0-9]*$')"
    # The throwaway etcd serves without TLS: it runs in a new network namespace whose loopback is
    # its alone, and etcdctl joins that namespace (nsenter) to ask it.
    # shellcheck disable=SC2016 # $@ is the inner shell's
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' drill-netns \
      "$etcd" --name drill --data-dir "$work/data" --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "drill=$peer" >"$work/etcd.log" 2>&1 &
    pid=$!
    ctl=(nsenter --net="/proc/$pid/ns/net" env ETCDCTL_API=3 "$etcdctl_bin" --endpoints="$client" --dial-timeout=2s --command-timeout=5s)
    own_net="$(readlink /proc/self/ns/net)"
    for _ in $(seq 1 "${OCI_K8S_DRILL_WAIT:-30}"); do
      kill -0 "$pid" 2>/dev/null || fail "the restored etcd exited: $(tail -n 3 "$work/etcd.log")" "read the log above"
      # Until unshare has made its namespace, the process is still in this one: never ask there.
      [[ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$own_net" ]] || { sleep 0.1; continue; }
      "${ctl[@]}" endpoint health >/dev/null 2>&1 && break
      sleep 1
    done
    endpoint="$("${ctl[@]}" endpoint status -w json 2>&1)" || fail "the restored etcd did not answer: $(tail -n 3 "$work/etcd.log")" "read the log above"
    revision="$(grep -o '"revision": *[0-9]*' <<<"$endpoint" | head -n 1 | grep -o '[0-9]*$')"
    [[ "$revision" == "$expected" ]] || fail "the restored etcd is at revision ${revision:-none}, the snapshot at $expected" "the snapshot is damaged"
    [[ -n "$("${ctl[@]}" get --keys-only "$key" 2>/dev/null)" ]] || fail "the restored etcd has no key $key" "the snapshot is not of this cluster's etcd, or it is empty"
    report 1 "$revision"
    log "restore drill passed: $snapshot restored at revision $revision with $key"
    ;;
  *) die "unknown action $action" "use install or run" ;;
esac
