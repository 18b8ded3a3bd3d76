#!/usr/bin/env bash
# Runs the browser end-to-end suite in tests/e2e against the built binary:
# ensures Node and Chromium, installs the suite's npm packages when needed, then
# `node --test` with MARQUEE_BIN set. `make e2e` builds bin/marquee first.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

E2E_DIR=$REPO_ROOT/tests/e2e
MARQUEE_BIN=${MARQUEE_BIN:-$REPO_ROOT/bin/marquee}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

if [ ! -f "$E2E_DIR/package.json" ]; then
	say "SKIPPED: tests/e2e/package.json does not exist yet, so there is no browser suite to run"
	exit 0
fi

[ -x "$MARQUEE_BIN" ] || die "$MARQUEE_BIN is missing; run make build (make e2e does)"

if [ ! -x "$CHROMIUM" ]; then
	say "no Chromium at $CHROMIUM"
	apt_install chromium fonts-liberation || true
	[ -x "$CHROMIUM" ] || die "Chromium is required at $CHROMIUM (apt-get install chromium)"
fi
say "Chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

if ! have node || ! have npm; then
	say "Node.js/npm missing"
	apt_install nodejs npm || true
	if ! have node || ! have npm; then die "node and npm are required for the browser suite"; fi
fi
say "Node.js $(node --version), npm $(npm --version)"
# Fail here, clearly, rather than deep inside a test when Node is older than the suite's
# "engines" (Debian 12's own nodejs is 18; the suite's browser driver needs 20).
need=$(node -e 'const e = require(process.argv[1]).engines || {}; const m = /(\d+)/.exec(e.node || ""); console.log(m ? m[1] : 0)' "$E2E_DIR/package.json")
have_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$have_major" -lt "$need" ]; then
	die "tests/e2e needs Node.js >= $need (package.json engines); this machine has $(node --version)"
fi

# The suite drives the system Chromium ($CHROMIUM); no package may download a browser.
export CHROMIUM PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1

cd "$E2E_DIR"
stamp=node_modules/.package-lock.json # npm ci writes it; newer than the lock when current
if [ ! -f package-lock.json ]; then
	say "no package-lock.json in tests/e2e: npm install (commit the lock file it writes)"
	npm install --no-audit --no-fund
elif [ ! -d node_modules ] || [ ! -e "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
	say "npm ci"
	npm ci --no-audit --no-fund
else
	say "node_modules is up to date with package-lock.json"
fi

export MARQUEE_BIN
say "node --test (MARQUEE_BIN=$MARQUEE_BIN)"
node --test
