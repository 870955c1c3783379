#!/usr/bin/env bash
# Builds Kubernetes binaries from the k8s.io/kubernetes Go module (the Go module proxy only) into
# tools/kube/bin/ (gitignored): today kubeadm, whose own `kubeadm config validate` checks the
# configuration the program writes (test/k8s/kubeadm-config.test.ts). go.mod requires
# k8s.io/kubernetes and replaces each staging module (./staging/src/k8s.io/* upstream) with its
# published k8s.io/<name> v0.<minor>.<patch>; go.sum pins every module. Each binary has a stamp of
# the version, Go and go.sum it was built from, so a warm run is a no-op.
# Usage: tools/kube/build.sh [NAME...]   (default: kubeadm; any of cmd/* of k8s.io/kubernetes)
set -euo pipefail
cd "$(dirname "$0")"

KUBE_VERSION=v1.34.4 # = the require line in go.mod
export GOSUMDB=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

names=("$@")
((${#names[@]})) || names=(kubeadm)
mkdir -p bin
sum=$(sha256sum go.mod go.sum | sha256sum | cut -c1-16)
go_version=$(go env GOVERSION)
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION") -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

for name in "${names[@]}"; do
  stamp="$name $KUBE_VERSION $go_version $sum"
  if [[ -x bin/$name && -f bin/$name.stamp && "$(cat "bin/$name.stamp")" == "$stamp" ]]; then
    echo "kube: $name is up to date ($KUBE_VERSION, $go_version)"
    continue
  fi
  start=$SECONDS
  echo "kube: building $name $KUBE_VERSION from k8s.io/kubernetes/cmd/$name (cold: about 6 CPU-minutes, 1.3 GB of modules and build cache) ..."
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "bin/$name.tmp" "k8s.io/kubernetes/cmd/$name"
  mv "bin/$name.tmp" "bin/$name"
  echo "$stamp" >"bin/$name.stamp"
  echo "kube: built $name in $((SECONDS - start)) s"
done
got=$(bin/kubeadm version -o short 2>/dev/null || true)
if [[ -x bin/kubeadm && "$got" != "$KUBE_VERSION" ]]; then
  echo "kube: bin/kubeadm reports $got, expected $KUBE_VERSION" >&2
  exit 1
fi
