#!/usr/bin/env bash
# Entry point of `make bench`: makes PostgreSQL and Redis answer (the benchmark runs
# the server on them as well as on the embedded default), then runs bench/run.sh.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}
export BENCH_DATABASE_URL BENCH_REDIS_URL

if [ "${BENCH_SKIP_POSTGRES:-0}" != 1 ]; then
	DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL=$BENCH_REDIS_URL bash "$REPO_ROOT/scripts/services.sh"
fi
bash "$REPO_ROOT/bench/run.sh" "$@"
# The media pipeline's benchmarks take several minutes (a 60 s 1080p clip,
# a backlog of 100 jobs); BENCH_SKIP_MEDIA=1 skips them.
if [ "${BENCH_SKIP_MEDIA:-0}" != 1 ]; then
	bash "$REPO_ROOT/bench/media.sh"
fi
# Playback (issue 4): the manifest endpoint and licenses against nginx, and
# packaging with encryption; BENCH_SKIP_PLAYBACK=1 skips it.
if [ "${BENCH_SKIP_PLAYBACK:-0}" != 1 ]; then
	bash "$REPO_ROOT/bench/playback.sh"
fi
# Billing: usage ingest vs raw COPY, and the usage query (a few minutes);
# BENCH_SKIP_BILLING=1 skips them.
if [ "${BENCH_SKIP_BILLING:-0}" != 1 ]; then
	bash "$REPO_ROOT/bench/billing.sh"
fi
# Catalog (issue 6): search and recommendations at 1,000,000 titles (seeding
# takes a few minutes) and the offline evaluation; BENCH_SKIP_CATALOG=1 skips it.
if [ "${BENCH_SKIP_CATALOG:-0}" != 1 ]; then
	bash "$REPO_ROOT/bench/catalog.sh"
fi
