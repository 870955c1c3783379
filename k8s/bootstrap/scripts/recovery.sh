#!/usr/bin/env bash
# What a cluster rebuilt from the bucket needs besides an etcd snapshot, kept beside the snapshots:
# the recovery bundle. Installed on every server when etcdBackupBucket is set.
#
#   recovery.sh install          from the bootstrap: this tool as /usr/local/sbin/oci-k8s-recovery,
#                                its settings (root-only) and a cron entry on SCHEDULE
#   oci-k8s-recovery run         from cron (or by hand): one bundle, encrypted to the operator's
#                                recovery certificate, uploaded as
#                                FOLDER/recovery-<host>-<time>.cms; the newest RETENTION kept
#   oci-k8s-recovery list        the bucket folder's objects (snapshots and bundles), one a line
#   oci-k8s-recovery fetch KEY FILE   one object of that folder into FILE (e.g. a kubeadm snapshot)
#   recovery.sh place-pki        from the bootstrap of a kubeadm rebuild, on the first server before
#                                its install: the old CAs and service-account key (settings: PKI,
#                                base64 of a tar.gz of etc/kubernetes/pki/...) into /etc/kubernetes/pki,
#                                which kubeadm init then uses instead of making new ones
#
# The bundle is a gzipped tar of paths relative to /, so that on a new host
# `openssl cms -decrypt ... | tar -xz -C /` puts each file back where it was:
#   k3s, RKE2  var/lib/rancher/DIST/server/token (the bootstrap data in etcd is encrypted with it)
#   kubeadm    etc/kubernetes/pki/{ca,front-proxy-ca}.{crt,key}, sa.{key,pub}, etcd/ca.{crt,key}
#              and etc/kubernetes/oci-k8s/encryption-config.yaml (the secretbox key of Secrets)
#   every one  var/lib/oci-k8s/recovery/sealed-secrets-keys.yaml (the Sealed Secrets controller's
#              keys, as its docs export them) and var/lib/oci-k8s/recovery/MANIFEST
# It is encrypted (CMS AuthEnvelopedData, AES-256-GCM; RFC 5652/5083, openssl cms) to
# RECOVERY_CERTIFICATE, whose private key only the operator holds: the bucket's key, which every
# server holds, does not open it. The plain bundle never touches the disk: tar writes to openssl.
#
# Settings (stdin of install): SCRIPT (this program), DIST (k3s, rke2, kubeadm), KUBECTL,
# SCHEDULE, RETENTION, RECOVERY_CERTIFICATE, S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_FOLDER,
# S3_ACCESS_KEY, S3_SECRET_KEY.
set -euo pipefail

action="${1:?usage: oci-k8s-recovery install | run | list | fetch KEY FILE | place-pki}"
root="${OCI_K8S_ROOT:-}"
settings_file="$root/etc/oci-k8s/recovery.settings"
tool="$root/usr/local/sbin/oci-k8s-recovery"
cert="$root/etc/oci-k8s/recovery.crt"
stored=(DIST KUBECTL SCHEDULE RETENTION S3_ENDPOINT S3_REGION S3_BUCKET S3_FOLDER S3_ACCESS_KEY S3_SECRET_KEY)

# s3 (s3.sh, in front of this script): signed requests to the bucket.

# keys PREFIX : the bucket's keys under FOLDER/PREFIX, newest first (names sort by time).
keys() {
  local listing
  listing="$(s3 GET "/$S3_BUCKET" "list-type=2&prefix=$S3_FOLDER/$1")" ||
    die "could not list $S3_BUCKET/$S3_FOLDER" "check the bucket settings and the customer secret key's permissions"
  grep -o '<Key>[^<]*</Key>' <<<"$listing" | sed 's/<[^>]*>//g' | sort -r
}

# The files the bundle holds, relative to $root/, by distribution.
members() {
  case "$DIST" in
    k3s | rke2) echo "var/lib/rancher/$DIST/server/token" ;;
    kubeadm)
      local f
      for f in ca.crt ca.key sa.key sa.pub front-proxy-ca.crt front-proxy-ca.key etcd/ca.crt etcd/ca.key; do
        echo "etc/kubernetes/pki/$f"
      done
      echo "etc/kubernetes/oci-k8s/encryption-config.yaml"
      ;;
    *) die "unknown distribution $DIST" "this is a bug in oci-k8s; report it" ;;
  esac
}

case "$action" in
  install)
    read_settings
    require_settings SCRIPT DIST KUBECTL SCHEDULE RETENTION RECOVERY_CERTIFICATE S3_ENDPOINT S3_REGION S3_BUCKET S3_FOLDER S3_ACCESS_KEY S3_SECRET_KEY
    printf '%s\n' "$RECOVERY_CERTIFICATE" | openssl x509 -noout 2>/dev/null ||
      die "the recovery certificate is not a PEM certificate openssl can read" "set etcdBackupRecoveryCertificate to the certificate (not the key) made as docs/operations.md shows"
    write_file "$tool" 755 "$SCRIPT" || true
    write_file "$cert" 644 "$RECOVERY_CERTIFICATE" || true
    lines=""
    for key in "${stored[@]}"; do
      lines+="$key=$(printf '%s' "${!key:-}" | base64 -w0)"$'\n'
    done
    write_file "$settings_file" 600 "${lines%$'\n'}" || true
    write_file "$root/etc/cron.d/oci-k8s-recovery" 644 "$SCHEDULE root /usr/local/sbin/oci-k8s-recovery run 2>&1 | logger -t oci-k8s-recovery" || true
    log "recovery bundles scheduled ($SCHEDULE), encrypted to $(openssl x509 -noout -subject <"$cert"), uploaded to $S3_BUCKET/$S3_FOLDER"
    ;;
  run)
    read_settings <"$settings_file"
    require_settings DIST KUBECTL RETENTION S3_BUCKET S3_FOLDER
    [[ -s "$cert" ]] || die "no recovery certificate $cert" "run pulumi up once to install it"
    umask 077
    mapfile -t files < <(members)
    for f in "${files[@]}"; do
      [[ -s "$root/$f" ]] || die "/$f is missing, so the bundle would not restore this cluster; nothing was uploaded" "is this server's $DIST install complete?"
    done
    # The plain bundle's parts (the Sealed Secrets keys among them) are staged in /run, which is
    # RAM (tmpfs) on Debian and Ubuntu: never on a disk, even if this run is killed before its trap.
    mkdir -p "$root/run/oci-k8s"
    stage="$(mktemp -d -p "$root/run/oci-k8s")"
    out=""
    trap 'rm -rf "$stage"; [[ -n "$out" ]] && rm -f "$out"' EXIT
    extra="var/lib/oci-k8s/recovery"
    mkdir -p "$stage/$extra"
    # The Sealed Secrets controller's keys (all of them: the controller renews its key every 30
    # days and keeps the old ones to unseal older SealedSecrets), as the project's README backs
    # them up: kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml.
    # kubectl's output goes to the root-only stage, never to the log.
    # shellcheck disable=SC2086 # KUBECTL is a command and its flags ("k3s kubectl", ...)
    $KUBECTL -n kube-system get secret -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml \
      >"$stage/$extra/sealed-secrets-keys.yaml" 2>"$stage/kubectl.err" ||
      die "kubectl could not read the Sealed Secrets keys: $(head -c 300 "$stage/kubectl.err"); nothing was uploaded" "check the API server on this server"
    sealed="$(grep -c 'sealedsecrets.bitnami.com/sealed-secrets-key' "$stage/$extra/sealed-secrets-keys.yaml" || true)"
    {
      echo "distribution $DIST"
      echo "host $(hostname)"
      echo "taken $(date -u +%Y-%m-%dT%H:%M:%SZ)"
      for f in "${files[@]}"; do echo "file /$f $(sha256sum <"$root/$f" | cut -d' ' -f1)"; done
    } >"$stage/$extra/MANIFEST"
    name="recovery-$(hostname)-$(date -u +%Y%m%dT%H%M%SZ).cms"
    out="$(mktemp "${TMPDIR:-/tmp}/$name.XXXXXX")"
    tar -cz --owner=0 --group=0 -C "$root/" "${files[@]}" -C "$stage" "$extra/MANIFEST" "$extra/sealed-secrets-keys.yaml" |
      openssl cms -encrypt -binary -aes-256-gcm -outform DER -out "$out" "$cert" ||
      die "could not make the encrypted bundle; nothing was uploaded" "check the recovery certificate $cert (openssl x509 -in $cert -noout -text)"
    retry 3 s3 PUT "/$S3_BUCKET/$S3_FOLDER/$name" "" "$out" >&2 ||
      die "the upload of $name to $S3_BUCKET failed" "check the bucket settings and the customer secret key"
    log "uploaded $S3_BUCKET/$S3_FOLDER/$name (${#files[@]} files, ${sealed:-0} Sealed Secrets key lines, encrypted to the recovery certificate)"
    mapfile -t stale < <(keys "recovery-$(hostname)-" | tail -n "+$((RETENTION + 1))")
    for key in "${stale[@]}"; do
      s3 DELETE "/$S3_BUCKET/$key" >&2 || log "could not delete old bundle $key from the bucket"
    done
    ;;
  list)
    read_settings <"$settings_file"
    keys ""
    ;;
  fetch)
    key="${2:?usage: oci-k8s-recovery fetch KEY FILE}"
    file="${3:?usage: oci-k8s-recovery fetch KEY FILE}"
    read_settings <"$settings_file"
    # A snapshot or bundle fetched here is as secret as etcdctl's own 0600 snapshots.
    umask 077
    key="${key#"$S3_FOLDER"/}"
    [[ "$key" =~ ^[A-Za-z0-9._-]+$ ]] || die "$key is not an object name of $S3_FOLDER" "give a name as 'oci-k8s-recovery list' prints it"
    s3 GET "/$S3_BUCKET/$S3_FOLDER/$key" >"$file.part" || { rm -f "$file.part"; die "could not fetch $S3_FOLDER/$key from $S3_BUCKET" "check the name with: oci-k8s-recovery list"; }
    mv "$file.part" "$file"
    log "fetched $S3_FOLDER/$key into $file ($(stat -c %s "$file") bytes)"
    ;;
  place-pki)
    read_settings
    require_settings PKI
    umask 077
    archive="$(mktemp)"
    trap 'rm -f "$archive"' EXIT
    printf '%s' "$PKI" | base64 -d >"$archive" 2>/dev/null || die "restoreKubeadmPki is not base64" "make it with: tar -czf - -C <bundle dir> etc/kubernetes/pki | base64 -w0"
    DIST=kubeadm
    mapfile -t want < <(members | grep '^etc/kubernetes/pki/')
    mapfile -t have < <(tar -tzf "$archive" 2>/dev/null | sed 's|^\./||' | grep -v '/$') || true
    for f in "${have[@]}"; do
      printf '%s\n' "${want[@]}" | grep -qxF -- "$f" || die "restoreKubeadmPki holds $f, which is not kubeadm's CA or service-account key; nothing was written" "make it from the bundle's etc/kubernetes/pki only"
    done
    for f in "${want[@]}"; do
      printf '%s\n' "${have[@]}" | grep -qxF -- "$f" || die "restoreKubeadmPki lacks $f; nothing was written" "make it from a whole recovery bundle"
    done
    # A server that already has a CA keeps it: the same one is fine, another means it was initialised
    # without the restore (kubeadm init would keep its own CA), which a rerun must not overwrite.
    if [[ -f "$root/etc/kubernetes/pki/ca.crt" ]]; then
      if tar -xzOf "$archive" etc/kubernetes/pki/ca.crt | cmp -s - "$root/etc/kubernetes/pki/ca.crt"; then
        log "the restored CAs are already in place"
        exit 0
      fi
      die "this server already has another CA in /etc/kubernetes/pki; nothing was written" "restore onto a new machine, or run 'kubeadm reset' here first (it removes this cluster)"
    fi
    mkdir -p "$root/etc/kubernetes/pki/etcd"
    tar -xzp --no-same-owner -C "$root/" -f "$archive" "${want[@]}" || die "could not unpack the restored PKI" "check the disk of this server"
    chmod 600 "$root"/etc/kubernetes/pki/*.key "$root"/etc/kubernetes/pki/etcd/*.key
    log "the old cluster's CAs and service-account key are in /etc/kubernetes/pki: kubeadm init uses them"
    ;;
  *) die "unknown action $action" "use install, run, list, fetch KEY FILE or place-pki" ;;
esac
