#!/usr/bin/env bash
# The foundation benchmark (`make bench`; see bench/README.md):
#   1. Go benchmarks of policies, internal, tenants and controlplane → bench/out/go-bench.txt
#   2. wrk against /healthz, then authenticated reads (/v1/tenant, /v1/quotas), on `marquee dev`
#      (embedded database and queue) and on `marquee controlplane` over PostgreSQL+Redis
#   3. the "foundation" section of bench/RESULTS.md, between its markers
# Every wait is bounded; servers, temp dirs and the throwaway database go on exit.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
cd "$REPO_ROOT"

OUT=bench/out
RESULTS=bench/RESULTS.md
BIN=$REPO_ROOT/bin/marquee
WRK_ARGS=(-t2 -c64)
WARMUP=2s
DURATION=10s
BENCHTIME=${BENCHTIME:-1s}
HEALTH_WAIT_S=${HEALTH_WAIT_S:-60}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}
SIGNUP='{"email":"bench@example.com","password":"correct horse battery staple","name":"Bench"}'
BEGIN_MARK='<!-- foundation:begin -->'
END_MARK='<!-- foundation:end -->'

mkdir -p "$OUT"
have go || die "go is not on PATH"
ensure_cmd curl || die "curl is required"
ensure_cmd wrk || die "wrk is required (apt-get install wrk)"

server_pid=
server_log=
data_dir=
bench_db=

stop_server() {
	[ -n "$server_pid" ] || return 0
	local i
	kill -TERM "$server_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		warn "server $server_pid ignored SIGTERM for 10s; killing it"
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

drop_bench_db() {
	[ -n "$bench_db" ] || return 0
	psql -w "$BENCH_DATABASE_URL" -v ON_ERROR_STOP=1 -Atqc "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" ||
		warn "could not drop database $bench_db"
	bench_db=
}

cleanup() {
	stop_server
	drop_bench_db
	if [ -n "$data_dir" ]; then rm -rf "$data_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME COMMAND... starts COMMAND with --addr on a free port and waits
# for /healthz to answer 200. Sets server_pid and base.
start_server() {
	local name=$1 port i code
	shift
	port=$(free_port) || die "no free port found"
	server_log=$OUT/server-$name.log
	say "starting $* --addr 127.0.0.1:$port (log: $server_log)"
	"$@" --addr "127.0.0.1:$port" >"$server_log" 2>&1 &
	server_pid=$!
	base=http://127.0.0.1:$port
	for ((i = 0; i < HEALTH_WAIT_S * 4; i++)); do
		if ! kill -0 "$server_pid" 2>/dev/null; then
			tail -n 30 "$server_log" >&2 || true
			server_pid=
			die "the $name server exited before /healthz answered"
		fi
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/healthz" || true)
		[ "$code" = 200 ] && return 0
		sleep 0.25
	done
	tail -n 30 "$server_log" >&2 || true
	die "the $name server's /healthz did not answer 200 within ${HEALTH_WAIT_S}s (last: $code)"
}

json_token() {
	if have jq; then
		jq -r '.token // empty'
	elif have python3; then
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("token") or "")'
	else
		sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p'
	fi
}

# signup prints the bearer token of a fresh creator signed up on $base.
signup() {
	local resp token code
	resp=$(curl -s -m 30 -X POST "$base/v1/signup" -H 'Content-Type: application/json' -d "$SIGNUP") ||
		die "POST /v1/signup failed"
	token=$(json_token <<<"$resp" || true)
	[ -n "$token" ] || die "POST /v1/signup returned no token: $resp"
	code=$(curl -s -m 10 -o "$OUT/quotas.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/quotas" || true)
	[ "$code" = 200 ] || die "GET /v1/quotas with the signup token answered $code: $(head -c 500 "$OUT/quotas.json")"
	printf '%s\n' "$token"
}

# measure BACKEND ENDPOINT PATH [wrk -H args...] warms up, runs wrk and appends a row.
measure() {
	local backend=$1 endpoint=$2 path=$3 file rps p50 p99 non2xx sockerr
	shift 3
	file=$OUT/wrk-$backend-${endpoint//[^a-z0-9]/}.txt
	say "$backend $endpoint: warm-up $WARMUP"
	wrk "${WRK_ARGS[@]}" -d"$WARMUP" "$@" "$base$path" >/dev/null
	say "$backend $endpoint: wrk ${WRK_ARGS[*]} -d$DURATION --latency"
	wrk "${WRK_ARGS[@]}" -d"$DURATION" --latency "$@" "$base$path" | tee "$file"
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$file")
	p50=$(awk '$1 == "50%" {print $2}' "$file")
	p99=$(awk '$1 == "99%" {print $2}' "$file")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$file")
	sockerr=$(awk -F': ' '/Socket errors:/ {print $2}' "$file")
	if [ -z "$rps" ] || [ -z "$p50" ] || [ -z "$p99" ]; then die "could not parse $file"; fi
	if [ -n "$non2xx" ]; then warn "$backend $endpoint: $non2xx responses were not 2xx/3xx"; fi
	if [ -n "$sockerr" ]; then warn "$backend $endpoint: socket errors: $sockerr"; fi
	rows+=("$backend|$endpoint|$rps|$p50|$p99|${non2xx:-0}${sockerr:+ (socket: $sockerr)}")
}

# measure_pair BACKEND: /healthz then the authenticated read, on the running server.
measure_pair() {
	local backend=$1 token
	token=$(signup)
	measure "$backend" /healthz /healthz
	measure "$backend" "/v1/tenant" /v1/tenant -H "Authorization: Bearer $token"
	measure "$backend" "/v1/quotas" /v1/quotas -H "Authorization: Bearer $token"
}

# url_with_db URL DB prints URL with its database name replaced by DB.
url_with_db() {
	local url=$1 db=$2 base query
	base=${url%%\?*}
	query=${url#"$base"}
	local scheme=${base%%://*} rest=${base#*://}
	rest=${rest%%/*}
	printf '%s://%s/%s%s\n' "$scheme" "$rest" "$db" "$query"
}

# ---- 1. Go benchmarks ------------------------------------------------------------
pkgs=()
for pat in ./policies/ ./internal/... ./tenants/... ./controlplane/...; do
	listed=$(go list "$pat" 2>"$OUT/go-list.err" || true)
	if [ -z "$listed" ] && grep -Eq 'no Go files|matched no packages|directory not found' "$OUT/go-list.err"; then
		say "skipping $pat: no Go packages there yet"
	else
		pkgs+=("$pat") # packages without benchmarks just print "no test files" or PASS
	fi
done
rm -f "$OUT/go-list.err"
go_bench_rc=0
if [ ${#pkgs[@]} -gt 0 ]; then
	say "go test -run '^\$' -bench . -benchmem -benchtime $BENCHTIME ${pkgs[*]}"
	go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" -timeout 20m "${pkgs[@]}" 2>&1 |
		tee "$OUT/go-bench.txt" || go_bench_rc=$?
else
	: >"$OUT/go-bench.txt"
fi
[ "$go_bench_rc" -eq 0 ] || die "Go benchmarks failed (exit $go_bench_rc); see $OUT/go-bench.txt"

# ---- 2. HTTP: /healthz vs an authenticated read ---------------------------------
say "go build -o bin/marquee ./cmd/marquee"
go build -o "$BIN" ./cmd/marquee

rows=()
notes=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

data_dir=$(mktemp -d -t marquee-bench.XXXXXX)
start_server embedded env -u DATABASE_URL -u REDIS_URL "$BIN" dev --data-dir "$data_dir"
measure_pair embedded
stop_server
rm -rf "$data_dir"
data_dir=

pg_version=
if [ "${BENCH_SKIP_POSTGRES:-0}" = 1 ]; then
	notes+=("PostgreSQL run skipped: BENCH_SKIP_POSTGRES=1.")
elif ! have psql; then
	notes+=("PostgreSQL run skipped: no psql on the machine.")
elif ! psql -w "$BENCH_DATABASE_URL" -Atqc 'select 1' >/dev/null 2>&1; then
	notes+=("PostgreSQL run skipped: nothing answered at the benchmark's DATABASE_URL.")
else
	pg_version=$(psql -w "$BENCH_DATABASE_URL" -Atqc 'show server_version' | awk '{print $1}')
	bench_db=marquee_bench_$$
	say "creating database $bench_db"
	psql -w "$BENCH_DATABASE_URL" -v ON_ERROR_STOP=1 -Atqc "CREATE DATABASE $bench_db"
	db_url=$(url_with_db "$BENCH_DATABASE_URL" "$bench_db")
	say "bin/marquee migrate up (DATABASE_URL → $bench_db)"
	DATABASE_URL=$db_url REDIS_URL=$BENCH_REDIS_URL "$BIN" migrate up >"$OUT/migrate-postgres.log" 2>&1 ||
		{
			tail -n 30 "$OUT/migrate-postgres.log" >&2
			die "migrate up failed"
		}
	data_dir=$(mktemp -d -t marquee-bench.XXXXXX) # the session key lives there
	start_server postgres env DATABASE_URL="$db_url" REDIS_URL="$BENCH_REDIS_URL" "$BIN" controlplane --data-dir "$data_dir"
	measure_pair postgres
	stop_server
	rm -rf "$data_dir"
	data_dir=
	drop_bench_db
	if have redis-cli; then
		# The benchmark's own Redis database (db 15 by default) holds only its queue state.
		redis-cli -u "$BENCH_REDIS_URL" flushdb >/dev/null 2>&1 || warn "could not flush $BENCH_REDIS_URL"
	fi
fi

# ---- 3. bench/RESULTS.md ----------------------------------------------------------
backend_label() {
	case $1 in
	embedded) echo "embedded (\`marquee dev\`)" ;;
	postgres) echo "PostgreSQL ${pg_version} + Redis (\`marquee controlplane\`)" ;;
	*) echo "$1" ;;
	esac
}

section=$(mktemp)
{
	echo "$BEGIN_MARK"
	echo "## Foundation: authenticated read vs /healthz"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: \`nproc\` = $(nproc), $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo 'unknown CPU'); $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"
	echo "- Command: \`make bench\` (scripts/bench.sh → bench/run.sh)"
	echo "- Load average before the HTTP runs: $load_before (other work on the machine skews the numbers)"
	echo "- Load: \`wrk ${WRK_ARGS[*]} -d$DURATION --latency\` after a $WARMUP warm-up, per endpoint, /healthz then"
	echo "  the authenticated reads with a signed-up creator's bearer token, one after the other in the same run:"
	echo "  \`GET /v1/tenant\` (session token verified, acting tenant resolved from a 2 s cache, casbin, OPA access"
	echo "  decision) and \`GET /v1/quotas\` (the same plus a database transaction reading limits and use)."
	echo "  wrk and the server share the machine's cores."
	echo
	echo "| backend | endpoint | req/s | p50 | p99 | non-2xx | ratio auth/healthz |"
	echo "|---|---|--:|--:|--:|--:|--:|"
	declare -A healthz_rps=()
	for row in "${rows[@]}"; do
		IFS='|' read -r backend endpoint rps p50 p99 bad <<<"$row"
		ratio="—"
		if [ "$endpoint" = /healthz ]; then
			healthz_rps[$backend]=$rps
		elif [ -n "${healthz_rps[$backend]:-}" ]; then
			ratio=$(awk -v a="$rps" -v h="${healthz_rps[$backend]}" 'BEGIN {printf "%.2f", (h > 0 ? a / h : 0)}')
		fi
		# shellcheck disable=SC2016 # the backticks are Markdown
		printf '| %s | `%s` | %s | %s | %s | %s | %s |\n' "$(backend_label "$backend")" "$endpoint" "$rps" "$p50" "$p99" "$bad" "$ratio"
	done
	for n in "${notes[@]}"; do
		echo
		echo "$n"
	done
	echo
	echo "Authorization decisions (Go benchmarks in \`./policies\`, \`-benchmem -benchtime $BENCHTIME\`):"
	echo
	policy_rows=$(awk '
		/^pkg: / { pkg = $2 }
		/^Benchmark(Enforce|QuotaDecide|AccessDecide)/ && pkg ~ /\/policies$/ {
			name = $1; sub(/-[0-9]+$/, "", name); ns = ""; b = "—"; a = "—"
			for (i = 3; i <= NF; i++) {
				if ($i == "ns/op") ns = $(i - 1)
				if ($i == "B/op") b = $(i - 1)
				if ($i == "allocs/op") a = $(i - 1)
			}
			if (ns != "") printf "| `%s` | %.2f | %s | %s |\n", name, ns / 1000, b, a
		}' "$OUT/go-bench.txt")
	if [ -n "$policy_rows" ]; then
		echo "| benchmark | µs/op | B/op | allocs/op |"
		echo "|---|--:|--:|--:|"
		printf '%s\n' "$policy_rows"
	else
		echo "No BenchmarkEnforce* or BenchmarkQuotaDecide* in ./policies yet."
	fi
	echo
	echo "Raw output: \`bench/out/\` (go-bench.txt, wrk-*.txt, server logs); not committed."
	echo "$END_MARK"
} >"$section"

if [ ! -f "$RESULTS" ]; then
	cat >"$RESULTS" <<'EOF'
# Marquee benchmark results

Measured by `make bench` (scripts/bench.sh → bench/run.sh); see bench/README.md for how
to run them and what each number means. Each section is regenerated by its part of the
benchmark between its `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers; everything
outside the markers is kept as written.

<!-- foundation:begin -->
<!-- foundation:end -->
EOF
fi
begins=$(grep -cxF "$BEGIN_MARK" "$RESULTS" || true)
ends=$(grep -cxF "$END_MARK" "$RESULTS" || true)
if [ "$begins" = 0 ] && [ "$ends" = 0 ]; then
	{
		echo
		cat "$section"
	} >>"$RESULTS"
elif [ "$begins" = 1 ] && [ "$ends" = 1 ]; then
	awk -v section="$section" -v b="$BEGIN_MARK" -v e="$END_MARK" '
		$0 == b { while ((getline line < section) > 0) print line; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip { print }' "$RESULTS" >"$RESULTS.tmp"
	mv "$RESULTS.tmp" "$RESULTS"
else
	rm -f "$section"
	die "$RESULTS has $begins '$BEGIN_MARK' and $ends '$END_MARK' lines; fix it by hand"
fi
rm -f "$section"
say "wrote the foundation section of $RESULTS"
sed -n "/^$BEGIN_MARK\$/,/^$END_MARK\$/p" "$RESULTS"
