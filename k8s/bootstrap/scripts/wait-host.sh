#!/usr/bin/env bash
# Waits until the host's preparation has finished and left its ready marker: cloud-init's run on
# a cloud instance; on an existing machine without cloud-init, the preparation over SSH, which
# the bootstrap already waited for. With marker-only (existing hosts, prepared over SSH), the
# marker alone decides: a cloud-init the image left behind is none of the program's.
# Usage: wait-host.sh MARKER [marker-only]
set -euo pipefail

marker="${OCI_K8S_ROOT:-}${1:?usage: wait-host.sh MARKER [marker-only]}"
mode="${2:-cloud-init}"
timeout_s="${OCI_K8S_HOST_TIMEOUT:-1200}"

status=0
if [[ "$mode" != marker-only ]] && command -v cloud-init >/dev/null; then
  timeout "$timeout_s" cloud-init status --wait >/dev/null || status=$?
fi
case "$status" in
  0 | 2) ;; # 2: done with recoverable errors; the marker below decides
  124) die "cloud-init did not finish within ${timeout_s}s" "look at /var/log/cloud-init-output.log on the node" ;;
  *) die "cloud-init failed (status $status)" "look at /var/log/cloud-init-output.log on the node; replace the node if the image is broken" ;;
esac
[[ -f "$marker" ]] || die "host preparation did not complete: $marker is missing" "read the host preparation's error: on a cloud node, /var/log/cloud-init-output.log; on an existing host, the prepare step of pulumi up"
log "host ready since $(cat "$marker")"
