#!/usr/bin/env bash
# What `go test` needs before it can run on a fresh machine: TLS roots for the module
# proxy, the Go modules, and a C toolchain (the race detector needs cgo).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

have go || die "go is not on PATH (the set-up contract expects Go 1.26 at /usr/local/go)"
say "$(go version)"

if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
	apt_install ca-certificates || warn "no CA certificates: downloads over https may fail"
fi

say "go mod download"
go mod download

cc=$(go env CC)
if ! have "${cc:-gcc}"; then
	say "no C compiler (${cc:-gcc}) for go test -race"
	apt_install gcc libc6-dev || die "go test -race needs a C compiler; install gcc"
fi
if [ "$(go env CGO_ENABLED)" != 1 ]; then
	warn "CGO_ENABLED=$(go env CGO_ENABLED): go test -race needs cgo"
fi

# stripe-mock: the Stripe API double the billing tests run (they start their
# own on random ports). Pinned; installed into .tools/bin once.
STRIPE_MOCK_VERSION=v0.203.0
if [ ! -x "$REPO_ROOT/.tools/bin/stripe-mock" ]; then
	say "go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
	GOBIN="$REPO_ROOT/.tools/bin" GOFLAGS= go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" ||
		warn "could not install stripe-mock: the Stripe tests will fail in CI"
fi
