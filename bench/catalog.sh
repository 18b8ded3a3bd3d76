#!/usr/bin/env bash
# Catalog, search and recommendation benchmarks (issue 6), called by
# scripts/bench.sh; rewrites the catalog section of bench/RESULTS.md:
#   (a) search p95 on PostgreSQL with 100,000 titles in the measured tenant
#       and 1,000,000 across ten tenants, by kind of query
#   (b) recommendations p95 (for a viewer, similar titles) with 100,000
#       titles and 1,000,000 interactions, and that tenant's model rebuild
#   (c) the offline evaluation: the recommender against popularity and
#       random, on generated data with planted taste clusters
# (a) and (b) seed their data with COPY first (a few minutes).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
cd "$REPO_ROOT"

OUT=bench/out
RESULTS=bench/RESULTS.md
BEGIN_MARK='<!-- catalog:begin -->'
END_MARK='<!-- catalog:end -->'
mkdir -p "$OUT"

# CATALOG_BENCH_OUTPUT=FILE reuses the output of an earlier run of the Go
# benchmark instead of seeding again.
if [ -n "${CATALOG_BENCH_OUTPUT:-}" ]; then
	cp "$CATALOG_BENCH_OUTPUT" "$OUT/catalog-bench.txt"
else
	say "search and recommendations on PostgreSQL (seeding 1,000,000 titles first)"
	MARQUEE_BENCH_CATALOG=1 go test ./controlplane/catalog/sqlstore/ -run '^$' -bench . -benchtime 100x -timeout 60m -v 2>&1 |
		grep -av maintnotifications | tee "$OUT/catalog-bench.txt"
fi
say "offline evaluation (generated data with planted clusters)"
go run ./cmd/marquee admin reco-eval --generate 100000 --split leave-last-out | tee "$OUT/reco-eval-llo.md"
go run ./cmd/marquee admin reco-eval --generate 100000 --split temporal | tee "$OUT/reco-eval-temporal.md"

metric() { # metric BENCH UNIT: the value before UNIT on BENCH's line
	awk -v b="$1" -v u="$2" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$OUT/catalog-bench.txt"
}
section=$(mktemp)
{
	echo "$BEGIN_MARK"
	echo "## Catalog, search and recommendations (issue 6)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); \`nproc\` = $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Command: \`make bench\` (bench/catalog.sh): \`MARQUEE_BENCH_CATALOG=1 go test ./controlplane/catalog/sqlstore/ -bench . -benchtime 100x\` and \`marquee admin reco-eval --generate 100000\`; raw output in bench/out/."
	echo "- Search: PostgreSQL, 1,000,000 titles across 10 tenants, 100,000 in the measured one; 100 requests per kind, through the service the API calls (ranking, facets, the viewer's country and rating limit)."
	echo
	echo "| search | p50 ms | p95 ms |"
	echo "|---|--:|--:|"
	grep -aE '^BenchmarkSearchPostgres/.*ns/op' "$OUT/catalog-bench.txt" | while read -r name _; do
		b=${name%-[0-9]*}
		echo "| ${b#BenchmarkSearchPostgres/} | $(metric "$b" p50-ms) | $(metric "$b" p95-ms) |"
	done
	echo
	echo "Recommendations (100,000 titles, 1,000,000 interactions):"
	echo
	echo "| query | p50 ms | p95 ms |"
	echo "|---|--:|--:|"
	grep -aE '^BenchmarkRecommendationsPostgres/.*ns/op' "$OUT/catalog-bench.txt" | while read -r name _; do
		b=${name%-[0-9]*}
		echo "| ${b#BenchmarkRecommendationsPostgres/} | $(metric "$b" p50-ms) | $(metric "$b" p95-ms) |"
	done
	echo
	echo "Model rebuild for that tenant (from the benchmark's log):"
	echo
	echo '```'
	grep -aiE 'rebuil' "$OUT/catalog-bench.txt" | grep -av '^Benchmark' | head -5 || true
	echo '```'
	echo
	echo "Offline evaluation, 100,000 generated interactions with planted taste clusters (the recommender must beat popularity on NDCG@10); more datasets, MovieLens included, in controlplane/recommend/EVAL.md:"
	echo
	cat "$OUT/reco-eval-llo.md"
	echo
	cat "$OUT/reco-eval-temporal.md"
	echo "$END_MARK"
} >"$section"
if grep -qxF "$BEGIN_MARK" "$RESULTS"; then
	awk -v section="$section" -v b="$BEGIN_MARK" -v e="$END_MARK" '
		$0 == b { while ((getline line < section) > 0) print line; skip = 1; next }
		$0 == e { skip = 0; next }
		!skip { print }' "$RESULTS" >"$RESULTS.tmp"
	mv "$RESULTS.tmp" "$RESULTS"
else
	{
		echo
		cat "$section"
	} >>"$RESULTS"
fi
rm -f "$section"
say "wrote the catalog section of $RESULTS"
