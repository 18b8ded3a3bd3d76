#!/usr/bin/env bash
# Makes ffmpeg and ffprobe available (`marquee dev` runs a worker in process,
# and a worker transcodes with them) and nginx (the CDN edges of the playback
# tests). Installs Debian's packages when missing and running as root;
# otherwise says what to do.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
if ! have nginx && ! [ -x /usr/sbin/nginx ]; then
	# nginx-light has secure_link and proxy_cache, all the edges need. The
	# tests run their own nginx processes; the distribution's service is not
	# needed.
	if apt_install nginx-light; then
		say "installed nginx"
		(nginx -s stop || service nginx stop) >/dev/null 2>&1 || true
	else
		warn "nginx is missing: the CDN edge tests will fail (apt-get install nginx-light)"
	fi
fi
if have ffmpeg && have ffprobe; then
	exit 0
fi
if ensure_cmd ffmpeg; then
	say "installed ffmpeg"
	exit 0
fi
die "ffmpeg is missing and could not be installed (run as root, or apt-get install ffmpeg)"
