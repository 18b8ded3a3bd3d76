#!/usr/bin/env bash
# Billing benchmarks (issue 5), called by scripts/bench.sh after the media
# section; rewrites the billing section of bench/RESULTS.md.
#   ingest: usage events with de-duplication vs a raw COPY of the same rows
#           into the same partitioned table, in the same run (target ≥ 0.5 of
#           it and ≥ 50,000 events/s)
#   query:  GET /v1/usage's query for a tenant with 10 million events in a
#           month, p50/p95
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=bench/out
RESULTS=bench/RESULTS.md
mkdir -p "$OUT"

echo "==> usage ingest vs raw COPY"
go test -run '^$' -bench 'BenchmarkIngest' -benchtime 1x -timeout 30m ./billing/metering/ | tee "$OUT/billing-ingest.txt"
echo "==> usage query, 10M events in a month"
go test -run '^$' -bench 'BenchmarkUsageQuery' -benchtime 40x -timeout 30m ./billing/metering/ | tee "$OUT/billing-query.txt"

metric() { # metric FILE BENCH UNIT
	awk -v b="$2" -v u="$3" '$1 ~ "^"b"(-[0-9]+)?$" { for (i = 3; i <= NF; i++) if ($i == u) { print $(i-1); exit } }' "$1"
}
I=$OUT/billing-ingest.txt
Q=$OUT/billing-query.txt
section=$(mktemp)
{
	echo "<!-- billing:begin -->"
	echo "## Billing (issue 5)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); \`nproc\` = $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Command: \`make bench\` (bench/billing.sh); raw output in bench/out/."
	echo
	echo "Usage ingest: 200,000 events in batches of 10,000 through \`metering.Ingester.Ingest\` (validation,"
	echo "de-duplication, exact decimal quantities, hourly and daily rollups, all in one transaction per batch), then a raw"
	echo "\`COPY\` of the same rows under other ids into the same partitioned \`usage_events\` table, in the same run."
	echo "\"repeats\" sends every tenth event of a batch again (an earlier batch's), so batches take the insert-if-absent path."
	echo
	echo "| stream | ingesters | ingest events/s | raw COPY events/s | ingest ÷ COPY |"
	echo "|---|--:|--:|--:|--:|"
	for r in false true; do
		for n in 1 2; do
			b="BenchmarkIngest/repeats=$r/ingesters=$n"
			label=$([ "$r" = true ] && echo "10% repeats" || echo "all new")
			echo "| $label | $n | $(metric "$I" "$b" ingest_events/s) | $(metric "$I" "$b" copy_events/s) | $(metric "$I" "$b" ingest/copy) |"
		done
	done
	echo
	echo "Usage query (\`metering.Ingester.Usage\`, what GET /v1/usage runs) over the rollups of a tenant with"
	echo "10,000,000 events in a month (15 series × 720 hours), beside 100 sibling tenants of the same shape:"
	echo
	echo "| query | p50 ms | p95 ms |"
	echo "|---|--:|--:|"
	for s in tenant_month_by_day tenant_month_by_hour_egress tenant_month_by_dimensions reseller_subtree_by_tenant; do
		echo "| $s | $(metric "$Q" "BenchmarkUsageQuery/$s" p50_ms) | $(metric "$Q" "BenchmarkUsageQuery/$s" p95_ms) |"
	done
	echo "<!-- billing:end -->"
} >"$section"
if grep -qx '<!-- billing:begin -->' "$RESULTS"; then
	awk -v section="$section" '
		$0 == "<!-- billing:begin -->" { while ((getline line < section) > 0) print line; skip = 1; next }
		$0 == "<!-- billing:end -->" { skip = 0; next }
		!skip { print }' "$RESULTS" >"$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
else
	{ echo; cat "$section"; } >>"$RESULTS"
fi
rm -f "$section"
sed -n '/^<!-- billing:begin -->$/,/^<!-- billing:end -->$/p' "$RESULTS"
