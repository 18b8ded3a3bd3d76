#!/usr/bin/env bash
# Playback benchmarks (issue 4), called by scripts/bench.sh; rewrites the
# playback section of bench/RESULTS.md:
#   (a) the manifest endpoint (token verify + OPA entitlement + signing the
#       path token of every CDN + steering) with wrk at 64 connections, vs
#       nginx serving the same manifest as a static file, same run
#   (b) the Clear Key license endpoint, requests/s
#   (c) packaging with cbcs / cenc encryption vs clear, MB/s
# On `marquee dev` (embedded database): the hot path reads only caches once
# warm, so the database is not what it measures.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../scripts/lib.sh"
cd "$REPO_ROOT"

OUT=bench/out
RESULTS=bench/RESULTS.md
BIN=$REPO_ROOT/bin/marquee
NGINX=${NGINX:-/usr/sbin/nginx}
WRK_ARGS=(-t2 -c64)
DURATION=${DURATION:-10s}
BEGIN_MARK='<!-- playback:begin -->'
END_MARK='<!-- playback:end -->'
mkdir -p "$OUT"
ensure_cmd wrk || die "wrk is required (apt-get install wrk)"
ensure_cmd jq || die "jq is required (apt-get install jq)"
[ -x "$NGINX" ] || die "nginx is required (apt-get install nginx-light)"
go build -o "$BIN" ./cmd/marquee

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The clip and a loopback server for it.
ffmpeg -v error -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
	-c:v libx264 -preset ultrafast -c:a aac -shortest "$work/clip.mp4"
media_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$media_port" --directory "$work" >/dev/null 2>&1 &
pids+=($!)

MARQUEE_INGEST_ALLOW_CIDRS=127.0.0.0/8 MARQUEE_LOG_LEVEL=warn "$BIN" dev --data-dir "$work/data" --addr 127.0.0.1:0 >"$work/server.out" 2>"$OUT/playback-server.log" &
pids+=($!)
for _ in $(seq 1 600); do
	base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/server.out" | head -1 || true)
	[ -n "$base" ] && break
	sleep 0.1
done
[ -n "$base" ] || die "marquee dev did not start"
say "server at $base"

api() { # api METHOD PATH [BODY]
	curl -fsS -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' ${3:+-d "$3"} "$base$2"
}
token=$(curl -fsS -H 'Content-Type: application/json' -d '{"email":"bench-playback@example.com","password":"correct horse battery staple","name":"Bench"}' "$base/v1/signup" | jq -r .token)
asset=$(api POST /v1/assets "{\"input\":\"http://127.0.0.1:$media_port/clip.mp4\",\"playback_policy\":\"drm\"}")
asset_id=$(jq -r .id <<<"$asset")
pb=$(jq -r '.playback_ids[0].id' <<<"$asset")
key=$(api POST /v1/signing-keys '{"alg":"RS256"}')
key_id=$(jq -r .id <<<"$key")
jq -r .private_key <<<"$key" >"$work/key.pem"
# Two CDNs: every manifest carries a signed path per CDN and the steering.
for n in a b; do
	api POST /v1/cdns "{\"name\":\"edge $n\",\"provider\":\"nginx\",\"base_url\":\"http://edge-$n.example.com\",\"secret\":\"bench-secret-$n-0123456789\"}" >/dev/null
done
for _ in $(seq 1 600); do
	status=$(api GET "/v1/assets/$asset_id" | jq -r .status)
	[ "$status" = ready ] && break
	[ "$status" = errored ] && die "the benchmark asset errored"
	sleep 0.5
done
[ "$status" = ready ] || die "the benchmark asset is not ready"
vtok=$("$BIN" admin sign-playback-token --key-id "$key_id" --private-key-file "$work/key.pem" --playback-id "$pb" --aud v)
ltok=$("$BIN" admin sign-playback-token --key-id "$key_id" --private-key-file "$work/key.pem" --playback-id "$pb" --aud l)
mpd_path="/play/$pb.mpd?token=$vtok"
hls_path="/play/$pb.m3u8?token=$vtok"
curl -fsS "$base$mpd_path" >"$work/manifest.mpd"
curl -fsS "$base$hls_path" >"$work/master.m3u8"

# nginx serving the same manifests as static files.
static_port=$(free_port)
mkdir -p "$work/nginx/tmp" "$work/static"
cp "$work/manifest.mpd" "$work/master.m3u8" "$work/static/"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp/cb; proxy_temp_path $work/nginx/tmp/p; fastcgi_temp_path $work/nginx/tmp/f; uwsgi_temp_path $work/nginx/tmp/u; scgi_temp_path $work/nginx/tmp/s;
  types { application/dash+xml mpd; application/vnd.apple.mpegurl m3u8; }
  server { listen 127.0.0.1:$static_port; root $work/static; add_header Cache-Control "private, no-store"; }
}
EOF
"$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$static_port/manifest.mpd" >/dev/null 2>&1 && break; sleep 0.1; done

kid=$(api GET "/v1/assets/$asset_id/cpix" | grep -o 'kid="[^"]*"' | head -1 | cut -d'"' -f2 | tr -d '-')
kid_b64=$(python3 -c "import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex('$kid')).decode().rstrip('='))")
cat >"$work/license.lua" <<EOF
wrk.method = "POST"
wrk.body   = '{"kids":["$kid_b64"],"type":"temporary"}'
wrk.headers["Content-Type"] = "application/json"
EOF

run_wrk() { # run_wrk NAME URL [wrk args]
	local name=$1 url=$2
	shift 2
	wrk "${WRK_ARGS[@]}" -d2s "$@" "$url" >/dev/null
	say "wrk $name"
	wrk "${WRK_ARGS[@]}" -d"$DURATION" --latency "$@" "$url" | tee "$OUT/wrk-playback-$name.txt"
}
run_wrk healthz "$base/healthz"
run_wrk nginx-mpd "http://127.0.0.1:$static_port/manifest.mpd"
run_wrk manifest-mpd "$base$mpd_path"
run_wrk nginx-m3u8 "http://127.0.0.1:$static_port/master.m3u8"
run_wrk manifest-m3u8 "$base$hls_path"
run_wrk license "$base/license/clearkey/$pb?token=$ltok" -s "$work/license.lua"

say "packaging: clear vs cenc vs cbcs"
go test -run '^$' -bench 'Encrypt' -benchtime 10x -count 3 ./dataplane/drm/ | tee "$OUT/drm-bench.txt"

rps() { awk '/^Requests\/sec:/ { print int($2) }' "$OUT/wrk-playback-$1.txt"; }
p99() { awk '$1 == "99%" { print $2 }' "$OUT/wrk-playback-$1.txt"; }
non2xx() { awk '/Non-2xx/ { print $5 }' "$OUT/wrk-playback-$1.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mbps() { # median MB/s of a drm benchmark variant
	grep -E "^BenchmarkEncrypt/$1(-[0-9]+)? " "$OUT/drm-bench.txt" | awk '{ for (i = 1; i <= NF; i++) if ($i == "MB/s") print $(i-1) }' | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'
}

section=$(mktemp)
{
	echo "$BEGIN_MARK"
	echo "## Playback and protection (issue 4)"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); \`nproc\` = $(nproc); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- Command: \`make bench\` (bench/playback.sh); \`wrk ${WRK_ARGS[*]} -d$DURATION --latency\` after a 2 s warm-up; wrk, nginx and the server share the machine's cores."
	echo "- The manifest: a DRM playback id (RS256 token verified on every request, entitlement decided by OPA, two CDNs each with its signed path, content steering), rendered per request on \`marquee dev\`. The reference is nginx (1 worker) serving the very bytes it answered, as a static file."
	echo
	echo "| endpoint | ours req/s | ours p99 | nginx req/s | nginx p99 | ratio |"
	echo "|---|--:|--:|--:|--:|--:|"
	echo "| DASH manifest \`/play/<id>.mpd\` | $(rps manifest-mpd) | $(p99 manifest-mpd) | $(rps nginx-mpd) | $(p99 nginx-mpd) | $(ratio "$(rps manifest-mpd)" "$(rps nginx-mpd)") (target ≥ 0.5, p99 < 10 ms) |"
	echo "| HLS multivariant \`/play/<id>.m3u8\` | $(rps manifest-m3u8) | $(p99 manifest-m3u8) | $(rps nginx-m3u8) | $(p99 nginx-m3u8) | $(ratio "$(rps manifest-m3u8)" "$(rps nginx-m3u8)") |"
	echo "| (for scale) \`/healthz\` on the same server | $(rps healthz) | $(p99 healthz) | | | $(ratio "$(rps healthz)" "$(rps nginx-mpd)") of nginx |"
	echo "| Clear Key license \`/license/clearkey/<id>\` (token, policy, key unwrap, JWK answer) | $(rps license) | $(p99 license) | | | |"
	echo
	for n in manifest-mpd manifest-m3u8 license; do
		bad=$(non2xx "$n")
		[ -n "$bad" ] && echo "- WARNING: $n had $bad non-2xx answers; see bench/out/wrk-playback-$n.txt"
	done
	echo "Packaging with encryption (dataplane/drm BenchmarkEncrypt: 10 s ladder 720p/360p + AAC, Widevine/PlayReady/ClearKey signalling, FairPlay for cbcs; median of 3):"
	echo
	echo "| packaging | MB/s | vs clear |"
	echo "|---|--:|--:|"
	clear=$(mbps clear)
	for v in clear cenc cbcs; do
		m=$(mbps "$v")
		echo "| $v | $m | $(ratio "$m" "$clear") |"
	done
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
say "wrote the playback section of $RESULTS"
sed -n "/^$BEGIN_MARK\$/,/^$END_MARK\$/p" "$RESULTS"
