#!/usr/bin/env bash
# Takes a departing node out of the cluster; runs on the first server when the node leaves the
# stack or its machine is replaced. Drains it; for a server, removes its etcd member first, so a
# replacement joins a healthy etcd of the remaining members; then deletes the Node object.
# Acts only on the node that has the given address, so a replacement that registered under the
# same name is left alone. Usage: remove-node.sh NODE_NAME NODE_IP server|agent|etcd k3s|rke2|kubeadm KUBECTL...
set -euo pipefail

usage="usage: remove-node.sh NODE_NAME NODE_IP server|agent|etcd k3s|rke2|kubeadm KUBECTL..."
node="${1:?$usage}"
ip="${2:?$usage}"
role="${3:?$usage}"
dist="${4:?$usage}"
shift 4
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
  log "drain of $node did not finish in 300s; removing the node anyway"

if [[ "$role" == server || "$role" == etcd ]]; then
  case "$dist" in
    k3s | rke2)
      # Deleting a server's Node object makes the distribution remove its etcd member (a
      # finalizer); waiting for the deletion waits for the member to be gone.
      kctl delete node "$node" --timeout=300s >&2 ||
        die "the etcd member of $node was not removed within 300s" "check 'kubectl get node $node -o yaml' (finalizers) and the servers' logs; the instance is kept until this succeeds"
      log "server $node and its etcd member removed"
      exit 0
      ;;
    kubeadm)
      etcd_pod="$(kctl -n kube-system get pods -l component=etcd --field-selector "spec.nodeName!=$node,status.phase=Running" -o 'jsonpath={.items[0].metadata.name}')"
      [[ -n "$etcd_pod" ]] || die "no other running etcd member to remove $node from" "a last server cannot leave; check 'kubectl -n kube-system get pods -l component=etcd'"
      member="$(kubeadm_etcdctl "$etcd_pod" member list | awk -F', ' -v name="$node" '$3 == name { print $1 }')" ||
        die "could not list the etcd members through $etcd_pod" "check etcd with 'kubectl -n kube-system logs $etcd_pod'"
      if [[ -n "$member" ]]; then
        kubeadm_etcdctl "$etcd_pod" member remove "$member" >&2 || die "could not remove etcd member $member ($node)" "check etcd with 'kubectl -n kube-system logs $etcd_pod'"
        log "etcd member $member ($node) removed"
      else
        log "$node has no etcd member; nothing to remove from etcd"
      fi
      ;;
    *) die "unknown distribution $dist" "use k3s, rke2 or kubeadm" ;;
  esac
fi
kctl delete node "$node" --wait=false >&2
log "node $node removed"
