#!/usr/bin/env bash
# Drains a node and deletes its Node object; runs on the first server when the node leaves the
# stack. Deletes only the node that has the given address, so a replacement node that
# registered under the same name is left alone. Usage: remove-node.sh NODE_NAME NODE_IP KUBECTL...
set -euo pipefail

node="${1:?usage: remove-node.sh NODE_NAME NODE_IP KUBECTL...}"
ip="${2:?usage: remove-node.sh NODE_NAME NODE_IP KUBECTL...}"
shift 2
export KUBECTL="$*"

current="$(kctl get node "$node" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}' 2>/dev/null || true)"
if [[ -z "$current" ]]; then
  log "node $node is not in the cluster; nothing to remove"
  exit 0
fi
if [[ "$current" != "$ip" ]]; then
  log "node $node now has address $current (a replacement), not $ip; leaving it"
  exit 0
fi
kctl drain "$node" --ignore-daemonsets --delete-emptydir-data --timeout=300s >&2 ||
  log "drain of $node did not finish in 300s; deleting the node anyway"
kctl delete node "$node" --wait=false >&2
log "node $node removed"
