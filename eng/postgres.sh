#!/usr/bin/env bash
# A private PostgreSQL cluster for RpcGen's outbox tests, demo and benchmarks (src/Rpc.PostgreSql, docs/outbox.md):
# Debian's postgresql (15) installed when missing (as root only), its data under .postgres/PORT in the checkout, owned
# by the postgres user when we are root. It never touches a system cluster: its own port, socket folder and data.
#   eng/postgres.sh start|stop|status     the cluster on RPCGEN_PG_PORT (default 5433)
#   eng/postgres.sh url                   prints its connection string (what RPCGEN_POSTGRES holds for the tests)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

: "${RPCGEN_PG_PORT:=5433}"
: "${RPCGEN_PG_DIR:=$ROOT/.postgres/$RPCGEN_PG_PORT}"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"

log() { printf '[postgres] %s\n' "$*" >&2; }

url() { echo "Host=127.0.0.1;Port=$RPCGEN_PG_PORT;Username=postgres;Password=postgres;Database=postgres"; }

ensure_installed() {
  if [ -x "$PG_BIN/pg_ctl" ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian's postgresql"
    apt-get update -qq >/dev/null
    # The package may start a system cluster on 5432; ours is separate (own port, data and socket folder).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_VERSION" >/dev/null
  else
    echo "PostgreSQL $PG_VERSION is not installed. Install it with: sudo apt-get install -y postgresql (or set RPCGEN_POSTGRES)" >&2
    exit 1
  fi
}

# Runs a PostgreSQL program as the postgres user when we are root (initdb and postgres refuse to run as root).
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ctl_() { as_owner "$PG_BIN/pg_ctl" -D "$RPCGEN_PG_DIR/data" "$@"; }

running() { [ -f "$RPCGEN_PG_DIR/data/postmaster.pid" ] && pg_ctl_ status >/dev/null 2>&1; }

start() {
  ensure_installed
  if running; then log "running on port $RPCGEN_PG_PORT"; url; return 0; fi
  mkdir -p "$RPCGEN_PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$RPCGEN_PG_DIR"; fi
  if [ ! -f "$RPCGEN_PG_DIR/data/PG_VERSION" ]; then
    log "initdb in $RPCGEN_PG_DIR/data"
    local pw="$RPCGEN_PG_DIR/pwfile"
    echo postgres >"$pw"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pw"; fi
    as_owner "$PG_BIN/initdb" -D "$RPCGEN_PG_DIR/data" -U postgres --pwfile="$pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pw"
    # A test cluster: durability as a server has it (fsync on), more connections than the default for parallel tests.
    cat >>"$RPCGEN_PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $RPCGEN_PG_PORT
unix_socket_directories = '$RPCGEN_PG_DIR'
max_connections = 200
shared_buffers = 64MB
EOF
  fi
  log "starting on port $RPCGEN_PG_PORT"
  pg_ctl_ -l "$RPCGEN_PG_DIR/log" -w -t 60 start >/dev/null
  url
}

stop() {
  if running; then pg_ctl_ -m fast -w stop >/dev/null; log "stopped (port $RPCGEN_PG_PORT)"; else log "not running (port $RPCGEN_PG_PORT)"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then log "running on port $RPCGEN_PG_PORT"; url; else log "not running (port $RPCGEN_PG_PORT)"; exit 3; fi ;;
  url) url ;;
  *) echo "usage: eng/postgres.sh start|stop|status|url" >&2; exit 2 ;;
esac
