# PostgreSQL 15 (Debian `postgresql`) on 127.0.0.1:55432 (CHATTALK_POSTGRES_PORT), role and database chattalk/chattalk.
# Postgres refuses to run as root, so initdb and pg_ctl run as the `postgres` user; its unix socket
# lives inside the data folder so it never collides with a system cluster.

PG_PORT=${CHATTALK_POSTGRES_PORT:-55432}
PG_URL="postgres://chattalk:chattalk@127.0.0.1:$PG_PORT/chattalk"
PG_DATA="$DATA_DIR/postgres"

postgres_port() { echo "$PG_PORT"; }
postgres_log() { echo "$LOG_DIR/postgres.log"; }
postgres_cmdline_marker() { echo "postgres"; }
# SIGINT is Postgres's "fast" shutdown: it ends client sessions instead of waiting for them.
postgres_stop_signal() { echo INT; }

postgres_missing_packages() {
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || echo postgresql
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1; }

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# The data folder must be reachable by the postgres user and short enough for a unix socket path
# (107 bytes). A checkout under /root (mode 700) is neither: then the cluster lives under
# /var/lib/chattalk/ and .services/data/postgres is a symlink to it; the postgres user is always
# given the resolved path, since it cannot follow the link through /root.
postgres_place_data() {
  if [ -e "$PG_DATA" ]; then
    PG_DATA=$(readlink -f "$PG_DATA")
    return 0
  fi
  mkdir -p "$PG_DATA"
  chown postgres:postgres "$PG_DATA"
  chmod 700 "$PG_DATA"
  if as_postgres test -w "$PG_DATA" && [ "${#PG_DATA}" -lt 90 ]; then return 0; fi
  local outside
  # Named after the checkout, or after the services folder of a private set, so sets never share one.
  outside="/var/lib/chattalk/postgres-$(echo "${CHATTALK_SERVICES_DIR:-$REPO}" | sha256sum | cut -c1-12)"
  say postgres "$PG_DATA is not usable by the postgres user; keeping the cluster in $outside"
  rmdir "$PG_DATA"
  mkdir -p "$outside"
  chown postgres:postgres "$outside"
  chmod 700 "$outside"
  ln -s "$outside" "$PG_DATA"
  PG_DATA=$outside
}

postgres_prepare() {
  local bin
  bin=$(pg_bin)
  postgres_place_data || return 1
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    say postgres "initdb $PG_DATA"
    as_postgres "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=peer --auth-host=scram-sha-256 >>"$(postgres_log)" 2>&1 ||
      { fail postgres "initdb failed"; return 1; }
    echo "include_if_exists = 'chattalk.conf'" >>"$PG_DATA/postgresql.conf"
  fi
  # Rewritten on every start so a change here takes effect without a new cluster. The durability
  # settings are off because this cluster holds throwaway development and test data only.
  cat >"$PG_DATA/chattalk.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DATA'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  chown postgres:postgres "$PG_DATA/chattalk.conf"
}

postgres_start() {
  local log
  PG_DATA=$(readlink -f "$PG_DATA")
  log=$(postgres_log)
  # Without -l the postmaster keeps the log file descriptor this (root) shell opened, so the log
  # stays in .services/logs even when the postgres user cannot open files there.
  as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DATA" -w -t 60 start >>"$log" 2>&1 </dev/null 9>&- ||
    { fail postgres "pg_ctl start failed"; return 1; }
  record_pid postgres "$(head -n1 "$PG_DATA/postmaster.pid")" || return 1
  as_postgres psql -h "$PG_DATA" -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qAt >>"$log" 2>&1 <<'SQL' ||
SELECT 'CREATE ROLE chattalk LOGIN CREATEDB PASSWORD ''chattalk'''
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'chattalk')\gexec
SELECT 'CREATE DATABASE chattalk OWNER chattalk'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'chattalk')\gexec
SQL
    { fail postgres "creating role/database chattalk failed"; return 1; }
}

postgres_healthy() {
  [ "$(PGPASSWORD=chattalk PGCONNECT_TIMEOUT=3 psql -w "$PG_URL" -qAtc 'select 1' 2>/dev/null)" = 1 ]
}
