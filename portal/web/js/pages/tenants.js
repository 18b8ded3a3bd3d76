// Sub-tenants, for platform and reseller tenants: list, create, suspend and
// resume, edit quotas, and act as one (the Marquee-Tenant header).

import { api, listPage } from '../api.js';
import {
  busy, button, clearErrors, confirmDialog, emptyState, field, formAlert, formatDate,
  formatNumber, h, kindBadge, loadError, loadingRegion, modal, mount, nextId, showProblem, statusBadge, toast,
} from '../ui.js';
import { QUOTAS, formatQuota } from './dashboard.js';

const PAGE_SIZE = 20;
const GIB = 2 ** 30;

export function render(page, { state, actAs }) {
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading sub-tenants', 4));
  let rows = [];
  let next = null;

  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Sub-tenants'),
        h('p', { class: 'page-sub' }, `Resellers and creators under ${state.tenant.name}. Act as one to manage its content, keys and branding.`)),
      button('New sub-tenant', { variant: 'primary', iconName: 'plus', testid: 'tenant-new', onClick: () => openCreate() })),
    h('section', { class: 'card', 'aria-label': 'Sub-tenants' }, list),
  );

  async function load() {
    list.replaceChildren(loadingRegion('Loading sub-tenants', 4));
    try {
      const p = await listPage('/v1/tenants', { limit: PAGE_SIZE });
      rows = p.data;
      next = p.next;
      draw();
    } catch (err) {
      list.replaceChildren(loadError(err, load));
    }
  }

  async function loadMore(btn) {
    try {
      const p = await busy(btn, () => listPage('/v1/tenants', { limit: PAGE_SIZE, cursor: next }));
      rows = rows.concat(p.data);
      next = p.next;
      draw();
    } catch (err) {
      toast(err.message, 'danger');
    }
  }

  function draw() {
    if (rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'network', testid: 'tenants-empty', title: 'No sub-tenants yet',
        body: 'Create a reseller to run its own network, or a creator to publish content under your platform.',
        action: button('New sub-tenant', { variant: 'primary', iconName: 'plus', onClick: () => openCreate() }),
      }));
      return;
    }
    mount(list,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'tenants-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Tenant'), h('th', { scope: 'col', class: 'hide-sm' }, 'Kind'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col', class: 'hide-sm' }, 'Plan'), h('th', { scope: 'col', class: 'hide-sm' }, 'Created'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, rows.map(row)))),
      next
        ? h('div', { class: 'load-more' }, button('Load more', { testid: 'tenants-more', onClick: (e) => loadMore(e.currentTarget) }))
        : h('p', { class: 'list-end' }, `${formatNumber(rows.length)} sub-tenant${rows.length === 1 ? '' : 's'}`),
    );
  }

  function row(t) {
    const suspended = t.status === 'suspended';
    const toggle = button(suspended ? 'Resume' : 'Suspend', {
      variant: suspended ? 'secondary' : 'danger-ghost', size: 'sm', iconName: suspended ? 'play' : 'pause', testid: 'tenant-toggle-status',
    });
    toggle.setAttribute('aria-label', `${suspended ? 'Resume' : 'Suspend'} ${t.name}`);
    toggle.addEventListener('click', async () => {
      if (!suspended) {
        const ok = await confirmDialog({
          title: `Suspend ${t.name}?`,
          body: 'Its storefront, playback and API access stop until you resume it. Nothing is deleted.',
          confirmLabel: 'Suspend', danger: true,
        });
        if (!ok) return;
      }
      try {
        const updated = await busy(toggle, () => api('PATCH', `/v1/tenants/${encodeURIComponent(t.id)}`, { body: { status: suspended ? 'active' : 'suspended' } }));
        replace(updated ?? { ...t, status: suspended ? 'active' : 'suspended' });
        toast(`${t.name} ${suspended ? 'resumed' : 'suspended'}`);
      } catch (err) {
        toast(err.message, 'danger');
      }
    });
    const quotas = button('Quotas', { size: 'sm', iconName: 'sliders', testid: 'tenant-quotas', onClick: () => openQuotas(t) });
    quotas.setAttribute('aria-label', `Edit quotas of ${t.name}`);
    const act = button('Act as', { size: 'sm', iconName: 'enter', testid: 'tenant-act-as', onClick: () => actAs(t) });
    act.setAttribute('aria-label', `Act as ${t.name}`);

    return h('tr', { testid: 'tenant-row', 'data-tenant-id': t.id },
      h('td', null, h('div', { class: 'cell-stack' },
        h('span', { class: 'cell-strong', testid: 'tenant-row-name' }, t.name),
        h('code', { class: 'mono muted small' }, t.slug))),
      h('td', { class: 'hide-sm' }, kindBadge(t.kind)),
      h('td', { testid: 'tenant-row-status' }, statusBadge(t.status)),
      h('td', { class: 'hide-sm' }, t.plan || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'hide-sm muted' }, formatDate(t.created_at)),
      h('td', { class: 'cell-actions' }, h('div', { class: 'btn-row' }, act, quotas, toggle)));
  }

  function replace(t) {
    rows = rows.map((r) => (r.id === t.id ? t : r));
    draw();
  }

  function openCreate() {
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'tenant-create-submit' }, h('span', null, 'Create sub-tenant'));
    const kindName = nextId('kind');
    const kindOption = (value, title, body, testid) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'kind', value, testid, checked: value === 'creator' }),
      h('span', { class: 'choice-body' }, h('strong', null, title), h('span', null, body)));
    const form = h('form', { class: 'form', novalidate: true, testid: 'tenant-create-form' },
      formAlert(),
      field({ label: 'Name', name: 'name', testid: 'tenant-name', placeholder: 'e.g. Acme Sports' }),
      h('fieldset', { class: 'field choices', 'aria-describedby': `${kindName}-error` },
        h('legend', { class: 'label' }, 'Kind'),
        h('div', { class: 'choice-grid' },
          kindOption('creator', 'Creator', 'Publishes content on its own storefront.', 'tenant-kind-creator'),
          kindOption('reseller', 'Reseller', 'Resells the platform to its own creators.', 'tenant-kind-reseller')),
        h('p', { id: `${kindName}-error`, class: 'field-error', testid: 'field-error', hidden: true })),
      field({
        label: 'Slug', name: 'slug', testid: 'tenant-slug', optional: true, placeholder: 'acme-sports',
        hint: 'Lowercase letters, digits and dashes, used in URLs. Leave empty to derive it from the name.',
        inputProps: { autocapitalize: 'off', spellcheck: 'false' },
      }),
    );
    const cancel = button('Cancel', { onClick: () => close() });
    form.append(h('div', { class: 'form-actions' }, cancel, submit));
    const { close } = modal({ title: 'New sub-tenant', description: `It will sit under ${state.tenant.name}.`, body: form, testid: 'tenant-create-dialog' });
    form.elements.name.focus();

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const name = form.elements.name.value.trim();
      if (!name) { showProblem(form, { field: 'name', message: 'Give the sub-tenant a name.' }); return; }
      const body = { name, kind: form.elements.kind.value };
      const slug = form.elements.slug.value.trim();
      if (slug) body.slug = slug;
      try {
        const t = await busy(submit, () => api('POST', '/v1/tenants', { body }));
        close();
        rows = [t, ...rows.filter((r) => r.id !== t.id)];
        draw();
        toast(`${t.name} created`);
      } catch (err) {
        showProblem(form, err);
      }
    });
  }

  function openQuotas(t) {
    const body = h('div', null, loadingRegion('Loading quotas', 6));
    const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'quota-save', form: nextId('noform'), disabled: true }, h('span', null, 'Save quotas'));
    const cancel = button('Cancel', { onClick: () => close() });
    const { close } = modal({
      title: `Quotas for ${t.name}`, description: 'Leave a limit empty for unlimited. Usage is shown for reference.',
      body, footer: [cancel, save], testid: 'quota-dialog', wide: true,
    });

    const loadQuotas = async () => {
      body.replaceChildren(loadingRegion('Loading quotas', 6));
      try {
        const q = await api('GET', `/v1/tenants/${encodeURIComponent(t.id)}/quotas`);
        body.replaceChildren(quotaForm(q));
      } catch (err) {
        body.replaceChildren(loadError(err, loadQuotas));
      }
    };

    const quotaForm = (q) => {
      const formId = save.getAttribute('form');
      const initial = {};
      const form = h('form', { id: formId, class: 'form', novalidate: true, testid: 'quota-form' },
        formAlert(),
        h('div', { class: 'quota-fields' }, QUOTAS.map((def) => {
          const limit = q.limits?.[def.key] ?? null;
          const isBytes = def.unit === 'bytes';
          const shown = limit == null ? '' : isBytes ? String(+(limit / GIB).toFixed(3)) : String(limit);
          initial[def.key] = { shown, limit };
          const used = q.usage?.[def.key] ?? 0;
          const f = field({
            label: isBytes ? 'Storage (GiB)' : labelWithUnit(def),
            name: def.key, type: 'number', placeholder: 'Unlimited', value: shown, testid: QUOTA_INPUT_TESTIDS[def.key],
            hint: `In use: ${formatQuota(def, used)}`,
            inputProps: { min: '0', step: isBytes ? 'any' : '1', inputmode: isBytes ? 'decimal' : 'numeric' },
          });
          const input = f.querySelector('input');
          const clear = h('button', { type: 'button', class: 'input-affix', 'aria-label': `Make ${def.label.toLowerCase()} unlimited`, onClick: () => { input.value = ''; input.focus(); } }, '∞');
          const group = h('div', { class: 'input-group' });
          input.replaceWith(group);
          group.append(input, clear);
          return f;
        })));

      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clearErrors(form);
        const changes = {};
        for (const def of QUOTAS) {
          const input = form.elements.namedItem(def.key);
          const raw = input.value.trim();
          if (raw === initial[def.key].shown) continue;
          if (raw === '') { changes[def.key] = null; continue; }
          const n = Number(raw);
          const isBytes = def.unit === 'bytes';
          if (!Number.isFinite(n) || n < 0 || (!isBytes && !Number.isInteger(n))) {
            showProblem(form, { field: def.key, message: isBytes ? 'Enter a number of GiB, or leave empty for unlimited.' : 'Enter a whole number, or leave empty for unlimited.' });
            return;
          }
          changes[def.key] = isBytes ? Math.round(n * GIB) : n;
        }
        if (Object.keys(changes).length === 0) { close(); return; }
        try {
          await busy(save, () => api('PUT', `/v1/tenants/${encodeURIComponent(t.id)}/quotas`, { body: changes }));
          close();
          toast(`Quotas for ${t.name} saved`);
        } catch (err) {
          showProblem(form, err);
        }
      });
      save.disabled = false;
      queueMicrotask(() => form.querySelector('input')?.focus());
      return form;
    };
    loadQuotas();
  }

  load();
}

// Literal so tests and the testid guard can find them.
const QUOTA_INPUT_TESTIDS = {
  storage_bytes: 'quota-input-storage',
  transcode_minutes_per_month: 'quota-input-transcode',
  egress_gb_per_month: 'quota-input-egress',
  assets: 'quota-input-assets',
  concurrent_jobs: 'quota-input-jobs',
  sub_tenants: 'quota-input-sub-tenants',
};

function labelWithUnit(def) {
  return def.unit ? `${def.label} (${def.unit})` : def.label;
}
