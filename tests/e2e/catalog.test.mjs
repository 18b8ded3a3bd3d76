// End-to-end test of the catalog pages in a real Chromium against a real
// `marquee dev`: create a movie and a series with a season and an episode,
// import a CSV with a bad row (the report names it), find a title with a
// typo in the search preview, hide it with a rating limit, and build a
// collection.
//
// Server: always its own `${MARQUEE_BIN:-../../bin/marquee} dev` on a
// temporary data dir. Browser: $CHROMIUM or /usr/bin/chromium.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumOptions, startServer } from './lib/server.mjs';

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let server;
let dataDir;
let artifacts;
let browser;
let page;
const pageErrors = [];

const tid = (id) => page.getByTestId(id);

let broken = false;
function step(name, fn) {
  test(name, async (t) => {
    if (broken) { t.skip('an earlier step failed'); return; }
    try {
      await fn(t);
    } catch (err) {
      broken = true;
      const file = join(artifacts, `catalog-failed-${name.replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => null);
      err.message += `\n(screenshot: ${file})`;
      throw err;
    }
  });
}

before(async () => {
  artifacts = process.env.E2E_ARTIFACTS || await mkdtemp(join(tmpdir(), 'marquee-e2e-artifacts-'));
  await mkdir(artifacts, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), 'marquee-e2e-catalog-'));
  server = await startServer({ dataDir });
  const res = await fetch(new URL('/v1/signup', server.url), {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: `catalog-${run}@example.com`, password: `correct-horse-${run}`, name: `Catalog ${run}` }),
  });
  assert.equal(res.status, 201);
  const { token } = await res.json();
  browser = await chromium.launch(chromiumOptions());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: server.url });
  context.setDefaultTimeout(15_000);
  await context.addInitScript((tok) => { if (!localStorage.getItem('marquee.token')) localStorage.setItem('marquee.token', tok); }, token);
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, { timeout: 30_000 });

step('a new movie is created from the editor', async () => {
  await page.goto('/#/dashboard');
  await tid('nav-catalog').click();
  await tid('titles-empty').waitFor();
  await tid('title-new').click();
  await tid('title-title').fill('The Matrix');
  await tid('title-genres').fill('sci-fi, action');
  await tid('title-cast').fill('Keanu Reeves as Neo');
  await tid('title-year').fill('1999');
  await tid('title-rating').selectOption('mpaa:R');
  await tid('title-status-select').selectOption('published');
  await tid('title-model').selectOption('tvod');
  await tid('title-price').fill('399');
  await tid('title-save').click();
  await page.waitForURL(/#\/catalog\/ttl_/);
  await tid('title-status').filter({ hasText: 'Published' }).waitFor();
});

step('a series gets a season and an episode in its tree', async () => {
  await page.goto('/#/catalog/new');
  await tid('title-kind').selectOption('series');
  await tid('title-title').fill('Planet Earth');
  await tid('title-save').click();
  await tid('season-tree').waitFor();
  await tid('season-number').fill('1');
  await tid('season-add').click();
  await tid('season-item').waitFor();
  await tid('episode-number').fill('1');
  await tid('episode-name').fill('From Pole to Pole');
  await tid('episode-add').click();
  await tid('episode-item').filter({ hasText: 'From Pole to Pole' }).waitFor();
});

step('a CSV import keeps the good rows and reports the bad one', async () => {
  await page.goto('/#/catalog');
  const file = join(dataDir, 'titles.csv');
  await writeFile(file, 'title,kind,status,release_year\nAmélie,movie,published,2001\nToo Old,movie,published,1700\n');
  await tid('import-file').setInputFiles(file);
  await tid('import-refused').filter({ hasText: 'Row 2' }).waitFor();
  assert.match(await tid('import-report').textContent(), /Imported 1 new/);
  await tid('title-link').filter({ hasText: 'Amélie' }).waitFor();
});

step('the search preview finds a typo and honours the rating limit', async () => {
  await tid('catalog-tab-search').click();
  await tid('search-q').fill('matrx');
  await tid('search-country').fill('FR');
  await tid('search-go').click();
  await tid('search-hit').filter({ hasText: 'The Matrix' }).waitFor();
  await tid('facet-genre').waitFor();
  await tid('search-max-rating').selectOption('PG-13');
  await tid('search-go').click();
  await tid('search-empty').waitFor();
});

step('a collection is created with a title', async () => {
  await tid('catalog-tab-collections').click();
  await tid('collection-name').first().fill('Featured');
  await tid('collection-add-title').first().selectOption({ label: 'The Matrix' });
  await tid('collection-item').first().waitFor();
  await tid('collection-save').first().click();
  await tid('collection').filter({ hasText: 'Featured' }).waitFor();
  assert.deepEqual(pageErrors, []);
});
