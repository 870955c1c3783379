#!/usr/bin/env bash
# Installs or joins a kubeadm node. Usage: kubeadm.sh init|join|join-material|revoke|rejoin-material|revoke-rejoin ...
#
#   init                      first server: packages, `kubeadm init`, the CNI; on a running
#                             control plane at another version, `kubeadm upgrade apply`
#   join                      another server or an agent: packages, `kubeadm join`; on a joined
#                             node at another version, `kubeadm upgrade node`
#   join-material server|agent on the first server: prints a fresh join token (15 minutes), the
#                             CA hash and, for a server, a certificate key, as settings lines
#   revoke                    on the first server once a node has joined: deletes its token
#                             (JOIN_TOKEN) and the uploaded control-plane certificates, so the
#                             material kept in Pulumi's state is dead
#   rejoin-material           on another server, before the first server's install: when the
#                             cluster answers there and the first server (FIRST_NAME) is no
#                             working member (its Node not Ready and its etcd member gone or
#                             not answering: a replaced machine), removes the dead etcd member
#                             and Node, and prints server join material; otherwise prints nothing
#   revoke-rejoin             on that server after the first server's install: revoke, when
#                             JOIN_TOKEN is set (rejoin material was made), else nothing
#
# Settings (stdin): for init and join VERSION (v1.34.4) and CONFIG (the kubeadm configuration),
# for init also CNI_MANIFEST (URL or local path of the pinned CNI manifest), and on a replaced first server
# REJOIN_CONFIG (a control-plane JoinConfiguration with material from a live server) and
# REJOIN_API_ADDRESS (that server); for revoke JOIN_TOKEN; join-material reads none. With a control-plane endpoint name, init and join also get API_NAME
# and API_ADDRESS (what the name resolves to here, pinned in /etc/hosts), and a joining server
# API_ADDRESS_JOINED (itself, once it serves the API). init and join also get NODE_IP (the
# node's privateIp, which must be on one of its interfaces: flannel's VXLAN leaves by it) and,
# on servers with kube-vip and an apiVipInterface, VIP_INTERFACE (which must exist here). Servers
# get ENCRYPTION_CONFIG, the API server's EncryptionConfiguration (secret; a root-only file).
# On container hosts (containerHosts) init and join get CGROUP_DRIVER=cgroupfs (containerd's, as
# the kubelet's), CGROUP_ROOT (the kubelet's --cgroup-root, made before each kubelet start) and
# OOM_SCORE_ADJ_RESTRICTED=true (containerd's restrict_oom_score_adj).
set -euo pipefail

action="${1:?usage: kubeadm.sh init|join|join-material|revoke|rejoin-material|revoke-rejoin}"
read_settings # join-material gets no stdin and revoke only JOIN_TOKEN: each action requires its own
admin_conf="${OCI_K8S_ROOT:-}/etc/kubernetes/admin.conf"
export KUBECTL="kubectl --kubeconfig $admin_conf"

# kube-flannel leaves by the interface holding each node's own IP: FLANNELD_IFACE (the env form
# of --iface, which takes an IP or a name) from the pod's status.hostIP, the node's InternalIP,
# which is the kubelet's node-ip (the privateIp). One patch serves every node.
FLANNEL_IFACE_PATCH='{"spec":{"template":{"spec":{"containers":[{"name":"kube-flannel","env":[{"name":"FLANNELD_IFACE","valueFrom":{"fieldRef":{"fieldPath":"status.hostIP"}}}]}]}}}}'

# check_private_iface : the node's privateIp is on one of its interfaces, or the install stops here.
check_private_iface() {
  local iface
  iface="$(private_iface "$NODE_IP")"
  log "the pod network leaves by $iface, which holds $NODE_IP"
  check_vip_interface
}

# write_encryption_config : a server's EncryptionConfiguration, where its API server reads it, before kubeadm.
write_encryption_config() {
  [[ -n "${ENCRYPTION_CONFIG:-}" ]] || return 0
  write_file "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/encryption-config.yaml" 600 "$ENCRYPTION_CONFIG" || true
}

# api_identity FILE : the control-plane endpoint and API certificate names a kubeadm config (as
# the program writes it) sets, one per line, sorted.
api_identity() {
  awk '/^controlPlaneEndpoint:/ { print; next } /^  certSANs:/ { s = 1; next } s && /^    - / { print "certSAN " $2; next } { s = 0 }' "$1" | sort
}

# refuse_api_change : kubeadm applies neither a new controlPlaneEndpoint nor new certSANs to a
# running cluster (they are baked into certificates and kubeconfigs at init): stop before
# anything changes rather than report success with the old ones.
refuse_api_change() {
  local stored="${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kubeadm.yaml" was now
  [[ -f "$stored" ]] || return 0
  was="$(api_identity "$stored")"
  now="$(api_identity <(printf '%s\n' "${CONFIG:?}"))"
  [[ "$was" == "$now" ]] && return 0
  die "the API endpoint or certificate names of this running kubeadm cluster would change (was: $(tr '\n' ' ' <<<"$was"); now: $(tr '\n' ' ' <<<"$now")), and kubeadm does not apply them to a running cluster" \
    "set apiVip, apiAddress and extraSans back; or, to change them, on every server move /etc/kubernetes/pki/apiserver.{crt,key} aside, run 'kubeadm init phase certs apiserver --config' with the new names, restart the kube-apiserver static pod, write the new config to $stored, then pulumi up again"
}

package() { printf '%s=%s-1.1' "$1" "${VERSION#v}"; }

# pin_line FILE LINE : LINE is the one line of FILE naming API_NAME as ours (replacing an older one).
pin_line() {
  local file=$1 line=$2
  touch "$file"
  if grep -qxF "$line" "$file"; then return 0; fi
  grep -v " $API_NAME # oci-k8s control-plane endpoint$" "$file" >"$file.oci-k8s" || true
  printf '%s\n' "$line" >>"$file.oci-k8s"
  cat "$file.oci-k8s" >"$file"
  rm -f "$file.oci-k8s"
}

# pin_api ADDRESS : the control-plane endpoint's name resolves to ADDRESS on this node (one
# managed line in /etc/hosts); nothing happens without API_NAME. cloud-init with
# manage_etc_hosts: true renders /etc/hosts from /etc/cloud/templates/hosts.<os family>.tmpl at
# every boot (cloud-init cc_update_etc_hosts, PER_ALWAYS), so the line goes into every hosts
# template present too, and survives a reboot.
pin_api() {
  [[ -n "${API_NAME:-}" ]] || return 0
  [[ -n "$1" ]] || die "setting API_ADDRESS is missing" "this is a bug in oci-k8s; report it"
  local root="${OCI_K8S_ROOT:-}" line="$1 $API_NAME # oci-k8s control-plane endpoint" template
  mkdir -p "$root/etc"
  pin_line "$root/etc/hosts" "$line"
  for template in "$root"/etc/cloud/templates/hosts.*.tmpl; do
    if [[ -f "$template" ]]; then pin_line "$template" "$line"; fi
  done
  log "$API_NAME resolves to $1"
}

# The pkgs.k8s.io repository of VERSION's minor release (each minor has its own).
add_repository() {
  local minor="${VERSION%.*}" keyring="${OCI_K8S_ROOT:-}/etc/apt/keyrings/kubernetes-apt-keyring.gpg"
  mkdir -p "$(dirname "$keyring")"
  download "https://pkgs.k8s.io/core:/stable:/$minor/deb/Release.key" "$keyring.asc" 60 ||
    die "could not download the Kubernetes package key for $minor" "check that $VERSION is a Kubernetes release and the node reaches pkgs.k8s.io"
  gpg --batch --yes --dearmor -o "$keyring" "$keyring.asc"
  write_file "${OCI_K8S_ROOT:-}/etc/apt/sources.list.d/kubernetes.list" 644 "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/$minor/deb/ /" || true
  retry 5 apt_get update -q >&2 || die "apt-get update failed" "check the node's outbound internet access"
}

# apt_install PACKAGE... : the pinned packages, held so unattended upgrades leave them alone.
apt_install() {
  apt_get install -y -q --allow-change-held-packages "$@" >&2 ||
    die "could not install $*" "check that $VERSION is published at pkgs.k8s.io for ${VERSION%.*}"
  apt_mark hold kubelet kubeadm kubectl >&2
}

# containerd's own default config with the systemd cgroup driver, and as its sandbox (pause)
# image the one kubeadm uses (`kubeadm config images list`), not containerd 1.6's default
# registry.k8s.io/pause:3.6, which kubeadm warns about and an air-gapped node cannot pull.
# With CGROUP_DRIVER=cgroupfs (container hosts) containerd keeps runc's cgroupfs driver, as the
# kubelet; with OOM_SCORE_ADJ_RESTRICTED=true (container hosts, which may lack CAP_SYS_RESOURCE, as
# unprivileged containers do) containerd gives no container an OOM score below its own, which the
# kernel would refuse, so no pod could start (containerd's restrict_oom_score_adj, as for rootless).
configure_containerd() {
  local pause systemd_cgroup=true restrict_oom=false
  pause="$(kubeadm config images list --kubernetes-version "$VERSION" 2>/dev/null | grep -m1 '/pause:' || true)"
  if [[ "${CGROUP_DRIVER:-systemd}" == cgroupfs ]]; then systemd_cgroup=false; fi
  if [[ "${OOM_SCORE_ADJ_RESTRICTED:-false}" == true ]]; then restrict_oom=true; fi
  local file="${OCI_K8S_ROOT:-}/etc/containerd/config.toml" config
  mkdir -p "${OCI_K8S_ROOT:-}/etc/containerd"
  config="$(containerd config default | sed -e "s/SystemdCgroup = false/SystemdCgroup = $systemd_cgroup/" \
    -e "s/restrict_oom_score_adj = false/restrict_oom_score_adj = $restrict_oom/" \
    -e "${pause:+s|sandbox_image = .*|sandbox_image = \"$pause\"|}")"
  # An unchanged configuration (a patch upgrade keeps the pause image) needs no restart.
  if [[ -f "$file" && "$(cat "$file")" == "$config" ]]; then return 0; fi
  printf '%s\n' "$config" >"$file"
  systemctl restart containerd >&2
  # After a restart containerd's CRI refuses every call ("server is not initialized yet") until
  # it has loaded its state; kubeadm's preflight, run next, fails on that instead of waiting.
  local attempts="${OCI_K8S_CRI_ATTEMPTS:-30}"
  ((attempts == 0)) || retry "$attempts" cri_ready ||
    die "containerd's CRI did not answer within $attempts attempts after its restart" "read 'journalctl -u containerd' on the node"
}

# cri_ready : containerd's CRI answers its Version call (gRPC over its socket; status 0).
cri_ready() {
  local headers
  headers="$(printf '\0\0\0\0\0' | curl -s --max-time 5 --http2-prior-knowledge --unix-socket "${OCI_K8S_CONTAINERD_SOCKET:-/run/containerd/containerd.sock}" \
    -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -D - -o /dev/null \
    http://localhost/runtime.v1.RuntimeService/Version 2>/dev/null)" || return 1
  grep -qi '^grpc-status: *0' <<<"$headers"
}

# install_binaries NAME... : kubeadm, kubelet or kubectl of VERSION from the pinned artifacts
# (their release binaries, `-arm64` on arm64) into /usr/bin, where the packages put them and
# kubelet.service runs it from.
install_binaries() {
  local suffix name
  suffix="$([[ "$(node_arch)" == amd64 ]] || echo "-$(node_arch)")"
  for name in "$@"; do
    fetch_artifact "$name$suffix" "${OCI_K8S_ROOT:-}/usr/bin/$name"
    chmod 755 "${OCI_K8S_ROOT:-}/usr/bin/$name"
  done
}

# import_images : every image of VERSION that kubeadm and the CNI pull (the pinned
# kube-images-<arch>.tar) into containerd's k8s.io namespace: at install, and before an upgrade,
# whose control-plane, kube-proxy and CoreDNS images an air-gapped node cannot pull either.
import_images() {
  local arch work
  arch="$(node_arch)"
  work="$(mktemp -d)"
  fetch_artifact "kube-images-$arch.tar" "$work/kube-images.tar"
  ctr --namespace k8s.io images import "$work/kube-images.tar" >&2 ||
    die "containerd refused the pinned kube-images-$arch.tar" "read ctr's output above; the file must be a docker save or OCI image tarball"
  rm -rf "$work"
}

# Air-gapped (settings ARTIFACT_SOURCE and ARTIFACTS): kubeadm's install without a package manager
# (kubernetes.io, "Installing kubeadm") from the pinned files: the binaries, the packages'
# kubelet.service and its kubeadm drop-in, the CNI plugins into /opt/cni/bin (what the
# kubernetes-cni package holds), and every image kubeadm and the CNI pull into containerd's k8s.io
# namespace, so the node pulls nothing. containerd itself is the host's: no archive is reached.
install_from_artifacts() {
  local root="${OCI_K8S_ROOT:-}" arch work
  arch="$(node_arch)"
  command -v containerd >/dev/null ||
    die "containerd is not installed, and an air-gapped kubeadm install reaches no package archive" "install your OS's containerd and runc packages on every host (Debian/Ubuntu: apt-get install containerd), then pulumi up again"
  log "installing kubeadm/kubelet/kubectl $VERSION from the pinned artifacts"
  install_binaries kubeadm kubelet kubectl
  fetch_artifact kubelet.service "$root/etc/systemd/system/kubelet.service"
  fetch_artifact 10-kubeadm.conf "$root/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
  work="$(mktemp -d)"
  fetch_artifact "cni-plugins-linux-$arch.tgz" "$work/cni-plugins.tgz"
  mkdir -p "$root/opt/cni/bin"
  tar -xzf "$work/cni-plugins.tgz" -C "$root/opt/cni/bin" --no-same-owner
  rm -rf "$work"
  configure_containerd
  import_images
  systemctl daemon-reload >&2
  systemctl enable kubelet >&2
}

# Air-gapped, the first server applies the pinned kube-flannel.yml instead of the manifest's URL.
if [[ "$action" == init && -n "${ARTIFACT_SOURCE:-}" ]]; then
  cni_local="${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kube-flannel.yml"
  fetch_artifact kube-flannel.yml "$cni_local"
  CNI_MANIFEST="$cni_local"
fi

# cgroup_root : with CGROUP_ROOT (container hosts), the kubelet's cgroup root is made in every
# cgroup v1 controller (or the v2 tree) before each kubelet start (a drop-in's ExecStartPre): the
# kubelet refuses a --cgroup-root that does not exist, and a new cpuset cgroup has no CPUs until
# given its parent's.
cgroup_root() {
  [[ -n "${CGROUP_ROOT:-}" ]] || return 0
  [[ "$CGROUP_ROOT" =~ ^/[a-z0-9][a-z0-9.-]*$ ]] || die "setting CGROUP_ROOT is not a cgroup name: $CGROUP_ROOT" "this is a bug in oci-k8s; report it"
  local root="${OCI_K8S_ROOT:-}" helper=/usr/local/sbin/oci-k8s-kubelet-cgroup-root
  write_file "$root$helper" 755 "#!/bin/sh
# oci-k8s (containerHosts): makes the kubelet's --cgroup-root $CGROUP_ROOT in every controller.
set -eu
for c in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  [ -e \"\${c}cgroup.procs\" ] || continue
  d=\"\${c}${CGROUP_ROOT#/}\"
  mkdir -p \"\$d\"
  for f in cpuset.cpus cpuset.mems; do
    if [ -e \"\$d/\$f\" ] && [ -z \"\$(cat \"\$d/\$f\")\" ]; then cat \"\${c}\$f\" >\"\$d/\$f\"; fi
  done
done" || true
  write_file "$root/etc/systemd/system/kubelet.service.d/20-oci-k8s-cgroup-root.conf" 644 "[Service]
ExecStartPre=$helper" || true
  systemctl daemon-reload >&2
}

install_packages() {
  if [[ "$(kubeadm version -o short 2>/dev/null)" == "$VERSION" ]]; then return 0; fi
  if [[ -n "${ARTIFACT_SOURCE:-}" ]]; then
    install_from_artifacts
    return 0
  fi
  log "installing containerd and kubeadm/kubelet/kubectl $VERSION"
  retry 5 apt_get update -q >&2 || die "apt-get update failed" "check the node's outbound internet access"
  apt_get install -y -q containerd conntrack socat gpg >&2 || die "could not install containerd" "read the apt output above"
  add_repository
  apt_install "$(package kubelet)" "$(package kubeadm)" "$(package kubectl)"
  configure_containerd
  systemctl enable kubelet >&2
}

# install_node : what every new node gets before kubeadm init or join: the packages (or the pinned
# artifacts) and, on container hosts, the kubelet's cgroup root.
install_node() {
  install_packages
  cgroup_root
}

# upgrade apply|node : kubeadm's own order: the kubeadm package, `kubeadm upgrade` (the control
# plane first, on the first server), then kubelet and kubectl, and a kubelet restart. The node
# was drained before (rollout.sh) and is uncordoned after.
upgrade() {
  local running
  running="$(kubelet --version 2>/dev/null | awk '{ print $2 }')"
  if [[ "$running" == "$VERSION" ]]; then
    log "kubelet already runs $VERSION; nothing to upgrade"
    return 0
  fi
  log "upgrading this node from ${running:-an unknown version} to $VERSION"
  if [[ -n "${ARTIFACT_SOURCE:-}" ]]; then
    install_binaries kubeadm
    import_images
  else
    add_repository
    apt_install "$(package kubeadm)"
  fi
  # The new version's pause image for containerd's sandboxes (the node is drained; running
  # containers outlive containerd's restart).
  configure_containerd
  if [[ "$1" == apply ]]; then
    kubeadm upgrade apply -y "$VERSION" >&2 ||
      die "kubeadm upgrade apply $VERSION failed" "read its output above; it rolls back on failure, so pulumi up again retries"
  else
    kubeadm upgrade node >&2 || die "kubeadm upgrade node failed" "read its output above, then pulumi up again"
  fi
  if [[ -n "${ARTIFACT_SOURCE:-}" ]]; then
    install_binaries kubelet kubectl
  else
    apt_install "$(package kubelet)" "$(package kubectl)"
  fi
  systemctl daemon-reload >&2
  systemctl restart kubelet >&2
}

# print_join_material server|agent : a fresh join token (15 minutes), the CA hash and, for a
# server, a certificate key (the control-plane certificates uploaded for 2 hours), as settings lines.
print_join_material() {
  local join token hash key stored
  local -a upload_config=()
  join="$(kubeadm token create --ttl 15m --print-join-command)" || die "could not create a join token" "check the control plane with 'kubectl get nodes' on this server"
  token="$(awk '{ for (i = 1; i < NF; i++) if ($i == "--token") print $(i + 1) }' <<<"$join")"
  hash="$(awk '{ for (i = 1; i < NF; i++) if ($i == "--discovery-token-ca-cert-hash") print $(i + 1) }' <<<"$join")"
  [[ -n "$token" && -n "$hash" ]] || die "kubeadm printed an unexpected join command" "run 'kubeadm token create --print-join-command' on this server"
  printf 'JOIN_TOKEN=%s\nCA_CERT_HASH=%s\n' "$(printf '%s' "$token" | base64 -w0)" "$(printf '%s' "$hash" | base64 -w0)"
  if [[ "$1" == server ]]; then
    # With the stored init configuration: without one, kubeadm defaults the API server's address
    # from the default route, and a node without one (air-gapped) gets 0.0.0.0, which it refuses.
    stored="${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kubeadm.yaml"
    if [[ -f "$stored" ]]; then upload_config=(--config "$stored"); fi
    key="$(kubeadm init phase upload-certs --upload-certs "${upload_config[@]}" 2>/dev/null | tail -n 1)" || key=""
    [[ "$key" =~ ^[0-9a-f]{64}$ ]] || die "kubeadm did not print a certificate key" "run 'kubeadm init phase upload-certs --upload-certs --config $stored' on this server"
    printf 'CERTIFICATE_KEY=%s\n' "$(printf '%s' "$key" | base64 -w0)"
  fi
}

# rejoin_material : see the usage above. A first server that is a working member (Ready, or its
# etcd member answering) is left alone, so a re-run of this step never touches a live cluster.
rejoin_material() {
  local ready etcd_pod member id client
  if [[ ! -f "$admin_conf" ]] || ! kctl get --raw=/readyz --request-timeout=10s >/dev/null 2>&1; then
    log "no control plane answers on this server: $FIRST_NAME founds the cluster"
    return 0
  fi
  # etcd's membership decides: a first server reset or replaced a moment ago (kubeadm reset
  # removes its member) can still be a Ready Node for the 40 s before the node controller notices,
  # and founding a cluster beside this one would split it in two.
  etcd_pod="$(kctl -n kube-system get pods -l component=etcd --field-selector "spec.nodeName!=$FIRST_NAME,status.phase=Running" -o 'jsonpath={.items[0].metadata.name}')"
  [[ -n "$etcd_pod" ]] || die "the cluster answers but no etcd member but $FIRST_NAME's runs" "check 'kubectl -n kube-system get pods -l component=etcd' on this server"
  member="$(kubeadm_etcdctl "$etcd_pod" member list | awk -F', ' -v name="$FIRST_NAME" '$3 == name { print $1 " " $5 }')" ||
    die "could not list the etcd members through $etcd_pod" "check etcd with 'kubectl -n kube-system logs $etcd_pod'"
  if [[ -n "$member" ]]; then
    read -r id client <<<"$member"
    if ETCD_ENDPOINTS="$client" kubeadm_etcdctl "$etcd_pod" endpoint health --command-timeout=5s >/dev/null 2>&1; then
      log "the etcd member of $FIRST_NAME answers at $client: nothing to rejoin"
      return 0
    fi
    ready="$(kctl get node "$FIRST_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)"
    if [[ "$ready" == True ]]; then
      log "$FIRST_NAME is a Ready node of this cluster (its etcd member at $client does not answer now): nothing to rejoin"
      return 0
    fi
    # kubeadm join checks etcd's health before it adds a member: the dead one goes first.
    kubeadm_etcdctl "$etcd_pod" member remove "$id" >&2 || die "could not remove the dead etcd member $id ($FIRST_NAME)" "check etcd with 'kubectl -n kube-system logs $etcd_pod'"
    log "the dead etcd member $id of $FIRST_NAME ($client) removed"
  else
    log "$FIRST_NAME has no etcd member in this cluster (its machine was reset or replaced)"
  fi
  kctl delete node "$FIRST_NAME" --ignore-not-found --wait=false >&2
  log "$FIRST_NAME was replaced: it rejoins this cluster as a control-plane node"
  print_join_material server
}

# apply_cni : the CNI manifest (flannel): a URL is downloaded within download's bounds, a file
# (a pinned artifact) taken as it is; then applied with a bounded request, retried.
apply_cni() {
  local manifest="$CNI_MANIFEST" fetched=""
  if [[ "$CNI_MANIFEST" == http://* || "$CNI_MANIFEST" == https://* ]]; then
    fetched="$(mktemp)"
    manifest="$fetched"
    download "$CNI_MANIFEST" "$manifest" 60 ||
      die "could not download the CNI manifest $CNI_MANIFEST" "check the node's outbound access to github.com, or install from pinned artifacts (artifactSource)"
  fi
  retry 5 kctl apply --request-timeout=60s -f "$manifest" >&2 ||
    die "could not apply the CNI manifest $CNI_MANIFEST" "check the API with 'kubectl get --raw=/readyz' on the first server"
  if [[ -n "$fetched" ]]; then rm -f "$fetched"; fi
}

case "$action" in
  init)
    require_settings VERSION CONFIG CNI_MANIFEST NODE_IP ENCRYPTION_CONFIG
    check_private_iface
    write_encryption_config
    pin_api "${API_ADDRESS:-}"
    if [[ -f "$admin_conf" ]]; then
      refuse_api_change
      log "control plane already initialised"
      upgrade apply
    elif [[ -n "${REJOIN_CONFIG:-}" ]]; then
      # A replaced first server: the cluster it founded lives on; it joins as a control-plane
      # node through a live server instead of starting a new cluster with `kubeadm init`.
      require_settings REJOIN_API_ADDRESS
      log "the cluster lives on at $REJOIN_API_ADDRESS: this replaced first server joins it"
      install_node
      pin_api "$REJOIN_API_ADDRESS"
      write_file "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml" 600 "$REJOIN_CONFIG" || true
      kubeadm join --config "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml" >&2 ||
        die "kubeadm join (rejoining the cluster) failed" "read its output above; 'kubeadm reset -f' on this node, then pulumi up again"
      rm -f "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml"
      # From here on it is the first server again: its API endpoint is itself, and its config is
      # the one later runs compare with (refuse_api_change).
      write_file "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kubeadm.yaml" 600 "$CONFIG" || true
      pin_api "${API_ADDRESS:-}"
    else
      install_node
      write_file "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kubeadm.yaml" 600 "$CONFIG" || true
      # Its output reaches the deploy log: no join token, no certificate key in it (joins get
      # their own, made just before and deleted just after).
      kubeadm init --config "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/kubeadm.yaml" --upload-certs \
        --skip-token-print --skip-certificate-key-print >&2 ||
        die "kubeadm init failed" "read its output above; 'kubeadm reset -f' on the node starts over"
    fi
    retry 60 kctl get --raw=/readyz >/dev/null || die "the Kubernetes API did not become ready" "read 'journalctl -u kubelet' on the node"
    apply_cni
    retry 5 kctl -n kube-flannel patch daemonset kube-flannel-ds --request-timeout=60s --type strategic -p "$FLANNEL_IFACE_PATCH" >&2 ||
      die "could not point flannel at each node's private interface" "check 'kubectl -n kube-flannel get daemonset kube-flannel-ds' on the first server"
    log "control plane ready"
    ;;
  join-material)
    print_join_material "${2:?usage: kubeadm.sh join-material server|agent}"
    ;;
  rejoin-material)
    require_settings FIRST_NAME
    rejoin_material
    ;;
  join)
    require_settings VERSION CONFIG NODE_IP
    check_private_iface
    write_encryption_config
    if [[ -f "${OCI_K8S_ROOT:-}/etc/kubernetes/kubelet.conf" ]]; then
      pin_api "${API_ADDRESS_JOINED:-${API_ADDRESS:-}}"
      log "already joined"
      upgrade node
    else
      install_node
      pin_api "${API_ADDRESS:-}"
      write_file "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml" 600 "$CONFIG" || true
      kubeadm join --config "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml" >&2 ||
        die "kubeadm join failed" "read its output above; 'kubeadm reset -f' on this node, then pulumi up again"
      # The token inside expires in 15 minutes; the file has no further use.
      rm -f "${OCI_K8S_ROOT:-}/etc/kubernetes/oci-k8s/join.yaml"
      # A joined server serves the API itself: its kubelet follows its own API server.
      if [[ -n "${API_ADDRESS_JOINED:-}" ]]; then pin_api "$API_ADDRESS_JOINED"; fi
    fi
    retry 60 systemctl is-active --quiet kubelet || die "kubelet did not stay active" "read 'journalctl -u kubelet' on the node"
    log "joined"
    ;;
  revoke-rejoin | revoke)
    if [[ "$action" == revoke-rejoin && -z "${JOIN_TOKEN:-}" ]]; then
      log "no rejoin material was made; nothing to revoke"
      exit 0
    fi
    require_settings JOIN_TOKEN
    kubeadm token delete "${JOIN_TOKEN%%.*}" >&2 || log "token ${JOIN_TOKEN%%.*} was already gone"
    kctl -n kube-system delete secret kubeadm-certs --ignore-not-found >&2
    log "join material revoked"
    ;;
  *) die "unknown action $action" "use init, join, join-material, revoke, rejoin-material or revoke-rejoin" ;;
esac
