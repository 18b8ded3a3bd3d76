// API keys: create (the secret is shown once), list and revoke.

import { api } from '../api.js';
import { pager } from '../pager.js';
import {
  badge, busy, button, clearErrors, confirmDialog, copyButton, emptyState, field, formAlert,
  formatDate, formatDateTime, formatRelative, h, icon, loadingRegion, mount, showProblem, toast,
} from '../ui.js';

const ROLES = [
  { value: 'owner', label: 'Owner', help: 'Full access, including billing, keys and deleting the tenant.' },
  { value: 'admin', label: 'Admin', help: 'Manage content, branding, keys and sub-tenants; no billing.' },
  { value: 'editor', label: 'Editor', help: 'Upload, edit and publish content.' },
  { value: 'analyst', label: 'Analyst', help: 'Read-only access to content, usage and analytics.' },
  { value: 'billing', label: 'Billing', help: 'Plans, invoices and payment details only.' },
];

const roleTone = { owner: 'brand', admin: 'info', editor: 'success', analyst: 'neutral', billing: 'warning' };

export function render(page) {
  const reveal = h('div', { class: 'reveal-slot' });
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading API keys', 3));
  const count = h('span', { class: 'count', hidden: true });

  // --- create form ---
  const roleSelect = h('select', { class: 'input select', testid: 'apikey-role' },
    ROLES.map((r) => h('option', { value: r.value }, r.label)));
  roleSelect.value = 'editor';
  const roleField = field({ label: 'Role', name: 'role', control: roleSelect, hint: helpFor('editor') });
  const roleHint = roleField.querySelector('.hint');
  const syncRoleHint = () => { roleHint.textContent = helpFor(roleSelect.value); };
  roleSelect.addEventListener('change', syncRoleHint);
  syncRoleHint();

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'apikey-create-submit' },
    icon('plus', 17), h('span', null, 'Create key'));
  const form = h('form', { class: 'form form-inline', novalidate: true, testid: 'apikey-create-form' },
    formAlert(),
    h('div', { class: 'form-row' },
      field({ label: 'Name', name: 'name', testid: 'apikey-name', placeholder: 'e.g. Production uploader', hint: 'Something to recognise it by later.', inputProps: { maxlength: '100' } }),
      roleField,
      h('div', { class: 'form-row-action' }, submit)));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const name = form.elements.name.value.trim();
    if (!name) { showProblem(form, { field: 'name', message: 'Give the key a name.' }); return; }
    try {
      const key = await busy(submit, () => api('POST', '/v1/api-keys', { body: { name, role: roleSelect.value } }));
      form.reset();
      roleSelect.value = 'editor';
      syncRoleHint();
      showSecret(reveal, key);
      pg.load();
    } catch (err) {
      showProblem(form, err);
    }
  });

  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'API keys'),
        h('p', { class: 'page-sub' }, 'Keys let your servers and apps call the Marquee API. Treat them like passwords.'))),
    reveal,
    h('section', { class: 'card', 'aria-labelledby': 'create-key-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'create-key-heading', class: 'card-title' }, 'Create a key')),
      h('div', { class: 'card-body' }, form)),
    h('section', { class: 'card', 'aria-labelledby': 'keys-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'keys-heading', class: 'card-title' }, 'Active keys ', count)),
      list),
  );

  const pg = pager('/v1/api-keys', list, draw);

  function draw() {
    count.hidden = pg.rows.length === 0;
    count.textContent = String(pg.rows.length) + (pg.next ? '+' : '');
    if (pg.rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'key', testid: 'apikeys-empty', title: 'No API keys yet',
        body: 'Create your first key above to start uploading and publishing from code.',
      }));
      return;
    }
    mount(list,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'apikeys-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Role'),
          h('th', { scope: 'col', class: 'hide-sm' }, 'Created'), h('th', { scope: 'col', class: 'hide-sm' }, 'Last used'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, pg.rows.map(row)))),
      pg.next ? h('div', { class: 'load-more' }, button('Load more', { testid: 'apikeys-more', onClick: (e) => pg.more(e.currentTarget) })) : null,
    );
  }

  function row(k) {
    const revoke = button('Revoke', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'apikey-revoke' });
    revoke.setAttribute('aria-label', `Revoke ${k.name}`);
    revoke.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Revoke “${k.name}”?`,
        body: 'Apps using this key will stop working immediately. This cannot be undone.',
        confirmLabel: 'Revoke key', danger: true,
      });
      if (!ok) return;
      try {
        await busy(revoke, () => api('DELETE', `/v1/api-keys/${encodeURIComponent(k.id)}`));
        pg.rows = pg.rows.filter((r) => r.id !== k.id);
        draw();
        toast(`Key “${k.name}” revoked`);
      } catch (err) {
        toast(err.message, 'danger');
      }
    });
    return h('tr', { testid: 'apikey-row', 'data-key-id': k.id },
      h('td', null, h('span', { class: 'cell-strong', testid: 'apikey-row-name' }, k.name)),
      h('td', null, h('code', { class: 'mono key-prefix', testid: 'apikey-row-prefix' }, `${k.prefix}…`)),
      h('td', null, badge(titleRole(k.role), roleTone[k.role] ?? 'neutral', 'apikey-row-role')),
      h('td', { class: 'hide-sm muted' }, h('time', { datetime: k.created_at, title: formatDateTime(k.created_at) }, formatDate(k.created_at))),
      h('td', { class: 'hide-sm muted' }, k.last_used_at
        ? h('time', { datetime: k.last_used_at, title: formatDateTime(k.last_used_at) }, formatRelative(k.last_used_at))
        : 'Never'),
      h('td', { class: 'cell-actions' }, revoke));
  }

  pg.load();
}

function helpFor(role) {
  return ROLES.find((r) => r.value === role)?.help ?? '';
}

function titleRole(r) {
  return ROLES.find((x) => x.value === r)?.label ?? r;
}

/** Shows a newly created key once, with a copy button and a warning. */
function showSecret(slot, key) {
  const input = h('input', { class: 'input mono secret-input', readonly: true, value: key.key, testid: 'apikey-secret', 'aria-label': `Secret for ${key.name}`, onFocus: (e) => e.target.select() });
  const panel = h('section', { class: 'card reveal', testid: 'apikey-reveal', 'aria-labelledby': 'reveal-heading', tabindex: '-1' },
    h('div', { class: 'reveal-head' },
      h('span', { class: 'reveal-icon' }, icon('key', 18)),
      h('div', null,
        h('h2', { id: 'reveal-heading', class: 'card-title' }, `“${key.name}” is ready`),
        h('p', { class: 'card-sub' }, h('strong', null, 'Copy it now — you won’t be able to see it again. '), 'Store it in a secret manager, never in client-side code.'))),
    h('div', { class: 'secret-row' }, input, copyButton(() => key.key, { label: 'Copy', testid: 'apikey-copy', variant: 'primary', size: '' })),
    h('div', { class: 'reveal-foot' },
      h('span', { class: 'muted' }, 'Role: ', h('strong', null, titleRole(key.role))),
      button('I’ve saved it', { variant: 'ghost', testid: 'apikey-dismiss', onClick: () => slot.replaceChildren() })));
  slot.replaceChildren(panel);
  panel.focus();
}
