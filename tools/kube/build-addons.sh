#!/usr/bin/env bash
# Builds what a kubeadm cluster runs besides Kubernetes' own binaries (tools/kube/build.sh), from
# Go modules only (the Go module proxy), into tools/kube/bin/ (gitignored), for
# `npm run test:cluster`. Each comes from its own module under addons/, pinned by its go.sum:
#   coredns       github.com/coredns/coredns v1.12.1 (kubeadm v1.34's CoreDNSVersion)
#   flanneld      github.com/flannel-io/flannel v0.28.4 (the version k8s/bootstrap/kubeadm.ts installs)
#   cni/bridge, cni/host-local, cni/loopback, cni/portmap
#                 github.com/containernetworking/plugins v1.9.0
#   cni/flannel   the flannel CNI plugin: flannel's manifest uses flannel-io/cni-plugin, which the
#                 proxy refuses; its source was plugins/meta/flannel of
#                 github.com/containernetworking/plugins until v0.9.1, the version built here
#   pause         Kubernetes' own build/pause/linux/pause.c from the k8s.io/kubernetes module (the
#                 version in ../go.mod), compiled static with gcc as its Makefile does
# Trimmed (-trimpath, -s -w), each stamped with its version, Go (or gcc) and go.sum; a warm run
# is a no-op.
# Usage: tools/kube/build-addons.sh
set -euo pipefail
cd "$(dirname "$0")"
export GOSUMDB=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p bin/cni
go_version=$(go env GOVERSION)

COREDNS_VERSION=v1.12.1
FLANNEL_VERSION=v0.28.4
CNI_VERSION=v1.9.0
CNI_FLANNEL_VERSION=v0.9.1
PAUSE_VERSION=3.10.1 # kubeadm v1.34's PauseVersion, = TAG in build/pause/Makefile

# fresh NAME STAMP : bin/NAME exists with this stamp.
fresh() { [[ -x bin/$1 && -f bin/$1.stamp && "$(cat "bin/$1.stamp")" == "$2" ]]; }

# [CGO=1] build DIR VERSION LDFLAGS NAME=PACKAGE... : one `go build` in addons/DIR for the stale names.
build() {
  local dir=$1 version=$2 ldflags=$3 sum todo=() pkgs=() name start
  shift 3
  sum=$(cd "addons/$dir" && sha256sum go.mod go.sum | sha256sum | cut -c1-16)
  for pair in "$@"; do
    name=${pair%%=*}
    if fresh "$name" "$name $version $go_version $sum"; then
      echo "kube: $name is up to date ($version, $go_version)"
    else
      todo+=("$name")
      pkgs+=("${pair#*=}")
    fi
  done
  ((${#todo[@]})) || return 0
  start=$SECONDS
  echo "kube: building ${todo[*]} $version ..."
  rm -rf "bin/.tmp-$dir" && mkdir -p "bin/.tmp-$dir"
  (cd "addons/$dir" && CGO_ENABLED="${CGO:-0}" nice -n 10 go build -trimpath -ldflags "-s -w $ldflags" -o "../../bin/.tmp-$dir/" "${pkgs[@]}")
  for pair in "$@"; do
    name=${pair%%=*}
    [[ " ${todo[*]} " == *" $name "* ]] || continue
    mv "bin/.tmp-$dir/$(basename "${pair#*=}")" "bin/$name"
    echo "$name $version $go_version $sum" >"bin/$name.stamp"
  done
  rmdir "bin/.tmp-$dir"
  echo "kube: built ${todo[*]} in $((SECONDS - start)) s"
}

build coredns "$COREDNS_VERSION" "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
  coredns=github.com/coredns/coredns
# flanneld's udp backend is cgo (its proxy.c): built as flannel's Makefile does, static with cgo.
CGO=1 build flannel "$FLANNEL_VERSION" "-X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION -extldflags -static" \
  flanneld=github.com/flannel-io/flannel
cni=github.com/containernetworking/plugins
build cni "$CNI_VERSION" "-X $cni/pkg/utils/buildversion.BuildVersion=$CNI_VERSION" \
  cni/bridge=$cni/plugins/main/bridge cni/host-local=$cni/plugins/ipam/host-local \
  cni/loopback=$cni/plugins/main/loopback cni/portmap=$cni/plugins/meta/portmap
build cni-flannel "$CNI_FLANNEL_VERSION" "-X $cni/pkg/utils/buildversion.BuildVersion=$CNI_FLANNEL_VERSION" \
  cni/flannel=$cni/plugins/meta/flannel

# pause: the source file of the k8s.io/kubernetes module ../go.mod pins (checked against its go.sum).
kube_version=$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' go.mod)
src_dir=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$kube_version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
src=$src_dir/build/pause/linux/pause.c
cc_version=$(gcc -dumpfullversion)
stamp="pause $PAUSE_VERSION k8s.io/kubernetes@$kube_version gcc-$cc_version $(sha256sum "$src" | cut -c1-16)"
if fresh pause "$stamp"; then
  echo "kube: pause is up to date ($PAUSE_VERSION)"
else
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-k8s.io-kubernetes-$kube_version" -o bin/pause "$src"
  strip bin/pause
  echo "$stamp" >bin/pause.stamp
  echo "kube: built pause $PAUSE_VERSION from k8s.io/kubernetes@$kube_version/build/pause/linux/pause.c"
fi

# Each reports the version it was stamped with.
check() { [[ "$2" == *"$3"* ]] || { echo "kube: bin/$1 reports '$2', expected $3" >&2; exit 1; }; }
check coredns "$(bin/coredns -version 2>&1 | head -n 1)" "CoreDNS-${COREDNS_VERSION#v}"
check flanneld "$(bin/flanneld --version 2>&1)" "$FLANNEL_VERSION"
for p in bridge host-local loopback portmap; do check "cni/$p" "$(env -u CNI_COMMAND "bin/cni/$p" 2>&1 </dev/null | head -n 1)" "$CNI_VERSION"; done
check cni/flannel "$(env -u CNI_COMMAND bin/cni/flannel 2>&1 </dev/null | head -n 1)" "$CNI_FLANNEL_VERSION"
check pause "$(bin/pause -v 2>&1)" "v$PAUSE_VERSION"
