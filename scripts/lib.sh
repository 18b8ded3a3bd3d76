# shellcheck shell=bash
# Helpers shared by the scripts in this folder and bench/run.sh. Source it; it
# defines functions and sets nothing but PATH and REPO_ROOT.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT

# The set-up contract puts Go at /usr/local/go; a fresh shell may not have it on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	PATH="$PATH:/usr/local/go/bin"
	export PATH
fi

# say prints a progress line prefixed with the calling script's name.
say() { printf '%s: %s\n' "$(basename "$0")" "$*"; }
warn() { printf '%s: WARNING: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
	printf '%s: ERROR: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

have() { command -v "$1" >/dev/null 2>&1; }

# apt_install installs Debian packages when running as root. It refreshes the package
# lists only when a first attempt fails (a fresh image ships with none), and waits for
# another apt holding the lock instead of failing.
apt_install() {
	if ! is_root; then
		warn "not root: cannot apt-get install $*; install it yourself"
		return 1
	fi
	if ! have apt-get; then
		warn "no apt-get on this machine: cannot install $*"
		return 1
	fi
	say "apt-get install $*"
	local opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=300)
	if ! DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@"; then
		say "apt-get update, then retry"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq -o DPkg::Lock::Timeout=300 &&
			DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@"
	fi
}

# ensure_cmd CMD [PACKAGE...] makes CMD available, installing PACKAGE (default CMD)
# when it is missing and we are root. Returns non-zero if it is still missing.
ensure_cmd() {
	local cmd=$1
	shift
	have "$cmd" && return 0
	[ $# -gt 0 ] || set -- "$cmd"
	apt_install "$@" || true
	have "$cmd"
}

# wait_until SECONDS COMMAND... runs COMMAND once a second until it succeeds or
# SECONDS have passed.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	"$@" >/dev/null 2>&1
}

# url_host and url_port print the host and port of a URL such as
# postgres://user:pw@host:5432/db?x=y (port empty when the URL has none).
url_hostport() {
	local rest=${1#*://}
	rest=${rest%%/*}
	rest=${rest%%\?*}
	rest=${rest##*@}
	printf '%s\n' "$rest"
}
url_host() {
	local hp
	hp=$(url_hostport "$1")
	case $hp in
	\[*\]*) hp=${hp#\[} && printf '%s\n' "${hp%%\]*}" ;;
	*) printf '%s\n' "${hp%%:*}" ;;
	esac
}
url_port() {
	local hp
	hp=$(url_hostport "$1")
	case $hp in
	\[*\]:*) printf '%s\n' "${hp##*:}" ;;
	\[*\]) printf '\n' ;;
	*:*) printf '%s\n' "${hp##*:}" ;;
	*) printf '\n' ;;
	esac
}

is_local_host() {
	case $1 in
	127.0.0.1 | localhost | ::1) return 0 ;;
	*) return 1 ;;
	esac
}

# free_port prints a TCP port on 127.0.0.1 that nothing is listening on.
free_port() {
	local i p
	for ((i = 0; i < 50; i++)); do
		p=$((20000 + RANDOM % 30000))
		if ! (: >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}
