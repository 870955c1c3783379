#!/usr/bin/env bash
# The host firewall of an existing machine: the program's own nftables table, applied and kept
# across reboots, or removed. lib.sh is put in front of it.
#
#   host-firewall.sh apply     settings on stdin: RULESET (the whole table, from hosts/firewall.ts)
#   host-firewall.sh remove    deletes the table and its boot unit (when hostFirewall is turned off
#                              or the stack is destroyed); the rest of the host's ruleset is untouched
#
# OCI_K8S_ROOT prefixes the files it writes (tests point it at a temporary root).
set -euo pipefail

action="${1:?usage: host-firewall.sh apply | remove}"
root="${OCI_K8S_ROOT:-}"
file="$root/etc/oci-k8s/firewall.nft"
unit="$root/etc/systemd/system/oci-k8s-firewall.service"

apply() {
  read_settings
  require_settings RULESET
  if ! command -v nft >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt_get install -y -qq nftables
  fi
  mkdir -p "$(dirname "$file")"
  printf '%s\n' "$RULESET" >"$file.new"
  # Checked before anything changes: a ruleset nft refuses leaves the running one in place.
  nft -c -f "$file.new" || die "nft refused the ruleset (kept the running one)" "this is a bug in oci-k8s; report it with $file.new"
  mv "$file.new" "$file"
  # Written as Debian's own nftables.service is: no default dependencies (which would order it after
  # sysinit.target, and so after cloud-init.service, while networking and cloud-init come after
  # network-pre.target: an ordering cycle systemd breaks by deleting a boot job), before
  # network-pre.target, wanted by sysinit.target.
  write_file "$unit" 0644 "[Unit]
Description=oci-k8s host firewall (nftables table inet oci_k8s)
Documentation=man:nft(8)
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
StandardInput=null
ExecStart=/usr/sbin/nft -f /etc/oci-k8s/firewall.nft
ExecStop=/usr/sbin/nft delete table inet oci_k8s

[Install]
WantedBy=sysinit.target" || true
  systemctl daemon-reload
  # reenable: a unit enabled by an earlier version under multi-user.target loses that link.
  systemctl reenable oci-k8s-firewall.service >/dev/null
  # Atomic: the file declares, deletes and redefines the table in one transaction.
  nft -f "$file"
  log "host firewall applied"
}

remove() {
  if systemctl is-enabled --quiet oci-k8s-firewall.service 2>/dev/null; then
    systemctl disable oci-k8s-firewall.service >/dev/null
  fi
  rm -f "$unit" "$file"
  systemctl daemon-reload
  if command -v nft >/dev/null && nft list table inet oci_k8s >/dev/null 2>&1; then nft delete table inet oci_k8s; fi
  log "host firewall removed"
}

case "$action" in
  apply) apply ;;
  remove) remove ;;
  *) die "unknown action $action" "use apply or remove" ;;
esac
