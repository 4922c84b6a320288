#!/usr/bin/env bash
# The storage tests need PostgreSQL on 127.0.0.1:5432 (database `test`, trust auth). Start it if it is down.
set -euo pipefail
url_host=${RECLAIM_TEST_PG_HOST:-127.0.0.1}
if pg_isready -q -h "$url_host" -p 5432 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for v in $(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect "$v" main start || true; done
  for _ in $(seq 1 30); do pg_isready -q -h "$url_host" -p 5432 && exit 0; sleep 1; done
fi
echo "PostgreSQL is not answering on $url_host:5432; start it (database 'test', trust auth) or set RECLAIM_TEST_PG_URL." >&2
exit 1
