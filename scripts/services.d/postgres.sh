# PostgreSQL: the machine's own server on 127.0.0.1:5432, trust auth (PGURL overrides).
# Logical replication needs wal_level=logical; set it once with ALTER SYSTEM and restart only
# when the running value differs.
postgres_url() { echo "${PGURL:-postgres://postgres@127.0.0.1:5432/postgres}"; }

postgres_check() {
  psql "$(postgres_url)" -tAc 'select 1' | grep -q 1
}

postgres_setting() {
  psql "$(postgres_url)" -tAc "select setting from pg_settings where name = '$1'"
}

postgres_restart() {
  local version; version="$(ls /etc/postgresql | sort -V | tail -1)"
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart
}

postgres_up() {
  if ! postgres_check; then
    if [ -n "${PGURL:-}" ]; then
      echo "services: PGURL=$PGURL does not answer" >&2; return 1
    fi
    local version; version="$(ls /etc/postgresql | sort -V | tail -1)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for postgres 60 postgres_check
  fi
  local restart=0
  if [ "$(postgres_setting wal_level)" != logical ]; then
    psql "$(postgres_url)" -qc "alter system set wal_level = logical"; restart=1
  fi
  if [ "$(postgres_setting max_replication_slots)" -lt 20 ]; then
    psql "$(postgres_url)" -qc "alter system set max_replication_slots = 20"; restart=1
  fi
  if [ "$(postgres_setting max_wal_senders)" -lt 20 ]; then
    psql "$(postgres_url)" -qc "alter system set max_wal_senders = 20"; restart=1
  fi
  if [ "$restart" = 1 ]; then
    [ -z "${PGURL:-}" ] || { echo "services: $PGURL needs wal_level=logical and a restart" >&2; return 1; }
    postgres_restart
    wait_for postgres 60 postgres_check
  fi
}
