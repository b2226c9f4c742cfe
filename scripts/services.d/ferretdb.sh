# FerretDB v1 (MongoDB wire protocol) on 127.0.0.1:57017 with its SQLite backend. Built from the
# Go module with the Go toolchain; the binary is cached so later runs and fresh clones reuse it.

FERRETDB_VERSION=v1.24.2
FERRETDB_PORT=57017
MONGO_URL="mongodb://127.0.0.1:$FERRETDB_PORT/"
FERRETDB_DIR="$DATA_DIR/ferretdb"
FERRETDB_BIN="$CACHE_DIR/ferretdb/$FERRETDB_VERSION/bin/ferretdb"

ferretdb_port() { echo "$FERRETDB_PORT"; }
ferretdb_log() { echo "$LOG_DIR/ferretdb.log"; }
ferretdb_cmdline_marker() { echo "ferretdb"; }
ferretdb_stop_signal() { echo TERM; }
ferretdb_missing_packages() { :; }

go_bin() {
  local go
  for go in "$(command -v go || true)" /usr/local/go/bin/go; do
    [ -n "$go" ] && [ -x "$go" ] && { echo "$go"; return 0; }
  done
  return 1
}

# `go install ...@version` alone builds a binary that panics at start: FerretDB embeds its version
# from build/version/version.txt, which the module does not ship. So the module source is copied,
# that file written, and the command built from the copy with the module's own go.sum.
ferretdb_build() {
  local go
  go=$(go_bin) || { fail ferretdb "no Go toolchain (go, /usr/local/go/bin/go); FerretDB needs Go >= 1.22"; return 1; }
  mkdir -p "$CACHE_DIR/ferretdb"
  say ferretdb "building FerretDB $FERRETDB_VERSION with $("$go" version | cut -d' ' -f3) (about a minute)"
  (
    flock 8
    [ -x "$FERRETDB_BIN" ] && exit 0
    work=$(mktemp -d "$CACHE_DIR/ferretdb/.build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # The Go module and build caches (about 1 GB) serve this one build: only the binary is kept.
    export GOMODCACHE="$work/gomod" GOCACHE="$work/gocache" GOFLAGS=-modcacherw GOTOOLCHAIN=local
    cd "$work"
    src=$("$go" mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') && [ -d "$src" ] || exit 1
    cp -r "$src" "$work/src" && chmod -R u+w "$work/src" &&
      echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt" &&
      (cd "$work/src" && "$go" build -trimpath -o "$work/ferretdb.bin" ./cmd/ferretdb) || exit 1
    mkdir -p "$(dirname "$FERRETDB_BIN")"
    mv "$work/ferretdb.bin" "$FERRETDB_BIN"
  ) 8>"$CACHE_DIR/ferretdb/.lock" >>"$(ferretdb_log)" 2>&1 ||
    { fail ferretdb "building FerretDB $FERRETDB_VERSION failed"; return 1; }
}

ferretdb_prepare() {
  [ -x "$FERRETDB_BIN" ] || ferretdb_build || return 1
  mkdir -p "$FERRETDB_DIR"
}

ferretdb_start() {
  # --debug-addr=- turns off its HTTP debug listener (default 127.0.0.1:8088).
  launch ferretdb "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$FERRETDB_DIR/" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" --state-dir="$FERRETDB_DIR" \
    --telemetry=disable --debug-addr=- --log-level=warn
}

# A real `ping` command through the official mongodb driver.
ferretdb_healthy() { port_open "$FERRETDB_PORT" && probe mongo "$MONGO_URL"; }
