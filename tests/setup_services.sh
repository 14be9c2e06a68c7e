#!/usr/bin/env bash
# Makes sure the real parts the suite needs are there: PostgreSQL and Redis on loopback (started if
# installed but stopped), Debian's Chromium, and axe-core from the npm registry. Fails loudly, never skips.
set -uo pipefail
cd "$(dirname "$0")/.."

fail() { echo "make test: $*" >&2; exit 1; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  pg_up || fail "PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started. Start it (user postgres, trust auth) or set TEST_DATABASE_URL."
fi

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not answering on 127.0.0.1:6379: starting it"
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  fi
  redis_up || fail "Redis is not reachable on 127.0.0.1:6379 and could not be started. Start it or set TEST_REDIS_URL."
fi

if [ ! -x /usr/bin/chromium ]; then
  [ "$(id -u)" = 0 ] || fail "Debian's chromium package is needed for the browser tests: run 'sudo apt-get install chromium'."
  echo "Installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
    || fail "apt-get could not install chromium."
fi

if [ ! -x /usr/bin/turnserver ]; then
  [ "$(id -u)" = 0 ] || fail "Debian's coturn package is needed for the TURN test: run 'sudo apt-get install coturn'."
  echo "Installing Debian's coturn for the TURN test (the tests start their own turnserver on loopback)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq coturn) >/dev/null \
    || fail "apt-get could not install coturn."
fi

if ! command -v janus >/dev/null || [ ! -f /usr/share/javascript/janus-gateway/janus.js ]; then
  [ "$(id -u)" = 0 ] || fail "Debian's janus and libjs-janus-gateway are needed for the group tests: run 'sudo apt-get install janus libjs-janus-gateway'."
  echo "Installing Debian's janus and libjs-janus-gateway for the group tests (the tests start their own janus on loopback)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq janus libjs-janus-gateway) >/dev/null \
    || fail "apt-get could not install janus and libjs-janus-gateway."
fi
# The Debian package also installs a system janus service; the tests never use it (they start their own).

if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  command -v npm >/dev/null || fail "npm is needed to fetch axe-core for the accessibility checks."
  (cd tests/browser && npm ci --no-audit --no-fund --silent) || fail "npm could not install axe-core."
fi
echo "PostgreSQL, Redis, Chromium, coturn, Janus and axe-core are ready."
