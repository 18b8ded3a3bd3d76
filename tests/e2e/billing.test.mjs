// End-to-end test of the portal's Billing page in a real Chromium against a
// real Marquee server:
//
//   a platform operator made with `marquee admin create-user --platform` on
//   the running server's data dir logs in → creates a reseller on the
//   Sub-tenants page, and a creator under it through the API → a node
//   enrolled with the data dir's node key reports usage for both
//   (transcode seconds by tier/encoder, egress bytes by CDN, DRM licences)
//   → the Billing page draws a uPlot chart per meter and lists exactly the
//   sent quantities → the price-book editor adds a plan (base fee, per-unit
//   prices with an allowance and a tier-specific price, graduated egress
//   tiers, a half-cent DRM price) and puts the reseller on it → the month's
//   draft is generated, its lines (one per meter and dimension set) carry
//   the amounts this test recomputes from the plan and the usage, and it is
//   finalized → the ops export (CSV and JSON downloads) holds the usage per
//   tenant and the invoice → acting as the reseller, its Billing page shows
//   the invoice it received, its plan and its subtree's usage → no uncaught
//   page errors.
//
// Usage is recorded after the plan is assigned, at times in the hour of the
// assignment or later (usage is rated by the plan in force in its hour).
// Server: ${MARQUEE_BIN:-../../bin/marquee} dev on a temp data dir.
// Screenshots go to $E2E_ARTIFACTS (default: a temp dir, printed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { chromiumOptions, embeddedEnv, marqueeBin, startServer } from './lib/server.mjs';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const operator = { email: `ops-${run}@example.com`, password: `correct-horse-${run}` };
const resellerName = `Acme Resale ${run}`;
const creatorName = `Acme Creator ${run}`;
const planName = `Reseller Pro ${run}`;
const period = new Date().toISOString().slice(0, 7);

// The plan the operator adds in the price-book editor (money in cents).
const BASE_FEE = 5000;
const PRICES = [
  { meter: 'transcode_seconds', model: 'per_unit', unit: '60', unit_name: 'minute', unit_amount: '3', included: '2' },
  { meter: 'transcode_seconds', dimensions: { tier: 'uhd' }, model: 'per_unit', unit: '60', unit_name: 'minute', unit_amount: '12', included: '0' },
  { meter: 'egress_bytes', model: 'graduated', unit: '1000000000', unit_name: 'GB', included: '0', tiers: [{ up_to: '5', unit_amount: '10' }, { up_to: null, unit_amount: '4' }] },
  { meter: 'drm_licenses', model: 'per_unit', unit: '1', unit_name: 'licence', unit_amount: '0.5', included: '0' },
];

let work;
let dataDir;
let artifacts;
let server;
let baseURL;
let browser;
let page;
let token; // the operator's session
let reseller;
let creator;
let assignedAt; // [before, after] the plan assignment, ms
let invoice;
const sent = []; // the usage events reported
const pageErrors = [];

const tid = (id) => page.getByTestId(id);

async function shot(name, { fullPage = false } = {}) {
  const file = join(artifacts, `billing-${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

async function apiJSON(path, { method = 'GET', body, bearer = token, tenant } = {}) {
  const headers = { Accept: 'application/json' };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (tenant) headers['Marquee-Tenant'] = tenant;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(new URL(path, baseURL), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, body: json };
}

// Exact decimals as BigInt scaled by 10^12 (the fraction of a month is
// given to 12 places), so that rounding is checked exactly.
const SCALE = 10n ** 12n;
function scaled(s) {
  const [i, f = ''] = String(s).split('.');
  assert.ok(f.length <= 12, `at most 12 decimals: ${s}`);
  return BigInt(i) * SCALE + BigInt(f.padEnd(12, '0'));
}
/** Rounds a non-negative scaled amount to whole cents, half away from zero. */
const roundCents = (v) => Number((v + SCALE / 2n) / SCALE);

const money = (cents) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(cents / 100);

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

before(async () => {
  artifacts = process.env.E2E_ARTIFACTS || await mkdtemp(join(tmpdir(), 'marquee-e2e-artifacts-'));
  await mkdir(artifacts, { recursive: true });
  console.log(`# artifacts: ${artifacts}`);
  work = await mkdtemp(join(tmpdir(), 'marquee-e2e-billing-'));
  dataDir = join(work, 'data');
  server = await startServer({ dataDir });
  baseURL = server.url;
  console.log(`# server: ${baseURL}`);

  browser = await chromium.launch(chromiumOptions());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, baseURL, locale: 'en-US', acceptDownloads: true });
  context.setDefaultTimeout(15_000);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, { timeout: 30_000 });

// --- the flow -------------------------------------------------------------------

step('a platform operator made with the admin CLI on the running server logs in', async () => {
  // The CLI opens the same SQLite data dir the server holds open, and
  // nothing else: without DATABASE_URL (which `make test` exports for the Go
  // suites) it would migrate and write the shared database.
  const { stdout } = await promisify(execFile)(marqueeBin(), ['admin', 'create-user', '--data-dir', dataDir,
    '--email', operator.email, '--password', operator.password, '--platform'], { timeout: 60_000, env: embeddedEnv() });
  assert.match(stdout, /created user \S+ \(.+\) as owner of tenant \S+/);

  await page.goto('/');
  await page.waitForURL(/#\/login$/);
  await tid('login-email').fill(operator.email);
  await tid('login-password').fill(operator.password);
  await tid('login-submit').click();
  await page.waitForURL(/#\/dashboard$/);
  assert.match(await tid('dashboard-tenant-kind').textContent(), /platform/i);
  token = await page.evaluate(() => localStorage.getItem('marquee.token'));
  assert.ok(token, 'the portal keeps the session token');
}, 90_000);

step('a reseller from the Sub-tenants page and a creator under it', async () => {
  await tid('nav-tenants').click();
  await page.waitForURL(/#\/tenants$/);
  await tid('tenant-new').click();
  await tid('tenant-create-dialog').waitFor();
  await tid('tenant-name').fill(resellerName);
  await tid('tenant-kind-reseller').check();
  const created = page.waitForResponse((r) => r.url().endsWith('/v1/tenants') && r.request().method() === 'POST');
  await tid('tenant-create-submit').click();
  const res = await created;
  assert.equal(res.status(), 201, await res.text());
  reseller = await res.json();
  assert.equal(reseller.kind, 'reseller');
  await tid('tenant-row-name').filter({ hasText: resellerName }).waitFor();

  const c = await apiJSON('/v1/tenants', { method: 'POST', tenant: reseller.id, body: { name: creatorName, kind: 'creator' } });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  creator = c.body;
  assert.equal(creator.parent_id, reseller.id);
});

step('the Billing page starts empty; the price-book editor adds a plan and puts the reseller on it', async () => {
  await tid('nav-billing').click();
  await page.waitForURL(/#\/billing$/);
  await tid('usage-empty').waitFor();
  await tid('plans-empty').waitFor();
  await tid('invoices-issued-empty').waitFor();

  // A bad prices document is refused inline, nothing is created.
  await tid('plan-name').fill(planName);
  await tid('plan-prices').fill('[{"meter": ');
  await tid('plan-create-submit').click();
  await tid('plan-form').getByText('Prices must be valid JSON.').waitFor();
  assert.equal((await apiJSON('/v1/plans')).body.data.length, 0);

  await tid('plan-currency').fill('usd');
  await tid('plan-base-fee').fill(String(BASE_FEE));
  await tid('plan-prices').fill(JSON.stringify(PRICES, null, 2));
  const created = page.waitForResponse((r) => r.url().endsWith('/v1/plans') && r.request().method() === 'POST');
  await tid('plan-create-submit').click();
  const res = await created;
  assert.equal(res.status(), 201, await res.text());
  const plan = await res.json();
  assert.equal(plan.base_fee, BASE_FEE);
  assert.equal(plan.prices.length, PRICES.length);

  const row = tid('plan-row').filter({ hasText: planName });
  await row.waitFor();
  const rowText = await row.textContent();
  assert.ok(rowText.includes(money(BASE_FEE)), rowText);
  assert.ok(rowText.includes('transcode_seconds: per_unit (tier=uhd)'), rowText);
  assert.ok(rowText.includes('egress_bytes: graduated'), rowText);

  await tid('assign-tenant').selectOption(reseller.id);
  await tid('assign-plan').selectOption(plan.id);
  const assigned = page.waitForResponse((r) => r.url().endsWith(`/v1/tenants/${reseller.id}/billing`) && r.request().method() === 'PUT');
  const t0 = Date.now();
  await tid('assign-submit').click();
  const ares = await assigned;
  assignedAt = [t0, Date.now()];
  assert.equal(ares.status(), 200, await ares.text());
  await tid('toast').filter({ hasText: 'Plan assigned' }).waitFor();
  const acct = await apiJSON('/v1/billing', { tenant: reseller.id });
  assert.equal(acct.body.plan_id, plan.id);
  await shot('plan');
});

step('a node enrolled with the data dir\'s key reports usage for both tenants', async () => {
  const nodeKey = (await readFile(join(dataDir, 'node.key'), 'utf8')).trim();
  const wrong = await apiJSON('/internal/v1/nodes', { method: 'POST', bearer: 'not-the-key', body: { name: 'meter-edge', cores: 1, capacity: 1, queues: ['media-cpu'], encoders: [], hwaccels: [] } });
  assert.equal(wrong.status, 401);
  const enrolled = await apiJSON('/internal/v1/nodes', { method: 'POST', bearer: nodeKey, body: { name: 'meter-edge', cores: 1, capacity: 1, queues: ['media-cpu'], encoders: [], hwaccels: [] } });
  assert.equal(enrolled.status, 201, JSON.stringify(enrolled.body));
  const nodeToken = enrolled.body.token;

  // Times: the last seconds, never before the assignment (the hour of a
  // plan change is the new plan's).
  const at = (s) => new Date(Math.max(assignedAt[1], Date.now() - s * 1000)).toISOString();
  let n = 0;
  const ev = (tenant, meter, quantity, dimensions, s) => ({ tenant_id: tenant.id, id: `e2e-${run}-${n++}`, meter, quantity, dimensions, at: at(s) });
  sent.push(
    ev(creator, 'transcode_seconds', '1200', { tier: 'hd', encoder: 'libx264' }, 50),
    ev(creator, 'transcode_seconds', '600', { tier: 'hd', encoder: 'libx264' }, 40),
    ev(creator, 'transcode_seconds', '600', { tier: 'uhd', encoder: 'nvenc' }, 30),
    ev(creator, 'egress_bytes', '3000000000', { cdn: 'cloudfront' }, 20),
    ev(creator, 'drm_licenses', '4', undefined, 10),
    ev(reseller, 'egress_bytes', '4500000000', { cdn: 'fastly' }, 5),
    ev(reseller, 'drm_licenses', '3', undefined, 1),
  );
  const r = await apiJSON('/internal/v1/usage', { method: 'POST', bearer: nodeToken, body: { events: sent } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { received: sent.length, inserted: sent.length, duplicates: 0 });
  // Exactly once: the same batch again adds nothing.
  const again = await apiJSON('/internal/v1/usage', { method: 'POST', bearer: nodeToken, body: { events: sent } });
  assert.deepEqual(again.body, { received: sent.length, inserted: 0, duplicates: sent.length });
});

// The operator's view of the subtree, per meter and dimension set.
const EXPECTED_USAGE = [
  { meter: 'drm_licenses', dims: '—', quantity: '7', events: '2' },
  { meter: 'egress_bytes', dims: 'cdn=cloudfront', quantity: '3000000000', events: '1' },
  { meter: 'egress_bytes', dims: 'cdn=fastly', quantity: '4500000000', events: '1' },
  { meter: 'transcode_seconds', dims: 'encoder=libx264, tier=hd', quantity: '1800', events: '2' },
  { meter: 'transcode_seconds', dims: 'encoder=nvenc, tier=uhd', quantity: '600', events: '1' },
];

step('the Billing page charts each meter with uPlot and lists the sent quantities', async () => {
  await page.reload();
  await tid('usage-table').waitFor();
  for (const meter of ['transcode_seconds', 'egress_bytes', 'drm_licenses']) {
    const chart = tid(`usage-chart-${meter}`);
    await chart.locator('canvas').waitFor();
    // The series is drawn: pixels of its stroke colour (#6d4aff) on the
    // canvas, along the month's days so far (the line runs from the 1st,
    // at 0, to today's usage on an axis of the whole month).
    const { drawn, extent, width } = await chart.locator('canvas').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; let lo = Infinity; let hi = -1;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 200 && d[i + 2] > 200 && d[i] < 160 && d[i + 1] < 130) {
          n++;
          const x = (i / 4) % c.width;
          lo = Math.min(lo, x); hi = Math.max(hi, x);
        }
      }
      return { drawn: n, extent: hi - lo, width: c.width };
    });
    assert.ok(drawn > 0, `${meter}: the chart draws its data`);
    const now = new Date();
    const day = now.getUTCDate();
    const daysInMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).getUTCDate();
    if (day >= 3) assert.ok(extent >= 0.5 * ((day - 1) / daysInMonth) * width, `${meter}: the line spans the month so far (${extent}px of ${width})`);
  }
  assert.equal(await page.locator('[data-testid^="usage-chart-"]').count(), 3, 'one chart per meter used, no others');
  assert.match(await tid('usage-chart-transcode_seconds').locator('figcaption').textContent(), /Transcode \(minutes\)/);

  const rows = await tid('usage-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  const ours = rows.filter(([m]) => ['drm_licenses', 'egress_bytes', 'transcode_seconds'].includes(m))
    .map(([meter, dims, quantity, events]) => ({ meter, dims, quantity, events }))
    .sort((a, b) => `${a.meter} ${a.dims}`.localeCompare(`${b.meter} ${b.dims}`));
  assert.deepEqual(ours, EXPECTED_USAGE);
  await shot('usage', { fullPage: true });
});

step('generate the month\'s draft: its lines are the plan applied to the usage; finalize it', async () => {
  const generated = page.waitForResponse((r) => r.url().endsWith('/v1/invoices/generate'));
  await tid('invoices-generate').click();
  const gres = await generated;
  assert.equal(gres.status(), 200, await gres.text());
  const mine = (await gres.json()).data.filter((i) => i.tenant_id === reseller.id);
  assert.equal(mine.length, 1, 'one draft for the reseller');
  invoice = mine[0];
  assert.equal(invoice.status, 'draft');
  assert.equal(invoice.period, period);

  // The base fee is prorated by the share of the month the plan covers.
  const base = invoice.lines.find((l) => l.kind === 'base_fee');
  assert.ok(base, 'a base-fee line');
  const f = scaled(base.quantity);
  const start = Date.parse(`${period}-01T00:00:00Z`);
  const next = new Date(start); next.setUTCMonth(next.getUTCMonth() + 1);
  const len = next.getTime() - start;
  const fNum = Number(base.quantity);
  assert.ok(fNum <= (next - assignedAt[0] + 2000) / len && fNum >= (next - assignedAt[1] - 2000) / len, `fraction ${base.quantity} is the rest of the month from the assignment`);

  // Recomputed from the plan: transcode hd by the generic price less its
  // prorated 2 included minutes; uhd by its own price; egress through the
  // graduated tiers in order of dimensions (cloudfront 0–3 GB, fastly
  // 3–7.5 GB); DRM 7 × 0.5 ¢ = 3.5 → 4 (half away from zero).
  const expected = new Map([
    [`${planName} (base fee)`, { quantity: null, amount: roundCents(BigInt(BASE_FEE) * f) }],
    ['transcode_seconds (encoder=libx264, tier=hd) per minute', { quantity: '1800', amount: roundCents(3n * (30n * SCALE - 2n * f)) }],
    ['transcode_seconds (encoder=nvenc, tier=uhd) per minute', { quantity: '600', amount: 120 }],
    ['egress_bytes (cdn=cloudfront) per GB', { quantity: '3000000000', amount: 30 }],
    ['egress_bytes (cdn=fastly) per GB', { quantity: '4500000000', amount: 2 * 10 + 10 }],
    ['drm_licenses per licence', { quantity: '7', amount: 4 }],
  ]);
  assert.deepEqual(invoice.lines.map((l) => l.description).sort(), [...expected.keys()].sort(), 'a line per meter and dimension set');
  for (const l of invoice.lines) {
    const e = expected.get(l.description);
    if (e.quantity !== null) assert.equal(l.quantity, e.quantity, l.description);
    assert.equal(l.amount, e.amount, `${l.description}: ${JSON.stringify(l)}`);
  }
  const total = [...expected.values()].reduce((s, e) => s + e.amount, 0);
  assert.equal(invoice.total, total);

  // The page shows the draft with its lines and total.
  const row = tid('invoices-issued').locator(`[data-testid="invoice-row"]:has-text("${reseller.id}")`);
  await row.waitFor();
  assert.match(await row.textContent(), /draft/);
  assert.ok((await row.textContent()).includes(money(total)), await row.textContent());
  await row.getByTestId('invoice-lines-toggle').click();
  const lines = tid('invoices-issued').getByTestId('invoice-lines');
  await lines.waitFor();
  const shown = await lines.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  assert.equal(shown.length, expected.size);
  for (const [desc, qty, , amount] of shown) {
    const e = expected.get(desc);
    assert.ok(e, `unexpected line ${desc}`);
    if (e.quantity !== null) assert.equal(qty, e.quantity, desc);
    assert.equal(amount, money(e.amount), desc);
  }
  await shot('invoice-draft', { fullPage: true });

  const finalized = page.waitForResponse((r) => r.url().endsWith(`/v1/invoices/${invoice.id}/finalize`));
  await row.getByTestId('invoice-finalize').click();
  const fres = await finalized;
  assert.equal(fres.status(), 200, await fres.text());
  await tid('toast').filter({ hasText: 'Invoice finalized' }).waitFor();
  const after = tid('invoices-issued').locator(`[data-testid="invoice-row"]:has-text("${reseller.id}")`);
  await after.filter({ hasText: 'open' }).waitFor();
  assert.equal(await after.getByTestId('invoice-finalize').count(), 0, 'a finalized invoice has no Finalize button');
  const got = await apiJSON(`/v1/invoices/${invoice.id}`);
  assert.equal(got.body.status, 'open');
  assert.equal(got.body.total, total, 'finalizing keeps the lines');
  invoice = got.body;

  // The reseller receives it.
  const received = await apiJSON('/v1/invoices', { tenant: reseller.id });
  assert.deepEqual(received.body.data.map((i) => [i.id, i.status, i.total]), [[invoice.id, 'open', total]]);
});

/** Sums the sent events per tenant and meter. */
function sentSums() {
  const m = new Map();
  for (const e of sent) {
    const k = `${e.tenant_id} ${e.meter}`;
    m.set(k, (m.get(k) ?? 0n) + BigInt(e.quantity));
  }
  return m;
}

async function download(testid) {
  const [dl] = await Promise.all([page.waitForEvent('download'), tid(testid).click()]);
  assert.equal(dl.suggestedFilename(), `marquee-usage-${period}.${testid === 'export-csv' ? 'csv' : 'json'}`);
  return readFile(await dl.path(), 'utf8');
}

step('the ops export downloads the usage per tenant and the invoice, as CSV and JSON', async () => {
  await tid('billing-export').scrollIntoViewIfNeeded();
  assert.equal(await tid('export-period').inputValue(), period);
  const ours = new Set([reseller.id, creator.id]);
  const want = sentSums();

  const csv = (await download('export-csv')).trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(csv[0], ['record', 'period', 'tenant_id', 'meter', 'dimensions', 'quantity', 'events', 'invoice_id', 'issuer_id', 'status', 'currency', 'total']);
  const csvSums = new Map();
  for (const [rec, p, tenant, meter, , qty] of csv.slice(1)) {
    assert.equal(p, period);
    if (rec !== 'usage' || !ours.has(tenant)) continue;
    const k = `${tenant} ${meter}`;
    csvSums.set(k, (csvSums.get(k) ?? 0n) + BigInt(qty));
  }
  assert.deepEqual(csvSums, want);
  const invRow = csv.find((r) => r[0] === 'invoice' && r[7] === invoice.id);
  assert.deepEqual(invRow?.slice(2), [reseller.id, '', '', '', '', invoice.id, invoice.issuer_id, 'open', 'usd', String(invoice.total)]);
  assert.ok(csv.some((r) => r[0] === 'usage' && r[2] === creator.id && r[3] === 'transcode_seconds' && r[4] === 'encoder=libx264;tier=hd' && r[5] === '1800' && r[6] === '2'));

  const json = JSON.parse(await download('export-json'));
  assert.equal(json.period, period);
  const jsonSums = new Map();
  for (const u of json.usage) {
    if (!ours.has(u.tenant_id)) continue;
    const k = `${u.tenant_id} ${u.meter}`;
    jsonSums.set(k, (jsonSums.get(k) ?? 0n) + BigInt(u.quantity));
  }
  assert.deepEqual(jsonSums, want);
  const inv = json.invoices.find((i) => i.id === invoice.id);
  assert.equal(inv?.total, invoice.total);
  assert.equal(inv?.lines.length, invoice.lines.length);
  await shot('export', { fullPage: true });
});

step('acting as the reseller: its invoice received, its account on the plan, its subtree\'s usage', async () => {
  await tid('nav-tenants').click();
  await page.waitForURL(/#\/tenants$/);
  await tid('tenant-row').filter({ hasText: resellerName }).getByTestId('tenant-act-as').click();
  await page.waitForURL(/#\/dashboard$/);
  assert.equal(await tid('acting-name').textContent(), resellerName);
  await tid('nav-billing').click();
  await page.waitForURL(/#\/billing$/);

  const acct = tid('billing-account');
  await acct.waitFor();
  const facts = await acct.textContent();
  assert.ok(facts.includes(invoice.lines.find((l) => l.kind === 'base_fee').plan_id), facts);
  assert.ok(facts.includes(invoice.issuer_id), facts);
  assert.match(await tid('billing-dunning').textContent(), /ok/);

  const row = tid('invoices-received').getByTestId('invoice-row');
  await row.waitFor();
  assert.equal(await row.count(), 1);
  const text = await row.textContent();
  assert.ok(text.includes(period) && text.includes('open') && text.includes(money(invoice.total)), text);
  assert.equal(await row.getByTestId('invoice-finalize').count(), 0, 'the receiver cannot finalize');
  await row.getByTestId('invoice-lines-toggle').click();
  await tid('invoices-received').getByTestId('invoice-lines').locator('tbody tr').first().waitFor();
  assert.equal(await tid('invoices-received').getByTestId('invoice-lines').locator('tbody tr').count(), invoice.lines.length);

  // The reseller's own usage view holds its subtree: all of the sent usage.
  const rows = await tid('usage-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  assert.deepEqual(rows.map(([meter, dims, quantity, events]) => ({ meter, dims, quantity, events }))
    .sort((a, b) => `${a.meter} ${a.dims}`.localeCompare(`${b.meter} ${b.dims}`)), EXPECTED_USAGE);
  // A reseller has a price book and issues invoices, but has no ops export.
  await tid('billing-plans').waitFor();
  await tid('invoices-issued-empty').waitFor();
  assert.equal(await tid('billing-export').count(), 0);
  await shot('reseller', { fullPage: true });

  await tid('acting-return').click();
  await tid('acting-banner').waitFor({ state: 'detached' });
});

step('no uncaught errors on the page', async () => {
  assert.deepEqual(pageErrors, []);
});
