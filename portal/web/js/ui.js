// Small DOM toolkit for the portal: element builder, icons, form fields with
// inline API errors, dialogs, toasts and formatting. No framework on purpose:
// the portal ships as files, with no build step.

let uid = 0;
/** A page-unique id for wiring labels, hints and errors to controls. */
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

/**
 * Builds an element. Props: `class`, `testid` (data-testid), `on*` listeners,
 * `style` (object; `--custom` properties allowed), `value`/`checked` (set as
 * properties), anything else as an attribute (`true` → empty, null/false → left out).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'value') value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else if (k === 'style' && typeof v === 'object') {
      for (const [sk, sv] of Object.entries(v)) el.style.setProperty(sk, sv);
    } else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

/** Replaces `el`'s children, skipping null/false like h() does. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

const ICONS = {
  grid: '<rect x="3" y="3" width="7" height="7" rx="1.5"/><rect x="14" y="3" width="7" height="7" rx="1.5"/><rect x="3" y="14" width="7" height="7" rx="1.5"/><rect x="14" y="14" width="7" height="7" rx="1.5"/>',
  key: '<circle cx="7.5" cy="15.5" r="4.5"/><path d="m10.7 12.3 9.8-9.8M17 6l3 3M14.5 8.5l2 2"/>',
  network: '<rect x="9" y="2.5" width="6" height="5" rx="1"/><rect x="2.5" y="16.5" width="6" height="5" rx="1"/><rect x="15.5" y="16.5" width="6" height="5" rx="1"/><path d="M12 7.5V12M5.5 16.5V12h13v4.5"/>',
  palette: '<path d="M12 3a9 9 0 1 0 0 18c1.1 0 1.7-.8 1.7-1.7 0-.5-.2-.9-.5-1.2-.3-.3-.5-.7-.5-1.2 0-.9.8-1.7 1.7-1.7H16a5 5 0 0 0 5-5c0-4-4-7.2-9-7.2Z"/><circle cx="7.5" cy="11.5" r="1.2"/><circle cx="10" cy="7" r="1.2"/><circle cx="15" cy="7.5" r="1.2"/>',
  logout: '<path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4M16 17l5-5-5-5M21 12H9"/>',
  menu: '<path d="M4 6h16M4 12h16M4 18h16"/>',
  copy: '<rect x="9" y="9" width="12" height="12" rx="2"/><path d="M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1"/>',
  check: '<path d="M20 6 9 17l-5-5"/>',
  alert: '<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0ZM12 9v4M12 17h.01"/>',
  info: '<circle cx="12" cy="12" r="10"/><path d="M12 16v-4M12 8h.01"/>',
  plus: '<path d="M12 5v14M5 12h14"/>',
  x: '<path d="M18 6 6 18M6 6l12 12"/>',
  globe: '<circle cx="12" cy="12" r="10"/><path d="M2 12h20M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10Z"/>',
  upload: '<path d="M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M17 8l-5-5-5 5M12 3v12"/>',
  back: '<path d="M19 12H5M12 19l-7-7 7-7"/>',
  trash: '<path d="M3 6h18M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2M19 6l-1 14a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2L5 6"/>',
  user: '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
  film: '<rect x="2.5" y="4" width="19" height="16" rx="2.5"/><path d="M7.5 4v16M16.5 4v16M2.5 9h5M2.5 15h5M16.5 9h5M16.5 15h5"/>',
  play: '<path d="m7 4 13 8-13 8Z"/>',
  gauge: '<path d="M12 14 16 10"/><path d="M3.3 19a10 10 0 1 1 17.4 0"/>',
  sliders: '<path d="M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6"/>',
  pause: '<rect x="6" y="4" width="4" height="16" rx="1"/><rect x="14" y="4" width="4" height="16" rx="1"/>',
  enter: '<path d="M15 3h4a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-4M10 17l5-5-5-5M15 12H3"/>',
  shield: '<path d="M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10Z"/>',
  refresh: '<path d="M21 12a9 9 0 1 1-2.6-6.4L21 8M21 3v5h-5"/>',
};

/** An inline stroke icon, hidden from assistive tech (the control carries the label). */
export function icon(name, size = 18) {
  const tpl = document.createElement('template');
  tpl.innerHTML = `<svg class="icon" width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${ICONS[name] ?? ''}</svg>`;
  return tpl.content.firstElementChild;
}

/**
 * A labelled form control with a hint and a slot for the API's inline error.
 * `name` should be the API's field name, so a problem's `field` finds it.
 */
export function field({ label, name, type = 'text', testid, hint, required, autocomplete, placeholder, value, control, inputProps = {}, optional }) {
  const id = nextId(name || 'field');
  const hintId = hint ? `${id}-hint` : null;
  const errId = `${id}-error`;
  const input = control ?? h('input', {
    id, name, type, required, autocomplete, placeholder, value, testid,
    class: 'input',
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
    ...inputProps,
  });
  if (control) {
    input.id = id;
    if (name) input.name = name;
    input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  }
  return h('div', { class: 'field' },
    h('label', { for: id, class: 'label' }, label, optional ? h('span', { class: 'label-optional' }, 'Optional') : null),
    input,
    hint ? h('p', { id: hintId, class: 'hint' }, hint) : null,
    h('p', { id: errId, class: 'field-error', testid: 'field-error', hidden: true }),
  );
}

/** The form-level alert that problems without a `field` land in. */
export function formAlert() {
  return h('div', { class: 'alert alert-danger', role: 'alert', testid: 'form-error', hidden: true });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  const alert = form.querySelector('[data-testid="form-error"]');
  if (alert) { alert.hidden = true; alert.replaceChildren(); }
}

/**
 * Shows an API problem in a form: beside the control named by its `field`
 * when there is one, otherwise in the form's alert (or as a toast).
 */
export function showProblem(form, err) {
  clearErrors(form);
  const message = err?.message || 'Something went wrong. Please try again.';
  const control = err?.field ? form.querySelector(`[name="${CSS.escape(err.field)}"]`) : null;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    const slot = control.closest('.field')?.querySelector('.field-error');
    if (slot) {
      slot.replaceChildren(icon('alert', 14), h('span', null, message));
      slot.hidden = false;
      control.focus();
      return;
    }
  }
  const alert = form.querySelector('[data-testid="form-error"]');
  if (alert) {
    alert.replaceChildren(icon('alert', 16), h('div', null, h('span', null, message),
      err?.requestId ? h('span', { class: 'request-id' }, `Request ${err.requestId}`) : null));
    alert.hidden = false;
  } else {
    toast(message, 'danger');
  }
}

/** Runs `work` with `button` showing a spinner and disabled; returns what `work` returns. */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.classList.add('is-busy');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.classList.remove('is-busy');
  }
}

export function button(label, { variant = 'secondary', size, iconName, testid, type = 'button', onClick, ariaLabel, title } = {}) {
  return h('button', {
    type, testid, title,
    class: ['btn', `btn-${variant}`, size ? `btn-${size}` : ''].filter(Boolean).join(' '),
    'aria-label': ariaLabel,
    onClick,
  }, iconName ? icon(iconName, size === 'sm' ? 15 : 17) : null, label ? h('span', null, label) : null);
}

export function badge(text, tone = 'neutral', testid) {
  return h('span', { class: `badge badge-${tone}`, testid }, text);
}

export function statusBadge(status) {
  return status === 'active' ? badge('Active', 'success') : status === 'suspended' ? badge('Suspended', 'warning') : badge(status || 'Unknown');
}

export function kindBadge(kind) {
  const tone = { platform: 'brand', reseller: 'info', creator: 'neutral' }[kind] ?? 'neutral';
  return badge(kind ? kind[0].toUpperCase() + kind.slice(1) : '—', tone);
}

export function emptyState({ iconName = 'info', title, body, action, testid }) {
  return h('div', { class: 'empty', testid },
    h('div', { class: 'empty-icon' }, icon(iconName, 22)),
    h('p', { class: 'empty-title' }, title),
    body ? h('p', { class: 'empty-body' }, body) : null,
    action ?? null,
  );
}

/** Placeholder rows while a table or card loads. */
export function skeleton(lines = 3) {
  return h('div', { class: 'skeleton-group', 'aria-hidden': 'true' },
    Array.from({ length: lines }, (_, i) => h('div', { class: 'skeleton', style: { width: `${90 - (i % 3) * 18}%` } })));
}

export function loadingRegion(label = 'Loading', lines = 3) {
  return h('div', { class: 'loading', role: 'status', 'aria-live': 'polite', testid: 'loading' },
    h('span', { class: 'sr-only' }, `${label}…`), skeleton(lines));
}

/** An error card with a retry button, for a page or panel that failed to load. */
export function loadError(err, retry) {
  return h('div', { class: 'alert alert-danger', role: 'alert', testid: 'load-error' },
    icon('alert', 16),
    h('div', { class: 'grow' }, h('strong', null, 'Could not load this. '), h('span', null, err?.message ?? '')),
    retry ? button('Retry', { size: 'sm', iconName: 'refresh', onClick: retry }) : null,
  );
}

// --- toasts -----------------------------------------------------------------

export function toast(message, tone = 'success') {
  let region = document.getElementById('toasts');
  if (!region) {
    region = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const t = h('div', { class: `toast toast-${tone}`, testid: 'toast' },
    icon(tone === 'danger' ? 'alert' : 'check', 16), h('span', null, message));
  region.append(t);
  // Keep the stack short: the oldest toasts give way to new ones.
  while (region.children.length > 3) region.firstElementChild.remove();
  setTimeout(() => { t.classList.add('leaving'); setTimeout(() => t.remove(), 250); }, 4200);
}

// --- dialogs ----------------------------------------------------------------

/**
 * Opens a modal <dialog> (native focus trap, Escape closes). Returns the dialog
 * and a close function; the dialog removes itself once closed.
 */
export function modal({ title, description, body, footer, testid, wide }) {
  const titleId = nextId('dlg');
  const dialog = h('dialog', { class: `modal${wide ? ' modal-wide' : ''}`, testid, 'aria-labelledby': titleId },
    h('div', { class: 'modal-head' },
      h('div', null,
        h('h2', { id: titleId, class: 'modal-title' }, title),
        description ? h('p', { class: 'modal-desc' }, description) : null),
      button('', { variant: 'ghost', size: 'sm', iconName: 'x', ariaLabel: 'Close', onClick: () => close() })),
    h('div', { class: 'modal-body' }, body),
    footer ? h('div', { class: 'modal-foot' }, footer) : null,
  );
  const close = () => { if (dialog.open) dialog.close(); };
  dialog.addEventListener('close', () => dialog.remove());
  dialog.addEventListener('click', (e) => { if (e.target === dialog) close(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/** Asks a yes/no question in a modal; resolves true when confirmed. */
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    let answer = false;
    const ok = button(confirmLabel, { variant: danger ? 'danger' : 'primary', testid: 'confirm-ok', onClick: () => { answer = true; close(); } });
    const cancel = button('Cancel', { testid: 'confirm-cancel', onClick: () => close() });
    const { dialog, close } = modal({ title, body: h('p', { class: 'modal-text' }, body), footer: [cancel, ok], testid: 'confirm-dialog' });
    dialog.addEventListener('close', () => resolve(answer));
    cancel.focus();
  });
}

// --- clipboard --------------------------------------------------------------

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API needs a secure context; plain http on a LAN address is not one.
    const ta = h('textarea', { class: 'sr-only', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

export function copyButton(getText, { label = 'Copy', ariaLabel, testid, size = 'sm', variant = 'secondary' } = {}) {
  const b = button(label, { variant, size, iconName: 'copy', testid, ariaLabel: ariaLabel ?? (label ? null : 'Copy to clipboard') });
  const initial = [...b.childNodes];
  b.addEventListener('click', async () => {
    const ok = await copyText(typeof getText === 'function' ? getText() : getText);
    const result = ok ? 'Copied' : 'Copy failed';
    b.replaceChildren(icon(ok ? 'check' : 'alert', 15), label ? h('span', null, result) : h('span', { class: 'sr-only' }, result));
    b.classList.toggle('is-done', ok);
    setTimeout(() => { b.replaceChildren(...initial); b.classList.remove('is-done'); }, 1800);
  });
  return b;
}

// --- formatting ---------------------------------------------------------------

const dateFmt = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const numFmt = new Intl.NumberFormat();

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateFmt.format(d);
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTimeFmt.format(d);
}

export function formatRelative(iso) {
  if (!iso) return 'Never';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 45) return 'Just now';
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  for (const [unit, size] of [['minute', 60], ['hour', 3600], ['day', 86400], ['month', 2592000], ['year', 31536000]].reverse()) {
    if (s >= size) return rtf.format(-Math.floor(s / size), unit);
  }
  return rtf.format(-Math.max(1, Math.floor(s / 60)), 'minute');
}

export function formatNumber(n) {
  return numFmt.format(n ?? 0);
}

/** Bytes in binary units (the API's storage limits are whole GiB). */
export function formatBytes(n) {
  if (n == null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1).replace(/\.0$/, '')} ${units[i]}`;
}

/** One or two letters for an avatar standing in for a missing logo. */
export function initials(name = '') {
  const parts = String(name).trim().split(/\s+/).filter(Boolean);
  return ((parts[0]?.[0] ?? '') + (parts[1]?.[0] ?? '')).toUpperCase() || '·';
}
