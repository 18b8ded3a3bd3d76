#!/usr/bin/env bash
# Runs every check `make lint` promises: gofmt, go vet, staticcheck and govulncheck
# (the last two from ./.tools/bin, see scripts/tools.sh). Runs them all, then fails if
# any failed.
#
# govulncheck needs https://vuln.go.dev (or GOVULNDB, e.g. file:///path/to/db). When
# that cannot be reached the check is reported as NOT RUN, which fails only under
# LINT_STRICT=1: a machine without that network cannot say anything either way.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

TOOLS_BIN=${TOOLS_BIN:-$REPO_ROOT/.tools/bin}
failed=()

say "gofmt -l"
mapfile -t gofiles < <(find . -type f -name '*.go' \
	-not -path './.git/*' -not -path './.tools/*' -not -path '*/node_modules/*' | sort)
if [ ${#gofiles[@]} -gt 0 ]; then
	unformatted=$(gofmt -l "${gofiles[@]}")
	if [ -n "$unformatted" ]; then
		printf 'not gofmt-ed (run gofmt -w):\n%s\n' "$unformatted"
		failed+=(gofmt)
	fi
fi

say "go vet ./..."
go vet ./... || failed+=("go vet")

say "staticcheck ./..."
"$TOOLS_BIN/staticcheck" ./... || failed+=(staticcheck)

say "govulncheck ./..."
db_args=()
[ -z "${GOVULNDB:-}" ] || db_args=(-db "$GOVULNDB")
set +e
vuln_out=$("$TOOLS_BIN/govulncheck" "${db_args[@]}" ./... 2>&1)
vuln_rc=$?
set -e
printf '%s\n' "$vuln_out"
if [ $vuln_rc -ne 0 ]; then
	if grep -Eqi 'fetching vulnerabilities|dial tcp|no such host|i/o timeout|connection refused|network is unreachable|TLS handshake' <<<"$vuln_out" &&
		! grep -q 'Vulnerability #' <<<"$vuln_out"; then
		warn "govulncheck NOT RUN: the vulnerability database ${GOVULNDB:-https://vuln.go.dev} cannot be reached"
		if [ "${LINT_STRICT:-0}" = 1 ]; then failed+=("govulncheck (no database)"); fi
	else
		failed+=(govulncheck)
	fi
fi

if [ ${#failed[@]} -gt 0 ]; then
	die "lint failed: ${failed[*]}"
fi
say "lint passed"
