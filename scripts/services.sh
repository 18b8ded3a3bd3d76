#!/usr/bin/env bash
# Makes the real services the test suite uses answer: PostgreSQL at DATABASE_URL and
# Redis at REDIS_URL, plus ffmpeg for the media tests. It installs (apt, as root) and
# starts them only when the URLs point at this machine's default ports; for anything
# else it just waits for them. Prints what it did.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
WAIT_S=${SERVICES_WAIT_S:-30}

pg_host=$(url_host "$DATABASE_URL")
pg_port=$(url_port "$DATABASE_URL")
pg_port=${pg_port:-5432}
redis_host=$(url_host "$REDIS_URL")
redis_port=$(url_port "$REDIS_URL")
redis_port=${redis_port:-6379}

pg_local=false
if is_local_host "$pg_host" && [ "$pg_port" = 5432 ]; then pg_local=true; fi
redis_local=false
if is_local_host "$redis_host" && [ "$redis_port" = 6379 ]; then redis_local=true; fi

pg_answers() { pg_isready -q -h "$pg_host" -p "$pg_port"; }
redis_answers() { [ "$(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null)" = PONG ]; }

# The contract's choice: the first version under /etc/postgresql (one on Debian 12).
# shellcheck disable=SC2012
pg_cluster_version() { ls /etc/postgresql 2>/dev/null | head -1; }

start_postgres() {
	if ! have pg_isready || [ -z "$(pg_cluster_version)" ]; then
		say "PostgreSQL is not installed"
		apt_install postgresql || die "PostgreSQL is missing; install it or set DATABASE_URL"
	fi
	if pg_answers; then
		say "PostgreSQL answers at $pg_host:$pg_port"
		return
	fi
	local v
	v=$(pg_cluster_version)
	[ -n "$v" ] || die "no cluster under /etc/postgresql after installing PostgreSQL"
	if [ ! -d "/etc/postgresql/$v/main" ]; then
		say "creating PostgreSQL $v cluster main"
		pg_createcluster "$v" main
	fi
	say "starting PostgreSQL $v/main"
	pg_ctlcluster --skip-systemctl-redirect "$v" main start ||
		warn "pg_ctlcluster $v main start failed; waiting anyway"
}

# A freshly installed Debian cluster only lets OS user postgres in over the socket
# (peer) and asks for a password over TCP; the test URL has none. Trust local TCP for
# this test machine, once, and say so.
allow_local_trust() {
	have psql || return 0
	local out
	if out=$(psql -w "$DATABASE_URL" -Atqc 'select 1' 2>&1); then
		return 0
	fi
	out=$(tr '\n' ' ' <<<"$out")
	case $out in
	*"password authentication failed"* | *"no password supplied"* | *"no pg_hba.conf entry"* | *"Ident authentication failed"* | *"Peer authentication failed"*) ;;
	*)
		warn "PostgreSQL answers but psql \"$DATABASE_URL\" failed: $out"
		return 0
		;;
	esac
	if ! is_root; then
		warn "PostgreSQL refuses $DATABASE_URL ($out); not root, so not touching pg_hba.conf"
		return 0
	fi
	local v hba
	v=$(pg_cluster_version)
	hba=/etc/postgresql/$v/main/pg_hba.conf
	[ -f "$hba" ] || {
		warn "no $hba; cannot allow local connections"
		return 0
	}
	say "PostgreSQL refused the test URL ($out): trusting 127.0.0.1 and ::1 in $hba"
	local tmp
	tmp=$(mktemp)
	{
		echo "# added by marquee scripts/services.sh: the test suite connects without a password"
		echo "host all all 127.0.0.1/32 trust"
		echo "host all all ::1/128 trust"
		cat "$hba"
	} >"$tmp"
	cat "$tmp" >"$hba"
	rm -f "$tmp"
	pg_ctlcluster --skip-systemctl-redirect "$v" main reload
	wait_until 10 psql -w "$DATABASE_URL" -Atqc 'select 1' ||
		warn "psql \"$DATABASE_URL\" still fails after reloading pg_hba.conf"
}

start_redis() {
	if ! have redis-server || ! have redis-cli; then
		say "Redis is not installed"
		apt_install redis-server redis-tools || die "Redis is missing; install it or set REDIS_URL"
	fi
	if redis_answers; then
		say "Redis answers at $redis_host:$redis_port"
		return
	fi
	say "starting redis-server on 127.0.0.1:6379 (no persistence)"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
}

# PostgreSQL.
if $pg_local; then
	start_postgres
else
	say "DATABASE_URL points at $pg_host:$pg_port, not this machine's default: not managing it"
fi
if have pg_isready; then
	if ! wait_until "$WAIT_S" pg_answers; then
		if $pg_local && have pg_lsclusters; then pg_lsclusters >&2 || true; fi
		die "PostgreSQL at $pg_host:$pg_port did not answer within ${WAIT_S}s"
	fi
	say "PostgreSQL ready at $pg_host:$pg_port"
	if $pg_local; then allow_local_trust; fi
else
	warn "no pg_isready here; not checking PostgreSQL at $pg_host:$pg_port"
fi

# Redis.
if $redis_local; then
	start_redis
else
	say "REDIS_URL points at $redis_host:$redis_port, not this machine's default: not managing it"
fi
if have redis-cli; then
	wait_until "$WAIT_S" redis_answers || die "Redis at $redis_host:$redis_port did not answer PONG within ${WAIT_S}s"
	say "Redis ready at $redis_host:$redis_port"
else
	warn "no redis-cli here; not checking Redis at $redis_host:$redis_port"
fi

# ffmpeg for the media tests.
if have ffmpeg; then
	say "ffmpeg present: $(command -v ffmpeg)"
elif ensure_cmd ffmpeg; then
	say "installed ffmpeg"
else
	warn "ffmpeg is missing: media tests that need it will fail or skip"
fi
