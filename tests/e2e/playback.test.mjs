// End-to-end test of protected, multi-CDN playback in a real Chromium with
// Shaka Player (from npm, the build the portal vendors):
//
//   a generated 24 s clip → POST /v1/assets with playback_policy "drm" (the
//   worker packages it encrypted, cenc and cbcs) → a tenant signing key →
//   playback tokens minted here as a tenant's backend would (ES256) →
//
//   1. ClearKey: Shaka loads /play/<id>.mpd?token=… through the built-in
//      origin and gets its key from /license/clearkey/<id> (token audience
//      "l"); video.currentTime passes 3 s.
//   2. CDN failover: two real nginx edges (proxy_cache in front of the
//      origin, secure_link verifying our path tokens) are the tenant's two
//      CDNs; during playback the edge serving segments is killed, and the
//      player goes on from the other. The stall (time spent waiting after
//      the kill) is reported.
//
// Needs ffmpeg and nginx. Server: ${MARQUEE_BIN:-../../bin/marquee} dev.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumOptions, startServer } from './lib/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const SHAKA = resolve(here, '../../portal/web/vendor/shaka-player.compiled.js');
const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const CLIP_SECONDS = 24;

let work;
let server;
let baseURL;
let pageServer;
let pageURL;
let browser;
let token;
let assetId;
let playbackId;
let keyId;
let privateKey;
const edges = [];

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, baseURL), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, body: json };
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Signs a playback token as a tenant's backend does (ES256, kid header). */
function playbackToken(aud, extra = {}) {
  const header = { alg: 'ES256', typ: 'JWT', kid: keyId };
  const claims = { sub: playbackId, aud, exp: Math.floor(Date.now() / 1000) + 3600, ...extra };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = createSign('SHA256').update(input).sign({ key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
    s.on('error', rej);
  });
}

/**
 * Starts an nginx edge: path tokens checked by secure_link
 * (md5 of "<expires>/a/<asset>/ <secret>"), objects cached by proxy_cache
 * without the token, CORS for the player.
 */
async function startEdge(name, origin, secret, host) {
  const dir = join(work, `edge-${name}`);
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/cb; proxy_temp_path ${dir}/tmp/p; fastcgi_temp_path ${dir}/tmp/f; uwsgi_temp_path ${dir}/tmp/u; scgi_temp_path ${dir}/tmp/s;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=edge:4m max_size=256m inactive=1h use_temp_path=off;
  server {
    listen ${host}:${port};
    location ~ "^/t/([A-Za-z0-9_-]{22})/([0-9]+)(/a/[A-Za-z0-9_]+/)(.*)$" {
      if ($request_method = OPTIONS) {
        add_header Access-Control-Allow-Origin * always;
        add_header Access-Control-Allow-Headers "Range" always;
        return 204;
      }
      secure_link $1,$2;
      secure_link_md5 "$2$3 ${secret}";
      if ($secure_link = "") { return 403; }
      if ($secure_link = "0") { return 410; }
      proxy_pass ${origin};
      proxy_cache edge;
      proxy_cache_key $3$4;
      proxy_hide_header Access-Control-Allow-Origin;
      proxy_cache_valid 200 206 10m;
      add_header X-Cache-Status $upstream_cache_status always;
      add_header Access-Control-Allow-Origin * always;
    }
    location = /canary { proxy_pass ${origin}; }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const edge = { name, port, url: `http://${host}:${port}`, dir, child: null };
  edge.start = async () => {
    edge.child = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try { await fetch(`${edge.url}/canary`); return; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    throw new Error(`nginx edge ${name} did not start; ${await readFile(join(dir, 'error.log'), 'utf8').catch(() => '')}`);
  };
  edge.kill = () => { if (edge.child && edge.child.exitCode === null) edge.child.kill('SIGKILL'); };
  await edge.start();
  edges.push(edge);
  return edge;
}

// The test page: Shaka Player with Clear Key, small buffers so that
// segments keep being fetched during the test, and a record of every
// segment URL and of the time spent waiting.
const PAGE = `<!doctype html>
<meta charset="utf-8"><title>Marquee playback test</title>
<video id="v" muted autoplay playsinline width="640" height="360"></video>
<script src="/shaka.js"></script>
<script>
window.report = { uris: [], errors: [], waiting: [], state: 'init' };
async function play(manifest, license) {
  shaka.polyfill.installAll();
  const video = document.getElementById('v');
  const player = new shaka.Player();
  await player.attach(video);
  player.configure({
    drm: { servers: { 'org.w3.clearkey': license } },
    streaming: { bufferingGoal: 4, rebufferingGoal: 1, bufferBehind: 4,
      retryParameters: { maxAttempts: 4, baseDelay: 100, backoffFactor: 1.5, timeout: 4000 } },
    abr: { enabled: false },
  });
  player.getNetworkingEngine().registerResponseFilter((type, res) => {
    if (type === shaka.net.NetworkingEngine.RequestType.SEGMENT) window.report.uris.push({ uri: res.uri, t: performance.now() });
  });
  player.addEventListener('error', (e) => window.report.errors.push(String(e.detail && (e.detail.code + ' ' + JSON.stringify(e.detail.data).slice(0, 300)))));
  let since = null;
  video.addEventListener('waiting', () => { since = performance.now(); });
  video.addEventListener('playing', () => { if (since !== null) { window.report.waiting.push({ from: since, ms: performance.now() - since }); since = null; } });
  window.player = player;
  await player.load(manifest);
  window.report.state = 'loaded';
  await video.play();
}
</script>`;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'marquee-playback-'));
  const clip = join(work, 'clip.mp4');
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(CLIP_SECONDS),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', clip]);
  const shaka = await readFile(SHAKA);
  pageServer = createServer((req, res) => {
    if (req.url === '/clip.mp4') { res.writeHead(200, { 'Content-Type': 'video/mp4' }); createReadStream(clip).pipe(res); return; }
    if (req.url === '/shaka.js') { res.writeHead(200, { 'Content-Type': 'text/javascript' }); res.end(shaka); return; }
    if (req.url === '/player.html') { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(PAGE); return; }
    res.writeHead(404); res.end();
  });
  await new Promise((r) => pageServer.listen(0, '127.0.0.1', r));
  pageURL = `http://127.0.0.1:${pageServer.address().port}`;

  server = await startServer({ dataDir: join(work, 'data'), env: { MARQUEE_INGEST_ALLOW_CIDRS: '127.0.0.0/8' } });
  baseURL = server.url;
  const email = `drm-${randomBytes(4).toString('hex')}@example.com`;
  const signup = await fetch(new URL('/v1/signup', baseURL), { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery', name: 'Protected Studio' }) });
  assert.equal(signup.status, 201, await signup.clone().text());
  token = (await signup.json()).token;

  const asset = await api('/v1/assets', { method: 'POST', body: { input: `${pageURL}/clip.mp4`, playback_policy: 'drm' } });
  assert.equal(asset.status, 201, JSON.stringify(asset.body));
  assetId = asset.body.id;
  playbackId = asset.body.playback_ids[0].id;
  const key = await api('/v1/signing-keys', { method: 'POST', body: { alg: 'ES256' } });
  assert.equal(key.status, 201);
  keyId = key.body.id;
  privateKey = key.body.private_key;
  const deadline = Date.now() + 240_000;
  for (;;) {
    const a = await api(`/v1/assets/${assetId}`);
    if (a.body.status === 'ready') break;
    assert.notEqual(a.body.status, 'errored', JSON.stringify(a.body.error));
    assert.ok(Date.now() < deadline, `asset still ${a.body.status}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  browser = await chromium.launch(chromiumOptions());
});

after(async () => {
  for (const e of edges) e.kill();
  await browser?.close();
  await server?.stop();
  pageServer?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

async function openPlayer(manifest, license) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${pageURL}/player.html`);
  await page.evaluate(([m, l]) => { window.playPromise = play(m, l).catch((e) => window.report.errors.push('load: ' + (e.code || '') + ' ' + e.message)); }, [manifest, license]);
  return { page, errors };
}

async function waitTime(page, seconds, timeout) {
  await page.waitForFunction((s) => {
    const v = document.getElementById('v');
    return (v && v.currentTime > s) || window.report.errors.length > 0;
  }, seconds, { timeout, polling: 100 });
  const r = await page.evaluate(() => ({ t: document.getElementById('v').currentTime, errors: window.report.errors, uris: window.report.uris, waiting: window.report.waiting }));
  assert.deepEqual(r.errors, [], 'player errors');
  return r;
}

test('Chromium plays a ClearKey-encrypted stream through the manifest service and the license endpoint', { timeout: 120_000 }, async () => {
  const manifest = `${baseURL}play/${playbackId}.mpd?token=${playbackToken('v')}`;
  const license = `${baseURL}license/clearkey/${playbackId}?token=${playbackToken('l')}`;
  // Without the license token the key is refused.
  const refused = await fetch(`${baseURL}license/clearkey/${playbackId}`, { method: 'POST', body: '{"kids":[]}' });
  assert.equal(refused.status, 403);
  const { page } = await openPlayer(manifest, license);
  const r = await waitTime(page, 3, 90_000);
  assert.ok(r.t > 3, `currentTime ${r.t}`);
  assert.ok(r.uris.some((u) => u.uri.includes(`/a/${assetId}/cenc/`)), 'segments of the cenc copy');
  const drm = await page.evaluate(() => window.player.drmInfo() && window.player.drmInfo().keySystem);
  assert.equal(drm, 'org.w3.clearkey');
  console.log(`# ClearKey playback reached ${r.t.toFixed(2)} s with ${r.uris.length} segments`);
  await page.close();
});

test('a CDN dies during playback and the player goes on from the other', { timeout: 180_000 }, async () => {
  const origin = baseURL.replace(/\/$/, '');
  const secrets = { a: `edge-a-${randomBytes(8).toString('hex')}`, b: `edge-b-${randomBytes(8).toString('hex')}` };
  // Two hosts (all of 127/8 is loopback on Linux): players tell CDNs apart
  // by host, as Shaka's content steering bans a failed location by domain.
  const a = await startEdge('a', origin, secrets.a, '127.0.0.2');
  const b = await startEdge('b', origin, secrets.b, '127.0.0.3');
  for (const [name, edge] of [['a', a], ['b', b]]) {
    const r = await api('/v1/cdns', { method: 'POST', body: { name: `Edge ${name}`, provider: 'nginx', base_url: edge.url, secret: secrets[name], weight: 1 } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const manifest = `${baseURL}play/${playbackId}.mpd?token=${playbackToken('v', { viewer: 'failover' })}`;
  const mpd = await (await fetch(manifest)).text();
  assert.match(mpd, new RegExp(`<BaseURL serviceLocation="[^"]+">${a.url}/t/`));
  assert.match(mpd, new RegExp(`<BaseURL serviceLocation="[^"]+">${b.url}/t/`));
  const license = `${baseURL}license/clearkey/${playbackId}?token=${playbackToken('l')}`;
  const { page } = await openPlayer(manifest, license);
  const before = await waitTime(page, 3, 90_000);
  const last = before.uris[before.uris.length - 1].uri;
  const serving = last.startsWith(a.url) ? a : b;
  const other = serving === a ? b : a;
  const killedAt = await page.evaluate(() => ({ now: performance.now(), t: document.getElementById('v').currentTime }));
  serving.kill();
  const afterKill = await waitTime(page, killedAt.t + 8, 120_000);
  const later = afterKill.uris.filter((u) => u.t > killedAt.now);
  assert.ok(later.length > 0, 'segments were fetched after the kill');
  assert.ok(later.every((u) => u.uri.startsWith(other.url)), `after the kill every segment came from the other edge: ${later.map((u) => u.uri.slice(0, 30)).join(', ')}`);
  const stallMs = afterKill.waiting.filter((w) => w.from >= killedAt.now).reduce((s, w) => s + w.ms, 0);
  console.log(`# CDN failover: edge ${serving.name} killed at ${killedAt.t.toFixed(2)} s; playback went on to ${afterKill.t.toFixed(2)} s from edge ${other.name} (${later.length} segments); stall ${stallMs.toFixed(0)} ms`);
  if (process.env.E2E_ARTIFACTS) {
    await mkdir(process.env.E2E_ARTIFACTS, { recursive: true });
    await writeFile(join(process.env.E2E_ARTIFACTS, 'cdn-failover.json'), JSON.stringify({ killedAt: killedAt.t, reached: afterKill.t, stallMs, segmentsAfter: later.length }, null, 2));
  }
  await page.close();
});
