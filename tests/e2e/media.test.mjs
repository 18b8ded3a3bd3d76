// End-to-end test of the media pipeline through the portal, in a real Chromium
// against a real Marquee server with its in-process worker:
//
//   a generated 30 s clip (ffmpeg testsrc2 640x360 + a sine tone; H.264 High +
//   AAC-LC in MP4, which Debian's Chromium decodes) → "Add video" in the portal
//   (a resumable tus upload in 1 MiB chunks, the API's body limit, with one
//   chunk dropped and resumed, when the server has POST /v1/uploads; otherwise
//   the import-by-URL form, fetching the clip from a tiny HTTP server on
//   127.0.0.1) → live progress until "Ready" → the detail
//   page's Shaka Player plays the DASH manifest and then the HLS playlist, each
//   past 3 s of video.currentTime → delete with confirm.
//
// Needs ffmpeg on PATH. Server: ${MARQUEE_BIN:-../../bin/marquee} dev, started
// here with MARQUEE_INGEST_ALLOW_CIDRS=127.0.0.0/8 so loopback sources work.
// Screenshots go to $E2E_ARTIFACTS (default: a temp dir, printed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumOptions, startServer } from './lib/server.mjs';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const CLIP_SECONDS = 30;
const READY_TIMEOUT = 240_000; // ~20–40 s of transcoding on a loaded 2-core box, with room to spare
const PLAY_TIMEOUT = 60_000;

let work;
let dataDir;
let artifacts;
let clip;
let clipSize;
let fileServer;
let clipURL;
const clipRequests = [];
let server;
let baseURL;
let browser;
let page;
let token;
let assetId;
let viaUpload = false;
const pageErrors = [];

const tid = (id) => page.getByTestId(id);

async function shot(name, { fullPage = false } = {}) {
  const file = join(artifacts, `media-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

async function apiJSON(path, { method = 'GET', body, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, baseURL), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, body: json };
}

let broken = false;
function step(name, fn, timeout = 60_000) {
  test(name, { timeout }, async (t) => {
    if (broken) { t.skip('an earlier step failed'); return; }
    try {
      await fn(t);
    } catch (err) {
      broken = true;
      const file = await shot(`failed-${name.replace(/\W+/g, '-')}`, { fullPage: true }).catch(() => null);
      if (file) err.message += `\n(screenshot: ${file})`;
      if (server) err.message += `\n--- server output (tail) ---\n${server.output().slice(-3000)}`;
      throw err;
    }
  });
}

function serveFile(path, size) {
  return new Promise((resolveURL) => {
    const srv = createServer((req, res) => {
      clipRequests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
      if (req.url === '/not-a-video.mp4') {
        const junk = Buffer.from('this is not a video, just some text pretending to be one\n'.repeat(2000));
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': junk.length });
        res.end(req.method === 'HEAD' ? undefined : junk);
        return;
      }
      if (req.url !== '/clip.mp4') { res.writeHead(404).end(); return; }
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        res.writeHead(206, { 'Content-Type': 'video/mp4', 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes' });
        if (req.method === 'HEAD') { res.end(); return; }
        createReadStream(path, { start, end }).pipe(res);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': size, 'Accept-Ranges': 'bytes' });
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(path).pipe(res);
    });
    srv.listen(0, '127.0.0.1', () => resolveURL(srv));
  });
}

before(async () => {
  artifacts = process.env.E2E_ARTIFACTS || await mkdtemp(join(tmpdir(), 'marquee-e2e-artifacts-'));
  await mkdir(artifacts, { recursive: true });
  console.log(`# artifacts: ${artifacts}`);
  work = await mkdtemp(join(tmpdir(), 'marquee-e2e-media-'));
  dataDir = join(work, 'data');
  await mkdir(dataDir);

  // ~2.5 Mb/s: a ~9 MiB clip, several tus chunks.
  clip = join(work, 'clip.mp4');
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_SECONDS), '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-b:v', '2500k',
    '-c:a', 'aac', '-b:a', '128k', '-ac', '2', '-movflags', '+faststart', clip], { timeout: 120_000 });
  clipSize = (await stat(clip)).size;
  fileServer = await serveFile(clip, clipSize);
  clipURL = `http://127.0.0.1:${fileServer.address().port}/clip.mp4`;
  console.log(`# clip: ${clip} (${clipSize} bytes) at ${clipURL}`);

  server = await startServer({ dataDir, env: { MARQUEE_INGEST_ALLOW_CIDRS: '127.0.0.0/8' } });
  baseURL = server.url;
  console.log(`# server: ${baseURL}`);

  browser = await chromium.launch(chromiumOptions());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, baseURL });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => (fileServer ? fileServer.close(r) : r()));
  if (work) await rm(work, { recursive: true, force: true });
}, { timeout: 30_000 });

// --- the flow -------------------------------------------------------------------

step('sign up through the API and open Videos', async () => {
  const account = { name: `Media TV ${run}`, email: `media-${run}@example.com`, password: `correct-horse-${run}` };
  const res = await apiJSON('/v1/signup', { method: 'POST', body: account, auth: false });
  assert.equal(res.status, 201, `signup: ${JSON.stringify(res.body)}`);
  token = res.body.token;
  assert.ok(token, 'signup returns a token');

  await page.goto('/');
  await page.evaluate(([t, e]) => { localStorage.setItem('marquee.token', t); localStorage.setItem('marquee.email', e); }, [token, account.email]);
  await page.goto('/#/dashboard');
  await tid('nav-videos').click();
  await page.waitForURL(/#\/videos$/);
  await tid('videos-empty').waitFor();
  await shot('videos-empty');

  const spec = await apiJSON('/v1/openapi.json');
  viaUpload = Boolean(spec.body?.paths?.['/v1/uploads']?.post);
  console.log(`# ingest path: ${viaUpload ? 'tus upload (POST /v1/uploads + PATCH chunks)' : 'import by URL (no POST /v1/uploads on this server)'}`);
});

step('add the clip from the portal', async () => {
  await tid('video-add').click();
  await tid('video-add-dialog').waitFor();
  const created = page.waitForResponse((r) => {
    const u = new URL(r.url());
    return r.request().method() === 'POST' && (u.pathname === '/v1/assets' || u.pathname === '/v1/uploads');
  });
  if (viaUpload) {
    // The connection drops once mid-upload (the 3rd chunk is aborted): the
    // client asks the server for its offset (HEAD) and resumes from there.
    const patches = [];
    const heads = [];
    let dropped = null;
    page.on('request', (r) => {
      if (!new URL(r.url()).pathname.startsWith('/v1/uploads/tus/')) return;
      if (r.method() === 'PATCH') patches.push(Number(r.headers()['upload-offset']));
      if (r.method() === 'HEAD') heads.push(patches.length);
    });
    await page.route('**/v1/uploads/tus/**', async (route) => {
      if (route.request().method() === 'PATCH' && patches.length === 3 && dropped === null) {
        dropped = Number(route.request().headers()['upload-offset']);
        await route.abort('connectionreset');
        return;
      }
      await route.continue();
    });
    await tid('video-add-file-tab').click();
    await tid('video-file-input').setInputFiles(clip);
    await tid('video-upload-submit').click();
    assert.ok((await created).status() < 300, 'POST /v1/uploads succeeds');
    await tid('upload-progress').waitFor();
    await shot('uploading');
    await tid('video-add-dialog').waitFor({ state: 'detached', timeout: 150_000 });
    await page.unroute('**/v1/uploads/tus/**');
    const chunk = 1024 * 1024;
    assert.equal(patches[0], 0);
    assert.ok(patches.length > Math.ceil(clipSize / chunk), `sent in ${patches.length} chunks of ≤1 MiB, one retried (offsets ${patches.join(', ')})`);
    assert.ok(dropped !== null, 'a chunk was dropped');
    assert.ok(heads.some((n) => n >= 3), `asked the offset with HEAD after the drop (HEADs after PATCH #${heads.join(', #')})`);
    assert.equal(patches.filter((o) => o === dropped).length, 2, `the dropped chunk at ${dropped} was sent again, and nothing before it`);
    console.log(`# uploaded ${clipSize} bytes in ${patches.length} PATCHes; dropped and resumed at offset ${dropped}`);
  } else {
    await tid('video-url-input').fill(clipURL);
    await shot('add-by-url');
    await tid('video-url-submit').click();
    const res = await created;
    assert.equal(res.status(), 201, `POST /v1/assets: ${await res.text()}`);
    assetId = (await res.json()).id;
    await tid('video-add-dialog').waitFor({ state: 'detached' });
  }
  const row = tid('video-row').first();
  await row.waitFor({ timeout: 60_000 });
  assetId ??= await row.getAttribute('data-asset-id');
  assert.ok(assetId, 'the new video is listed');
}, 180_000);

step('live progress until the video is ready', async () => {
  const row = page.locator(`[data-testid="video-row"][data-asset-id="${assetId}"]`);
  // Catch it mid-transcode for a screenshot when we can (a fast machine may skip past it).
  try {
    await row.locator('[data-testid="video-progress"]').waitFor({ timeout: 60_000 });
    await shot('videos-processing');
  } catch { /* already ready, or errored: the next wait says which */ }
  await page.locator(`[data-testid="video-row"][data-asset-id="${assetId}"][data-status="ready"], [data-testid="video-row"][data-asset-id="${assetId}"][data-status="errored"]`)
    .waitFor({ timeout: READY_TIMEOUT });
  const asset = (await apiJSON(`/v1/assets/${assetId}`)).body;
  assert.equal(asset.status, 'ready', `asset ended ${asset.status}: ${JSON.stringify(asset.error)}`);
  assert.ok(Math.abs(asset.duration - CLIP_SECONDS) < 1, `duration ${asset.duration}`);
  assert.ok(asset.renditions.length >= 1, 'has renditions');
  assert.ok(asset.playback?.hls && asset.playback?.dash, 'has playback URLs');
  assert.match(await row.getByTestId('video-duration').textContent(), /^0:(29|30)$/);
  assert.equal((await row.getByTestId('video-renditions').textContent()).trim(), String(asset.renditions.length));
  await row.getByTestId('video-poster').waitFor();
  assert.ok(await row.getByTestId('video-poster').evaluate((img) => img.complete && img.naturalWidth > 0), 'poster thumbnail loads');
  await shot('videos-ready');

  // The manifests are public and name the codecs Chromium plays.
  const mpd = await (await fetch(new URL(asset.playback.dash, baseURL))).text();
  const m3u8 = await (await fetch(new URL(asset.playback.hls, baseURL))).text();
  assert.match(mpd, /avc1\./, 'DASH has H.264');
  assert.match(m3u8, /avc1\./, 'HLS has H.264');
  if (asset.has_audio) {
    assert.match(mpd, /mp4a\.40/, 'DASH has AAC');
    assert.match(m3u8, /mp4a\.40/, 'HLS has AAC');
  }
}, READY_TIMEOUT + 90_000);

async function playPast3s(format) {
  const video = tid('video-player');
  await page.waitForFunction((f) => {
    const v = document.querySelector('[data-testid="video-player"]');
    return v && v.dataset.format === f && (v.dataset.state === 'loaded' || v.dataset.state === 'error');
  }, format, { timeout: PLAY_TIMEOUT });
  assert.equal(await video.getAttribute('data-state'), 'loaded', `${format}: ${await tid('player-state').textContent()}`);
  await video.evaluate((v) => v.play().catch(() => {}));
  await page.waitForFunction((f) => {
    const v = document.querySelector('[data-testid="video-player"]');
    return v.dataset.format === f && (v.currentTime > 3 || v.dataset.state === 'error');
  }, format, { timeout: PLAY_TIMEOUT, polling: 250 });
  const played = await video.evaluate((v) => ({ t: v.currentTime, w: v.videoWidth, h: v.videoHeight, state: v.dataset.state, err: v.error?.message }));
  assert.equal(played.state, 'loaded', `${format}: ${await tid('player-state').textContent()} ${played.err ?? ''}`);
  assert.ok(played.t > 3, `${format} currentTime ${played.t}`);
  assert.ok(played.w > 0 && played.h > 0, `${format} decodes frames (${played.w}x${played.h})`);
  return played;
}

step('the detail page plays DASH past 3 s', async () => {
  const manifests = [];
  page.on('request', (r) => { if (/\/stream\//.test(r.url())) manifests.push(new URL(r.url()).pathname); });
  await page.locator(`[data-testid="video-row"][data-asset-id="${assetId}"] [data-testid="video-link"]`).click();
  await page.waitForURL(new RegExp(`#/videos/${assetId}$`));
  await tid('video-renditions-table').waitFor();
  assert.ok(await tid('rendition-row').count() >= 1);
  const played = await playPast3s('dash');
  assert.ok(manifests.some((p) => p.endsWith('/manifest.mpd')), 'fetched the MPD');
  console.log(`# DASH: currentTime ${played.t.toFixed(2)} s, ${played.w}x${played.h}`);
  await shot('detail-dash', { fullPage: true });
}, PLAY_TIMEOUT * 2 + 30_000);

step('switching to HLS plays past 3 s', async () => {
  const manifests = [];
  page.on('request', (r) => { if (/\.m3u8$/.test(new URL(r.url()).pathname)) manifests.push(new URL(r.url()).pathname); });
  await tid('player-format-hls').click();
  const played = await playPast3s('hls');
  assert.ok(manifests.some((p) => p.endsWith('/master.m3u8')), 'fetched the HLS master playlist');
  console.log(`# HLS: currentTime ${played.t.toFixed(2)} s, ${played.w}x${played.h}`);
  await shot('detail-hls');
}, PLAY_TIMEOUT * 2 + 30_000);

step('delete the video with a confirmation', async () => {
  const asset = (await apiJSON(`/v1/assets/${assetId}`)).body;
  await tid('video-delete').click();
  await tid('confirm-dialog').waitFor();
  await shot('delete-confirm');
  await tid('confirm-ok').click();
  await page.waitForURL(/#\/videos$/);
  await tid('videos-empty').waitFor();
  assert.equal((await apiJSON(`/v1/assets/${assetId}`)).status, 404);
  const gone = await fetch(new URL(asset.playback.dash, baseURL));
  assert.equal(gone.status, 404, 'the manifest is gone');
});

async function importByURL(url) {
  await tid('video-add').click();
  await tid('video-add-dialog').waitFor();
  await tid('video-add-url-tab').click();
  await tid('video-url-input').fill(url);
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/assets');
  await tid('video-url-submit').click();
  const res = await created;
  assert.equal(res.status(), 201, `POST /v1/assets: ${await res.text()}`);
  await tid('video-add-dialog').waitFor({ state: 'detached' });
  return (await res.json()).id;
}

step('import by URL: a video becomes ready, a non-video ends errored with a code', async () => {
  await page.goto('/#/videos');
  await tid('videos-empty').waitFor();
  const good = await importByURL(clipURL);
  const bad = await importByURL(clipURL.replace('/clip.mp4', '/not-a-video.mp4'));
  const final = (id) => page.locator(`[data-testid="video-row"][data-asset-id="${id}"]:is([data-status="ready"], [data-status="errored"])`);
  await final(bad).waitFor({ timeout: READY_TIMEOUT });
  await final(good).waitFor({ timeout: READY_TIMEOUT });
  assert.equal(await final(good).getAttribute('data-status'), 'ready');
  assert.equal(await final(bad).getAttribute('data-status'), 'errored');
  const errored = (await apiJSON(`/v1/assets/${bad}`)).body;
  assert.ok(errored.error?.code, `errored asset has a code: ${JSON.stringify(errored.error)}`);
  assert.equal((await final(bad).getByTestId('video-error-code').textContent()).trim(), errored.error.code);
  await shot('videos-url-imports');

  await final(bad).getByTestId('video-link').click();
  await tid('video-error').waitFor();
  assert.equal((await tid('video-error-message').textContent()).trim(), errored.error.message);
  assert.match(await tid('video-error-code').textContent(), new RegExp(errored.error.code));
  assert.equal(await tid('video-player').count(), 0, 'no player for an errored video');
  await shot('detail-errored');
  for (const id of [good, bad]) assert.equal((await apiJSON(`/v1/assets/${id}`, { method: 'DELETE' })).status, 204);
}, READY_TIMEOUT + 60_000);

step('no uncaught errors in the page', async () => {
  assert.deepEqual(pageErrors, []);
});
