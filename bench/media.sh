#!/usr/bin/env bash
# Media pipeline benchmarks (issue 3), called by bench/run.sh after the
# foundation section; rewrites the media section of bench/RESULTS.md.
#   (a) our Transcode vs the identical ffmpeg command run by hand, same run
#   (b) one-decode split ladder vs one ffmpeg process per rung
#   (c) NVENC vs libx264 veryfast: only where a GPU with NVENC is present
#   (d) fairness: time to first ready for a tenant with 1 job while another
#       has 100 queued, capped (quota concurrent_jobs=2) vs uncapped (FIFO)
#   plus CMAF packaging throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
RESULTS=bench/RESULTS.md
mkdir -p "$OUT"
SECONDS_CLIP=${MARQUEE_BENCH_SECONDS:-60}
BACKLOG=${MARQUEE_BENCH_BACKLOG:-100}

echo "==> transcode: ${SECONDS_CLIP}s 1080p clip (MARQUEE_BENCH_SECONDS)"
MARQUEE_BENCH_SECONDS=$SECONDS_CLIP go test -run '^$' -bench 'PipelineVsRawFFmpeg|SplitLadderVsPerRung|NVENCVsX264' -benchtime 1x -timeout 60m ./dataplane/transcode/ | tee "$OUT/transcode-bench.txt"
echo "==> packager"
go test -run '^$' -bench 'Package' -benchtime 5x ./dataplane/packager/ | tee "$OUT/packager-bench.txt"
echo "==> fairness: backlog $BACKLOG (MARQUEE_BENCH_BACKLOG)"
MARQUEE_BENCH_BACKLOG=$BACKLOG go test -run '^$' -bench 'Fairness' -benchtime 1x -timeout 60m ./tests/pipeline/ 2>&1 | grep -av maintnotifications | tee "$OUT/fairness-bench.txt"

metric() { # metric FILE BENCH UNIT
	awk -v b="$2" -v u="$3" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$1"
}
T=$OUT/transcode-bench.txt
F=$OUT/fairness-bench.txt
section=$(mktemp)
{
	echo "<!-- media:begin -->"
	echo "## Media pipeline (issue 3)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); \`nproc\` = $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Command: \`make bench\` (bench/media.sh); raw output in bench/out/."
	echo
	echo "| measurement | ours | reference | ratio |"
	echo "|---|--:|--:|--:|"
	echo "| (a) ${SECONDS_CLIP}s 1080p → 5-rung H.264 ladder + AAC, wall s: Transcode vs the same ffmpeg argv by hand | $(metric "$T" BenchmarkPipelineVsRawFFmpeg pipeline-s) | $(metric "$T" BenchmarkPipelineVsRawFFmpeg raw-ffmpeg-s) | $(metric "$T" BenchmarkPipelineVsRawFFmpeg ratio) (raw ÷ ours; target ≥ 0.95) |"
	echo "| (b) ladder with one decode + split vs one ffmpeg per rung, wall s | $(metric "$T" BenchmarkSplitLadderVsPerRung split-s) | $(metric "$T" BenchmarkSplitLadderVsPerRung per-rung-s) | $(metric "$T" BenchmarkSplitLadderVsPerRung speedup)× faster |"
	nv=$(metric "$T" BenchmarkNVENCVsX264 nvenc-x-realtime)
	if [ -n "$nv" ]; then
		echo "| (c) NVENC ladder vs libx264 veryfast, × real time | $nv | $(metric "$T" BenchmarkNVENCVsX264 x264-x-realtime) | |"
	else
		echo "| (c) NVENC vs libx264 | not measured: no NVENC on this machine (and none lent to this task) | | |"
	fi
	echo "| (d) first ready for a tenant with 1 job behind another's $BACKLOG, s: capped at 2 concurrent vs uncapped FIFO | $(metric "$F" BenchmarkFairness capped_first_ready_s) | $(metric "$F" BenchmarkFairness fifo_first_ready_s) | $(metric "$F" BenchmarkFairness speedup)× sooner |"
	echo
	echo "CMAF packaging (3 renditions + AAC, 10 s of 720p/480p/360p; cenc/cbcs through the encryption seam):"
	echo
	echo '```'
	grep -E '^BenchmarkPackage' "$OUT/packager-bench.txt" || true
	echo '```'
	echo "<!-- media:end -->"
} >"$section"
if grep -qx '<!-- media:begin -->' "$RESULTS"; then
	awk -v section="$section" '
		$0 == "<!-- media:begin -->" { while ((getline line < section) > 0) print line; skip = 1; next }
		$0 == "<!-- media:end -->" { skip = 0; next }
		!skip { print }' "$RESULTS" >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
else
	{ echo; cat "$section"; } >>"$RESULTS"
fi
rm -f "$section"
sed -n '/^<!-- media:begin -->$/,/^<!-- media:end -->$/p' "$RESULTS"
