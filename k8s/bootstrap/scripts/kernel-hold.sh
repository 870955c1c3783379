#!/usr/bin/env bash
# Holds the node's kernel packages at the running kernel, or releases them. Usage: kernel-hold.sh hold|release
# Held packages are left alone by unattended upgrades (and apt upgrade), so the node keeps a
# kernel known to work until the stack releases it.
set -euo pipefail

action="${1:?usage: kernel-hold.sh hold|release}"
case "$action" in
  hold)
    mapfile -t packages < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'linux-*' 2>/dev/null |
      awk '$1 == "ii" && $2 ~ /^linux-(image|headers|modules|oracle|generic|virtual|tools)/ { print $2 }')
    ((${#packages[@]})) || die "no kernel packages found" "is this an Ubuntu node? check 'dpkg -l linux-*'"
    apt_mark hold "${packages[@]}" >&2 || die "could not hold the kernel packages" "another apt run holds dpkg's lock; pulumi up again"
    log "kernel $(uname -r) held (${#packages[@]} packages)"
    ;;
  release)
    mapfile -t held < <(apt-mark showhold | grep '^linux-' || true)
    if ((${#held[@]})); then
      apt_mark unhold "${held[@]}" >&2 || die "could not release the kernel packages" "another apt run holds dpkg's lock; pulumi up again"
    fi
    log "kernel updates allowed (${#held[@]} packages released)"
    ;;
  *) die "unknown action $action" "use hold or release" ;;
esac
