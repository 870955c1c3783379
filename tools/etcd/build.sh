#!/usr/bin/env bash
# Builds etcd, etcdctl and etcdutl (the version pinned in go.mod) into tools/etcd/bin, for the
# real-etcd tests. Skips the build when every binary is newer than go.mod, go.sum and the main
# files; Go's module and build caches are kept, so a rebuild after a bump is incremental.
# Cold build on 2 shared cores: see README (Backup and restore, what the tests prove).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p bin
stale=0
for cmd in etcd etcdctl etcdutl; do
  if [[ ! -x "bin/$cmd" ]] || [[ -n "$(find go.mod go.sum "$cmd/main.go" -newer "bin/$cmd")" ]]; then stale=1; fi
done
if ((stale == 0)); then
  echo "tools/etcd: bin/ is up to date ($(bin/etcd --version | head -n 1))"
  exit 0
fi
export CGO_ENABLED=0
for cmd in etcd etcdctl etcdutl; do
  nice -n 10 go build -trimpath -o "bin/$cmd" "./$cmd"
done
echo "tools/etcd: built $(bin/etcd --version | head -n 1)"
