// Dashboard: the acting tenant at a glance and its quotas with usage.

import { api } from '../api.js';
import { badge, copyButton, formatBytes, formatDate, formatNumber, h, icon, initials, kindBadge, loadError, loadingRegion, mount, statusBadge } from '../ui.js';

/** The six quota limits, in the order the portal shows them. */
export const QUOTAS = [
  { key: 'storage_bytes', label: 'Storage', unit: 'bytes', help: 'Media and renditions stored' },
  { key: 'transcode_minutes_per_month', label: 'Transcode minutes', unit: 'min / month', help: 'Output minutes this month' },
  { key: 'egress_gb_per_month', label: 'Egress', unit: 'GB / month', help: 'Delivered to viewers this month' },
  { key: 'assets', label: 'Assets', unit: '', help: 'Videos in the library' },
  { key: 'concurrent_jobs', label: 'Concurrent jobs', unit: '', help: 'Transcodes running at once' },
  { key: 'sub_tenants', label: 'Sub-tenants', unit: '', help: 'Direct sub-tenants' },
];

export function formatQuota(q, n) {
  if (n == null) return '—';
  if (q.unit === 'bytes') return formatBytes(n);
  if (q.key === 'egress_gb_per_month') return `${formatNumber(n)} GB`;
  if (q.key === 'transcode_minutes_per_month') return `${formatNumber(n)} min`;
  return formatNumber(n);
}

export function render(page, { state }) {
  const t = state.tenant;
  const quotas = h('div', { class: 'card-body' }, loadingRegion('Loading quotas', 4));

  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Dashboard'),
        h('p', { class: 'page-sub' }, 'Your streaming service at a glance.'))),
    h('section', { class: 'card tenant-card', 'aria-labelledby': 'tenant-heading' },
      h('div', { class: 'tenant-hero' },
        h('div', { class: 'tenant-hero-avatar', 'aria-hidden': 'true' }, initials(t.name)),
        h('div', { class: 'tenant-hero-text' },
          h('h2', { id: 'tenant-heading', class: 'tenant-hero-name', testid: 'dashboard-tenant-name' }, t.name),
          h('p', { class: 'tenant-hero-meta' },
            h('span', { testid: 'dashboard-tenant-kind' }, kindBadge(t.kind)),
            h('span', { testid: 'dashboard-tenant-status' }, statusBadge(t.status))))),
      h('dl', { class: 'facts' },
        fact('Slug', h('code', { class: 'mono', testid: 'dashboard-tenant-slug' }, t.slug)),
        fact('Plan', h('span', { testid: 'dashboard-tenant-plan' }, t.plan ? titleCase(t.plan) : 'No plan')),
        fact('Tenant ID', h('span', { class: 'id-copy' }, h('code', { class: 'mono' }, t.id), copyButton(t.id, { label: '', variant: 'ghost', ariaLabel: 'Copy tenant ID' }))),
        fact('Created', formatDate(t.created_at)))),
    t.status === 'suspended'
      ? h('div', { class: 'alert alert-warning', role: 'status' }, icon('alert', 16),
        h('span', null, 'This tenant is suspended. Its storefront and playback are paused until it is resumed.'))
      : null,
    h('section', { class: 'card', 'aria-labelledby': 'quota-heading' },
      h('div', { class: 'card-head' },
        h('div', null,
          h('h2', { id: 'quota-heading', class: 'card-title' }, 'Usage & quotas'),
          h('p', { class: 'card-sub' }, 'Limits set by your plan or your reseller. Usage resets monthly where noted.'))),
      quotas),
    nextSteps(state),
  );

  const load = async () => {
    quotas.replaceChildren(loadingRegion('Loading quotas', 4));
    try {
      const q = await api('GET', '/v1/quotas');
      quotas.replaceChildren(quotaGrid(q));
    } catch (err) {
      quotas.replaceChildren(loadError(err, load));
    }
  };
  load();
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, value));
}

function titleCase(s) {
  return String(s).replace(/[_-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
}

/** A grid of usage meters; also used by the sub-tenant quota editor. */
export function quotaGrid({ limits = {}, usage = {} }) {
  return h('ul', { class: 'quota-grid', testid: 'quota-grid' }, QUOTAS.map((q) => {
    const limit = limits[q.key] ?? null;
    const used = usage[q.key] ?? 0;
    const pct = limit == null ? 0 : limit === 0 ? (used > 0 ? 100 : 0) : Math.min(100, (used / limit) * 100);
    const tone = limit == null ? 'unlimited' : pct >= 90 ? 'danger' : pct >= 75 ? 'warning' : 'ok';
    const labelId = `quota-${q.key}`;
    return h('li', { class: `quota quota-${tone}`, testid: 'quota-row', 'data-quota': q.key },
      h('div', { class: 'quota-top' },
        h('span', { id: labelId, class: 'quota-label' }, q.label),
        limit == null ? badge('Unlimited', 'neutral') : h('span', { class: 'quota-pct' }, `${Math.round(pct)}%`)),
      h('p', { class: 'quota-value' },
        h('strong', null, formatQuota(q, used)),
        h('span', { class: 'quota-of' }, limit == null ? ' used' : ` of ${formatQuota(q, limit)}`)),
      h('div', {
        class: 'meter', role: 'progressbar', 'aria-labelledby': labelId,
        'aria-valuemin': '0', 'aria-valuemax': limit == null ? null : '100', 'aria-valuenow': limit == null ? null : String(Math.round(pct)),
        'aria-valuetext': limit == null ? `${formatQuota(q, used)} used, unlimited` : `${formatQuota(q, used)} of ${formatQuota(q, limit)}`,
      }, h('div', { class: 'meter-fill', style: { width: limit == null ? '100%' : `${Math.max(pct, used > 0 ? 2 : 0)}%` } })),
      h('p', { class: 'quota-help' }, q.help));
  }));
}

function nextSteps(state) {
  const canResell = state.tenant.kind === 'platform' || state.tenant.kind === 'reseller';
  const steps = [
    { href: '#/branding', icon: 'palette', title: 'Make it yours', body: 'Logo, colours and a custom domain for your storefront.' },
    { href: '#/api-keys', icon: 'key', title: 'Connect your apps', body: 'Create an API key to upload and publish from your stack.' },
    canResell ? { href: '#/tenants', icon: 'network', title: 'Onboard sub-tenants', body: 'Create resellers and creators, and set their quotas.' } : null,
  ].filter(Boolean);
  return h('section', { class: 'steps', 'aria-label': 'Next steps' }, steps.map((s) =>
    h('a', { class: 'step card', href: s.href },
      h('span', { class: 'step-icon' }, icon(s.icon, 18)),
      h('span', { class: 'step-text' }, h('strong', null, s.title), h('span', null, s.body)))));
}
