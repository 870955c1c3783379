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
# Settings (stdin): KUBECTL, KUBECONFIG_PATH (the admin kubeconfig, whose absence means no
# cluster yet), NODE_NAME, VERSION, MACHINE.
set -euo pipefail

action="${1:?usage: rollout.sh drain|uncordon}"
read_settings
require_settings KUBECTL KUBECONFIG_PATH NODE_NAME VERSION MACHINE
attempts="${OCI_K8S_READY_ATTEMPTS:-120}"
drain_timeout="${OCI_K8S_DRAIN_TIMEOUT:-600s}"
# Annotations this script keeps on the node.
drained="oci-k8s.io/drained"
reboot_from="oci-k8s.io/reboot-from"
machine_key="oci-k8s.io/machine"

field() { kctl get node "$NODE_NAME" --ignore-not-found -o "jsonpath=$1"; }
annotation() { field "{.metadata.annotations.${1//./\\.}}"; }

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
    # A node somebody cordoned by hand stays cordoned afterwards.
    if [[ "$(field '{.spec.unschedulable}')" != true ]]; then
      kctl annotate node "$NODE_NAME" --overwrite "$drained=true" >&2
    fi
    if [[ -n "$recorded" && "$recorded" != "$MACHINE" ]]; then
      kctl annotate node "$NODE_NAME" --overwrite "$reboot_from=$(field '{.status.nodeInfo.bootID}')" >&2
    fi
    kctl cordon "$NODE_NAME" >&2
    if ! kctl drain "$NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="$drain_timeout" >&2; then
      # Pods whose PodDisruptionBudget allows no eviction (or that no other node can take)
      # would block forever; they restart with the node instead.
      log "WARNING: draining $NODE_NAME did not finish within $drain_timeout; the pods left restart with the node"
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
    retry "$attempts" back ||
      die "node $NODE_NAME did not come back Ready on $VERSION; the rollout stops here and the node stays cordoned" \
        "run 'kubectl describe node $NODE_NAME' and read the node's service log; once fixed, pulumi up resumes with this node"
    if [[ "$(annotation "$drained")" == true ]]; then
      kctl uncordon "$NODE_NAME" >&2
      log "node $NODE_NAME uncordoned"
    fi
    kctl annotate node "$NODE_NAME" --overwrite "$machine_key=$MACHINE" "$drained-" "$reboot_from-" >&2
    log "node $NODE_NAME is Ready on $VERSION ($MACHINE)"
    ;;
  *) die "unknown action $action" "use drain or uncordon" ;;
esac
