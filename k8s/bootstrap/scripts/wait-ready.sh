#!/usr/bin/env bash
# Waits until every node of the stack is Ready. Runs on the first server.
# Settings (stdin): KUBECTL, NODES (one node name per line).
set -euo pipefail

read_settings
require_settings KUBECTL NODES
attempts="${OCI_K8S_READY_ATTEMPTS:-120}"

ready() {
  [[ "$(kctl get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

while IFS= read -r node; do
  [[ -z "$node" ]] && continue
  retry "$attempts" ready "$node" ||
    die "node $node did not become Ready" "run 'kubectl describe node $node' and read the kubelet log on that node (CNI and image pulls are the usual causes)"
  log "node $node is Ready"
done <<<"$NODES"
