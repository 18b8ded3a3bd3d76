// Branding editor: name, colours, email sender and logo, with a live preview
// of the storefront that follows every keystroke; and custom domains.

import { api } from '../api.js';
import {
  badge, busy, button, clearErrors, confirmDialog, copyButton, emptyState, field, formAlert, h, icon,
  initials, loadError, loadingRegion, mount, nextId, showProblem, toast,
} from '../ui.js';

const HEX = /^#[0-9a-f]{6}$/i;
const LOGO_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/svg+xml'];
const LOGO_MAX = 1 << 20;
const DEFAULTS = { primary_color: '#6d4aff', accent_color: '#ff5c8a', background_color: '#0e0f1a' };

const COLOURS = [
  { key: 'primary_color', label: 'Primary', help: 'Buttons, links and highlights.', testid: 'branding-primary-color', hexTestid: 'branding-primary-color-hex' },
  { key: 'accent_color', label: 'Accent', help: 'Badges, progress and secondary calls to action.', testid: 'branding-accent-color', hexTestid: 'branding-accent-color-hex' },
  { key: 'background_color', label: 'Background', help: 'The page behind your catalogue.', testid: 'branding-background-color', hexTestid: 'branding-background-color-hex' },
];

export function render(page, { state }) {
  const body = h('div', null, loadingRegion('Loading branding', 6));
  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Branding'),
        h('p', { class: 'page-sub' }, 'How your storefront, players and emails look to viewers. The preview updates as you edit.'))),
    body,
  );

  const load = async () => {
    body.replaceChildren(loadingRegion('Loading branding', 6));
    try {
      const b = await api('GET', '/v1/branding');
      body.replaceChildren(editor(b, state));
    } catch (err) {
      body.replaceChildren(loadError(err, load));
    }
  };
  load();
}

function editor(initial, state) {
  let saved = normalise(initial);
  let logoUrl = initial.logo_url ?? null;
  let domains = initial.custom_domains ?? [];

  // --- preview -----------------------------------------------------------
  const preview = storefrontPreview();

  // --- form --------------------------------------------------------------
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'branding-save' }, h('span', null, 'Save changes'));
  const discard = button('Discard', { variant: 'ghost', testid: 'branding-discard', onClick: () => { fill(saved); refresh(); clearErrors(form); } });
  const dirtyNote = h('span', { class: 'dirty-note', testid: 'branding-dirty', hidden: true }, h('span', { class: 'dirty-dot', 'aria-hidden': 'true' }), 'Unsaved changes');

  const colourRows = COLOURS.map((c) => colourField(c));
  const logo = logoField();
  const contrastNote = h('p', { class: 'contrast', testid: 'branding-contrast', 'aria-live': 'polite' });

  const form = h('form', { class: 'form branding-form', novalidate: true, testid: 'branding-form' },
    formAlert(),
    h('section', { class: 'card', 'aria-labelledby': 'identity-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'identity-heading', class: 'card-title' }, 'Identity')),
      h('div', { class: 'card-body stack' },
        field({ label: 'Display name', name: 'display_name', testid: 'branding-display-name', hint: 'Shown in the storefront header, page titles and players.', inputProps: { maxlength: '80' } }),
        field({ label: 'Email sender name', name: 'email_sender_name', testid: 'branding-email-sender', hint: 'The “From” name on sign-up, receipt and password emails.', inputProps: { maxlength: '80' } }),
        logo.el)),
    h('section', { class: 'card', 'aria-labelledby': 'colour-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'colour-heading', class: 'card-title' }, 'Colours')),
      h('div', { class: 'card-body stack' }, colourRows.map((r) => r.el), contrastNote)),
    h('div', { class: 'savebar' }, dirtyNote, h('div', { class: 'btn-row' }, discard, save)),
  );

  function values() {
    const v = {
      display_name: form.elements.display_name.value,
      email_sender_name: form.elements.email_sender_name.value,
    };
    for (const r of colourRows) v[r.key] = r.value();
    return v;
  }

  function fill(v) {
    form.elements.display_name.value = v.display_name;
    form.elements.email_sender_name.value = v.email_sender_name;
    for (const r of colourRows) r.set(v[r.key]);
  }

  function refresh() {
    const v = values();
    preview.update({ ...v, logo_url: logo.currentUrl(), domain: (domains.find((d) => d.verified) ?? domains[0])?.domain ?? null, slug: state.tenant.slug });
    const dirty = JSON.stringify(v) !== JSON.stringify(saved);
    dirtyNote.hidden = !dirty;
    discard.disabled = !dirty;
    updateContrast(contrastNote, v);
  }

  form.addEventListener('input', refresh);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const v = values();
    for (const c of COLOURS) {
      if (!HEX.test(v[c.key])) {
        showProblem(form, { field: c.key, message: 'Use a hex colour like #1a2b3c.' });
        return;
      }
    }
    if (!v.display_name.trim()) {
      showProblem(form, { field: 'display_name', message: 'Give your storefront a display name.' });
      return;
    }
    const bodyOut = { ...v, display_name: v.display_name.trim(), email_sender_name: v.email_sender_name.trim() };
    try {
      const res = await busy(save, () => api('PUT', '/v1/branding', { body: bodyOut }));
      saved = normalise(res ?? bodyOut);
      fill(saved);
      if (res && 'logo_url' in res && !logo.hasLocal()) logoUrl = res.logo_url;
      refresh();
      toast('Branding saved');
    } catch (err) {
      showProblem(form, err);
    }
  });

  // --- colour field ------------------------------------------------------
  function colourField(c) {
    const hexId = nextId(c.key);
    const errId = `${hexId}-error`;
    const helpId = `${hexId}-hint`;
    const picker = h('input', { type: 'color', class: 'swatch-input', testid: c.testid, 'aria-label': `${c.label} colour picker`, 'aria-describedby': helpId });
    const hex = h('input', {
      id: hexId, name: c.key, type: 'text', class: 'input mono hex-input', testid: c.hexTestid, maxlength: '7', spellcheck: 'false',
      autocomplete: 'off', autocapitalize: 'off', 'aria-describedby': `${helpId} ${errId}`, pattern: '#[0-9a-fA-F]{6}',
    });
    picker.addEventListener('input', () => { hex.value = picker.value; hex.removeAttribute('aria-invalid'); });
    hex.addEventListener('input', () => {
      let v = hex.value.trim();
      if (v && !v.startsWith('#')) v = `#${v}`;
      if (HEX.test(v)) picker.value = v.toLowerCase();
    });
    hex.addEventListener('blur', () => {
      let v = hex.value.trim();
      if (v && !v.startsWith('#')) v = `#${v}`;
      if (/^#[0-9a-f]{3}$/i.test(v)) v = `#${v[1]}${v[1]}${v[2]}${v[2]}${v[3]}${v[3]}`;
      if (HEX.test(v) && v !== hex.value) { hex.value = v.toLowerCase(); picker.value = hex.value; refresh(); }
    });
    const el = h('div', { class: 'field colour-field' },
      h('label', { class: 'label', for: hexId }, `${c.label} colour`),
      h('div', { class: 'colour-row' },
        h('span', { class: 'swatch' }, picker),
        hex,
        h('p', { id: helpId, class: 'hint colour-help' }, c.help)),
      h('p', { id: errId, class: 'field-error', testid: 'field-error', hidden: true }));
    return {
      key: c.key, el,
      value: () => {
        const v = hex.value.trim().toLowerCase();
        return v && !v.startsWith('#') ? `#${v}` : v;
      },
      set: (v) => { hex.value = v; if (HEX.test(v)) picker.value = v; },
    };
  }

  // --- logo --------------------------------------------------------------
  function logoField() {
    let localUrl = null;
    const inputId = nextId('logo');
    const errId = `${inputId}-error`;
    const thumb = h('div', { class: 'logo-thumb', testid: 'branding-logo-thumb' });
    const input = h('input', {
      id: inputId, type: 'file', class: 'sr-only file-input', accept: LOGO_TYPES.join(','), testid: 'branding-logo-input',
      'aria-describedby': `${inputId}-hint ${errId}`,
    });
    const pick = h('label', { class: 'btn btn-secondary btn-sm', for: inputId }, icon('upload', 15), h('span', null, 'Upload logo'));
    const remove = button('Remove', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'branding-logo-remove' });
    const err = h('p', { id: errId, class: 'field-error', testid: 'field-error', role: 'alert', hidden: true });
    const status = h('span', { class: 'sr-only', 'aria-live': 'polite' });

    const showErr = (msg) => { err.replaceChildren(icon('alert', 14), h('span', null, msg)); err.hidden = !msg; };

    const draw = () => {
      const src = localUrl ?? logoUrl;
      thumb.replaceChildren(src ? h('img', { src, alt: 'Current logo', testid: 'branding-logo-img' }) : h('span', { class: 'logo-empty' }, icon('upload', 18)));
      remove.hidden = !src;
    };

    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      input.value = '';
      if (!file) return;
      showErr('');
      if (!LOGO_TYPES.includes(file.type)) { showErr('Use a PNG, JPEG, WebP or SVG image.'); return; }
      if (file.size > LOGO_MAX) { showErr(`That file is ${(file.size / 1048576).toFixed(1)} MB; the limit is 1 MB.`); return; }
      const previous = localUrl;
      localUrl = URL.createObjectURL(file);
      draw();
      refresh();
      pick.classList.add('is-busy');
      try {
        const res = await api('PUT', '/v1/branding/logo', { raw: file, contentType: file.type });
        if (res && 'logo_url' in res) logoUrl = res.logo_url;
        if (previous) URL.revokeObjectURL(previous);
        status.textContent = 'Logo uploaded';
        toast('Logo uploaded');
      } catch (e) {
        URL.revokeObjectURL(localUrl);
        localUrl = previous;
        draw();
        refresh();
        showErr(e.message);
      } finally {
        pick.classList.remove('is-busy');
      }
    });

    remove.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: 'Remove your logo?', body: 'Your storefront will show your display name instead.', confirmLabel: 'Remove logo', danger: true });
      if (!ok) return;
      try {
        await busy(remove, () => api('DELETE', '/v1/branding/logo'));
        if (localUrl) URL.revokeObjectURL(localUrl);
        localUrl = null;
        logoUrl = null;
        draw();
        refresh();
        toast('Logo removed');
      } catch (e) {
        showErr(e.message);
      }
    });

    draw();
    return {
      el: h('div', { class: 'field' },
        h('span', { class: 'label', id: `${inputId}-label` }, 'Logo'),
        h('div', { class: 'logo-row' }, thumb,
          h('div', { class: 'logo-actions' },
            h('div', { class: 'btn-row' }, input, pick, remove),
            h('p', { id: `${inputId}-hint`, class: 'hint' }, 'PNG, JPEG, WebP or SVG, up to 1 MB. A wide logo on a transparent background works best. Uploads right away.'))),
        err, status),
      hasLocal: () => localUrl != null,
      currentUrl: () => localUrl ?? logoUrl,
    };
  }

  // --- domains -------------------------------------------------------------
  const domainsCard = domainsSection(domains, (next) => { domains = next; refresh(); });

  fill(saved);
  refresh();

  return h('div', { class: 'branding-layout' },
    h('div', { class: 'branding-main' }, form, domainsCard),
    h('aside', { class: 'branding-aside', 'aria-label': 'Live preview' }, preview.el));
}

function normalise(b) {
  return {
    display_name: b.display_name ?? '',
    email_sender_name: b.email_sender_name ?? '',
    primary_color: (b.primary_color || DEFAULTS.primary_color).toLowerCase(),
    accent_color: (b.accent_color || DEFAULTS.accent_color).toLowerCase(),
    background_color: (b.background_color || DEFAULTS.background_color).toLowerCase(),
  };
}

// --- colour maths ------------------------------------------------------------

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** White or near-black, whichever reads better on `hex`. */
function readableOn(hex) {
  return contrast(hex, '#ffffff') >= contrast(hex, '#15161f') ? '#ffffff' : '#15161f';
}

function updateContrast(el, v) {
  if (![v.primary_color, v.background_color].every((c) => HEX.test(c))) { el.replaceChildren(); return; }
  const btn = contrast(v.primary_color, readableOn(v.primary_color));
  const onBg = contrast(v.primary_color, v.background_color);
  const ok = btn >= 4.5 && onBg >= 3;
  el.className = `contrast ${ok ? 'contrast-ok' : 'contrast-warn'}`;
  el.replaceChildren(icon(ok ? 'check' : 'alert', 15), h('span', null,
    ok ? `Good contrast: button text ${btn.toFixed(1)}:1, primary on background ${onBg.toFixed(1)}:1.`
      : `Low contrast: button text ${btn.toFixed(1)}:1, primary on background ${onBg.toFixed(1)}:1. Aim for 4.5:1 and 3:1 so every viewer can read your storefront.`));
}

// --- live preview ------------------------------------------------------------

const SHOWS = [
  { title: 'Harbour Lights', meta: 'Drama · S2', progress: 64 },
  { title: 'Wild Coast', meta: 'Documentary' },
  { title: 'Night Shift', meta: 'Thriller · New' },
  { title: 'Summit', meta: 'Sport · Live' },
];

function storefrontPreview() {
  const name = h('span', { class: 'sf-name', testid: 'preview-name' });
  const logoSlot = h('span', { class: 'sf-logo', testid: 'preview-logo' });
  const url = h('span', { class: 'pv-url-text', testid: 'preview-url' });
  const footerName = h('span');
  const sender = h('strong', { testid: 'preview-email-sender' });
  const senderAvatar = h('span', { class: 'pv-mail-avatar', 'aria-hidden': 'true' });
  const cta = h('span', { class: 'sf-btn sf-btn-primary', testid: 'preview-cta' }, icon('play', 13), 'Play');
  const sf = h('div', { class: 'sf', testid: 'preview-storefront' },
    h('div', { class: 'sf-header', testid: 'preview-header' },
      h('div', { class: 'sf-brand' }, logoSlot, name),
      h('nav', { class: 'sf-nav' }, h('span', { class: 'sf-nav-active' }, 'Home'), h('span', null, 'Movies'), h('span', null, 'Series'), h('span', null, 'Live')),
      h('span', { class: 'sf-signin', testid: 'preview-accent' }, 'Subscribe')),
    h('div', { class: 'sf-hero', testid: 'preview-hero' },
      h('div', { class: 'sf-hero-art', 'aria-hidden': 'true' }),
      h('div', { class: 'sf-hero-text' },
        h('span', { class: 'sf-tag' }, 'New season'),
        h('p', { class: 'sf-hero-title' }, 'The Long Night'),
        h('p', { class: 'sf-hero-meta' }, '2025 · Drama · 4K HDR'),
        h('div', { class: 'sf-hero-actions' }, cta, h('span', { class: 'sf-btn sf-btn-ghost' }, 'More info')))),
    h('div', { class: 'sf-row' },
      h('p', { class: 'sf-row-title' }, 'Continue watching'),
      h('div', { class: 'sf-cards' }, SHOWS.map((s, i) => h('div', { class: 'sf-card', testid: 'preview-card' },
        h('div', { class: `sf-thumb sf-thumb-${i}` },
          s.progress ? h('span', { class: 'sf-progress' }, h('i', { style: { width: `${s.progress}%` } })) : null),
        h('p', { class: 'sf-card-title' }, s.title),
        h('p', { class: 'sf-card-meta' }, s.meta))))),
    h('div', { class: 'sf-footer' }, '© ', String(new Date().getFullYear()), ' ', footerName, ' · Privacy · Help'));

  const el = h('div', { class: 'preview-panel', testid: 'preview' },
    h('div', { class: 'preview-top' },
      h('span', { class: 'preview-label' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), 'Live preview'),
      h('span', { class: 'muted small' }, 'Storefront')),
    h('div', { class: 'pv-frame', 'aria-hidden': 'true' },
      h('div', { class: 'pv-chrome' }, h('span', { class: 'pv-dots' }, h('i'), h('i'), h('i')), h('span', { class: 'pv-url' }, icon('shield', 11), url)),
      sf),
    h('div', { class: 'pv-mail', 'aria-hidden': 'true' }, senderAvatar,
      h('div', { class: 'pv-mail-text' },
        h('span', null, sender, h('span', { class: 'muted' }, ' · Welcome email')),
        h('span', { class: 'muted' }, 'Your account is ready. Start watching today →'))),
    h('p', { class: 'sr-only', 'aria-live': 'polite' }));

  let lastLogo;
  const update = (v) => {
    const ok = (c, d) => (HEX.test(c ?? '') ? c : d);
    const primary = ok(v.primary_color, DEFAULTS.primary_color);
    const accent = ok(v.accent_color, DEFAULTS.accent_color);
    const bg = ok(v.background_color, DEFAULTS.background_color);
    const dark = luminance(bg) < 0.3;
    sf.style.setProperty('--sf-primary', primary);
    sf.style.setProperty('--sf-on-primary', readableOn(primary));
    sf.style.setProperty('--sf-accent', accent);
    sf.style.setProperty('--sf-on-accent', readableOn(accent));
    sf.style.setProperty('--sf-bg', bg);
    sf.style.setProperty('--sf-text', dark ? '#f5f6fa' : '#14151c');
    sf.style.setProperty('--sf-muted', dark ? 'rgba(245,246,250,.62)' : 'rgba(20,21,28,.6)');
    sf.style.setProperty('--sf-line', dark ? 'rgba(255,255,255,.08)' : 'rgba(0,0,0,.08)');
    sf.classList.toggle('sf-light', !dark);

    const display = v.display_name?.trim() || 'Your service';
    name.textContent = display;
    footerName.textContent = display;
    sender.textContent = v.email_sender_name?.trim() || display;
    senderAvatar.textContent = initials(v.email_sender_name?.trim() || display);
    senderAvatar.style.background = primary;
    senderAvatar.style.color = readableOn(primary);
    url.textContent = v.domain || v.slug || 'your-storefront';

    if (v.logo_url !== lastLogo) {
      lastLogo = v.logo_url;
      logoSlot.replaceChildren(v.logo_url ? h('img', { src: v.logo_url, alt: '' }) : '');
    }
    logoSlot.classList.toggle('has-img', Boolean(v.logo_url));
    if (!v.logo_url) logoSlot.textContent = initials(display);
  };
  return { el, update };
}

// --- custom domains ------------------------------------------------------------

function domainsSection(initialDomains, onChange) {
  let domains = [...initialDomains];
  // Verify and remove failures, by domain, so a redraw keeps them on screen.
  const errors = new Map();
  const list = h('div', { class: 'domain-list', testid: 'domain-list' });
  const submit = h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'domain-add' }, icon('plus', 17), h('span', null, 'Add domain'));
  const form = h('form', { class: 'form domain-form', novalidate: true, testid: 'domain-form' },
    formAlert(),
    h('div', { class: 'form-row' },
      field({ label: 'Domain', name: 'domain', testid: 'domain-input', placeholder: 'watch.example.com', hint: 'A domain or subdomain you control. Point it at Marquee after verifying.', inputProps: { autocapitalize: 'off', spellcheck: 'false', inputmode: 'url' } }),
      h('div', { class: 'form-row-action' }, submit)));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const domain = form.elements.domain.value.trim().toLowerCase().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    if (!domain) { showProblem(form, { field: 'domain', message: 'Enter a domain such as watch.example.com.' }); return; }
    try {
      const d = await busy(submit, () => api('POST', '/v1/branding/domains', { body: { domain } }));
      domains = [...domains.filter((x) => x.domain !== d.domain), d];
      form.reset();
      draw(d.domain);
      toast(`${d.domain} added — create the TXT record to verify it`);
    } catch (err) {
      showProblem(form, err);
    }
  });

  function draw(focusDomain, notify = true) {
    if (notify) onChange(domains);
    if (domains.length === 0) {
      list.replaceChildren(emptyState({ iconName: 'globe', testid: 'domains-empty', title: 'No custom domains', body: 'Serve your storefront from your own domain, like watch.example.com.' }));
      return;
    }
    list.replaceChildren(...domains.map(row));
    if (focusDomain) list.querySelector(`[data-domain="${CSS.escape(focusDomain)}"]`)?.focus();
  }

  function row(d) {
    const err = h('p', { class: 'field-error', testid: 'domain-error', role: 'alert', hidden: true });
    const showErr = (message) => {
      if (message) errors.set(d.domain, message); else errors.delete(d.domain);
      err.replaceChildren(icon('alert', 14), h('span', null, message ?? ''));
      err.hidden = !message;
    };
    showErr(errors.get(d.domain));
    const verify = button('Verify', { variant: 'primary', size: 'sm', iconName: 'refresh', testid: 'domain-verify' });
    verify.setAttribute('aria-label', `Verify ${d.domain}`);
    const remove = button('Remove', { variant: 'danger-ghost', size: 'sm', iconName: 'trash', testid: 'domain-remove' });
    remove.setAttribute('aria-label', `Remove ${d.domain}`);

    verify.addEventListener('click', async () => {
      showErr(null);
      try {
        const res = await busy(verify, () => api('POST', `/v1/branding/domains/${encodeURIComponent(d.domain)}/verify`));
        domains = domains.map((x) => (x.domain === d.domain ? (res ?? { ...x, verified: true }) : x));
        draw(d.domain);
        toast(`${d.domain} verified`);
      } catch (e) {
        showErr(e.message);
      }
    });
    remove.addEventListener('click', async () => {
      const ok = await confirmDialog({ title: `Remove ${d.domain}?`, body: 'Viewers on this domain will no longer reach your storefront.', confirmLabel: 'Remove domain', danger: true });
      if (!ok) return;
      try {
        await busy(remove, () => api('DELETE', `/v1/branding/domains/${encodeURIComponent(d.domain)}`));
        domains = domains.filter((x) => x.domain !== d.domain);
        errors.delete(d.domain);
        draw();
        toast(`${d.domain} removed`);
      } catch (e) {
        showErr(e.message);
      }
    });

    const v = d.verification ?? {};
    return h('div', { class: 'domain', testid: 'domain-row', 'data-domain': d.domain, tabindex: '-1' },
      h('div', { class: 'domain-head' },
        h('span', { class: 'domain-icon' }, icon('globe', 16)),
        h('span', { class: 'domain-name', testid: 'domain-name' }, d.domain),
        d.verified ? badge('Verified', 'success', 'domain-status') : badge('Pending verification', 'warning', 'domain-status'),
        h('div', { class: 'btn-row push' }, d.verified ? null : verify, remove)),
      d.verified ? null : h('div', { class: 'dns' },
        h('p', { class: 'dns-intro' }, 'Create this DNS record at your DNS provider, then select Verify. DNS changes can take a few minutes to appear.'),
        h('dl', { class: 'dns-record' },
          h('div', null, h('dt', null, 'Type'), h('dd', null, h('code', { class: 'mono' }, v.type ?? 'TXT'))),
          h('div', null, h('dt', null, 'Name'), h('dd', null, h('code', { class: 'mono', testid: 'domain-txt-name' }, v.name ?? ''), copyButton(v.name ?? '', { label: '', variant: 'ghost', ariaLabel: `Copy record name for ${d.domain}` }))),
          h('div', null, h('dt', null, 'Value'), h('dd', null, h('code', { class: 'mono', testid: 'domain-txt-value' }, v.value ?? ''), copyButton(v.value ?? '', { label: '', variant: 'ghost', ariaLabel: `Copy record value for ${d.domain}` }))))),
      err);
  }

  draw(undefined, false);
  return h('section', { class: 'card', 'aria-labelledby': 'domains-heading', testid: 'domains-card' },
    h('div', { class: 'card-head' },
      h('div', null,
        h('h2', { id: 'domains-heading', class: 'card-title' }, 'Custom domains'),
        h('p', { class: 'card-sub' }, 'Verify ownership with a TXT record. Verified domains serve your storefront over HTTPS.'))),
    h('div', { class: 'card-body stack' }, form, list));
}
