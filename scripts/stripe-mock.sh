#!/usr/bin/env bash
# Starts stripe-mock (stateless Stripe API double) on loopback for local
# development and prints the environment that points Marquee at it:
#   eval "$(bash scripts/stripe-mock.sh)"; make run
# Ports: STRIPE_MOCK_HTTP_PORT (default 12111) and STRIPE_MOCK_HTTPS_PORT
# (default 12112). The tests start their own on random ports (billing/stripe/stripetest).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

BIN=${STRIPE_MOCK:-$(command -v stripe-mock || { [ -x "$REPO_ROOT/.tools/bin/stripe-mock" ] && echo "$REPO_ROOT/.tools/bin/stripe-mock"; } || echo "$HOME/go/bin/stripe-mock")}
HTTP_PORT=${STRIPE_MOCK_HTTP_PORT:-12111}
HTTPS_PORT=${STRIPE_MOCK_HTTPS_PORT:-12112}
if [ ! -x "$BIN" ]; then
	have go || die "stripe-mock is not installed and go is not on PATH"
	warn "installing stripe-mock v0.203.0 with go install"
	GOBIN=${GOBIN:-$HOME/go/bin} go install github.com/stripe/stripe-mock@v0.203.0 >&2
	BIN=${GOBIN:-$HOME/go/bin}/stripe-mock
fi
if ! (exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null; then
	nohup "$BIN" -http-addr "127.0.0.1:$HTTP_PORT" -https-addr "127.0.0.1:$HTTPS_PORT" >/tmp/stripe-mock.log 2>&1 &
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null && break
		sleep 0.1
	done
	(exec 3<>"/dev/tcp/127.0.0.1/$HTTP_PORT") 2>/dev/null || die "stripe-mock did not start; see /tmp/stripe-mock.log"
fi
echo "export MARQUEE_STRIPE_API_URL=http://127.0.0.1:$HTTP_PORT"
echo "export MARQUEE_STRIPE_SECRET_KEY=sk_test_123"
echo "export MARQUEE_STRIPE_WEBHOOK_SECRET=\${MARQUEE_STRIPE_WEBHOOK_SECRET:-whsec_dev}"
