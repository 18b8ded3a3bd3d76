// Playback: the tenant's token signing keys (the private key is shown once),
// CDNs (the pathways viewers are steered across, with their health) and DRM
// vendor settings; and, for the video detail page, an asset's playback ids
// with a preview player that plays signed and DRM-protected ids.
//
// The portal never holds a tenant's private key server-side: the preview
// mints the playback tokens (audience "v" for the manifest, "l" for the
// license) in this browser with WebCrypto, from a key pasted by the user or
// the one created in this tab, which is kept in memory only (a reload
// forgets it).

import { pager } from '../pager.js';
import { api, listPage } from '../api.js';
import {
  badge, busy, button, clearErrors, confirmDialog, copyButton, emptyState, field, formAlert, formatDate,
  formatDateTime, h, icon, loadError, loadingRegion, modal, mount, showProblem, toast,
} from '../ui.js';

// --- enums, read from the API's own OpenAPI document ----------------------------

// What the API accepted when this portal was written; the OpenAPI document
// is the authority and replaces these once it has loaded.
const FALLBACK_PROVIDERS = ['akamai', 'bunny', 'cloudfront', 'fastly', 'generic', 'nginx'];
const FALLBACK_RATINGS = ['G', 'NC-17', 'PEGI 12', 'PEGI 16', 'PEGI 18', 'PEGI 3', 'PEGI 7', 'PG', 'PG-13', 'R',
  'TV-14', 'TV-G', 'TV-MA', 'TV-PG', 'TV-Y', 'TV-Y7'];

let enumsPromise = null;
/** The provider and rating enums of the API (cached for the page's life). */
function apiEnums() {
  enumsPromise ??= api('GET', '/v1/openapi.json', { auth: false })
    .then((doc) => {
      const s = doc?.components?.schemas ?? {};
      const providers = s.CDNRequest?.properties?.provider?.enum;
      const ratings = s.CreatePlaybackIDRequest?.properties?.access?.properties?.rating?.enum;
      return {
        providers: Array.isArray(providers) && providers.length ? providers : FALLBACK_PROVIDERS,
        ratings: Array.isArray(ratings) && ratings.length ? ratings : FALLBACK_RATINGS,
      };
    })
    .catch(() => {
      enumsPromise = null;
      return { providers: FALLBACK_PROVIDERS, ratings: FALLBACK_RATINGS };
    });
  return enumsPromise;
}

// Query-token CDNs sign each URL in its query: HLS playlists carry them, but
// a DASH BaseURL's query is dropped when players resolve segment URLs, so
// DASH manifests name only path-token CDNs.
const QUERY_NOTE = ' Query tokens: these URLs go in HLS playlists; DASH manifests list only path-token CDNs (nginx, generic).';
const PROVIDERS = {
  cloudfront: { label: 'Amazon CloudFront', pemSecret: true, help: `Signed URLs (canned or custom policy): the key ID is the CloudFront public key ID, the secret its private key (PEM).${QUERY_NOTE}` },
  akamai: { label: 'Akamai', help: `EdgeAuth tokens (Auth Token 2.0, HMAC-SHA256): the secret is the property’s token key, in hex.${QUERY_NOTE}` },
  fastly: { label: 'Fastly', help: `URL token validation (Fastly’s token VCL, HMAC-SHA1): the secret is the key as your VCL holds it, in base64.${QUERY_NOTE}` },
  bunny: { label: 'Bunny CDN', help: `Token authentication (v2, SHA-256): the secret is the pull zone’s URL token authentication key.${QUERY_NOTE}` },
  nginx: {
    label: 'nginx',
    help: 'Path tokens for nginx secure_link: URLs are <base>/t/<sig>/<expires>/a/<asset>/…, sig = base64url(MD5("<expires>/a/<asset>/ <secret>")). '
      + 'Check them with secure_link $1,$2; secure_link_md5 "$2$3 <secret>"; — one token covers every segment of the asset. Secret: at least 16 characters.',
  },
  generic: {
    label: 'Generic edge',
    help: 'Path tokens for any edge you can program: URLs are <base>/t/<sig>/<expires>/a/<asset>/…, sig = base64url(HMAC-SHA256(secret, "<expires>/a/<asset>/")). '
      + 'Your edge recomputes it and refuses expired or wrong tokens. Secret: at least 16 characters.',
  },
};
const providerLabel = (p) => PROVIDERS[p]?.label ?? p;

// --- signing keys created in this tab (memory only) ---------------------------

/** id → { alg, pem }: private keys created in this browser tab, never stored. */
const sessionKeys = new Map();

/** A private key created in this tab, or undefined. */
export function sessionKey(id) {
  return sessionKeys.get(id);
}

// --- the page -------------------------------------------------------------------

export function render(page) {
  const keys = signingKeysCard();
  const cdns = cdnsCard();
  const drm = drmCard();
  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Playback'),
        h('p', { class: 'page-sub' }, 'Protect playback with signed tokens and DRM, and deliver it through your CDNs.'))),
    keys, cdns, drm);
}

// --- signing keys ---------------------------------------------------------------

function signingKeysCard() {
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading signing keys', 3));
  const count = h('span', { class: 'count', hidden: true });
  const alg = h('select', { class: 'input select', testid: 'sk-alg' },
    h('option', { value: 'ES256' }, 'ES256 (ECDSA P-256)'),
    h('option', { value: 'RS256' }, 'RS256 (RSA 2048)'));
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'sk-create' }, icon('plus', 17), h('span', null, 'Create signing key'));
  const form = h('form', { class: 'form', novalidate: true, testid: 'sk-create-form' },
    formAlert(),
    h('div', { class: 'form-row pb-form-row' },
      field({ label: 'Algorithm', name: 'alg', control: alg, hint: 'ES256 tokens are shorter; RS256 suits older JWT libraries.' }),
      h('div', { class: 'form-row-action' }, submit)));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    try {
      const k = await busy(submit, () => api('POST', '/v1/signing-keys', { body: { alg: alg.value } }));
      sessionKeys.set(k.id, { alg: k.alg, pem: k.private_key });
      pg.rows = [k, ...pg.rows.filter((r) => r.id !== k.id)];
      draw();
      showPrivateKey(k);
    } catch (err) {
      showProblem(form, err);
    }
  });

  const pg = pager('/v1/signing-keys', list, draw);

  function draw() {
    count.hidden = pg.rows.length === 0;
    count.textContent = String(pg.rows.length) + (pg.next ? '+' : '');
    if (pg.rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'key', testid: 'sk-empty', title: 'No signing keys yet',
        body: 'Create one to sign playback tokens on your backend; signed and DRM playback ids need them.',
      }));
      return;
    }
    mount(list,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'sk-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Key ID'), h('th', { scope: 'col' }, 'Algorithm'), h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col', class: 'hide-sm' }, 'Created'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, pg.rows.map(row)))),
      pg.next ? h('div', { class: 'load-more' }, button('Load more', { testid: 'sk-more', onClick: (e) => pg.more(e.currentTarget) })) : null);
  }

  function row(k) {
    const revoked = Boolean(k.revoked_at);
    let action = null;
    if (!revoked) {
      action = button('Revoke', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'sk-revoke', ariaLabel: `Revoke signing key ${k.id}` });
      action.addEventListener('click', async () => {
        const ok = await confirmDialog({
          title: 'Revoke this signing key?',
          body: `Tokens signed with ${k.id} stop playing within 30 seconds, including those already handed to viewers. This cannot be undone.`,
          confirmLabel: 'Revoke key', danger: true,
        });
        if (!ok) return;
        try {
          await busy(action, () => api('DELETE', `/v1/signing-keys/${encodeURIComponent(k.id)}`));
          sessionKeys.delete(k.id);
          pg.rows = pg.rows.map((r) => (r.id === k.id ? { ...r, revoked_at: new Date().toISOString() } : r));
          draw();
          toast('Signing key revoked');
        } catch (err) {
          toast(err.message, 'danger');
        }
      });
    }
    return h('tr', { testid: 'sk-row', 'data-key-id': k.id, 'data-revoked': String(revoked) },
      h('td', null, h('span', { class: 'id-copy' }, h('code', { class: 'mono', testid: 'sk-row-id' }, k.id),
        copyButton(k.id, { label: '', variant: 'ghost', ariaLabel: 'Copy the key ID' }))),
      h('td', null, h('code', { class: 'mono', testid: 'sk-row-alg' }, k.alg)),
      h('td', null, revoked
        ? h('span', { title: formatDateTime(k.revoked_at) }, badge(`Revoked ${formatDate(k.revoked_at)}`, 'danger', 'sk-row-status'))
        : badge('Active', 'success', 'sk-row-status')),
      h('td', { class: 'hide-sm muted' }, h('time', { datetime: k.created_at, title: formatDateTime(k.created_at) }, formatDate(k.created_at))),
      h('td', { class: 'cell-actions' }, action));
  }

  pg.load();
  return h('section', { class: 'card', 'aria-labelledby': 'sk-heading', testid: 'sk-card' },
    h('div', { class: 'card-head' },
      h('div', null,
        h('h2', { id: 'sk-heading', class: 'card-title' }, 'Signing keys ', count),
        h('p', { class: 'card-sub' }, 'Your backend signs playback tokens (JWT: sub = playback id, aud = "v" or "l", exp, kid header) with the private key; Marquee keeps only the public half.'))),
    h('div', { class: 'card-body' }, form),
    list);
}

/** Shows a new key's private half once, in a dialog, with a copy button and a warning. */
function showPrivateKey(k) {
  const pem = h('textarea', { class: 'input mono pem-input', readonly: true, rows: k.alg === 'RS256' ? '12' : '6', testid: 'sk-private-key', 'aria-label': `Private key of ${k.id}`, spellcheck: 'false' });
  pem.value = k.private_key;
  pem.addEventListener('focus', () => pem.select());
  const done = button('I’ve saved it', { variant: 'primary', testid: 'sk-dismiss', onClick: () => close() });
  const { close } = modal({
    title: 'Save your private key', testid: 'sk-reveal-dialog', wide: true,
    description: `Signing key ${k.id} (${k.alg}) is ready.`,
    body: h('div', { class: 'stack' },
      h('div', { class: 'alert alert-warning', role: 'alert', testid: 'sk-warning' }, icon('alert', 16),
        h('div', null, h('strong', null, 'This is the only time the private key is shown. '),
          'Copy it into your backend’s secret store now: Marquee does not keep it and cannot show it again. Anyone holding it can mint playback tokens for your content.')),
      h('div', { class: 'field' },
        h('div', { class: 'pem-head' },
          h('span', { class: 'label' }, 'Private key (PKCS#8 PEM)'),
          copyButton(() => k.private_key, { label: 'Copy', testid: 'sk-copy', variant: 'secondary' })),
        pem),
      h('p', { class: 'hint' }, 'Until you reload the portal, this tab also remembers it (in memory only) so that the video preview can sign tokens with it.'),
      h('dl', { class: 'facts' },
        h('div', { class: 'fact' }, h('dt', null, 'Key ID (JWT “kid”)'), h('dd', null, h('code', { class: 'mono', testid: 'sk-created-id' }, k.id))),
        h('div', { class: 'fact' }, h('dt', null, 'Algorithm (JWT “alg”)'), h('dd', null, h('code', { class: 'mono' }, k.alg))))),
    footer: [done],
  });
  done.focus();
}

// --- CDNs -----------------------------------------------------------------------

function cdnsCard() {
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading CDNs', 3));
  const count = h('span', { class: 'count', hidden: true });
  const add = button('Add CDN', { variant: 'primary', iconName: 'plus', testid: 'cdn-add', onClick: () => openCDNDialog(null, save) });

  let rows = [];

  async function load() {
    try {
      const p = await listPage('/v1/cdns', { limit: 100 });
      rows = p.data;
      draw();
    } catch (err) {
      list.replaceChildren(loadError(err, load));
    }
  }

  function save(cdn) {
    const i = rows.findIndex((r) => r.id === cdn.id);
    if (i >= 0) rows[i] = cdn;
    else rows.push(cdn);
    draw();
  }

  function draw() {
    count.hidden = rows.length === 0;
    count.textContent = String(rows.length);
    if (rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'globe', testid: 'cdns-empty', title: 'No CDNs yet',
        body: 'Viewers are served by Marquee’s built-in origin. Add your CDNs to deliver through them; with two or more, players are steered across them and fail over when one goes down.',
      }));
      return;
    }
    mount(list, h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'cdns-table' },
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'CDN'), h('th', { scope: 'col' }, 'Base URL'), h('th', { scope: 'col', class: 'num' }, 'Weight'),
        h('th', { scope: 'col', class: 'hide-sm' }, 'Regions'), h('th', { scope: 'col' }, 'Health'),
        h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', null, rows.map(row)))));
  }

  function row(c) {
    const edit = button('Edit', { variant: 'ghost', size: 'sm', testid: 'cdn-edit', ariaLabel: `Edit ${c.name}`, onClick: () => openCDNDialog(c, save) });
    const del = button('Delete', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'cdn-delete', ariaLabel: `Delete ${c.name}` });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: `Delete “${c.name}”?`,
        body: 'New playback sessions stop using this CDN at once; players already using it move to your other CDNs (or the built-in origin) at their next steering update.',
        confirmLabel: 'Delete CDN', danger: true,
      });
      if (!ok) return;
      try {
        await busy(del, () => api('DELETE', `/v1/cdns/${encodeURIComponent(c.id)}`));
        rows = rows.filter((r) => r.id !== c.id);
        draw();
        toast(`CDN “${c.name}” deleted`);
      } catch (err) {
        toast(err.message, 'danger');
      }
    });
    return h('tr', { testid: 'cdn-row', 'data-cdn-id': c.id },
      h('td', null, h('span', { class: 'cell-stack' },
        h('span', { class: 'cell-strong', testid: 'cdn-row-name' }, c.name),
        h('span', { class: 'muted small', testid: 'cdn-row-provider', 'data-provider': c.provider }, providerLabel(c.provider)))),
      h('td', null, h('code', { class: 'mono url-value', testid: 'cdn-row-base-url', title: c.base_url }, c.base_url)),
      h('td', { class: 'num', testid: 'cdn-row-weight' }, String(c.weight)),
      h('td', { class: 'hide-sm', testid: 'cdn-row-regions' }, c.regions?.length ? c.regions.join(', ') : h('span', { class: 'muted' }, 'All')),
      h('td', null, healthBadge(c.healthy)),
      h('td', { class: 'cell-actions' }, h('div', { class: 'btn-row' }, edit, del)));
  }

  load();
  return h('section', { class: 'card', 'aria-labelledby': 'cdn-heading', testid: 'cdn-card' },
    h('div', { class: 'card-head' },
      h('div', null,
        h('h2', { id: 'cdn-heading', class: 'card-title' }, 'CDNs ', count),
        h('p', { class: 'card-sub' }, 'Manifests name every CDN as a content-steering pathway, ordered by health, region and weight. Each URL is signed for the CDN that serves it.')),
      add),
    list);
}

function healthBadge(healthy) {
  const b = healthy === true ? badge('Healthy', 'success', 'cdn-row-health')
    : healthy === false ? badge('Down', 'danger', 'cdn-row-health')
      : badge('Not probed yet', 'neutral', 'cdn-row-health');
  b.dataset.healthy = healthy == null ? 'unknown' : String(healthy);
  if (healthy == null) b.title = 'Health is tracked once viewers play through two or more CDNs: each one’s canary object is probed.';
  return b;
}

/** Adds (cdn null) or edits a CDN in a dialog; `onSaved` gets the API's answer. */
async function openCDNDialog(cdn, onSaved) {
  const { providers } = await apiEnums();
  const editing = Boolean(cdn);
  const provider = h('select', { class: 'input select', testid: 'cdn-provider' },
    providers.map((p) => h('option', { value: p }, providerLabel(p))));
  provider.value = cdn?.provider ?? (providers.includes('nginx') ? 'nginx' : providers[0]);
  const providerField = field({ label: 'Provider', name: 'provider', control: provider, hint: ' ' });
  const providerHint = providerField.querySelector('.hint');
  providerHint.dataset.testid = 'cdn-provider-help';

  const secretSlot = h('div');
  let secretInput = null;
  function drawSecret() {
    const pem = PROVIDERS[provider.value]?.pemSecret;
    const old = secretInput?.value ?? '';
    secretInput = pem
      ? h('textarea', { class: 'input mono pem-input', rows: '5', testid: 'cdn-secret', autocomplete: 'off', spellcheck: 'false', placeholder: '-----BEGIN PRIVATE KEY-----' })
      : h('input', { class: 'input mono', type: 'password', testid: 'cdn-secret', autocomplete: 'new-password', spellcheck: 'false' });
    secretInput.value = old;
    mount(secretSlot, field({
      label: pem ? 'Private key (PEM)' : 'URL signing secret', name: 'secret', control: secretInput,
      hint: editing
        ? 'Write-only: the stored secret is never shown. Enter it again (or a new one) to save changes.'
        : 'Write-only: it is never shown again.',
    }));
  }
  function syncProvider() {
    providerHint.textContent = PROVIDERS[provider.value]?.help ?? '';
    drawSecret();
  }
  provider.addEventListener('change', syncProvider);
  syncProvider();

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'cdn-submit' }, icon(editing ? 'check' : 'plus', 17), h('span', null, editing ? 'Save CDN' : 'Add CDN'));
  const form = h('form', { class: 'form', novalidate: true, testid: 'cdn-form' },
    formAlert(),
    field({ label: 'Name', name: 'name', testid: 'cdn-name', value: cdn?.name ?? '', placeholder: 'e.g. Europe edge', inputProps: { maxlength: '100' } }),
    providerField,
    field({ label: 'Base URL', name: 'base_url', type: 'url', testid: 'cdn-base-url', value: cdn?.base_url ?? '', placeholder: 'https://cdn.example.com', hint: 'Where the CDN serves Marquee’s origin from (absolute http(s) URL, no query).' }),
    field({ label: 'Key ID', name: 'key_id', testid: 'cdn-key-id', value: cdn?.key_id ?? '', optional: true, hint: 'The CloudFront public key id, or your provider’s key name when it has several.' }),
    secretSlot,
    h('div', { class: 'form-row form-row-2' },
      field({ label: 'Weight', name: 'weight', type: 'number', testid: 'cdn-weight', value: String(cdn?.weight ?? 1), inputProps: { min: '0', max: '1000', step: '1' }, hint: '0 to 1000: the share of sessions it gets first. 0 keeps it as a backup only.' }),
      field({ label: 'Regions', name: 'regions', testid: 'cdn-regions', value: cdn?.regions?.join(', ') ?? '', optional: true, placeholder: 'eu, us-east', hint: 'Comma-separated; players passing ?region= prefer CDNs serving it. Empty: everywhere.' })),
    field({ label: 'Canary path', name: 'canary_path', testid: 'cdn-canary', value: cdn?.canary_path ?? '', optional: true, placeholder: '/canary', hint: 'Probed to tell whether the CDN is up (default /canary, which Marquee’s origin serves).' }),
    h('div', { class: 'form-actions' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const el = form.elements;
    const weight = el.weight.value.trim() === '' ? 1 : Number(el.weight.value);
    if (!Number.isInteger(weight)) { showProblem(form, { field: 'weight', message: 'Weight is a whole number from 0 to 1000.' }); return; }
    const body = {
      name: el.name.value.trim(),
      provider: provider.value,
      base_url: el.base_url.value.trim(),
      key_id: el.key_id.value.trim(),
      secret: secretInput.value.trim(),
      weight,
      regions: el.regions.value.split(',').map((r) => r.trim()).filter(Boolean),
      canary_path: el.canary_path.value.trim(),
    };
    if (!body.name) { showProblem(form, { field: 'name', message: 'Give the CDN a name.' }); return; }
    if (!body.secret) { showProblem(form, { field: 'secret', message: editing ? 'Enter the secret again: it is never sent back to the portal.' : 'The CDN needs its URL signing secret.' }); return; }
    try {
      const saved = await busy(submit, () => (editing
        ? api('PUT', `/v1/cdns/${encodeURIComponent(cdn.id)}`, { body })
        : api('POST', '/v1/cdns', { body })));
      close();
      toast(editing ? `CDN “${saved.name}” saved` : `CDN “${saved.name}” added`);
      onSaved(saved);
    } catch (err) {
      showProblem(form, err);
    }
  });

  const { close } = modal({
    title: editing ? `Edit “${cdn.name}”` : 'Add a CDN', testid: 'cdn-dialog', wide: true,
    description: 'Point the CDN at Marquee’s origin; Marquee signs each viewer’s URLs for it.',
    body: form,
  });
  form.elements.name.focus();
}

// --- DRM ------------------------------------------------------------------------

// Test ids are written out, not built, so a search finds every one.
const DRM_SYSTEMS = [
  { key: 'widevine', label: 'Widevine', hint: 'Chrome, Android, smart TVs', ids: ['drm-widevine', 'drm-widevine-primary', 'drm-widevine-backup'] },
  { key: 'playready', label: 'PlayReady', hint: 'Edge, Windows, Xbox, smart TVs', ids: ['drm-playready', 'drm-playready-primary', 'drm-playready-backup'] },
  { key: 'fairplay', label: 'FairPlay', hint: 'Safari, iOS, tvOS', ids: ['drm-fairplay', 'drm-fairplay-primary', 'drm-fairplay-backup'] },
];

function drmCard() {
  const body = h('div', { class: 'card-body' }, loadingRegion('Loading DRM settings', 4));
  const updated = h('span', { class: 'muted small', testid: 'drm-updated' });

  async function load() {
    try {
      draw(await api('GET', '/v1/drm'));
    } catch (err) {
      if (err.status === 404) { draw({}); return; }
      body.replaceChildren(loadError(err, load));
    }
  }

  function showUpdated(at) {
    const d = at ? new Date(at) : null;
    updated.textContent = d && d.getUTCFullYear() > 1 ? `Saved ${formatDateTime(at)}` : 'Not configured yet';
  }

  function draw(cfg) {
    showUpdated(cfg.updated_at);
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'drm-save' }, icon('check', 17), h('span', null, 'Save DRM settings'));
    const form = h('form', { class: 'form', novalidate: true, testid: 'drm-form' },
      formAlert(),
      field({ label: 'Vendor', name: 'vendor', testid: 'drm-vendor', value: cfg.vendor ?? '', optional: true, placeholder: 'e.g. EZDRM, BuyDRM, Axinom', inputProps: { maxlength: '100' }, hint: 'Your multi-DRM provider; it gets the content keys as CPIX from GET /v1/assets/{id}/cpix.' }),
      DRM_SYSTEMS.map((s) => h('fieldset', { class: 'pb-fieldset', testid: s.ids[0] },
        h('legend', { class: 'label' }, s.label, ' ', h('span', { class: 'label-optional' }, s.hint)),
        h('div', { class: 'form-row form-row-2' },
          field({ label: 'Primary license URL', name: `${s.key}.primary`, type: 'url', testid: s.ids[1], value: cfg[s.key]?.primary ?? '', placeholder: 'https://license.vendor.example/…' }),
          field({ label: 'Backup license URL', name: `${s.key}.backup`, type: 'url', testid: s.ids[2], value: cfg[s.key]?.backup ?? '', optional: true, hint: 'Used when the primary fails.' })))),
      field({ label: 'FairPlay certificate URL', name: 'fairplay_certificate_url', type: 'url', testid: 'drm-fairplay-cert', value: cfg.fairplay_certificate_url ?? '', optional: true, hint: 'Where players fetch your FairPlay application certificate.' }),
      h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const v = (name) => form.elements[name].value.trim();
      const route = (k) => ({ primary: v(`${k}.primary`), backup: v(`${k}.backup`) });
      const payload = {
        vendor: v('vendor'), widevine: route('widevine'), playready: route('playready'), fairplay: route('fairplay'),
        fairplay_certificate_url: v('fairplay_certificate_url'),
      };
      try {
        const saved = await busy(submit, () => api('PUT', '/v1/drm', { body: payload }));
        showUpdated(saved.updated_at);
        toast('DRM settings saved');
      } catch (err) {
        showProblem(form, err);
      }
    });
    mount(body, form);
  }

  load();
  return h('section', { class: 'card', 'aria-labelledby': 'drm-heading', testid: 'drm-card' },
    h('div', { class: 'card-head' },
      h('div', null,
        h('h2', { id: 'drm-heading', class: 'card-title' }, 'DRM'),
        h('p', { class: 'card-sub' }, 'Players ask Marquee for licenses (/license/<system>/<playback id>?token=…); Marquee checks the token and the access rules, then forwards the request to your vendor. Clear Key works without a vendor.')),
      updated),
    body);
}

// --- playback tokens, minted in the browser -------------------------------------

const utf8 = new TextEncoder();

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The DER bytes of a PKCS#8 "PRIVATE KEY" PEM, or an error that says what is wrong. */
export function pkcs8FromPEM(pem) {
  const m = String(pem).match(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/);
  if (!m) throw new Error('Paste the whole private key, from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----.');
  if (m[1] !== 'PRIVATE KEY') {
    throw new Error(`That is a “${m[1]}” PEM. Paste the PKCS#8 “PRIVATE KEY” that Marquee showed when the signing key was created.`);
  }
  let bin;
  try { bin = atob(m[2].replace(/\s+/g, '')); } catch { throw new Error('The private key’s base64 is damaged.'); }
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

const ALGS = {
  ES256: { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAlg: { name: 'RSASSA-PKCS1-v1_5' } },
};

/**
 * Imports a private key for signing. `alg` is the signing key's algorithm
 * (ES256 or RS256); the PEM must be a key of that kind.
 */
export async function importSigningKey(pem, alg) {
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    throw new Error('Signing tokens in the browser needs a secure context: open the portal over HTTPS (or on localhost).');
  }
  const a = ALGS[alg];
  if (!a) throw new Error(`Unsupported signing algorithm ${alg}.`);
  const der = pkcs8FromPEM(pem);
  try {
    return await crypto.subtle.importKey('pkcs8', der, a.importAlg, false, ['sign']);
  } catch {
    throw new Error(`This private key is not an ${alg === 'ES256' ? 'ECDSA P-256' : 'RSA'} key, as the ${alg} signing key needs.`);
  }
}

/**
 * Mints a playback token: a JWS with header {alg, typ, kid} and the claims
 * (sub = playback id, aud = "v" video or "l" license, exp). ECDSA
 * signatures come out of WebCrypto as raw r||s, which is what JWS wants.
 */
export async function mintToken(cryptoKey, { alg, kid, sub, aud, ttl = 3600, extra = {} }) {
  const header = { alg, typ: 'JWT', kid };
  const claims = { sub, aud, exp: Math.floor(Date.now() / 1000) + ttl, ...extra };
  const input = `${b64url(utf8.encode(JSON.stringify(header)))}.${b64url(utf8.encode(JSON.stringify(claims)))}`;
  const sig = await crypto.subtle.sign(ALGS[alg].signAlg, cryptoKey, utf8.encode(input));
  return `${input}.${b64url(new Uint8Array(sig))}`;
}

// --- an asset's playback ids (video detail page) ----------------------------------

const POLICY = {
  public: { label: 'Public', tone: 'neutral', help: 'Plays without a token.' },
  signed: { label: 'Signed', tone: 'info', help: 'Needs a playback token signed by one of your keys.' },
  drm: { label: 'DRM', tone: 'brand', help: 'Needs a token; the media is encrypted and keys come from the license server.' },
};
const MODELS = [
  { value: 'free', label: 'Free' },
  { value: 'avod', label: 'AVOD (free with ads)' },
  { value: 'svod', label: 'SVOD (subscription tier)' },
  { value: 'tvod', label: 'TVOD (rental or purchase)' },
];

function accessSummary(a = {}) {
  const parts = [];
  const m = a.model || 'free';
  parts.push(m === 'svod' && a.tier ? `SVOD · ${a.tier}` : m === 'free' ? 'Free' : m.toUpperCase());
  if (a.rating) parts.push(`Rated ${a.rating}`);
  if (a.allow_countries?.length) parts.push(`Only ${a.allow_countries.join(', ')}`);
  if (a.deny_countries?.length) parts.push(`Not ${a.deny_countries.join(', ')}`);
  return parts.join(' · ');
}

const countries = (s) => s.split(/[\s,]+/).map((c) => c.trim().toUpperCase()).filter(Boolean);

/**
 * The playback ids of an asset, with add and delete, and a preview player
 * that signs tokens in the browser. Returns { el, update(asset), destroy() }:
 * the element is built once and kept across the detail page's redraws.
 */
export function playbackSection(initial, { loadShaka }) {
  let asset = initial;
  let rows = [];
  let loaded = false;
  const count = h('span', { class: 'count', hidden: true });
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading playback IDs', 2));
  const add = button('Add playback ID', { variant: 'secondary', size: 'sm', iconName: 'plus', testid: 'pbid-add', onClick: () => openAdd() });
  const sub = h('p', { class: 'card-sub' });
  const idsCard = h('section', { class: 'card', 'aria-labelledby': 'pbid-heading', testid: 'pbid-card' },
    h('div', { class: 'card-head' },
      h('div', null, h('h2', { id: 'pbid-heading', class: 'card-title' }, 'Playback IDs ', count), sub),
      add),
    list);
  const preview = previewCard({ loadShaka, playbackIds: () => rows, asset: () => asset });
  const el = h('div', { class: 'stack', testid: 'pb-section' }, idsCard, preview.el);

  async function load() {
    try {
      const p = await listPage(`/v1/assets/${encodeURIComponent(asset.id)}/playback-ids`, { limit: 100 });
      rows = p.data;
      loaded = true;
      draw();
    } catch (err) {
      if (err.status === 404) {
        // No playback service on this server (or the video is gone): nothing to show.
        el.hidden = true;
        return;
      }
      list.replaceChildren(loadError(err, load));
    }
  }

  function draw() {
    sub.textContent = asset.protected
      ? 'This video is encrypted: it plays only through DRM playback IDs, at /play/<id>.mpd or .m3u8 with a token.'
      : 'Besides its public stream, the video can play at /play/<id>.mpd or .m3u8 under the rules of each playback ID.';
    count.hidden = rows.length === 0;
    count.textContent = String(rows.length);
    if (!loaded) return;
    if (rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'shield', testid: 'pbid-empty', title: 'No playback IDs',
        body: asset.protected ? 'Add a DRM playback ID to let viewers play this video.' : 'Add one to play the video with tokens and access rules.',
      }));
    } else {
      mount(list, h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'pbid-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Playback ID'), h('th', { scope: 'col' }, 'Policy'), h('th', { scope: 'col' }, 'Access'),
          h('th', { scope: 'col', class: 'hide-sm' }, 'Created'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', null, rows.map(row)))));
    }
    preview.refresh();
  }

  function row(p) {
    const pol = POLICY[p.policy] ?? { label: p.policy, tone: 'neutral' };
    const prev = button('Preview', { variant: 'ghost', size: 'sm', iconName: 'play', testid: 'pbid-preview', ariaLabel: `Preview ${p.id}`, onClick: () => preview.select(p.id, true) });
    const del = button('Delete', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'pbid-delete', ariaLabel: `Delete ${p.id}` });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Delete this playback ID?',
        body: `Viewers using ${p.id} lose access within 30 seconds. The video itself is kept.`,
        confirmLabel: 'Delete playback ID', danger: true,
      });
      if (!ok) return;
      try {
        await busy(del, () => api('DELETE', `/v1/assets/${encodeURIComponent(asset.id)}/playback-ids/${encodeURIComponent(p.id)}`));
        rows = rows.filter((r) => r.id !== p.id);
        draw();
        toast('Playback ID deleted');
      } catch (err) {
        toast(err.message, 'danger');
      }
    });
    return h('tr', { testid: 'pbid-row', 'data-pbid': p.id, 'data-policy': p.policy },
      h('td', null, h('span', { class: 'id-copy' }, h('code', { class: 'mono', testid: 'pbid-row-id' }, p.id),
        copyButton(p.id, { label: '', variant: 'ghost', ariaLabel: 'Copy the playback ID' }))),
      h('td', null, badge(pol.label, pol.tone, 'pbid-row-policy')),
      h('td', { testid: 'pbid-row-access' }, accessSummary(p.access)),
      h('td', { class: 'hide-sm muted' }, h('time', { datetime: p.created_at, title: formatDateTime(p.created_at) }, formatDate(p.created_at))),
      h('td', { class: 'cell-actions' }, h('div', { class: 'btn-row' }, prev, del)));
  }

  async function openAdd() {
    const { ratings } = await apiEnums();
    const policies = asset.protected ? ['drm'] : ['public', 'signed'];
    const policy = h('select', { class: 'input select', testid: 'pbid-policy' }, policies.map((p) => h('option', { value: p }, POLICY[p].label)));
    const policyField = field({ label: 'Policy', name: 'policy', control: policy, hint: POLICY[policies[0]].help });
    policy.addEventListener('change', () => { policyField.querySelector('.hint').textContent = POLICY[policy.value].help; });
    const model = h('select', { class: 'input select', testid: 'pbid-model' }, MODELS.map((m) => h('option', { value: m.value }, m.label)));
    const tierField = field({ label: 'Tier', name: 'access.tier', testid: 'pbid-tier', placeholder: 'e.g. premium', hint: 'Viewers need an active subscription to this tier (or a token with a matching "tier" claim).' });
    tierField.hidden = true;
    model.addEventListener('change', () => { tierField.hidden = model.value !== 'svod'; });
    const rating = h('select', { class: 'input select', testid: 'pbid-rating' },
      h('option', { value: '' }, 'Not rated'), ratings.map((r) => h('option', { value: r }, r)));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'pbid-submit' }, icon('plus', 17), h('span', null, 'Add playback ID'));
    const form = h('form', { class: 'form', novalidate: true, testid: 'pbid-form' },
      formAlert(),
      asset.protected ? h('p', { class: 'hint' }, 'Encrypted videos play only through DRM playback IDs.') : null,
      policyField,
      h('div', { class: 'form-row form-row-2' },
        field({ label: 'Monetization', name: 'access.model', control: model }),
        field({ label: 'Rating', name: 'access.rating', control: rating, hint: 'Viewer profiles with a lower rating limit are refused.' })),
      tierField,
      h('div', { class: 'form-row form-row-2' },
        field({ label: 'Only in countries', name: 'access.allow_countries', testid: 'pbid-allow', optional: true, placeholder: 'US, CA', hint: 'ISO 3166-1 alpha-2 codes; empty: everywhere.' }),
        field({ label: 'Never in countries', name: 'access.deny_countries', testid: 'pbid-deny', optional: true, placeholder: 'FR' })),
      h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const access = { model: model.value };
      if (model.value === 'svod') access.tier = form.elements['access.tier'].value.trim();
      if (rating.value) access.rating = rating.value;
      const allow = countries(form.elements['access.allow_countries'].value);
      const deny = countries(form.elements['access.deny_countries'].value);
      if (allow.length) access.allow_countries = allow;
      if (deny.length) access.deny_countries = deny;
      try {
        const p = await busy(submit, () => api('POST', `/v1/assets/${encodeURIComponent(asset.id)}/playback-ids`, { body: { policy: policy.value, access } }));
        close();
        rows = [...rows, p];
        draw();
        toast('Playback ID added');
      } catch (err) {
        showProblem(form, err);
      }
    });
    const { close } = modal({ title: 'Add a playback ID', description: 'A playback ID is how viewers reach this video, under its own access rules.', body: form, testid: 'pbid-dialog', wide: true });
    policy.focus();
  }

  load();
  return {
    el,
    update(a) {
      const was = asset.status;
      asset = a;
      // A video that failed to transcode has nothing to play.
      el.hidden = a.status === 'errored';
      if (loaded && was !== a.status) draw();
    },
    destroy: () => preview.destroy(),
  };
}

// --- the preview player -----------------------------------------------------------

function previewCard({ loadShaka, playbackIds, asset }) {
  const pidSelect = h('select', { class: 'input select', testid: 'pb-preview-pid' });
  const keySelect = h('select', { class: 'input select', testid: 'pb-preview-key' });
  const pem = h('textarea', {
    class: 'input mono pem-input', rows: '5', testid: 'pb-preview-pem', spellcheck: 'false', autocomplete: 'off',
    placeholder: '-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----',
  });
  const viewer = h('input', { class: 'input', testid: 'pb-preview-viewer', placeholder: 'e.g. viewer-42', autocomplete: 'off' });
  const play = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'pb-preview-play' }, icon('play', 17), h('span', null, 'Play'));
  const video = h('video', { class: 'player-video', controls: true, muted: true, playsinline: true, preload: 'auto', testid: 'pb-preview-video' });
  video.muted = true;
  const stateLine = h('div', { class: 'muted small', testid: 'pb-preview-state', role: 'status' }, 'Choose a playback ID and press Play.');
  const frame = h('div', { class: 'player-frame', hidden: true }, video);
  const keyField = field({ label: 'Signing key', name: 'kid', control: keySelect, hint: 'The token’s “kid”: one of your active keys.' });
  const pemField = field({ label: 'Private key', name: 'private_key', control: pem, hint: ' ' });
  const pemNote = pemField.querySelector('.hint');
  pemNote.dataset.testid = 'pb-preview-pem-note';
  const keyFields = h('div', { class: 'stack' },
    pemField,
    field({ label: 'Viewer', name: 'viewer', control: viewer, optional: true, hint: 'The token’s “viewer” claim, for access rules that need a viewer’s entitlements.' }));
  const form = h('form', { class: 'form', novalidate: true, testid: 'pb-preview-form' },
    formAlert(),
    h('div', { class: 'form-row form-row-2' }, field({ label: 'Playback ID', name: 'pid', control: pidSelect }), keyField),
    keyFields,
    h('div', { class: 'form-actions' }, play));
  const ready = h('p', { class: 'muted', testid: 'pb-preview-unavailable' });
  const body = h('div', { class: 'card-body stack' }, ready, form, stateLine, frame);
  const el = h('section', { class: 'card player-card', 'aria-labelledby': 'pb-preview-heading', testid: 'pb-preview' },
    h('div', { class: 'card-head' },
      h('div', null,
        h('h2', { id: 'pb-preview-heading', class: 'card-title' }, 'Protected preview'),
        h('p', { class: 'card-sub' }, 'Plays a playback ID as a viewer would: DASH in Shaka Player, with Clear Key licenses for DRM IDs. Tokens are signed here, in your browser.'))),
    body);

  let keys = null;
  let keysError = null;
  let player = null;
  let attempt = 0;

  async function loadKeys() {
    try {
      const p = await listPage('/v1/signing-keys', { limit: 100 });
      keys = p.data.filter((k) => !k.revoked_at);
      keysError = null;
    } catch (err) {
      keys = [];
      keysError = err;
    }
    refresh();
  }

  function currentPID() {
    return playbackIds().find((p) => p.id === pidSelect.value);
  }

  function syncKey() {
    const remembered = sessionKey(keySelect.value);
    const never = 'It is used only in this browser to sign the preview’s tokens, never sent anywhere.';
    if (remembered) {
      pem.value = remembered.pem;
      pemNote.textContent = `Filled in with the key created in this tab (kept in memory until you reload). ${never}`;
    } else {
      if (pem.dataset.filled === 'session') pem.value = '';
      pemNote.textContent = `Paste the private key you saved when this signing key was created. ${never}`;
    }
    pem.dataset.filled = remembered ? 'session' : '';
  }

  function syncPolicy() {
    const tokenless = !currentPID() || currentPID().policy === 'public';
    keyFields.hidden = tokenless;
    keyField.hidden = tokenless;
  }

  function refresh() {
    const a = asset();
    const ids = playbackIds();
    const isReady = a.status === 'ready';
    // Nothing to preview without a playback id: the list above says how to add one.
    el.hidden = ids.length === 0;
    ready.hidden = isReady;
    ready.textContent = 'The preview is available once the video is ready.';
    form.hidden = !isReady;
    stateLine.hidden = !isReady;
    const selected = pidSelect.value;
    mount(pidSelect, ids.map((p) => h('option', { value: p.id }, `${p.id} · ${POLICY[p.policy]?.label ?? p.policy}`)));
    if (ids.some((p) => p.id === selected)) pidSelect.value = selected;
    if (keys === null) {
      mount(keySelect, h('option', { value: '' }, 'Loading keys…'));
    } else if (keys.length === 0) {
      mount(keySelect, h('option', { value: '' }, keysError ? `Could not load keys: ${keysError.message}` : 'No active signing keys — create one on the Playback page'));
    } else {
      const selectedKey = keySelect.value;
      mount(keySelect, keys.map((k) => h('option', { value: k.id, 'data-alg': k.alg }, `${k.id} · ${k.alg}${sessionKey(k.id) ? ' · created in this tab' : ''}`)));
      if (keys.some((k) => k.id === selectedKey)) keySelect.value = selectedKey;
      else {
        const mine = keys.find((k) => sessionKey(k.id));
        if (mine) keySelect.value = mine.id;
      }
    }
    syncKey();
    syncPolicy();
  }

  pidSelect.addEventListener('change', syncPolicy);
  keySelect.addEventListener('change', syncKey);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    start();
  });

  async function tokensFor(p) {
    if (p.policy === 'public') return {};
    const k = keys?.find((x) => x.id === keySelect.value);
    if (!k) throw Object.assign(new Error('Choose one of your active signing keys (create one on the Playback page).'), { field: 'kid' });
    if (!pem.value.trim()) throw Object.assign(new Error('Paste the signing key’s private key.'), { field: 'private_key' });
    let cryptoKey;
    try {
      cryptoKey = await importSigningKey(pem.value.trim(), k.alg);
    } catch (err) {
      throw Object.assign(err, { field: 'private_key' });
    }
    const extra = viewer.value.trim() ? { viewer: viewer.value.trim() } : {};
    const base = { alg: k.alg, kid: k.id, sub: p.id, extra };
    return {
      video: await mintToken(cryptoKey, { ...base, aud: 'v' }),
      license: p.policy === 'drm' ? await mintToken(cryptoKey, { ...base, aud: 'l' }) : null,
    };
  }

  async function start() {
    clearErrors(form);
    const p = currentPID();
    if (!p) return;
    const mine = ++attempt;
    let tokens;
    try {
      tokens = await tokensFor(p);
    } catch (err) {
      showProblem(form, err);
      return;
    }
    const q = tokens.video ? `?token=${encodeURIComponent(tokens.video)}` : '';
    const manifest = new URL(`/play/${encodeURIComponent(p.id)}.mpd${q}`, location.href).href;
    const license = tokens.license ? new URL(`/license/clearkey/${encodeURIComponent(p.id)}?token=${encodeURIComponent(tokens.license)}`, location.href).href : null;
    frame.hidden = false;
    video.dataset.pid = p.id;
    video.dataset.state = 'loading';
    say(`Loading ${p.id}…`);
    try {
      await busy(play, async () => {
        const shaka = await loadShaka();
        if (!shaka.Player.isBrowserSupported()) throw new Error('This browser cannot play adaptive streams (no Media Source Extensions).');
        if (!player) {
          player = new shaka.Player();
          await player.attach(video);
          player.addEventListener('error', (ev) => { if (mine === attempt) showError(ev.detail); });
        }
        player.configure({ drm: { servers: license ? { 'org.w3.clearkey': license } : {} } });
        await player.load(manifest);
      });
      if (mine !== attempt) return;
      video.dataset.state = 'loaded';
      const drm = player.drmInfo?.()?.keySystem;
      say(`Playing ${p.id} (${POLICY[p.policy]?.label ?? p.policy})${drm ? ` · decrypting with ${drm === 'org.w3.clearkey' ? 'Clear Key' : drm}` : ''}`);
      video.play().catch(() => { /* autoplay may be refused; the controls are there */ });
    } catch (err) {
      if (mine === attempt) showError(err);
    }
  }

  /** Says why playback failed, with the API's problem detail when Shaka carries one. */
  function showError(err) {
    video.dataset.state = 'error';
    let detail = err?.message ?? '';
    // Shaka's BAD_HTTP_STATUS (1001) carries [uri, status, body, …].
    if (err?.code === 1001 && Array.isArray(err.data)) {
      const [, status, text] = err.data;
      let problem = null;
      try { problem = typeof text === 'string' ? JSON.parse(text) : null; } catch { problem = null; }
      detail = problem?.detail ? `${problem.detail}${problem.code ? ` (${problem.code})` : ''}` : `The server answered ${status}.`;
    } else if (err?.code && !detail) {
      detail = `Shaka error ${err.code}.`;
    }
    frame.hidden = true;
    say(detail ? `Could not play this playback ID: ${detail}` : 'Could not play this playback ID.', true);
  }

  function say(text, error = false) {
    stateLine.className = error ? 'alert alert-danger' : 'muted small';
    if (error) mount(stateLine, icon('alert', 16), h('div', null, h('span', null, text)));
    else stateLine.textContent = text;
  }

  function destroy() {
    attempt++;
    if (!player) return;
    const p = player;
    player = null;
    p.destroy().catch(() => {});
  }

  window.addEventListener('hashchange', destroy, { once: true });
  loadKeys();
  return {
    el,
    refresh,
    destroy,
    select(id, autoplay) {
      pidSelect.value = id;
      syncPolicy();
      el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      if (autoplay && (currentPID()?.policy === 'public' || pem.value.trim())) start();
      else (currentPID()?.policy === 'public' ? play : pem).focus();
    },
  };
}
