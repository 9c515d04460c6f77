#!/usr/bin/env bash
# Starts (or reuses) the services the test suite talks to. Idempotent: a service already
# answering is left alone. Each service lives in scripts/services.d/<name>.sh and defines
# <name>_up (start if needed, then wait until it answers) and <name>_check (exit 0 if it answers).
#
#   bash scripts/services.sh up [name...]     start all (or the named) services
#   bash scripts/services.sh check [name...]  report which answer
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export SLUICE_ROOT="$(cd "$here/.." && pwd)"
export SLUICE_SERVICES_DIR="${SLUICE_SERVICES_DIR:-$SLUICE_ROOT/.services}"
mkdir -p "$SLUICE_SERVICES_DIR"

for f in "$here"/services.d/*.sh; do
  # shellcheck source=/dev/null
  source "$f"
done

# Polls a command until it succeeds or the timeout (seconds) passes.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "services: $what did not come up within ${timeout}s" >&2
      return 1
    fi
    sleep 0.5
  done
}

all_services() {
  for f in "$here"/services.d/*.sh; do basename "$f" .sh; done
}

cmd="${1:-up}"; shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(all_services)

case "$cmd" in
  up)
    for n in "${names[@]}"; do
      echo "services: $n ..." >&2
      "${n}_up"
      echo "services: $n is up" >&2
    done ;;
  check)
    rc=0
    for n in "${names[@]}"; do
      if "${n}_check" >/dev/null 2>&1; then echo "$n: up"; else echo "$n: down"; rc=1; fi
    done
    exit $rc ;;
  *) echo "usage: services.sh up|check [name...]" >&2; exit 2 ;;
esac
