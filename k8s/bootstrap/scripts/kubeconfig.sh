#!/usr/bin/env bash
# Prints the admin kubeconfig of the first server. Usage: kubeconfig.sh PATH
set -euo pipefail

path="${OCI_K8S_ROOT:-}${1:?usage: kubeconfig.sh PATH}"
[[ -s "$path" ]] || die "no kubeconfig at $path" "the control plane is not installed on this node; run pulumi up again"
cat "$path"
