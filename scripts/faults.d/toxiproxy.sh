#!/usr/bin/env bash
# Prints the path of a toxiproxy server binary (the TCP fault proxy of the fault suite), building it
# first when it is not cached: `go install` of the Go module from the Go module proxy, with a Go >= 1.22
# found or fetched as for FerretDB. Cached in ${CHATTALK_CACHE:-$HOME/.cache/chattalk}/toxiproxy/;
# never part of the repository.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=/dev/null
source "$REPO/scripts/services.d/common.sh"
# ferretdb.sh (for ensure_go) names the Postgres port it runs on, which postgres.sh defines.
# shellcheck source=/dev/null
source "$REPO/scripts/services.d/postgres.sh"
# shellcheck source=/dev/null
source "$REPO/scripts/services.d/ferretdb.sh"

TOXIPROXY_VERSION=v2.5.0
bin="$CACHE_DIR/toxiproxy/$TOXIPROXY_VERSION/toxiproxy-server"
if [ ! -x "$bin" ]; then
  go=$(ensure_go)
  mkdir -p "$CACHE_DIR/toxiproxy"
  say toxiproxy "building toxiproxy $TOXIPROXY_VERSION with $("$go" version | cut -d' ' -f3) (about two minutes)"
  (
    flock 8
    [ -x "$bin" ] && exit 0
    work=$(mktemp -d "$CACHE_DIR/toxiproxy/.build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    GOMODCACHE="$work/mod" GOCACHE="$work/cache" GOFLAGS=-modcacherw GOTOOLCHAIN=local GOBIN="$work/bin" \
      "$go" install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXIPROXY_VERSION" >&2
    mkdir -p "$(dirname "$bin")"
    mv "$work/bin/server" "$bin"
  ) 8>"$CACHE_DIR/toxiproxy/.lock"
fi
echo "$bin"
