// Billing: usage charts per meter (uPlot, vendored), the billing account,
// invoices with their lines, and for platforms and resellers the price book
// editor, plan assignment, issued invoices and (platform only) the ops
// usage export.

import { api, listPage } from '../api.js';
import {
  badge, busy, button, clearErrors, emptyState, field, formAlert, formatDate, h, loadError, loadingRegion, mount, showProblem, toast,
} from '../ui.js';

// Test ids are literal so the tests and the test-id guard (go test ./portal) find them.
const METERS = [
  { id: 'transcode_seconds', label: 'Transcode', unit: 'minutes', scale: 1 / 60, split: 'tier', testid: 'usage-chart-transcode_seconds' },
  { id: 'egress_bytes', label: 'Egress', unit: 'GB', scale: 1e-9, split: 'cdn', testid: 'usage-chart-egress_bytes' },
  { id: 'storage_byte_hours', label: 'Storage', unit: 'GB-hours', scale: 1e-9, split: '', testid: 'usage-chart-storage_byte_hours' },
  { id: 'playback_seconds', label: 'Playback', unit: 'minutes', scale: 1 / 60, split: '', testid: 'usage-chart-playback_seconds' },
  { id: 'drm_licenses', label: 'DRM licences', unit: 'licences', scale: 1, split: '', testid: 'usage-chart-drm_licenses' },
  { id: 'ad_impressions', label: 'Ad impressions', unit: 'impressions', scale: 1, split: '', testid: 'usage-chart-ad_impressions' },
];

const canIssue = (t) => t?.kind === 'platform' || t?.kind === 'reseller';
const money = (minor, currency) => new Intl.NumberFormat(undefined, { style: 'currency', currency: (currency || 'usd').toUpperCase() }).format(minor / 100);
const dunningTone = { ok: 'success', past_due: 'warning', suspended: 'danger' };
const statusTone = { draft: 'neutral', open: 'info', paid: 'success', void: 'neutral', uncollectible: 'danger' };
const thisPeriod = () => new Date().toISOString().slice(0, 7);

let uplotPromise = null;
/** Loads the vendored uPlot build (a classic script that sets window.uPlot) and its CSS once. */
function loadUPlot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  uplotPromise ??= new Promise((resolve, reject) => {
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/vendor/uplot.min.css';
    document.head.append(css);
    const s = document.createElement('script');
    s.src = '/vendor/uplot.iife.min.js';
    s.onload = () => resolve(window.uPlot);
    s.onerror = () => { uplotPromise = null; reject(new Error('Could not load the chart library.')); };
    document.head.append(s);
  });
  return uplotPromise;
}

export function render(page, { state }) {
  const t = state.tenant;
  const usage = h('div', { class: 'card-body' }, loadingRegion('Loading usage', 4));
  const account = h('div', { class: 'card-body' }, loadingRegion('Loading billing account', 2));
  const received = h('div', { class: 'card-body flush' }, loadingRegion('Loading invoices', 3));
  const sections = [
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Billing'),
        h('p', { class: 'page-sub' }, 'Usage, invoices and, for resellers, the plans you sell.'))),
    h('section', { class: 'card', 'aria-labelledby': 'usage-heading', testid: 'billing-usage' },
      h('div', { class: 'card-head' }, h('h2', { id: 'usage-heading', class: 'card-title' }, 'Usage this month')), usage),
    h('section', { class: 'card', 'aria-labelledby': 'account-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'account-heading', class: 'card-title' }, 'Billing account')), account),
    h('section', { class: 'card', 'aria-labelledby': 'invoices-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'invoices-heading', class: 'card-title' }, 'Your invoices')), received),
  ];
  let plansBody = null;
  let issuedBody = null;
  if (canIssue(t)) {
    plansBody = h('div', { class: 'card-body' }, loadingRegion('Loading price book', 3));
    issuedBody = h('div', { class: 'card-body' }, loadingRegion('Loading issued invoices', 3));
    sections.push(
      h('section', { class: 'card', 'aria-labelledby': 'plans-heading', testid: 'billing-plans' },
        h('div', { class: 'card-head' }, h('h2', { id: 'plans-heading', class: 'card-title' }, 'Price book')), plansBody),
      h('section', { class: 'card', 'aria-labelledby': 'issued-heading', testid: 'billing-issued' },
        h('div', { class: 'card-head' }, h('h2', { id: 'issued-heading', class: 'card-title' }, 'Invoices you issue')), issuedBody));
  }
  if (t?.kind === 'platform') sections.push(exportCard());
  mount(page, ...sections);

  loadUsage(usage);
  loadAccount(account);
  loadReceived(received);
  if (plansBody) loadPlans(plansBody);
  if (issuedBody) loadIssued(issuedBody);
}

async function loadUsage(el) {
  const from = `${thisPeriod()}-01T00:00:00Z`;
  try {
    const [uPlot, byDay, byDims] = await Promise.all([
      loadUPlot(),
      api('GET', `/v1/usage?from=${from}&group_by=day&descendants=true`),
      api('GET', `/v1/usage?from=${from}&group_by=dimensions&descendants=true`),
    ]);
    const used = METERS.filter((m) => byDay.data.some((p) => p.meter === m.id));
    if (used.length === 0) {
      el.replaceChildren(emptyState({ iconName: 'grid', testid: 'usage-empty', title: 'No usage yet this month', body: 'Transcoding, storage, egress and playback show here as they happen.' }));
      return;
    }
    // Every UTC day of the month up to today (days without usage are 0) on
    // an axis spanning the whole month: with only the days that had usage,
    // a single day left uPlot's time axis auto-ranged over years and the
    // month's usage shrank to a dot at its edge.
    const start = Date.parse(from);
    const now = new Date();
    const next = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const xs = [];
    for (let t = start; t <= Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()); t += 86_400_000) xs.push(t / 1000);
    const charts = h('div', { class: 'usage-charts' });
    el.replaceChildren(charts, usageTable(byDims.data));
    for (const m of used) {
      const holder = h('figure', { class: 'usage-chart', testid: m.testid },
        h('figcaption', null, `${m.label} (${m.unit})`));
      charts.append(holder);
      const ys = xs.map((x) => byDay.data
        .filter((p) => p.meter === m.id && Date.parse(p.period_start) / 1000 === x)
        .reduce((sum, p) => sum + Number(p.quantity) * m.scale, 0));
      // eslint-disable-next-line no-new
      new uPlot({
        width: Math.min(560, Math.max(280, el.clientWidth - 24)), height: 200,
        series: [{}, { label: m.label, stroke: '#6d4aff', fill: 'rgba(109,74,255,0.12)', width: 2 }],
        axes: [{}, { size: 70, values: (u, vals) => vals.map((v) => (v === 0 ? '0' : String(Number(v.toPrecision(3))))) }],
        scales: { x: { time: true, range: () => [start / 1000, next / 1000 - 1] } },
      }, [xs, ys], holder);
    }
  } catch (err) {
    el.replaceChildren(loadError(err, () => loadUsage(el)));
  }
}

function usageTable(points) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'usage-table' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Meter'), h('th', { scope: 'col' }, 'Dimensions'), h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col' }, 'Events'))),
    h('tbody', null, points.map((p) => h('tr', null,
      h('td', null, p.meter),
      h('td', { class: 'muted' }, Object.entries(p.dimensions ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '—'),
      h('td', { class: 'mono' }, p.quantity),
      h('td', null, String(p.events)))))));
}

async function loadAccount(el) {
  try {
    const a = await api('GET', '/v1/billing');
    el.replaceChildren(h('dl', { class: 'facts', testid: 'billing-account' },
      fact('Plan', a.plan_id ?? 'None'),
      fact('Billed by', a.issuer_id || '—'),
      fact('Payment status', badge(a.dunning.replace('_', ' '), dunningTone[a.dunning] ?? 'neutral', 'billing-dunning')),
      a.suspended_by_billing ? fact('Suspended', 'for non-payment; paying the open invoice restores the account') : null));
  } catch (err) {
    el.replaceChildren(loadError(err, () => loadAccount(el)));
  }
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, value));
}

async function loadReceived(el) {
  try {
    const p = await listPage('/v1/invoices', { limit: 24 });
    el.replaceChildren(invoiceTable(p.data, 'invoices-received', 'invoices-received-empty', false));
  } catch (err) {
    el.replaceChildren(loadError(err, () => loadReceived(el)));
  }
}

function invoiceTable(invoices, testid, emptyTestid, issued, onChange) {
  if (invoices.length === 0) {
    return emptyState({ iconName: 'info', testid: emptyTestid, title: 'No invoices yet', body: issued ? 'Generate this month’s drafts below.' : 'Invoices appear here each month.' });
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid },
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Period'), issued ? h('th', { scope: 'col' }, 'Tenant') : null,
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Total'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', null, invoices.flatMap((inv) => {
      const lines = h('tr', { hidden: true }, h('td', { colspan: issued ? 5 : 4 }, lineTable(inv)));
      const toggle = button('Lines', { size: 'sm', variant: 'ghost', testid: 'invoice-lines-toggle', onClick: () => { lines.hidden = !lines.hidden; } });
      const actions = [toggle];
      if (issued && inv.status === 'draft') {
        const fin = button('Finalize', { size: 'sm', testid: 'invoice-finalize' });
        fin.addEventListener('click', async () => {
          try {
            await busy(fin, () => api('POST', `/v1/invoices/${encodeURIComponent(inv.id)}/finalize`));
            toast('Invoice finalized');
            onChange?.();
          } catch (err) { toast(err.message, 'danger'); }
        });
        actions.push(fin);
      }
      return [h('tr', { testid: 'invoice-row' },
        h('td', null, inv.period), issued ? h('td', { class: 'mono' }, inv.tenant_id) : null,
        h('td', null, badge(inv.status, statusTone[inv.status] ?? 'neutral')),
        h('td', { class: 'cell-strong' }, money(inv.total, inv.currency)),
        h('td', { class: 'cell-actions' }, ...actions)), lines];
    }))));
}

function lineTable(inv) {
  return h('table', { class: 'table table-inner', testid: 'invoice-lines' },
    h('thead', null, h('tr', null, h('th', null, 'Line'), h('th', null, 'Quantity'), h('th', null, 'Billable'), h('th', null, 'Amount'))),
    h('tbody', null, inv.lines.map((l) => h('tr', null,
      h('td', null, l.description), h('td', { class: 'mono' }, l.quantity), h('td', { class: 'mono' }, l.billable_units),
      h('td', null, money(l.amount, inv.currency))))));
}

const SAMPLE_PRICES = JSON.stringify([
  { meter: 'transcode_seconds', model: 'per_unit', unit: '60', unit_name: 'minute', unit_amount: '2.5', included: '100' },
  { meter: 'egress_bytes', model: 'graduated', unit: '1000000000', unit_name: 'GB', included: '10', tiers: [{ up_to: '1000', unit_amount: '8' }, { up_to: null, unit_amount: '5' }] },
], null, 2);

async function loadPlans(el) {
  try {
    const [plans, kids] = await Promise.all([api('GET', '/v1/plans'), listPage('/v1/tenants', { limit: 200 })]);
    el.replaceChildren(
      plans.data.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'plans-table' },
        h('thead', null, h('tr', null, h('th', null, 'Plan'), h('th', null, 'Base fee'), h('th', null, 'Prices'), h('th', null, 'Updated'))),
        h('tbody', null, plans.data.map((p) => h('tr', { testid: 'plan-row' },
          h('td', { class: 'cell-strong' }, p.name, h('div', { class: 'muted mono' }, p.id)),
          h('td', null, money(p.base_fee, p.currency)),
          h('td', null, p.prices.map((x) => `${x.meter}: ${x.model}${x.dimensions ? ` (${Object.entries(x.dimensions).map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}`).join('; ') || '—'),
          h('td', { class: 'muted' }, formatDate(p.updated_at)))))))
        : emptyState({ iconName: 'info', testid: 'plans-empty', title: 'No plans yet', body: 'Add the plans you sell to your sub-tenants.' }),
      ...[planForm(() => loadPlans(el)), assignForm(plans.data, kids.data)].filter(Boolean));
  } catch (err) {
    el.replaceChildren(loadError(err, () => loadPlans(el)));
  }
}

function planForm(done) {
  const prices = h('textarea', { class: 'input textarea mono', name: 'prices', rows: '8', testid: 'plan-prices' });
  prices.value = SAMPLE_PRICES;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'plan-create-submit' }, 'Add plan');
  const form = h('form', { class: 'form', novalidate: true, testid: 'plan-form' },
    h('h3', { class: 'card-subtitle' }, 'Add a plan'),
    formAlert(),
    h('div', { class: 'form-row' },
      field({ label: 'Name', name: 'name', testid: 'plan-name', placeholder: 'e.g. Pro' }),
      field({ label: 'Currency', name: 'currency', testid: 'plan-currency', value: 'usd' }),
      field({ label: 'Base fee (minor units per month)', name: 'base_fee', type: 'number', testid: 'plan-base-fee', value: '2900' })),
    field({ label: 'Prices (JSON)', name: 'prices', control: prices, hint: 'Per meter: per_unit or graduated tiers; unit is how much of the meter one priced unit is; included units are free each month.' }),
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    let parsed;
    try { parsed = JSON.parse(prices.value || '[]'); } catch { showProblem(form, { field: 'prices', message: 'Prices must be valid JSON.' }); return; }
    try {
      await busy(submit, () => api('POST', '/v1/plans', { body: {
        name: form.elements.name.value.trim(), currency: form.elements.currency.value.trim(),
        base_fee: Number(form.elements.base_fee.value), prices: parsed,
      } }));
      toast('Plan added');
      done();
    } catch (err) {
      showProblem(form, err);
    }
  });
  return form;
}

function assignForm(plans, kids) {
  if (!plans.length || !kids.length) return null;
  const tenant = h('select', { class: 'input select', name: 'tenant', testid: 'assign-tenant' }, kids.map((k) => h('option', { value: k.id }, k.name)));
  const plan = h('select', { class: 'input select', name: 'plan', testid: 'assign-plan' }, plans.map((p) => h('option', { value: p.id }, p.name)));
  const submit = h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'assign-submit' }, 'Put on plan');
  const form = h('form', { class: 'form form-inline', novalidate: true, testid: 'assign-form' },
    h('h3', { class: 'card-subtitle' }, 'Plans of your sub-tenants'),
    formAlert(),
    h('div', { class: 'form-row' },
      field({ label: 'Sub-tenant', name: 'tenant', control: tenant }),
      field({ label: 'Plan', name: 'plan', control: plan, hint: 'From now on; this month is prorated.' }),
      h('div', { class: 'form-row-action' }, submit)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      await busy(submit, () => api('PUT', `/v1/tenants/${encodeURIComponent(tenant.value)}/billing`, { body: { plan_id: plan.value } }));
      toast('Plan assigned');
    } catch (err) {
      showProblem(form, err);
    }
  });
  return form;
}

async function loadIssued(el) {
  try {
    const p = await listPage('/v1/invoices?issued=true', { limit: 50 });
    const gen = button(`Generate ${thisPeriod()} drafts`, { testid: 'invoices-generate' });
    gen.addEventListener('click', async () => {
      try {
        const r = await busy(gen, () => api('POST', '/v1/invoices/generate', { body: { period: thisPeriod() } }));
        toast(`${r.data.length} draft invoice${r.data.length === 1 ? '' : 's'} computed`);
        loadIssued(el);
      } catch (err) { toast(err.message, 'danger'); }
    });
    el.replaceChildren(h('div', { class: 'form-actions' }, gen), invoiceTable(p.data, 'invoices-issued', 'invoices-issued-empty', true, () => loadIssued(el)));
  } catch (err) {
    el.replaceChildren(loadError(err, () => loadIssued(el)));
  }
}

function exportCard() {
  const period = h('input', { class: 'input', type: 'month', name: 'period', value: thisPeriod(), testid: 'export-period' });
  const download = async (format, btn) => {
    try {
      const body = await busy(btn, async () => {
        if (format === 'json') return JSON.stringify(await api('GET', `/v1/ops/usage?period=${period.value}`), null, 2);
        const res = await fetch(`/v1/ops/usage?period=${encodeURIComponent(period.value)}&format=csv`, { headers: { Authorization: `Bearer ${localStorage.getItem('marquee.token')}` } });
        if (!res.ok) throw new Error(`Export failed (${res.status})`);
        return res.text();
      });
      const a = h('a', { href: URL.createObjectURL(new Blob([body], { type: format === 'csv' ? 'text/csv' : 'application/json' })), download: `marquee-usage-${period.value}.${format}` });
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (err) { toast(err.message, 'danger'); }
  };
  const csvBtn = button('Download CSV', { testid: 'export-csv' });
  csvBtn.addEventListener('click', () => download('csv', csvBtn));
  const jsonBtn = button('Download JSON', { variant: 'ghost', testid: 'export-json' });
  jsonBtn.addEventListener('click', () => download('json', jsonBtn));
  return h('section', { class: 'card', 'aria-labelledby': 'export-heading', testid: 'billing-export' },
    h('div', { class: 'card-head' }, h('h2', { id: 'export-heading', class: 'card-title' }, 'Usage export (platform operations)')),
    h('div', { class: 'card-body' },
      h('p', { class: 'muted' }, 'Every tenant’s usage and invoices for a month, for invoicing outside Marquee.'),
      h('div', { class: 'form-row' }, field({ label: 'Month', name: 'period', control: period }), h('div', { class: 'form-row-action' }, csvBtn, jsonBtn))));
}
