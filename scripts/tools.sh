#!/usr/bin/env bash
# Installs the pinned developer tools into ./.tools/bin (GOBIN), so `make lint` uses the
# same versions everywhere. Idempotent: a tool is rebuilt only when its binary is
# missing, was built from another version, or by another Go toolchain.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# Pinned versions; both build with and understand Go 1.26.
STATICCHECK_VERSION=v0.8.2 # staticcheck 2026.2.2
GOVULNCHECK_VERSION=v1.9.0

TOOLS_BIN=${TOOLS_BIN:-$REPO_ROOT/.tools/bin}
mkdir -p "$TOOLS_BIN"
have go || die "go is not on PATH (expected /usr/local/go/bin/go)"
go_version=$(go env GOVERSION)

# install NAME PACKAGE MODULE VERSION
install() {
	local name=$1 pkg=$2 mod=$3 version=$4 bin=$TOOLS_BIN/$1 info
	if [ -x "$bin" ] && info=$(go version -m "$bin" 2>/dev/null) &&
		grep -Eq "^$bin: $go_version\$" <<<"$info" &&
		grep -Eq "^[[:space:]]+mod[[:space:]]+${mod}[[:space:]]+${version}([[:space:]]|\$)" <<<"$info"; then
		say "$name $version (built with $go_version) is up to date"
		return
	fi
	say "go install $pkg@$version"
	GOBIN=$TOOLS_BIN go install "$pkg@$version"
}

install staticcheck honnef.co/go/tools/cmd/staticcheck honnef.co/go/tools "$STATICCHECK_VERSION"
install govulncheck golang.org/x/vuln/cmd/govulncheck golang.org/x/vuln "$GOVULNCHECK_VERSION"
