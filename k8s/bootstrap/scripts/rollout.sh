#!/usr/bin/env bash
# One node's turn in a rolling change (a new Kubernetes version, or a new shape or size of its
# instance), run on the first server around the node's own steps. Usage: rollout.sh drain|uncordon
#
#   drain     before the node changes: when it runs another version than VERSION, or another
#             machine than MACHINE (as recorded when it last came up), cordon and drain it.
#             A new node, or one already on VERSION and MACHINE, is left alone.
#   uncordon  after the node changed: wait until it is Ready on VERSION (and, after a machine
#             change, until it has rebooted), then uncordon it if drain cordoned it and record
#             MACHINE. A node that never comes back stops the rollout here, still cordoned;
#             `pulumi up` again resumes with this node.
#
# A drain that does not finish within its timeout (a PodDisruptionBudget that allows no eviction:
# Rook's OSDs and mons, Longhorn's instance managers, CloudNativePG's primary) stops the rollout
# there, the node cordoned, as Kubespray does by default (upgrade_node_fail_if_drain_fails: true),
# unless FORCE is true (the stack's rolloutForce). Before a node is drained and after it is back,
# the storage must be healthy: every CephCluster at HEALTH_OK, every attached Longhorn volume
# healthy; a storage system that is not installed is not waited for.
#
# Settings (stdin): KUBECTL, KUBECONFIG_PATH (the admin kubeconfig, whose absence means no
# cluster yet), NODE_NAME, VERSION, MACHINE, FORCE (true|false), DRAIN_TIMEOUT (the stack's
# rolloutDrainTimeout, like 600s).
set -euo pipefail

action="${1:?usage: rollout.sh drain|uncordon}"
read_settings
require_settings KUBECTL KUBECONFIG_PATH NODE_NAME VERSION MACHINE FORCE DRAIN_TIMEOUT
[[ "$FORCE" == true || "$FORCE" == false ]] || die "setting FORCE is '$FORCE', not true or false" "this is a bug in oci-k8s; report it"
attempts="${OCI_K8S_READY_ATTEMPTS:-120}"
storage_attempts="${OCI_K8S_STORAGE_ATTEMPTS:-120}"
[[ "$DRAIN_TIMEOUT" =~ ^[1-9][0-9]*s$ ]] || die "setting DRAIN_TIMEOUT is '$DRAIN_TIMEOUT', not a number of seconds like 600s" "this is a bug in oci-k8s; report it"
# Annotations this script keeps on the node.
drained="oci-k8s.io/drained"
reboot_from="oci-k8s.io/reboot-from"
machine_key="oci-k8s.io/machine"

field() { kctl get node "$NODE_NAME" --ignore-not-found -o "jsonpath=$1"; }
annotation() { field "{.metadata.annotations.${1//./\\.}}"; }

# storage_problems: one line per storage system that is not healthy (nothing when all are, or
# none is installed). Rook: CephCluster .status.ceph.health (HEALTH_OK, HEALTH_WARN, HEALTH_ERR);
# Longhorn: Volume .status.state and .status.robustness (healthy, degraded, faulted, unknown; a
# detached volume has no robustness to check).
storage_problems() {
  local line
  if [[ -n "$(kctl get crd cephclusters.ceph.rook.io --ignore-not-found -o name)" ]]; then
    while IFS=' ' read -r line; do
      [[ -z "$line" ]] && continue
      [[ "${line#* }" == HEALTH_OK ]] || echo "CephCluster ${line% *} is ${line#* }"
    done < <(kctl get cephclusters.ceph.rook.io -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.ceph.health}{"\n"}{end}')
  fi
  if [[ -n "$(kctl get crd volumes.longhorn.io --ignore-not-found -o name)" ]]; then
    local name state robustness
    while IFS=' ' read -r name state robustness; do
      [[ -z "$name" || "$state" != attached ]] && continue
      [[ "$robustness" == healthy ]] || echo "Longhorn volume $name is ${robustness:-unknown}"
    done < <(kctl get volumes.longhorn.io -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.state} {.status.robustness}{"\n"}{end}')
  fi
}

# storage_healthy WHEN: waits until the storage is healthy; otherwise the rollout stops (FORCE:
# goes on with a warning).
storage_problems_now=""
storage_clear() {
  storage_problems_now="$(storage_problems)" || storage_problems_now="its status could not be read"
  [[ -z "$storage_problems_now" ]]
}
storage_healthy() {
  storage_clear && return 0
  log "waiting for the storage to be healthy $1: ${storage_problems_now//$'\n'/; }"
  retry "$storage_attempts" storage_clear && return 0
  local problems="${storage_problems_now//$'\n'/; }"
  if [[ "$FORCE" == true ]]; then
    log "WARNING: the storage is not healthy $1 ($problems); going on because rolloutForce is true"
    return 0
  fi
  die "the storage is not healthy $1 ($problems); the rollout stops here" \
    "check it (Rook: kubectl get cephclusters -A, the HEALTH column and its message; Longhorn: kubectl -n longhorn-system get volumes.longhorn.io); once healthy, pulumi up resumes with node $NODE_NAME"
}

api_ready() {
  retry 60 kctl get --raw=/readyz >/dev/null ||
    die "the Kubernetes API does not answer" "check the servers with 'systemctl status' and their logs, then run pulumi up again"
}

case "$action" in
  drain)
    if [[ ! -f "${OCI_K8S_ROOT:-}$KUBECONFIG_PATH" ]]; then
      log "no cluster on this server yet; nothing to drain"
      exit 0
    fi
    api_ready
    running="$(field '{.status.nodeInfo.kubeletVersion}')" || die "could not read node $NODE_NAME" "check the API with kubectl get nodes"
    if [[ -z "$running" ]]; then
      log "node $NODE_NAME is not in the cluster yet; nothing to drain"
      exit 0
    fi
    recorded="$(annotation "$machine_key")"
    reasons=()
    if [[ "$running" != "${VERSION:?}" ]]; then reasons+=("version $running -> $VERSION"); fi
    if [[ -n "$recorded" && "$recorded" != "${MACHINE:?}" ]]; then reasons+=("machine $recorded -> $MACHINE"); fi
    if ((${#reasons[@]} == 0)); then
      log "node $NODE_NAME already runs $VERSION on $MACHINE; nothing to drain"
      exit 0
    fi
    log "node $NODE_NAME changes (${reasons[*]}); draining it"
    storage_healthy "before node $NODE_NAME is drained"
    # A node somebody cordoned by hand stays cordoned afterwards.
    if [[ "$(field '{.spec.unschedulable}')" != true ]]; then
      kctl annotate node "$NODE_NAME" --overwrite "$drained=true" >&2
    fi
    if [[ -n "$recorded" && "$recorded" != "$MACHINE" ]]; then
      kctl annotate node "$NODE_NAME" --overwrite "$reboot_from=$(field '{.status.nodeInfo.bootID}')" >&2
    fi
    kctl cordon "$NODE_NAME" >&2
    if ! kctl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="$DRAIN_TIMEOUT" >&2; then
      # Pods whose PodDisruptionBudget allows no eviction (or that no other node can take) keep
      # the node: their budget is the point, so the rollout stops unless the stack forces it.
      [[ "$FORCE" == true ]] ||
        die "draining $NODE_NAME did not finish within $DRAIN_TIMEOUT; the rollout stops here and the node stays cordoned" \
          "see what holds it: kubectl get pods -A --field-selector spec.nodeName=$NODE_NAME and kubectl get pdb -A (Rook, Longhorn and CloudNativePG block evictions until their data is safe elsewhere); once those pods can move, pulumi up resumes with this node; a drain that only needs longer takes a larger rolloutDrainTimeout; to go on regardless, set rolloutForce: true"
      log "WARNING: draining $NODE_NAME did not finish within $DRAIN_TIMEOUT; going on because rolloutForce is true: the pods left restart with the node"
    fi
    log "node $NODE_NAME drained"
    ;;
  uncordon)
    api_ready
    booted_from="$(annotation "$reboot_from")"
    back() {
      [[ "$(field '{.status.conditions[?(@.type=="Ready")].status}')" == True ]] || return 1
      [[ "$(field '{.status.nodeInfo.kubeletVersion}')" == "$VERSION" ]] || return 1
      [[ -z "$booted_from" || "$(field '{.status.nodeInfo.bootID}')" != "$booted_from" ]]
    }
    if ! retry "$attempts" back; then
      # No such node here at all: it registered with another cluster (a server that founded its
      # own), or its kubelet never reached this API. Either way waiting longer cannot help.
      [[ -n "$(field '{.metadata.name}')" ]] ||
        die "node $NODE_NAME is not a node of the cluster this server's API serves; the rollout stops here" \
          "run 'kubectl get nodes' on this server and on node $NODE_NAME: a node missing here joined another cluster (compare the CA in their kubeconfigs) or its kubelet never registered (read its log)"
      die "node $NODE_NAME did not come back Ready on $VERSION; the rollout stops here and the node stays cordoned" \
        "run 'kubectl describe node $NODE_NAME' and read the node's service log; once fixed, pulumi up resumes with this node"
    fi
    if [[ "$(annotation "$drained")" == true ]]; then
      kctl uncordon "$NODE_NAME" >&2
      log "node $NODE_NAME uncordoned"
    fi
    kctl annotate node "$NODE_NAME" --overwrite "$machine_key=$MACHINE" "$drained-" "$reboot_from-" >&2
    log "node $NODE_NAME is Ready on $VERSION ($MACHINE)"
    # Replicas the node held rebuild once it is back: the next node waits for them.
    storage_healthy "after node $NODE_NAME came back"
    ;;
  *) die "unknown action $action" "use drain or uncordon" ;;
esac
