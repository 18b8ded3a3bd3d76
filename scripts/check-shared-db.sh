#!/usr/bin/env bash
# Every test gets its own database: after `make test`, the shared database
# ($DATABASE_URL, the tests' admin connection) must hold no tables. A test
# that wrote there (a process started with the Go suites' DATABASE_URL) fails
# the run here instead of leaving state for the next one.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
url=${DATABASE_URL:-}
[ -n "$url" ] || exit 0
have psql || { warn "no psql: cannot check that the shared database stayed empty"; exit 0; }
tables=$(psql -w "$url" -Atqc "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')" 2>/dev/null || echo "?")
if [ "$tables" = "?" ]; then
	warn "could not read the shared database's tables"
	exit 0
fi
if [ "$tables" != 0 ]; then
	die "the shared database ($(printf '%s' "$url" | sed 's#//[^@]*@#//#')) has $tables tables after the tests: a test wrote outside its own database"
fi
say "the shared database is still empty"
