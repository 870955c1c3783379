#!/usr/bin/env bash
# Scheduled etcd snapshots for kubeadm servers (k3s and RKE2 take them from their own config).
#
#   etcd-snapshot.sh install   from the bootstrap: installs etcdctl (Ubuntu's etcd-client), this
#                              script as /usr/local/sbin/oci-k8s-etcd-snapshot, its settings
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

# s3 METHOD PATH [QUERY [FILE]] : one request signed with AWS Signature V4 here (python3, which
# every Ubuntu image has for cloud-init), not by curl: curl before 7.87 leaves out
# x-amz-content-sha256, which S3 and OCI's S3 compatibility API require. The payload hash is the
# file's real SHA-256. The whole request (URL, headers, signature) reaches curl on its stdin; the
# keys reach python3 in its environment; neither is on a command line.
s3() {
  local method=$1 path=$2 query=${3:-} file=${4:-}
  local upload=()
  [[ -n "$file" ]] && upload=(-T "$file")
  S3_ACCESS_KEY="$S3_ACCESS_KEY" S3_SECRET_KEY="$S3_SECRET_KEY" S3_ENDPOINT="$S3_ENDPOINT" S3_REGION="$S3_REGION" \
    S3_SCHEME="${OCI_K8S_S3_SCHEME:-https}" python3 -c "$sigv4" "$method" "$path" "$query" "$file" |
    curl -K - --fail --silent --show-error --max-time "${OCI_K8S_S3_TIMEOUT:-600}" "${upload[@]}"
}
sigv4='
import datetime, hashlib, hmac, os, sys, urllib.parse
method, path, query, payload = sys.argv[1:5]
e = os.environ
h = hashlib.sha256()
if payload:
    with open(payload, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
body = h.hexdigest()
amz = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
q = lambda v: urllib.parse.quote(v, safe="-_.~")
cpath = urllib.parse.quote(path, safe="/-_.~")
cquery = "&".join(q(k) + "=" + q(v) for k, v in sorted(urllib.parse.parse_qsl(query, keep_blank_values=True)))
headers = {"host": e["S3_ENDPOINT"], "x-amz-content-sha256": body, "x-amz-date": amz}
signed = ";".join(sorted(headers))
canonical = "\n".join([method, cpath, cquery] + [k + ":" + headers[k] for k in sorted(headers)] + ["", signed, body])
scope = amz[:8] + "/" + e["S3_REGION"] + "/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(canonical.encode()).hexdigest()])
key = ("AWS4" + e["S3_SECRET_KEY"]).encode()
for part in (amz[:8], e["S3_REGION"], "s3", "aws4_request"):
    key = hmac.new(key, part.encode(), hashlib.sha256).digest()
signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
print("url = \"%s://%s%s%s\"" % (e["S3_SCHEME"], e["S3_ENDPOINT"], cpath, "?" + cquery if cquery else ""))
print("request = \"%s\"" % method)
print("header = \"x-amz-date: %s\"" % amz)
print("header = \"x-amz-content-sha256: %s\"" % body)
print("header = \"Authorization: AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s\"" % (e["S3_ACCESS_KEY"], scope, signed, signature))
'

case "$action" in
  install)
    read_settings
    require_settings SCRIPT SCHEDULE RETENTION
    if ! command -v etcdctl >/dev/null; then
      retry 5 with_apt_lock apt-get update -q >&2 || die "apt-get update failed" "check the node's outbound internet access"
      with_apt_lock apt-get install -y -q etcd-client >&2 || die "could not install etcd-client (etcdctl)" "read the apt output above"
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
    ETCDCTL_API=3 timeout --kill-after=5 "$limit" etcdctl --endpoints="${OCI_K8S_ETCD_ENDPOINT:-https://127.0.0.1:2379}" \
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
