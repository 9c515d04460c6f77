# Redis: the machine's own server on 127.0.0.1:6379 (REDIS_URL overrides).
redis_check() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379}"
  redis-cli -u "$url" ping | grep -q PONG
}

redis_up() {
  redis_check && return 0
  if [ -n "${REDIS_URL:-}" ]; then
    echo "services: REDIS_URL=$REDIS_URL does not answer" >&2; return 1
  fi
  command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
  mkdir -p "$SLUICE_SERVICES_DIR/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "$SLUICE_SERVICES_DIR/redis" --logfile "$SLUICE_SERVICES_DIR/redis/redis.log"
  wait_for redis 30 redis_check
}
