#!/usr/bin/env bash
# Builds the Pulumi engine pieces test:engine uses, from the Go module proxy only, into tools/engine/bin/
# (gitignored). Builds only what is missing or stale: each binary has a stamp holding the exact versions
# and the go.sum hash it was built from. The Go caches stay at their defaults (GOMODCACHE, GOCACHE) so a
# warm rebuild is a cache hit. Figures and limits: docs/engine.md.
set -euo pipefail
cd "$(dirname "$0")"

PULUMI_VERSION=v3.248.0 # = @pulumi/pulumi in package.json
# The module proxy reachable here serves module zips but not the checksum database (sum.golang.org
# answers 404 through it). go.sum, committed next to go.mod, pins every module's hash instead: a zip
# that does not match it fails the build.
export GOSUMDB=off
export GOFLAGS=-mod=readonly
export GOTOOLCHAIN=local

mkdir -p bin
sum=$(sha256sum go.mod go.sum | sha256sum | cut -c1-16)
go_version=$(go env GOVERSION)

# build NAME PACKAGE LDFLAGS: go build PACKAGE into bin/NAME unless bin/NAME.stamp matches.
build() {
  local name=$1 pkg=$2 ldflags=$3
  local stamp="$pkg $PULUMI_VERSION $go_version $sum $ldflags"
  if [[ -x bin/$name && -f bin/$name.stamp && "$(cat "bin/$name.stamp")" == "$stamp" ]]; then
    echo "engine: $name is up to date ($(cut -d' ' -f2-3 "bin/$name.stamp"))"
    return
  fi
  local start=$SECONDS
  echo "engine: building $name $PULUMI_VERSION from $pkg (Go module proxy only)"
  echo "engine: cold (empty Go caches) it downloads about 1.5 GB of modules, then compiles for about"
  echo "engine: 9 minutes on 2 shared cores, up to 30 on a busier machine (docs/engine.md); warm, seconds"
  # go build is silent until it ends: say every minute (ENGINE_PROGRESS_SECONDS) that it is at work.
  (while sleep "${ENGINE_PROGRESS_SECONDS:-60}"; do echo "engine: still building $name ($((SECONDS - start)) s)"; done) &
  local ticker=$!
  # shellcheck disable=SC2064 # the ticker's pid is known now
  trap "kill $ticker 2>/dev/null || true" EXIT
  nice -n 10 go build -trimpath -ldflags "$ldflags" -o "bin/$name.tmp" "$pkg"
  kill "$ticker" 2>/dev/null || true
  trap - EXIT
  mv "bin/$name.tmp" "bin/$name"
  echo "$stamp" >"bin/$name.stamp"
  echo "engine: built $name in $((SECONDS - start)) s"
}

total=$SECONDS
build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

got=$(bin/pulumi version)
if [[ "$got" != "$PULUMI_VERSION" ]]; then
  echo "engine: bin/pulumi reports $got, expected $PULUMI_VERSION" >&2
  exit 1
fi
echo "engine: bin/pulumi reports $got; done in $((SECONDS - total)) s"
