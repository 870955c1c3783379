#!/usr/bin/env bash
# Opens Oracle's Ubuntu image firewall for Kubernetes the right way.
#
# The image's /etc/iptables/rules.v4 ends INPUT and FORWARD with a catch-all
# `-j REJECT --reject-with icmp-host-prohibited`; the FORWARD one breaks pod traffic between
# nodes, the INPUT one every cluster port. This deletes exactly those two rules, live and in the
# saved file that netfilter-persistent loads at boot, and leaves everything else alone, above all
# the InstanceServices chain that block volume attachment (iSCSI) and the metadata service need.
# It edits the saved file instead of running `netfilter-persistent save`, which would also
# persist whatever rules Kubernetes has added by then.
#
# Idempotent: a second run finds nothing to delete and changes nothing.
set -euo pipefail

rules_file="${OCI_K8S_RULES_FILE:-/etc/iptables/rules.v4}"
reject=(-j REJECT --reject-with icmp-host-prohibited)
saved_reject='^-A (INPUT|FORWARD) -j REJECT --reject-with icmp-host-prohibited$'

for chain in INPUT FORWARD; do
  while iptables -w -C "$chain" "${reject[@]}" 2>/dev/null; do
    iptables -w -D "$chain" "${reject[@]}"
    echo "oci-firewall-fix: deleted the REJECT rule of $chain"
  done
done

if [[ -f "$rules_file" ]] && grep -Eq "$saved_reject" "$rules_file"; then
  tmp="$(mktemp "${rules_file}.XXXXXX")"
  grep -Ev "$saved_reject" "$rules_file" >"$tmp"
  chmod --reference="$rules_file" "$tmp"
  mv "$tmp" "$rules_file"
  echo "oci-firewall-fix: deleted the REJECT rules from $rules_file"
fi

if ! iptables -w -S OUTPUT | grep -q -- '-j InstanceServices'; then
  echo "oci-firewall-fix: warning: OUTPUT has no jump to InstanceServices; block volumes and metadata may not work" >&2
fi
