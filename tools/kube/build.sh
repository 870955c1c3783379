#!/usr/bin/env bash
# Builds the Kubernetes binaries from the k8s.io/kubernetes Go module (the Go module proxy only) into
# tools/kube/bin/ (gitignored): kubeadm, kubelet, kubectl, kube-apiserver, kube-controller-manager,
# kube-scheduler and kube-proxy. kubeadm's own `kubeadm config validate` checks the configuration the
# program writes (test/k8s/kubeadm-config.test.ts); all of them form the cluster of
# `npm run test:cluster`. go.mod requires k8s.io/kubernetes and replaces each staging module
# (./staging/src/k8s.io/* upstream) with its published k8s.io/<name> v0.<minor>.<patch>; go.sum pins
# every module. All names are built by one `go build` (one shared compile cache); trimmed
# (-trimpath, -s -w). Each binary has a stamp of the version, Go and go.sum it was built from, so a
# warm run is a no-op.
# --previous builds, the same way, the release one patch before the pin (previous/go.mod) into
# bin/previous/: the cluster suite forms its cluster on it and upgrades to the pinned one.
# Usage: tools/kube/build.sh [--previous] [all | NAME...]   (default: kubeadm, what npm test needs;
# all: the seven above; or any of cmd/* of k8s.io/kubernetes)
set -euo pipefail
cd "$(dirname "$0")"
bin=$PWD/bin
if [[ ${1:-} == --previous ]]; then
  shift
  bin=$PWD/bin/previous
  cd previous
fi

KUBE_VERSION=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' go.mod)
[[ -n $KUBE_VERSION ]] || { echo "kube: $PWD/go.mod requires no k8s.io/kubernetes" >&2; exit 1; }
export GOSUMDB=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

names=("$@")
((${#names[@]})) || names=(kubeadm)
if [[ "${names[*]}" == all ]]; then names=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy); fi
mkdir -p "$bin"
sum=$(sha256sum go.mod go.sum | sha256sum | cut -c1-16)
go_version=$(go env GOVERSION)
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION") -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

todo=()
for name in "${names[@]}"; do
  stamp="$name $KUBE_VERSION $go_version $sum"
  if [[ -x $bin/$name && -f $bin/$name.stamp && "$(cat "$bin/$name.stamp")" == "$stamp" ]]; then
    echo "kube: $name is up to date ($KUBE_VERSION, $go_version)"
  else
    todo+=("$name")
  fi
done
if ((${#todo[@]})); then
  start=$SECONDS
  echo "kube: building ${todo[*]} $KUBE_VERSION from k8s.io/kubernetes/cmd/* (cold, all seven: about 12 CPU-minutes, 12 minutes of wall time on 2 idle cores, 37 on busy ones) ..."
  rm -rf "$bin/.tmp" && mkdir -p "$bin/.tmp"
  pkgs=()
  for name in "${todo[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  if ((${#todo[@]} == 1)); then out=$bin/.tmp/${todo[0]}; else out=$bin/.tmp/; fi
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$out" "${pkgs[@]}"
  for name in "${todo[@]}"; do
    mv "$bin/.tmp/$name" "$bin/$name"
    echo "$name $KUBE_VERSION $go_version $sum" >"$bin/$name.stamp"
  done
  rmdir "$bin/.tmp"
  echo "kube: built ${todo[*]} in $((SECONDS - start)) s"
fi
for name in "${names[@]}"; do
  case $name in
    kubeadm) got=$("$bin"/kubeadm version -o short 2>/dev/null || true) ;;
    kubectl) got=$("$bin"/kubectl version --client -o yaml 2>/dev/null | sed -n 's/^  gitVersion: //p') ;;
    kubelet | kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy)
      got=$("$bin/$name" --version 2>/dev/null | awk '{print $2}') ;;
    *) continue ;;
  esac
  if [[ "$got" != "$KUBE_VERSION" ]]; then
    echo "kube: $bin/$name reports '$got', expected $KUBE_VERSION" >&2
    exit 1
  fi
done
