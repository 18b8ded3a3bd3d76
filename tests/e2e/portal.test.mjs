// End-to-end test of the creator portal in a real Chromium against a real
// Marquee server: sign up, dashboard, API key, branding with live preview,
// log out, log in, wrong password.
//
// Server: $MARQUEE_URL if set; otherwise this starts
// `${MARQUEE_BIN:-../../bin/marquee} dev --data-dir <tmp> --addr 127.0.0.1:0`
// and reads the portal URL from its stdout.
// Browser: $CHROMIUM or /usr/bin/chromium, driven by playwright-core.
// Screenshots go to $E2E_ARTIFACTS (default: a temp dir, printed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumOptions, startServer } from './lib/server.mjs';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const account = {
  name: `Northwind TV ${run}`,
  email: `e2e-${run}@example.com`,
  password: `correct-horse-${run}`,
};
const brand = { displayName: `Northwind Originals ${run}`, primary: '#e4572e', primaryRgb: 'rgb(228, 87, 46)' };

let baseURL;
let server;
let dataDir;
let artifacts;
let browser;
let page;
let slug;
const pageErrors = [];

// --- helpers ----------------------------------------------------------------

const tid = (id) => page.getByTestId(id);

async function shot(name, { fullPage = false } = {}) {
  const file = join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

async function backgroundOf(testid) {
  return tid(testid).evaluate((el) => getComputedStyle(el).backgroundColor);
}

async function apiJSON(path, init) {
  const res = await fetch(new URL(path, baseURL), init);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
}

// Steps share one browser page; once one fails the rest are skipped, not
// failed for the same reason again. A failing step leaves a screenshot.
let broken = false;
function step(name, fn) {
  test(name, async (t) => {
    if (broken) { t.skip('an earlier step failed'); return; }
    try {
      await fn(t);
    } catch (err) {
      broken = true;
      const file = await shot(`failed-${name.replace(/\W+/g, '-')}`, { fullPage: true }).catch(() => null);
      if (file) err.message += `\n(screenshot: ${file})`;
      throw err;
    }
  });
}

// --- lifecycle ----------------------------------------------------------------

before(async () => {
  artifacts = process.env.E2E_ARTIFACTS || await mkdtemp(join(tmpdir(), 'marquee-e2e-artifacts-'));
  await mkdir(artifacts, { recursive: true });
  console.log(`# artifacts: ${artifacts}`);

  if (process.env.MARQUEE_URL) {
    baseURL = new URL(process.env.MARQUEE_URL).href;
  } else {
    dataDir = await mkdtemp(join(tmpdir(), 'marquee-e2e-data-'));
    server = await startServer({ dataDir });
    baseURL = server.url;
  }
  console.log(`# server: ${baseURL}`);

  // launch() gives every run a fresh, throw-away user-data dir.
  browser = await chromium.launch(chromiumOptions());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, baseURL });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, { timeout: 30_000 });

// --- the flow -------------------------------------------------------------------

step('sign up through the form lands on the dashboard', async () => {
  await page.goto('/');
  await page.waitForURL(/#\/login$/);
  await tid('goto-signup').click();
  await tid('signup-name').fill(account.name);
  await tid('signup-email').fill(account.email);
  await tid('signup-password').fill(account.password);
  await tid('signup-submit').click();

  await page.waitForURL(/#\/dashboard$/);
  await assert.doesNotReject(tid('dashboard-tenant-name').filter({ hasText: account.name }).waitFor());
  assert.equal(await tid('dashboard-tenant-name').textContent(), account.name);
  assert.match(await tid('dashboard-tenant-kind').textContent(), /creator/i);
  assert.match(await tid('dashboard-tenant-status').textContent(), /active/i);
  slug = (await tid('dashboard-tenant-slug').textContent()).trim();
  assert.ok(slug, 'dashboard shows the tenant slug');

  const quotas = tid('quota-row');
  await quotas.first().waitFor();
  assert.equal(await quotas.count(), 6, 'six quota meters');
  await shot('dashboard');
});

step('the dashboard fits a narrow screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await tid('menu-toggle').waitFor();
    await tid('nav-branding').waitFor({ state: 'hidden' }); // the sidebar folds behind the menu
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
    await shot('dashboard-narrow');
    await tid('menu-toggle').click();
    await tid('nav-branding').waitFor();
    await shot('dashboard-narrow-menu');
    await page.keyboard.press('Escape');
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 });
  }
});

step('create an API key and see it exactly once', async () => {
  await page.goto('/#/dashboard');
  await tid('nav-api-keys').click();
  await page.waitForURL(/#\/api-keys$/);
  await page.locator('[data-testid="apikeys-empty"], [data-testid="apikeys-table"]').first().waitFor();

  await tid('apikey-name').fill('CI uploader');
  await tid('apikey-role').selectOption('analyst');
  await tid('apikey-create-submit').click();

  const secretBox = tid('apikey-secret');
  await secretBox.waitFor();
  const secret = await secretBox.inputValue();
  assert.ok(secret.length >= 16, `a full key is shown (got ${JSON.stringify(secret)})`);
  await tid('apikey-copy').waitFor();

  const row = tid('apikey-row').filter({ hasText: 'CI uploader' });
  await row.waitFor();
  const prefix = (await row.getByTestId('apikey-row-prefix').textContent()).replace(/…$/, '');
  assert.ok(secret.startsWith(prefix), `key ${secret.slice(0, 6)}… starts with its listed prefix ${prefix}`);
  assert.match(await row.getByTestId('apikey-row-role').textContent(), /analyst/i);
  await shot('api-keys');

  // The key works as a bearer credential for the same tenant.
  const me = await apiJSON('/v1/tenant', { headers: { Authorization: `Bearer ${secret}` } });
  assert.equal(me.status, 200, `GET /v1/tenant with the new key: ${JSON.stringify(me.body)}`);
  assert.equal(me.body.slug, slug);

  await tid('apikey-dismiss').click();
  await secretBox.waitFor({ state: 'detached' });
  await page.reload();
  await tid('apikey-row').first().waitFor();
  assert.equal(await page.getByText(secret).count(), 0, 'the key is not shown again');
  assert.equal(await tid('apikey-secret').count(), 0);
});

step('branding edits show in the live preview before saving', async () => {
  await tid('nav-branding').click();
  await page.waitForURL(/#\/branding$/);
  await tid('branding-display-name').waitFor();
  await tid('preview-cta').waitFor();
  assert.notEqual(await backgroundOf('preview-cta'), brand.primaryRgb);

  await tid('branding-display-name').fill(brand.displayName);
  await tid('branding-primary-color').fill(brand.primary);

  assert.equal(await tid('preview-name').textContent(), brand.displayName);
  assert.equal(await backgroundOf('preview-cta'), brand.primaryRgb);
  assert.equal(await tid('branding-primary-color-hex').inputValue(), brand.primary);
  assert.ok(await tid('branding-dirty').isVisible(), 'unsaved-changes note is shown');

  // Nothing has been saved yet: the public branding still has the old values.
  const before = await apiJSON(`/v1/public/tenants/${encodeURIComponent(slug)}/branding`);
  assert.equal(before.status, 200);
  assert.notEqual(before.body.display_name, brand.displayName);
  await shot('branding');
});

step('saved branding persists and is public', async () => {
  const saved = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/branding' && r.request().method() === 'PUT');
  await tid('branding-save').click();
  assert.equal((await saved).status(), 200);
  await tid('branding-dirty').waitFor({ state: 'hidden' });

  await page.reload();
  await tid('branding-display-name').waitFor();
  assert.equal(await tid('branding-display-name').inputValue(), brand.displayName);
  assert.equal(await tid('branding-primary-color').inputValue(), brand.primary);
  assert.equal(await tid('branding-primary-color-hex').inputValue(), brand.primary);
  assert.equal(await tid('preview-name').textContent(), brand.displayName);
  assert.equal(await backgroundOf('preview-cta'), brand.primaryRgb);

  const pub = await apiJSON(`/v1/public/tenants/${encodeURIComponent(slug)}/branding`);
  assert.equal(pub.status, 200);
  assert.equal(pub.body.slug, slug);
  assert.equal(pub.body.display_name, brand.displayName);
  assert.equal(pub.body.primary_color.toLowerCase(), brand.primary);
});

step('a logo upload shows in the preview and the public branding', async () => {
  // A 1×1 transparent PNG.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const uploaded = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/branding/logo' && r.request().method() === 'PUT');
  await tid('branding-logo-input').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: png });
  assert.equal((await uploaded).status(), 200);
  await tid('preview-logo').locator('img').waitFor();
  await tid('branding-logo-remove').waitFor();

  const pub = await apiJSON(`/v1/public/tenants/${encodeURIComponent(slug)}/branding`);
  assert.ok(pub.body.logo_url, 'public branding has a logo_url');
});

step('log out', async () => {
  await tid('logout-button').click();
  await page.waitForURL(/#\/login$/);
  await tid('login-form').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('marquee.token')), null, 'token is forgotten');
  await page.goto('/#/dashboard');
  await page.waitForURL(/#\/login$/);
});

step('log in again', async () => {
  await tid('login-email').fill(account.email);
  await tid('login-password').fill(account.password);
  await tid('login-submit').click();
  await page.waitForURL(/#\/dashboard$/);
  await tid('dashboard-tenant-name').filter({ hasText: account.name }).waitFor();
});

step('a wrong password shows the API’s error message', async () => {
  await tid('logout-button').click();
  await tid('login-form').waitFor();

  const wrong = { email: account.email, password: `${account.password}-nope` };
  const expected = await apiJSON('/v1/login', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(wrong),
  });
  assert.ok(expected.status >= 400 && expected.status < 500, `wrong password is a 4xx, got ${expected.status}`);
  assert.match(expected.type, /application\/problem\+json/);
  assert.ok(expected.body.detail, 'the problem has a detail');

  await tid('login-email').fill(wrong.email);
  await tid('login-password').fill(wrong.password);
  await tid('login-submit').click();
  await tid('login-form').getByText(expected.body.detail, { exact: true }).waitFor();
  assert.match(page.url(), /#\/login$/);
  assert.equal(await page.evaluate(() => localStorage.getItem('marquee.token')), null);
  await shot('login-error');
});

step('no uncaught errors in the page', async () => {
  assert.deepEqual(pageErrors, []);
});
