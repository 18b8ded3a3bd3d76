#!/usr/bin/env bash
# Makes ffmpeg and ffprobe available: `marquee dev` runs a worker in process,
# and a worker transcodes with them. Installs Debian's ffmpeg when missing and
# running as root; otherwise says what to do.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
if have ffmpeg && have ffprobe; then
	exit 0
fi
if ensure_cmd ffmpeg; then
	say "installed ffmpeg"
	exit 0
fi
die "ffmpeg is missing and could not be installed (run as root, or apt-get install ffmpeg)"
