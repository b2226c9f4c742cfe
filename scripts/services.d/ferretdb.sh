# FerretDB v1 (MongoDB wire protocol) on 127.0.0.1:57017 (CHATTALK_FERRETDB_PORT) with its PostgreSQL
# backend, in a database of its own (`ferretdb`) on the Postgres that postgres.sh runs. Built from the
# Go module with the Go toolchain; the binary is cached so later runs and fresh clones reuse it.
#
# Why PostgreSQL rather than SQLite: FerretDB v1 serves no range, sort or limit from an index on
# either backend, but the PostgreSQL one passes equality filters down to Postgres, while the SQLite
# one decodes and filters every document of a collection in Go (README, "History at scale"). The
# backlog's FerretDB layout (lib/backlog/mongo-paged.ts) is built on that.

FERRETDB_VERSION=v1.24.2
FERRETDB_PORT=${CHATTALK_FERRETDB_PORT:-57017}
MONGO_URL="mongodb://127.0.0.1:$FERRETDB_PORT/"
FERRETDB_DIR="$DATA_DIR/ferretdb"
FERRETDB_BIN="$CACHE_DIR/ferretdb/$FERRETDB_VERSION/bin/ferretdb"
FERRETDB_PG_DB=ferretdb
# pgx would open at most max(4, cores) connections; tests run many clients at once.
FERRETDB_PG_URL="postgres://chattalk:chattalk@127.0.0.1:$PG_PORT/$FERRETDB_PG_DB?pool_max_conns=32"

ferretdb_port() { echo "$FERRETDB_PORT"; }
ferretdb_log() { echo "$LOG_DIR/ferretdb.log"; }
ferretdb_cmdline_marker() { echo "ferretdb"; }
ferretdb_stop_signal() { echo TERM; }
ferretdb_missing_packages() { :; }

# FerretDB v1.24 needs Go >= 1.22; Debian 12 ships 1.19. Any Go that can download a module fetches
# a newer one: the Go toolchain is itself a module on the Go module proxy (golang.org/toolchain), checked
# against the Go checksum database like any module, and cached here for every later build.
GO_MIN_MINOR=22
GO_TOOLCHAIN=go1.27.3
GO_CACHED="$CACHE_DIR/go/$GO_TOOLCHAIN/bin/go"

# The minor version of a `go` binary (1.22.5 -> 22), or nothing when it does not run.
go_minor() { GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }

# Prints a Go >= 1.22: the machine's, the cached toolchain, or one fetched now (Debian's golang-go is
# installed first when the machine has no Go at all, only to do the fetching).
ensure_go() {
  local go minor work dir
  for go in "$(command -v go || true)" /usr/local/go/bin/go "$GO_CACHED"; do
    [ -n "$go" ] && [ -x "$go" ] || continue
    minor=$(go_minor "$go")
    [ -n "$minor" ] && ((minor >= GO_MIN_MINOR)) && { echo "$go"; return 0; }
  done
  go=$(command -v go || true)
  [ -n "$go" ] || [ ! -x /usr/lib/go/bin/go ] || go=/usr/lib/go/bin/go
  if [ -z "$go" ]; then
    apt_install golang-go >&2 || return 1
    go=$(command -v go) || return 1
  fi
  say ferretdb "the machine's Go is too old for FerretDB; fetching $GO_TOOLCHAIN (about 76 MB) with $("$go" version | cut -d' ' -f3)"
  mkdir -p "$CACHE_DIR/go"
  work=$(mktemp -d "$CACHE_DIR/go/.fetch.XXXXXX")
  # GOFLAGS=-modcacherw: the temporary module cache can be deleted afterwards.
  dir=$(cd "$work" && GOMODCACHE="$work/mod" GOFLAGS=-modcacherw GO111MODULE=on GOTOOLCHAIN=local \
    "$go" mod download -json "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-amd64" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [ -z "$dir" ] || [ ! -f "$dir/bin/go" ]; then
    rm -rf "$work"
    say ferretdb "could not download the Go toolchain $GO_TOOLCHAIN from the Go module proxy"
    return 1
  fi
  # Module zips carry no file modes: the toolchain's programs are made executable, as `go` does itself.
  chmod -R u+w "$dir" && chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* &&
    rm -rf "$CACHE_DIR/go/$GO_TOOLCHAIN" && mv "$dir" "$CACHE_DIR/go/$GO_TOOLCHAIN"
  rm -rf "$work"
  [ -n "$(go_minor "$GO_CACHED")" ] || { say ferretdb "the fetched Go toolchain does not run"; return 1; }
  echo "$GO_CACHED"
}

# `go install ...@version` alone builds a binary that panics at start: FerretDB embeds its version
# from build/version/version.txt, which the module does not ship. So the module source is copied,
# that file written, and the command built from the copy with the module's own go.sum.
ferretdb_build() {
  local go
  go=$(ensure_go) || { fail ferretdb "no Go >= 1.$GO_MIN_MINOR to build FerretDB with"; return 1; }
  mkdir -p "$CACHE_DIR/ferretdb"
  say ferretdb "building FerretDB $FERRETDB_VERSION with $("$go" version | cut -d' ' -f3) (3 to 4 minutes on 2 cores)"
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

# `up` starts the services side by side; FerretDB needs Postgres answering and its database there.
ferretdb_postgres_ready() {
  local waited=0
  until postgres_healthy; do
    ((waited >= 120)) && { fail ferretdb "Postgres on port $PG_PORT did not answer within 60s"; return 1; }
    sleep 0.5
    waited=$((waited + 1))
  done
  local have
  have=$(PGPASSWORD=chattalk psql -w "$PG_URL" -qAtc \
    "SELECT 1 FROM pg_database WHERE datname = '$FERRETDB_PG_DB'" 2>>"$(ferretdb_log)") ||
    { fail ferretdb "could not query Postgres for database $FERRETDB_PG_DB"; return 1; }
  [ "$have" = 1 ] && return 0
  say ferretdb "creating database $FERRETDB_PG_DB in Postgres"
  PGPASSWORD=chattalk psql -w "$PG_URL" -qc "CREATE DATABASE $FERRETDB_PG_DB" >>"$(ferretdb_log)" 2>&1 ||
    { fail ferretdb "creating database $FERRETDB_PG_DB in Postgres failed"; return 1; }
}

ferretdb_prepare() {
  [ -x "$FERRETDB_BIN" ] || ferretdb_build || return 1
  mkdir -p "$FERRETDB_DIR"
  ferretdb_postgres_ready
}

ferretdb_start() {
  # --debug-addr=- turns off its HTTP debug listener (default 127.0.0.1:8088).
  launch ferretdb "$FERRETDB_BIN" --handler=postgresql --postgresql-url="$FERRETDB_PG_URL" \
    --listen-addr="127.0.0.1:$FERRETDB_PORT" --state-dir="$FERRETDB_DIR" \
    --telemetry=disable --debug-addr=- --log-level=warn
}

# A real `ping` command through the official mongodb driver.
ferretdb_healthy() { port_open "$FERRETDB_PORT" && probe mongo "$MONGO_URL"; }
