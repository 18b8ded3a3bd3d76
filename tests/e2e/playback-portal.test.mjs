// End-to-end test of the portal's playback pages in a real Chromium against a
// real Marquee server with its in-process worker:
//
//   sign up in the portal → Playback page: create an ES256 signing key (the
//   private key is captured from the one-time dialog), create and revoke an
//   RS256 one; add a CDN (a too-short secret is refused inline), edit it
//   (the write-only secret must be entered again), delete it; save DRM
//   settings (a backup without a primary is refused inline) and see them
//   when the page is opened again → a DRM asset created through the API (a
//   generated clip served from 127.0.0.1) → its detail page lists its playback id; add one
//   with access rules (a missing svod tier is refused inline) and delete it →
//   the protected preview signs the tokens in the browser with WebCrypto:
//   first with the key created in this tab (kept in memory), then, after a
//   reload forgot it, with a wrong key (the API's problem is shown) and with
//   the pasted real key → Shaka plays through Clear Key past 3 s → an RS256
//   token minted by the same browser code opens the manifest, and keys of the
//   wrong kind or format are refused with a message.
//
// Needs ffmpeg. Server: ${MARQUEE_BIN:-../../bin/marquee} dev with
// MARQUEE_INGEST_ALLOW_CIDRS=127.0.0.0/8. Screenshots go to $E2E_ARTIFACTS
// (default: a temp dir, printed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumOptions, startServer } from './lib/server.mjs';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const CLIP_SECONDS = 12;
const READY_TIMEOUT = 240_000;
const PLAY_TIMEOUT = 90_000;

let work;
let artifacts;
let fileServer;
let clipURL;
let server;
let baseURL;
let browser;
let page;
let token;
let assetId;
let drmPID;
let esKey; // { id, pem } captured from the one-time dialog
const pageErrors = [];

const tid = (id) => page.getByTestId(id);

async function shot(name, { fullPage = false } = {}) {
  const file = join(artifacts, `playback-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

async function apiJSON(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, baseURL), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, body: json };
}

// Steps share one page; once one fails the rest are skipped.
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

/** The inline error beside the control named `name` in `form`. */
function fieldError(form, name) {
  return tid(form).locator(`.field:has([name="${name}"]) [data-testid="field-error"]`);
}

function decodeJWT(jwt) {
  const [h, c] = jwt.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), claims: JSON.parse(Buffer.from(c, 'base64url')) };
}

before(async () => {
  artifacts = process.env.E2E_ARTIFACTS || await mkdtemp(join(tmpdir(), 'marquee-e2e-artifacts-'));
  await mkdir(artifacts, { recursive: true });
  console.log(`# artifacts: ${artifacts}`);
  work = await mkdtemp(join(tmpdir(), 'marquee-e2e-pbportal-'));
  const clip = join(work, 'clip.mp4');
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(CLIP_SECONDS), '-map', '0:v', '-map', '1:a',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '96k', '-ac', '2', '-movflags', '+faststart', clip], { timeout: 120_000 });
  const size = (await stat(clip)).size;
  fileServer = createServer((req, res) => {
    if (req.url !== '/clip.mp4') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': size });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(clip).pipe(res);
  });
  await new Promise((r) => fileServer.listen(0, '127.0.0.1', r));
  clipURL = `http://127.0.0.1:${fileServer.address().port}/clip.mp4`;

  server = await startServer({ dataDir: join(work, 'data'), env: { MARQUEE_INGEST_ALLOW_CIDRS: '127.0.0.0/8' } });
  baseURL = server.url;
  console.log(`# server: ${baseURL}`);

  browser = await chromium.launch(chromiumOptions());
  // 127.0.0.1 is a secure context: WebCrypto's subtle API is there.
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

step('sign up in the portal; a DRM video starts transcoding', async () => {
  await page.goto('/');
  await page.waitForURL(/#\/login$/);
  await tid('goto-signup').click();
  await tid('signup-name').fill(`Protected TV ${run}`);
  await tid('signup-email').fill(`pb-${run}@example.com`);
  await tid('signup-password').fill(`correct-horse-${run}`);
  await tid('signup-submit').click();
  await page.waitForURL(/#\/dashboard$/);
  token = await page.evaluate(() => localStorage.getItem('marquee.token'));
  assert.ok(token, 'the portal keeps the session token');

  // The asset transcodes while the next steps run: added in the portal,
  // encrypted, by URL.
  await tid('nav-videos').click();
  await tid('video-add').click();
  await tid('video-add-dialog').waitFor();
  const created = page.waitForResponse((r) => r.url().endsWith('/v1/assets') && r.request().method() === 'POST');
  await tid('video-url-input').fill(clipURL);
  await tid('video-url-protection').selectOption('drm');
  await tid('video-url-submit').click();
  const res = await created;
  assert.equal(res.status(), 201, await res.text());
  const body = await res.json();
  assert.equal(body.protected, true, 'the portal asked for an encrypted video');
  await tid('video-add-dialog').waitFor({ state: 'detached' });
  assetId = body.id;
  // Asking for an encrypted video also made its first (drm) playback id.
  assert.equal(body.playback_ids?.[0]?.policy, 'drm', JSON.stringify(body.playback_ids));
  drmPID = body.playback_ids[0].id;
}, 90_000);

step('create an ES256 signing key: the private key is shown once', async () => {
  await tid('nav-playback').click();
  await page.waitForURL(/#\/playback$/);
  await tid('sk-empty').waitFor();
  await tid('cdns-empty').waitFor();
  await tid('sk-alg').selectOption('ES256');
  await tid('sk-create').click();
  await tid('sk-reveal-dialog').waitFor();
  assert.match(await tid('sk-warning').textContent(), /only time the private key is shown/);
  const pem = await tid('sk-private-key').inputValue();
  const id = (await tid('sk-created-id').textContent()).trim();
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/);
  assert.match(id, /^sk_/);
  esKey = { id, pem };
  await shot('signing-key-reveal');

  // The private key matches the public half the API keeps.
  const listed = await apiJSON('/v1/signing-keys');
  const k = listed.body.data.find((x) => x.id === id);
  assert.equal(k.alg, 'ES256');
  assert.equal(k.private_key, undefined, 'the list never carries private keys');
  const pubFromPriv = createPublicKey(pem).export({ type: 'spki', format: 'pem' });
  assert.equal(pubFromPriv.trim(), k.public_key.trim());

  await tid('sk-dismiss').click();
  await tid('sk-reveal-dialog').waitFor({ state: 'detached' });
  assert.equal(await tid('sk-private-key').count(), 0, 'the private key is gone from the page');
  const row = page.locator(`[data-testid="sk-row"][data-key-id="${id}"]`);
  assert.equal((await row.getByTestId('sk-row-alg').textContent()).trim(), 'ES256');
  assert.equal((await row.getByTestId('sk-row-status').textContent()).trim(), 'Active');
});

step('create an RS256 key and revoke it with a confirmation', async () => {
  await tid('sk-alg').selectOption('RS256');
  await tid('sk-create').click();
  await tid('sk-reveal-dialog').waitFor();
  assert.match(await tid('sk-private-key').inputValue(), /^-----BEGIN PRIVATE KEY-----/);
  const id = (await tid('sk-created-id').textContent()).trim();
  await tid('sk-dismiss').click();
  const row = page.locator(`[data-testid="sk-row"][data-key-id="${id}"]`);
  assert.equal((await row.getByTestId('sk-row-alg').textContent()).trim(), 'RS256');
  await row.getByTestId('sk-revoke').click();
  await tid('confirm-dialog').waitFor();
  await shot('signing-key-revoke-confirm');
  await tid('confirm-ok').click();
  await page.locator(`[data-testid="sk-row"][data-key-id="${id}"][data-revoked="true"]`).waitFor();
  assert.match(await row.getByTestId('sk-row-status').textContent(), /^Revoked/);
  assert.equal(await row.getByTestId('sk-revoke').count(), 0, 'a revoked key has no revoke button');
  const listed = await apiJSON('/v1/signing-keys');
  assert.ok(listed.body.data.find((x) => x.id === id).revoked_at, 'revoked in the API');
  assert.equal(listed.body.data.find((x) => x.id === esKey.id).revoked_at, null, 'the ES256 key stays active');
});

step('add a CDN (secret checked by the API), edit it, delete it', async () => {
  const secret = `edge-secret-${run}-0123456789`;
  await tid('cdn-add').click();
  await tid('cdn-dialog').waitFor();
  const providers = await tid('cdn-provider').locator('option').evaluateAll((os) => os.map((o) => o.value).sort());
  assert.deepEqual(providers, ['akamai', 'bunny', 'cloudfront', 'fastly', 'generic', 'nginx'], 'the API\'s provider enum');
  await tid('cdn-provider').selectOption('nginx');
  assert.match(await tid('cdn-provider-help').textContent(), /secure_link/);
  await tid('cdn-name').fill('Europe edge');
  await tid('cdn-base-url').fill('https://eu.cdn.example.com');
  await tid('cdn-secret').fill('short');
  await tid('cdn-weight').fill('3');
  await tid('cdn-regions').fill('eu, us-east');
  await tid('cdn-submit').click();
  // The API's problem lands beside the secret.
  await fieldError('cdn-form', 'secret').waitFor();
  assert.match(await fieldError('cdn-form', 'secret').textContent(), /at least 16 characters/);
  await shot('cdn-secret-error');
  await tid('cdn-secret').fill(secret);
  await tid('cdn-submit').click();
  await tid('cdn-dialog').waitFor({ state: 'detached' });

  const row = tid('cdn-row');
  await row.waitFor();
  assert.equal((await row.getByTestId('cdn-row-name').textContent()).trim(), 'Europe edge');
  assert.equal(await row.getByTestId('cdn-row-provider').getAttribute('data-provider'), 'nginx');
  assert.equal((await row.getByTestId('cdn-row-base-url').textContent()).trim(), 'https://eu.cdn.example.com');
  assert.equal((await row.getByTestId('cdn-row-weight').textContent()).trim(), '3');
  assert.equal((await row.getByTestId('cdn-row-regions').textContent()).trim(), 'eu, us-east');
  assert.equal(await row.getByTestId('cdn-row-health').getAttribute('data-healthy'), 'unknown');
  const listed = await apiJSON('/v1/cdns');
  assert.equal(listed.body.data.length, 1);
  const cdn = listed.body.data[0];
  assert.deepEqual([cdn.provider, cdn.weight, cdn.regions], ['nginx', 3, ['eu', 'us-east']]);
  assert.ok(!JSON.stringify(listed.body).includes(secret), 'the secret is never sent back');
  await shot('cdn-listed', { fullPage: true });

  // Edit: the secret field starts empty and must be filled again.
  await row.getByTestId('cdn-edit').click();
  await tid('cdn-dialog').waitFor();
  assert.equal(await tid('cdn-name').inputValue(), 'Europe edge');
  assert.equal(await tid('cdn-secret').inputValue(), '', 'the secret is write-only');
  await tid('cdn-weight').fill('5');
  await tid('cdn-submit').click();
  await fieldError('cdn-form', 'secret').waitFor();
  await tid('cdn-secret').fill(secret);
  await tid('cdn-submit').click();
  await tid('cdn-dialog').waitFor({ state: 'detached' });
  await page.locator('[data-testid="cdn-row-weight"]', { hasText: '5' }).waitFor();
  assert.equal((await apiJSON('/v1/cdns')).body.data[0].weight, 5);

  // Delete it, so that the preview below plays from the built-in origin.
  await row.getByTestId('cdn-delete').click();
  await tid('confirm-dialog').waitFor();
  await tid('confirm-ok').click();
  await tid('cdns-empty').waitFor();
  assert.equal((await apiJSON('/v1/cdns')).body.data.length, 0);
});

step('save DRM settings; an invalid route is refused inline; they are there when the page is opened again', async () => {
  const drm = {
    vendor: 'Acme DRM',
    'widevine.primary': 'https://wv.acme-drm.example/license',
    'widevine.backup': 'https://wv-backup.acme-drm.example/license',
    'fairplay.primary': 'https://fp.acme-drm.example/license',
    fairplay_certificate_url: 'https://fp.acme-drm.example/cert.der',
  };
  await tid('drm-form').waitFor();
  assert.match(await tid('drm-updated').textContent(), /Not configured/);
  await tid('drm-vendor').fill(drm.vendor);
  await tid('drm-widevine-primary').fill(drm['widevine.primary']);
  await tid('drm-widevine-backup').fill(drm['widevine.backup']);
  await tid('drm-fairplay-primary').fill(drm['fairplay.primary']);
  await tid('drm-fairplay-cert').fill(drm.fairplay_certificate_url);
  await tid('drm-playready-backup').fill('https://pr-backup.acme-drm.example/license');
  await tid('drm-save').click();
  await fieldError('drm-form', 'playready.primary').waitFor();
  assert.match(await fieldError('drm-form', 'playready.primary').textContent(), /backup needs a primary/);
  await tid('drm-playready-backup').fill('');
  await tid('drm-save').click();
  await tid('toast').filter({ hasText: 'DRM settings saved' }).waitFor();
  assert.match(await tid('drm-updated').textContent(), /^Saved/);
  const saved = (await apiJSON('/v1/drm')).body;
  assert.equal(saved.vendor, drm.vendor);
  assert.deepEqual(saved.widevine, { primary: drm['widevine.primary'], backup: drm['widevine.backup'] });
  assert.equal(saved.fairplay.primary, drm['fairplay.primary']);
  assert.equal(saved.fairplay_certificate_url, drm.fairplay_certificate_url);

  // Away and back (not a reload: this tab still remembers the new key).
  await tid('nav-dashboard').click();
  await page.waitForURL(/#\/dashboard$/);
  await tid('nav-playback').click();
  await tid('drm-form').waitFor();
  assert.equal(await tid('drm-vendor').inputValue(), drm.vendor);
  assert.equal(await tid('drm-widevine-backup').inputValue(), drm['widevine.backup']);
  assert.equal(await tid('drm-fairplay-cert').inputValue(), drm.fairplay_certificate_url);
  await shot('playback-page', { fullPage: true });
});

step('the DRM video becomes ready; its detail page lists its playback id', async () => {
  const deadline = Date.now() + READY_TIMEOUT;
  for (;;) {
    const a = (await apiJSON(`/v1/assets/${assetId}`)).body;
    if (a.status === 'ready') break;
    assert.notEqual(a.status, 'errored', JSON.stringify(a.error));
    assert.ok(Date.now() < deadline, `asset still ${a.status}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await tid('nav-videos').click();
  await page.locator(`[data-testid="video-row"][data-asset-id="${assetId}"][data-status="ready"] [data-testid="video-link"]`).click();
  await page.waitForURL(new RegExp(`#/videos/${assetId}$`));
  const row = page.locator(`[data-testid="pbid-row"][data-pbid="${drmPID}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-policy'), 'drm');
  assert.equal((await row.getByTestId('pbid-row-access').textContent()).trim(), 'Free');
  assert.equal(await tid('video-player').count(), 0, 'no clear preview for an encrypted video');
}, READY_TIMEOUT + 30_000);

step('add a playback id with access rules (the API checks them), then delete it', async () => {
  await tid('pbid-add').click();
  await tid('pbid-dialog').waitFor();
  const policies = await tid('pbid-policy').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(policies, ['drm'], 'an encrypted video takes DRM playback ids only');
  await tid('pbid-model').selectOption('svod');
  await tid('pbid-rating').selectOption('PG-13');
  await tid('pbid-allow').fill('us, ca');
  await tid('pbid-deny').fill('');
  await tid('pbid-submit').click();
  await fieldError('pbid-form', 'access.tier').waitFor();
  assert.match(await fieldError('pbid-form', 'access.tier').textContent(), /needs a tier/);
  await tid('pbid-tier').fill('premium');
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/v1/assets/${assetId}/playback-ids`) && r.status() === 201);
  await tid('pbid-submit').click();
  const pid = (await (await created).json()).id;
  await tid('pbid-dialog').waitFor({ state: 'detached' });
  const row = page.locator(`[data-testid="pbid-row"][data-pbid="${pid}"]`);
  await row.waitFor();
  assert.equal((await row.getByTestId('pbid-row-access').textContent()).trim(), 'SVOD · premium · Rated PG-13 · Only CA, US');
  const listed = (await apiJSON(`/v1/assets/${assetId}/playback-ids`)).body.data.find((p) => p.id === pid);
  assert.deepEqual(listed.access, { model: 'svod', tier: 'premium', rating: 'PG-13', allow_countries: ['CA', 'US'] });
  await shot('playback-ids', { fullPage: true });

  await row.getByTestId('pbid-delete').click();
  await tid('confirm-dialog').waitFor();
  await tid('confirm-ok').click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual((await apiJSON(`/v1/assets/${assetId}/playback-ids`)).body.data.map((p) => p.id), [drmPID]);
});

step('the preview uses the key created in this tab', async () => {
  await tid('pb-preview-form').waitFor();
  await page.locator(`[data-testid="pb-preview-key"] option[value="${esKey.id}"]`).waitFor({ state: 'attached' });
  assert.equal(await tid('pb-preview-key').inputValue(), esKey.id);
  assert.equal(await tid('pb-preview-pem').inputValue(), esKey.pem, 'filled with the key kept in memory');
  assert.match(await tid('pb-preview-pem-note').textContent(), /created in this tab/);
});

async function waitPlayed(pastSeconds) {
  await page.waitForFunction((s) => {
    const v = document.querySelector('[data-testid="pb-preview-video"]');
    return v && (v.dataset.state === 'error' || (v.dataset.state === 'loaded' && v.currentTime > s));
  }, pastSeconds, { timeout: PLAY_TIMEOUT, polling: 250 });
  return tid('pb-preview-video').evaluate((v) => ({ t: v.currentTime, w: v.videoWidth, h: v.videoHeight, state: v.dataset.state }));
}

step('after a reload the key is forgotten: a wrong key is refused by the API, the pasted key plays past 3 s', async () => {
  await page.reload();
  await tid('pb-preview-form').waitFor();
  await page.locator(`[data-testid="pb-preview-key"] option[value="${esKey.id}"]`).waitFor({ state: 'attached' });
  assert.equal(await tid('pb-preview-pem').inputValue(), '', 'the private key did not survive the reload');
  await tid('pb-preview-pid').selectOption(drmPID);

  // Nothing pasted: said beside the field.
  await tid('pb-preview-play').click();
  await fieldError('pb-preview-form', 'private_key').waitFor();

  // A P-256 key that is not the signing key: the token is signed, but the
  // API refuses it, and the portal says why.
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  await tid('pb-preview-pem').fill(stranger);
  await tid('pb-preview-play').click();
  await page.locator('[data-testid="pb-preview-video"][data-state="error"]').waitFor({ state: 'attached', timeout: PLAY_TIMEOUT });
  assert.match(await tid('pb-preview-state').textContent(), /not valid \(token_invalid\)/);
  await shot('preview-wrong-key');

  // The real key, pasted.
  const manifests = [];
  const licenses = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname === `/play/${drmPID}.mpd`) manifests.push({ status: r.status(), token: u.searchParams.get('token') });
    if (u.pathname === `/license/clearkey/${drmPID}`) licenses.push({ status: r.status(), token: u.searchParams.get('token') });
  });
  await tid('pb-preview-pem').fill(esKey.pem);
  await tid('pb-preview-play').click();
  const played = await waitPlayed(3);
  assert.equal(played.state, 'loaded', await tid('pb-preview-state').textContent());
  assert.ok(played.t > 3, `currentTime ${played.t}`);
  assert.ok(played.w > 0 && played.h > 0, `decodes frames (${played.w}x${played.h})`);
  assert.match(await tid('pb-preview-state').textContent(), /Clear Key/);

  // The tokens were minted in the browser, as the API expects them.
  assert.ok(manifests.some((m) => m.status === 200), `manifest fetched: ${JSON.stringify(manifests.map((m) => m.status))}`);
  assert.ok(licenses.some((l) => l.status === 200), `license fetched: ${JSON.stringify(licenses.map((l) => l.status))}`);
  const v = decodeJWT(manifests.find((m) => m.status === 200).token);
  const l = decodeJWT(licenses.find((x) => x.status === 200).token);
  assert.deepEqual(v.header, { alg: 'ES256', typ: 'JWT', kid: esKey.id });
  assert.equal(v.claims.sub, drmPID);
  assert.equal(v.claims.aud, 'v');
  assert.equal(l.claims.aud, 'l');
  assert.ok(v.claims.exp > Date.now() / 1000, 'not expired');
  // …and the signature is a raw r||s ECDSA signature over the JWS input.
  const jwt = manifests.find((m) => m.status === 200).token.split('.');
  const ok = createVerify('SHA256').update(`${jwt[0]}.${jwt[1]}`)
    .verify({ key: createPublicKey(esKey.pem), dsaEncoding: 'ieee-p1363' }, Buffer.from(jwt[2], 'base64url'));
  assert.ok(ok, 'the ES256 signature verifies');
  console.log(`# protected preview reached ${played.t.toFixed(2)} s (${played.w}x${played.h})`);
  await shot('preview-playing', { fullPage: true });
}, PLAY_TIMEOUT * 2 + 30_000);

step('RS256 tokens minted in the browser play too; keys of the wrong kind or format are refused', async () => {
  const rs = await apiJSON('/v1/signing-keys', { method: 'POST', body: { alg: 'RS256' } });
  assert.equal(rs.status, 201);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const out = await page.evaluate(async ([kid, pem, pid, ecPEM, sec1PEM]) => {
    const m = await import('/js/pages/playback.js');
    const key = await m.importSigningKey(pem, 'RS256');
    const token = await m.mintToken(key, { alg: 'RS256', kid, sub: pid, aud: 'v' });
    const refusal = (p) => p.then(() => 'accepted', (e) => e.message);
    return {
      token,
      wrongKind: await refusal(m.importSigningKey(ecPEM, 'RS256')),
      sec1: await refusal(m.importSigningKey(sec1PEM, 'ES256')),
      garbage: await refusal(m.importSigningKey('not a key', 'ES256')),
    };
  }, [rs.body.id, rs.body.private_key, drmPID, ec.export({ type: 'pkcs8', format: 'pem' }), ec.export({ type: 'sec1', format: 'pem' })]);
  const v = decodeJWT(out.token);
  assert.deepEqual(v.header, { alg: 'RS256', typ: 'JWT', kid: rs.body.id });
  const manifest = await fetch(new URL(`/play/${drmPID}.mpd?token=${out.token}`, baseURL));
  assert.equal(manifest.status, 200, await manifest.clone().text());
  assert.match(await manifest.text(), /<MPD/);
  assert.match(out.wrongKind, /not an RSA key/);
  assert.match(out.sec1, /“EC PRIVATE KEY” PEM/);
  assert.match(out.garbage, /whole private key/);
});

step('no uncaught errors in the page', async () => {
  assert.deepEqual(pageErrors, []);
});
