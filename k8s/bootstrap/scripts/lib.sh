#!/usr/bin/env bash
# Helpers shared by the bootstrap scripts; k8s/bootstrap/scripts.ts puts this file in front of
# each script it sends, so every script runs as one self-contained `bash -c` program.
#
# Settings arrive on standard input as KEY=<base64 of value> lines, so secrets (the cluster
# token, join material) never appear on a command line, in the environment of the SSH session
# or in a log. OCI_K8S_ROOT prefixes every path the scripts write (tests point it at a temp dir).
set -euo pipefail

retry_delay="${OCI_K8S_RETRY_DELAY:-5}"

log() { echo "[oci-k8s] $*" >&2; }

# die WHAT [WHAT TO TRY]
die() {
  log "FAILED: $1"
  if [[ $# -gt 1 ]]; then log "try: $2"; fi
  exit 1
}

# Reads KEY=<base64> lines from stdin into exported variables.
read_settings() {
  local line key value
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" ]] && continue
    key="${line%%=*}"
    [[ "$key" =~ ^[A-Z][A-Z0-9_]*$ ]] || die "a settings line has the malformed key '$key'" "this is a bug in oci-k8s; report it"
    value="$(printf '%s' "${line#*=}" | base64 -d)" || die "the value of $key is not base64" "this is a bug in oci-k8s; report it"
    export "$key=$value"
  done
}

# require_settings KEY...
require_settings() {
  local key
  for key in "$@"; do
    [[ -n "${!key:-}" ]] || die "setting $key is missing" "this is a bug in oci-k8s; report it"
  done
}

# retry ATTEMPTS COMMAND... : runs COMMAND until it succeeds, sleeping between attempts.
retry() {
  local attempts=$1 n=1
  shift
  until "$@"; do
    if ((n >= attempts)); then return 1; fi
    sleep "$retry_delay"
    n=$((n + 1))
  done
}

# download URL FILE [MAX_SECONDS] : fetches URL into FILE with curl, every attempt bounded (a
# connect timeout, and MAX_SECONDS for the whole transfer, 300 by default), at most
# OCI_K8S_DOWNLOAD_ATTEMPTS (5) attempts; before each retry a line says what is retried and why.
# With egress silently dropped, it fails within about ATTEMPTS x (connect timeout + retry delay).
download() {
  local url=$1 out=$2 max=${3:-300} attempts=${OCI_K8S_DOWNLOAD_ATTEMPTS:-5} n=1 status msg
  while true; do
    status=0
    msg="$(curl -sSfL --connect-timeout "${OCI_K8S_CONNECT_TIMEOUT:-10}" --max-time "$max" -o "$out" "$url" 2>&1)" || status=$?
    if ((status == 0)); then return 0; fi
    if ((n >= attempts)); then
      log "download of $url failed $n times; last: ${msg:-curl exited with status $status}"
      return "$status"
    fi
    log "download of $url failed (${msg:-curl exited with status $status}); retrying in ${retry_delay}s, attempt $((n + 1)) of $attempts"
    sleep "$retry_delay"
    n=$((n + 1))
  done
}

# The node's architecture as release files name it (amd64, arm64).
node_arch() {
  case "${OCI_K8S_ARCH:-$(uname -m)}" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) die "this node's architecture $(uname -m) has no Kubernetes release files" "use amd64 or arm64 hosts" ;;
  esac
}

# fetch_artifact NAME DEST : one file of the pinned artifacts (settings ARTIFACT_SOURCE, and
# ARTIFACTS, lines of "NAME SHA256") from the mirror URL or the directory pre-staged on this
# host, into DEST, refused unless its sha256 is the pinned one.
fetch_artifact() {
  local name=$1 dest=$2 want got
  want="$(awk -v n="$name" '$1 == n { print $2 }' <<<"$ARTIFACTS")"
  [[ -n "$want" ]] || die "artifactSha256 pins no $name, which this node needs" "add $name and its sha256 to the stack's artifactSha256"
  mkdir -p "$(dirname "$dest")"
  if [[ "$ARTIFACT_SOURCE" == /* ]]; then
    [[ -f "$ARTIFACT_SOURCE/$name" ]] ||
      die "$ARTIFACT_SOURCE/$name is not on this host" "copy the artifacts to $ARTIFACT_SOURCE on every host (artifactSource), then pulumi up again"
    cp "$ARTIFACT_SOURCE/$name" "$dest.part"
  else
    download "${ARTIFACT_SOURCE%/}/$name" "$dest.part" "${OCI_K8S_ARTIFACT_TIME:-1800}" ||
      die "could not download $name from the artifact mirror ${ARTIFACT_SOURCE%/}" "check that this node reaches the mirror (artifactSource) and that it serves $name"
  fi
  got="$(sha256sum "$dest.part" | awk '{ print $1 }')"
  if [[ "$got" != "$want" ]]; then
    rm -f "$dest.part"
    die "$name from $ARTIFACT_SOURCE has sha256 $got, not the pinned $want" "put the right file on the mirror or host, or pin its sha256 in artifactSha256"
  fi
  mv "$dest.part" "$dest"
  log "$name verified (sha256 $want)"
}

# apt_get ARGS... and apt_mark ARGS... : the one way the scripts run apt (the bootstrap's and the
# hosts' preparation alike). Another apt run (unattended-upgrades or apt-daily at a fresh host's
# boot) holding dpkg's or the package lists' lock is waited for instead of failing at once: a
# line when the wait starts and every 30 s, naming the lock and its holder; at most
# OCI_K8S_APT_LOCK_WAIT seconds (600), then it fails saying who held it. Every run is bounded:
# apt-get's network reads time out after OCI_K8S_APT_NET_TIMEOUT seconds (30) and are retried by
# apt itself (Acquire::Retries, 3; apt.conf(5)), and a run is stopped after OCI_K8S_APT_TIME
# seconds (900), with a line saying so (status 124). Any other failure returns the tool's status,
# with its output.
apt_get() { apt_run apt-get "$@"; }
apt_mark() { apt_run apt-mark "$@"; }

apt_run() {
  local tool=$1 bound=${OCI_K8S_APT_LOCK_WAIT:-600} max=${OCI_K8S_APT_TIME:-900} net=${OCI_K8S_APT_NET_TIMEOUT:-30}
  local start=$SECONDS said=-30 out status lock holder
  shift
  local -a opts=()
  if [[ "$tool" == apt-get ]]; then
    # DPkg::Lock::Timeout=0: apt fails at once on a held lock, and this loop says so while it waits.
    opts=(-o DPkg::Lock::Timeout=0 -o "Acquire::http::Timeout=$net" -o "Acquire::https::Timeout=$net" -o Acquire::Retries=3)
  fi
  out="$(mktemp)"
  while true; do
    status=0
    timeout "$max" "$tool" "${opts[@]}" "$@" >"$out" 2>&1 || status=$?
    lock="$(grep -oE 'Could not get lock /[^ ]+' "$out" | head -n 1 | sed 's/^Could not get lock //; s/\.$//')" || true
    # apt-mark's dpkg says it its own way (dpkg 1.21: "dpkg frontend lock was locked by another process").
    if [[ -z "$lock" ]] && grep -qE 'dpkg frontend lock (was|is) locked|Unable to acquire the dpkg frontend lock' "$out"; then
      lock=/var/lib/dpkg/lock-frontend
    fi
    if ((status == 0 || status == 124)) || [[ -z "$lock" ]]; then
      cat "$out" >&2
      rm -f "$out"
      if ((status == 124)); then log "$tool $* did not finish within ${max}s; stopped"; fi
      return "$status"
    fi
    holder="$(grep -oE '(held by|locked by another) process( with pid)? [0-9]+( \([^)]*\))?' "$out" | head -n 1 | sed -E 's/^(held by|locked by another) //')" || true
    if ((SECONDS - start >= bound)); then
      cat "$out" >&2
      rm -f "$out"
      die "$lock was held by ${holder:-another process} for ${bound}s, this step's bound for apt's lock" "another apt run (unattended-upgrades, apt-daily) is still busy: wait for it (systemctl status apt-daily.service apt-daily-upgrade.service), then run pulumi up again"
    fi
    if ((SECONDS - start - said >= 30)); then
      said=$((SECONDS - start))
      log "$lock is held by ${holder:-another process} (another apt run); waiting (${said}s so far, at most ${bound}s)"
    fi
    sleep "$retry_delay"
  done
}

# write_file PATH MODE CONTENT : writes atomically; returns 0 when the file changed, 1 when not.
write_file() {
  local path=$1 mode=$2 content=$3 tmp
  if [[ -f "$path" ]] && [[ "$(cat "$path")" == "$content" ]]; then return 1; fi
  mkdir -p "$(dirname "$path")"
  tmp="$(mktemp "$path.XXXXXX")"
  chmod "$mode" "$tmp"
  printf '%s\n' "$content" >"$tmp"
  mv "$tmp" "$path"
}

# private_iface ADDRESS : prints the network interface that holds ADDRESS (the node's privateIp).
# The pod network's VXLAN (8472/udp) must leave by it: the host firewall admits it from the
# hosts' privateIps only, and flannel would otherwise take the default route's interface.
private_iface() {
  local found
  found="$(ip -o -4 addr show | awk -v ip="$1" '{ split($4, a, "/"); if (a[1] == ip) { sub(/@.*/, "", $2); print $2; exit } }')"
  [[ -n "$found" ]] || die "no network interface of this host holds its privateIp $1 (ip -o -4 addr show lists none)" "set the host's privateIp to an IPv4 address it has, or give one of its interfaces that address"
  printf '%s\n' "$found"
}

# check_vip_interface : the interface apiVipInterface names (VIP_INTERFACE, when set) exists on
# this server, where kube-vip must announce the API address; checked before the install.
check_vip_interface() {
  [[ -n "${VIP_INTERFACE:-}" ]] || return 0
  ip -o link show dev "$VIP_INTERFACE" >/dev/null 2>&1 ||
    die "apiVipInterface $VIP_INTERFACE: this server has no such network interface (it has: $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); printf "%s ", $2 }'))" "set apiVipInterface to the servers' interface on the VIP's network, or leave it unset for the one holding privateIp"
}

# etcd_image_tool NAME DIR : copies NAME (etcd, etcdctl or etcdutl) out of the etcd image kubeadm's
# static pod manifest names (containerd: ctr images mount, read-only) into DIR and prints its path.
# kubeadm servers have no etcd tools of their own, and an air-gapped one cannot install any; the
# image is the one the cluster runs, so the tool matches its etcd. Fails (status 1, saying why)
# when there is no manifest, the image cannot be mounted or it has no NAME.
etcd_image_tool() {
  local name=$1 dir=$2 manifest="${OCI_K8S_ROOT:-}/etc/kubernetes/manifests/etcd.yaml" image mnt rc=0
  image="$(grep -o 'image: *[^ ]*etcd:[^ ]*' "$manifest" 2>/dev/null | head -n 1 | sed 's/image: *//')"
  [[ -n "$image" ]] || { log "no etcd image in $manifest"; return 1; }
  mnt="$(mktemp -d)"
  if ! ctr -n k8s.io images mount "$image" "$mnt" >/dev/null; then
    rmdir "$mnt"
    log "could not mount the etcd image $image (is containerd running? ctr -n k8s.io images ls | grep etcd)"
    return 1
  fi
  install -m 0755 "$mnt/usr/local/bin/$name" "$dir/$name" 2>/dev/null || rc=1
  ctr -n k8s.io images unmount "$mnt" >/dev/null || true
  rmdir "$mnt" 2>/dev/null || true
  ((rc == 0)) || { log "no /usr/local/bin/$name in the etcd image $image"; return 1; }
  echo "$dir/$name"
}

# kubeadm_etcdctl POD ARGS... : kubeadm's etcd runs as a static pod; its own etcdctl, in POD (an
# etcd pod on a server that stays), with that server's etcd certificates, against that pod's
# own etcd, or the ETCD_ENDPOINTS given.
kubeadm_etcdctl() {
  local pod=$1
  shift
  kctl -n kube-system exec "$pod" -- etcdctl --endpoints="${ETCD_ENDPOINTS:-https://127.0.0.1:2379}" \
    --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt \
    --key=/etc/kubernetes/pki/etcd/server.key "$@"
}

# Runs the distribution's kubectl (KUBECTL holds the command and its arguments).
kctl() {
  local -a cmd
  read -ra cmd <<<"$KUBECTL"
  "${cmd[@]}" "$@"
}
