#!/usr/bin/env bash
# Packages the cluster's images from the binaries tools/kube built (build.sh, build-addons.sh) and
# tools/etcd's etcd, under the names and tags kubeadm and the flannel manifest pull, into one
# docker-save tarball, tools/kube/bin/kube-images.tar (gitignored), for
# `ctr -n k8s.io images import` on each node: a node then pulls nothing.
#   kubeadm's own list (`kubeadm config images list --kubernetes-version KUBE_VERSION`):
#     kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, coredns, pause, etcd.
#     etcd: kubeadm v1.34 pulls registry.k8s.io/etcd:3.6.5-0; the image under that tag holds the
#     etcd 3.6 tools/etcd builds (its version is in tools/etcd/go.mod), not 3.6.5.
#   the flannel manifest's (k8s/bootstrap/kubeadm.ts FLANNEL_MANIFEST):
#     ghcr.io/flannel-io/flannel:FLANNEL_VERSION (flanneld) and
#     ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1, which holds the flannel CNI plugin of
#     containernetworking/plugins v0.9.1 (build-addons.sh says why).
# What runs Debian's tools in an image (cp for flannel's init containers; iptables and nft for
# kube-proxy and flanneld) comes with its libraries from the Debian 12 root filesystem of
# tools/machines/build-rootfs.sh (or IMAGES_ROOTFS). Images are written by images/ (a Go module,
# go-containerregistry); the tarball is rebuilt only when an input's stamp changes.
# --previous packs the release one patch before (build.sh --previous: bin/previous/'s kubeadm and
# control-plane binaries, the same add-ons) into bin/previous/kube-images.tar.
# Usage: tools/kube/build-images.sh [--previous]
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
export GOSUMDB=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0

module=.
kube=bin
if [[ ${1:-} == --previous ]]; then module=previous kube=bin/previous; fi
KUBE_VERSION=$(sed -n 's/^require k8s.io\/kubernetes \(v[0-9.]*\)$/\1/p' "$module/go.mod")
FLANNEL_VERSION=$(sed -n 's/^FLANNEL_VERSION=\(v[0-9.]*\).*/\1/p' build-addons.sh)
FLANNEL_CNI_IMAGE=ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel1
ETCD_BIN=$here/../etcd/bin
for f in $kube/kubeadm $kube/kube-apiserver $kube/kube-controller-manager $kube/kube-scheduler $kube/kube-proxy \
  bin/coredns bin/pause bin/flanneld bin/cni/flannel "$ETCD_BIN/etcd" "$ETCD_BIN/etcdctl" "$ETCD_BIN/etcdutl"; do
  [[ -x $f ]] || { echo "kube: $f is missing: run tools/kube/build.sh, tools/kube/build-addons.sh and tools/etcd/build.sh" >&2; exit 1; }
done
root=${IMAGES_ROOTFS:-$(../machines/build-rootfs.sh)}

sum=$(cd images && sha256sum go.mod go.sum main.go | sha256sum | cut -c1-16)
tool_stamp="images $(go env GOVERSION) $sum"
if [[ ! -x bin/images || "$(cat bin/images.stamp 2>/dev/null)" != "$tool_stamp" ]]; then
  (cd images && nice -n 10 go build -trimpath -ldflags "-s -w" -o ../bin/images .)
  echo "$tool_stamp" >bin/images.stamp
fi

list=$($kube/kubeadm config images list --kubernetes-version "$KUBE_VERSION")
ref() { grep -m1 "/$1:" <<<"$list" || { echo "kube: kubeadm lists no $1 image" >&2; exit 1; }; }
PATH_ENV='"PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"'
# A Debian tool and the names it answers to (iptables and nft as Debian 12's iptables-nft does).
# Its match and target extensions too (libxt_conntrack.so and the rest), which it dlopens: without
# them kube-proxy's rules fail ("Couldn't load match `conntrack'") and no Service answers.
extensions=$(cd "$root" && for f in usr/lib/x86_64-linux-gnu/xtables/*.so; do printf ', "/%s"' "$f"; done)
[[ -n "$extensions" ]] || { echo "kube: $root has no xtables extensions (iptables)" >&2; exit 1; }
xtables='"fromRoot": ["/usr/sbin/xtables-nft-multi", "/usr/sbin/nft"'"$extensions"'], "links": {'
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  xtables+="\"/usr/sbin/$n\": \"xtables-nft-multi\", "
done
xtables="${xtables%, }}"
binary() { # NAME REF : /usr/local/bin/NAME from $kube/NAME
  printf '{"refs": ["%s"], "entrypoint": ["/usr/local/bin/%s"], "env": [%s], "dirs": ["/tmp"], "files": {"/usr/local/bin/%s": "%s/%s/%s"}}' \
    "$2" "$1" "$PATH_ENV" "$1" "$here" "$kube" "$1"
}
spec=$(
  cat <<JSON
{"root": "$root", "images": [
  $(binary kube-apiserver "$(ref kube-apiserver)"),
  $(binary kube-controller-manager "$(ref kube-controller-manager)"),
  $(binary kube-scheduler "$(ref kube-scheduler)"),
  {"refs": ["$(ref kube-proxy)"], "entrypoint": ["/usr/local/bin/kube-proxy"], "env": [$PATH_ENV], "dirs": ["/tmp", "/run"],
   "files": {"/usr/local/bin/kube-proxy": "$here/$kube/kube-proxy"}, $xtables},
  {"refs": ["$(ref coredns)"], "entrypoint": ["/coredns"], "files": {"/coredns": "$here/bin/coredns"}},
  {"refs": ["$(ref pause)"], "entrypoint": ["/pause"], "files": {"/pause": "$here/bin/pause"}},
  {"refs": ["$(ref etcd)"], "env": [$PATH_ENV], "dirs": ["/tmp", "/var/lib/etcd"],
   "files": {"/usr/local/bin/etcd": "$ETCD_BIN/etcd", "/usr/local/bin/etcdctl": "$ETCD_BIN/etcdctl", "/usr/local/bin/etcdutl": "$ETCD_BIN/etcdutl"}},
  {"refs": ["ghcr.io/flannel-io/flannel:$FLANNEL_VERSION"], "entrypoint": ["/opt/bin/flanneld"], "env": [$PATH_ENV], "dirs": ["/tmp", "/run"],
   "files": {"/opt/bin/flanneld": "$here/bin/flanneld"}, "fromRoot": ["/usr/bin/cp", "/usr/sbin/xtables-nft-multi", "/usr/sbin/nft"$extensions],
   ${xtables#*\], }},
  {"refs": ["$FLANNEL_CNI_IMAGE"], "env": [$PATH_ENV], "files": {"/flannel": "$here/bin/cni/flannel"}, "fromRoot": ["/usr/bin/cp"]}
]}
JSON
)
stamp=$({
  echo "$spec"
  for f in "$kube"/*.stamp bin/coredns.stamp bin/pause.stamp bin/flanneld.stamp bin/cni/*.stamp; do [[ $f == "$kube/kube-images.tar.stamp" ]] || cat "$f"; done
  "$ETCD_BIN/etcd" --version | head -n 1
} | sha256sum | cut -c1-16)
if [[ -f $kube/kube-images.tar && "$(cat "$kube/kube-images.tar.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "kube: $kube/kube-images.tar ($KUBE_VERSION) is up to date"
  exit 0
fi
printf '%s\n' "$spec" >"$kube/kube-images.json"
start=$SECONDS
nice -n 10 bin/images "$kube/kube-images.json" "$kube/kube-images.tar"
echo "$stamp" >"$kube/kube-images.tar.stamp"
echo "kube: wrote $kube/kube-images.tar ($(du -m "$kube/kube-images.tar" | cut -f1) MB) in $((SECONDS - start)) s: $(tr '\n' ' ' <<<"$list")ghcr.io/flannel-io/flannel:$FLANNEL_VERSION $FLANNEL_CNI_IMAGE"
