# Redis (Debian `redis-server`) on 127.0.0.1:56379, in memory only: no RDB snapshots, no AOF.

REDIS_PORT=${CHATTALK_REDIS_PORT:-56379}
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"

redis_port() { echo "$REDIS_PORT"; }
redis_log() { echo "$LOG_DIR/redis.log"; }
redis_cmdline_marker() { echo "redis-server"; }
redis_stop_signal() { echo TERM; }

redis_missing_packages() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || echo redis-server
}

redis_prepare() { mkdir -p "$DATA_DIR/redis"; }

redis_start() {
  launch redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA_DIR/redis" \
    --save "" --appendonly no --daemonize no --protected-mode yes --logfile ""
}

redis_healthy() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }
