#!/usr/bin/env bash
# Applies a node's labels and taints, and removes those this program set before and no longer
# wants (remembered in the node annotation oci-k8s.io/managed). Runs on the first server.
# Settings (stdin): KUBECTL, NODE_NAME, LABELS and TAINTS (one key=value / key=value:Effect per line).
set -euo pipefail

read_settings
require_settings KUBECTL NODE_NAME
annotation="oci-k8s.io/managed"

retry 60 kctl get node "$NODE_NAME" >/dev/null ||
  die "node $NODE_NAME is not registered" "check the node's service with journalctl on it"

mapfile -t labels < <(printf '%s\n' "${LABELS:-}" | sed '/^$/d')
mapfile -t taints < <(printf '%s\n' "${TAINTS:-}" | sed '/^$/d')

# wanted KEY ENTRY...: whether one of the key=value entries has KEY (compared as text, never as a
# pattern or a regular expression).
wanted() {
  local key=$1 entry
  shift
  for entry in "$@"; do [[ "${entry%%=*}" == "$key" ]] && return 0; done
  return 1
}

# The annotation is read from the cluster: split on blanks only, never glob-expanded against the
# files of the current directory.
previous="$(kctl get node "$NODE_NAME" -o "jsonpath={.metadata.annotations.oci-k8s\.io/managed}")"
read -ra entries <<<"$previous"
for entry in "${entries[@]}"; do
  kind="${entry%%:*}"
  key="${entry#*:}"
  case "$kind" in
    label) wanted "$key" "${labels[@]}" || kctl label node "$NODE_NAME" "$key-" >&2 ;;
    taint) wanted "$key" "${taints[@]}" || kctl taint node "$NODE_NAME" "$key-" >&2 || true ;;
  esac
done

managed=()
if ((${#labels[@]})); then kctl label node "$NODE_NAME" --overwrite "${labels[@]}" >&2; fi
for label in "${labels[@]}"; do managed+=("label:${label%%=*}"); done
for taint in "${taints[@]}"; do
  kctl taint node "$NODE_NAME" --overwrite "$taint" >&2
  managed+=("taint:${taint%%=*}")
done
kctl annotate node "$NODE_NAME" --overwrite "$annotation=${managed[*]}" >&2
log "node $NODE_NAME: ${#labels[@]} labels, ${#taints[@]} taints"
