// Catalog: the title list with bulk import and export, the title editor
// (metadata, artwork, availability, monetization, and for series the
// season/episode tree), the collections editor, and a search preview that
// shows what a viewer in a given country with a given rating limit finds.

import { api, listPage, session } from '../api.js';
import {
  badge, busy, button, clearErrors, confirmDialog, emptyState, field, formAlert, formatDate, h, icon,
  loadError, loadingRegion, mount, showProblem, toast,
} from '../ui.js';

const RATINGS = {
  mpaa: ['G', 'PG', 'PG-13', 'R', 'NC-17'],
  tv: ['TV-Y', 'TV-Y7', 'TV-G', 'TV-PG', 'TV-14', 'TV-MA'],
  pegi: ['PEGI 3', 'PEGI 7', 'PEGI 12', 'PEGI 16', 'PEGI 18'],
};
const TABS = [
  { id: 'titles', label: 'Titles', testid: 'catalog-tab-titles' },
  { id: 'collections', label: 'Collections', testid: 'catalog-tab-collections' },
  { id: 'search', label: 'Search preview', testid: 'catalog-tab-search' },
];
const FACET_TESTIDS = { genre: 'facet-genre', year: 'facet-year', rating: 'facet-rating', kind: 'facet-kind', cast: 'facet-cast' };

const list = (s) => s.split(/[,;\n]/).map((x) => x.trim()).filter(Boolean);
const joined = (l) => (l ?? []).join(', ');
const statusBadge = (s) => badge(s === 'published' ? 'Published' : 'Draft', s === 'published' ? 'success' : 'neutral', 'title-status');

function select(name, options, value, testid) {
  return h('select', { class: 'select input', name, testid },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value ? true : null }, label);
    }));
}

function head(title, sub, ...actions) {
  return h('div', { class: 'page-head' },
    h('div', null, h('h1', { class: 'page-title', tabindex: '-1' }, title), h('p', { class: 'page-sub' }, sub)),
    actions.length ? h('div', { class: 'btn-row' }, actions) : null);
}

export function render(page, { navigate }) {
  const tab = new URLSearchParams(location.hash.split('?')[1] ?? '').get('tab') ?? 'titles';
  const body = h('div');
  mount(page,
    head('Catalog', 'Your titles, the rows of your storefront, and what viewers find when they search.'),
    h('div', { class: 'segmented', role: 'tablist', testid: 'catalog-tabs' },
      TABS.map((t) => h('a', {
        class: `segment${t.id === tab ? ' active' : ''}`, role: 'tab', 'aria-selected': String(t.id === tab),
        href: `#/catalog?tab=${t.id}`, testid: t.testid,
      }, t.label))),
    body);
  if (tab === 'collections') collections(body);
  else if (tab === 'search') searchPreview(body);
  else titles(body, navigate);
}

// --- titles -----------------------------------------------------------

function titles(body, navigate) {
  const rows = h('tbody');
  const more = button('Load more', { testid: 'titles-more', onClick: () => load(cursor) });
  let cursor = null;
  const load = async (after) => {
    try {
      const { data, next } = await listPage('/v1/titles', { limit: 50, cursor: after });
      if (!after) rows.replaceChildren();
      for (const t of data) {
        rows.append(h('tr', { testid: 'title-row' },
          h('td', null, h('a', { href: `#/catalog/${t.id}`, class: 'cell-strong', testid: 'title-link' }, t.title)),
          h('td', null, t.kind), h('td', null, statusBadge(t.status)), h('td', null, t.release_year ?? '—'),
          h('td', null, t.monetization?.model ?? 'free'), h('td', null, formatDate(t.updated_at))));
      }
      cursor = next;
      more.hidden = !next;
      if (!after && data.length === 0) {
        table.replaceWith(emptyState({ iconName: 'film', title: 'No titles yet', body: 'Create a movie or a series, or import a JSON or CSV file.', testid: 'titles-empty' }));
      }
    } catch (err) {
      body.replaceChildren(loadError(err, () => titles(body, navigate)));
    }
  };
  const table = h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'titles-table' },
    h('thead', null, h('tr', null, ['Title', 'Kind', 'Status', 'Year', 'Monetization', 'Updated'].map((c) => h('th', null, c)))), rows));

  const file = h('input', { type: 'file', accept: '.json,.csv,application/json,text/csv', class: 'file-input', testid: 'import-file', 'aria-label': 'Import file' });
  const report = h('div', { testid: 'import-report', 'aria-live': 'polite' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    const csv = f.name.endsWith('.csv') || f.type === 'text/csv';
    try {
      const r = await api('POST', '/v1/titles/import', { raw: await f.text(), contentType: csv ? 'text/csv' : 'application/json' });
      report.replaceChildren(h('div', { class: `alert ${r.refused.length ? 'alert-warning' : ''}`, role: 'status' },
        h('p', null, `Imported ${r.created} new and ${r.updated} updated titles; ${r.refused.length} rows refused.`),
        r.refused.length ? h('ul', null, r.refused.map((x) => h('li', { testid: 'import-refused' }, `Row ${x.row}${x.field ? ` (${x.field})` : ''}: ${x.message}`))) : null));
      load(null);
    } catch (err) {
      report.replaceChildren(h('div', { class: 'alert alert-danger', role: 'alert' }, err.message));
    }
    file.value = '';
  });
  const download = async (format) => {
    const res = await fetch(`/v1/titles/export?format=${format}`, { headers: authHeaders() });
    const blob = await res.blob();
    const a = h('a', { href: URL.createObjectURL(blob), download: `titles.${format}` });
    a.click();
    URL.revokeObjectURL(a.href);
  };
  body.replaceChildren(
    h('div', { class: 'btn-row' },
      button('New title', { variant: 'primary', iconName: 'plus', testid: 'title-new', onClick: () => navigate('/catalog/new') }),
      h('label', { class: 'btn btn-secondary' }, icon('upload'), h('span', null, 'Import JSON or CSV'), file),
      button('Export JSON', { testid: 'export-json', onClick: () => download('json') }),
      button('Export CSV', { testid: 'export-csv', onClick: () => download('csv') })),
    report, table, h('div', { class: 'load-more' }, more));
  load(null);
}

/** The credentials api() sends, for a download the browser saves. */
function authHeaders() {
  const out = {};
  if (session.token) out.Authorization = `Bearer ${session.token}`;
  if (session.acting?.id) out['Marquee-Tenant'] = session.acting.id;
  return out;
}

function toInput(t) {
  return {
    kind: t.kind, status: t.status, title: t.title, synopsis: t.synopsis, genres: t.genres, tags: t.tags, credits: t.credits,
    release_year: t.release_year ?? undefined, runtime_minutes: t.runtime_minutes ?? undefined, rating: t.rating ?? undefined,
    audio_languages: t.audio_languages, subtitle_languages: t.subtitle_languages,
    artwork: { poster: t.artwork?.poster?.startsWith('https://') ? t.artwork.poster : undefined, backdrop: t.artwork?.backdrop || undefined },
    asset_id: t.asset_id || undefined, availability: t.availability, monetization: t.monetization,
  };
}

const localTime = (iso) => (iso ? new Date(iso).toISOString().slice(0, 16) : '');
const isoTime = (v) => (v ? new Date(`${v}Z`).toISOString() : null);

export async function renderEditor(page, { params, navigate }) {
  const isNew = params.id === 'new';
  mount(page, h('a', { href: '#/catalog', class: 'back-link' }, icon('back'), 'Catalog'), loadingRegion('Loading title', 8));
  let t = { kind: 'movie', status: 'draft', title: '', synopsis: '', genres: [], tags: [], credits: [], availability: {}, monetization: { model: 'free' }, artwork: {} };
  if (!isNew) {
    try {
      t = await api('GET', `/v1/titles/${encodeURIComponent(params.id)}`);
    } catch (err) {
      mount(page, loadError(err, () => renderEditor(page, { params, navigate })));
      return;
    }
  }
  const cast = (t.credits ?? []).filter((c) => c.role === 'actor').map((c) => (c.character ? `${c.name} as ${c.character}` : c.name)).join('\n');
  const crew = (t.credits ?? []).filter((c) => c.role !== 'actor').map((c) => `${c.name} (${c.role})`).join('\n');
  const ratingValue = t.rating ? `${t.rating.system}:${t.rating.value}` : '';
  const ratingOptions = [['', 'Unrated'], ...Object.entries(RATINGS).flatMap(([sys, vs]) => vs.map((v) => [`${sys}:${v}`, `${v} (${sys.toUpperCase()})`]))];
  const m = t.monetization ?? { model: 'free' };
  const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'title-save' }, h('span', null, isNew ? 'Create title' : 'Save changes'));
  const textarea = (name, value, testid, rows = 3) => h('textarea', { class: 'input', name, rows: String(rows), testid }, value ?? '');
  const form = h('form', { class: 'form', novalidate: true, testid: 'title-form' },
    formAlert(),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Metadata')),
      h('div', { class: 'card-body stack' },
        h('div', { class: 'form-row' },
          field({ label: 'Kind', name: 'kind', control: select('kind', [['movie', 'Movie'], ['series', 'Series']], t.kind, 'title-kind') }),
          field({ label: 'Status', name: 'status', control: select('status', [['draft', 'Draft'], ['published', 'Published']], t.status, 'title-status-select') })),
        field({ label: 'Title', name: 'title', value: t.title, testid: 'title-title', required: true }),
        field({ label: 'Synopsis', name: 'synopsis', control: textarea('synopsis', t.synopsis, 'title-synopsis', 4) }),
        h('div', { class: 'form-row' },
          field({ label: 'Genres', name: 'genres', value: joined(t.genres), testid: 'title-genres', hint: 'Comma-separated, e.g. drama, crime' }),
          field({ label: 'Tags', name: 'tags', value: joined(t.tags), testid: 'title-tags', optional: true })),
        h('div', { class: 'form-row' },
          field({ label: 'Cast', name: 'credits', control: textarea('cast', cast, 'title-cast'), hint: 'One per line: “Name as Character”' }),
          field({ label: 'Crew', name: 'crew', control: textarea('crew', crew, 'title-crew'), hint: 'One per line: “Name (director)”' })),
        h('div', { class: 'form-row' },
          field({ label: 'Release year', name: 'release_year', type: 'number', value: t.release_year ?? '', testid: 'title-year' }),
          field({ label: 'Runtime (minutes)', name: 'runtime_minutes', type: 'number', value: t.runtime_minutes ?? '', testid: 'title-runtime' }),
          field({ label: 'Content rating', name: 'rating', control: select('rating', ratingOptions, ratingValue, 'title-rating') })),
        h('div', { class: 'form-row' },
          field({ label: 'Audio languages', name: 'audio_languages', value: joined(t.audio_languages), testid: 'title-audio', hint: 'e.g. en, fr' }),
          field({ label: 'Subtitle languages', name: 'subtitle_languages', value: joined(t.subtitle_languages), testid: 'title-subtitles' })))),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Media and artwork')),
      h('div', { class: 'card-body stack' },
        field({ label: 'Asset', name: 'asset_id', value: t.asset_id ?? '', testid: 'title-asset', hint: 'The video (ast_…). Without a poster URL, the pipeline’s poster of this asset is used.' }),
        h('div', { class: 'form-row' },
          field({ label: 'Poster URL', name: 'artwork.poster', value: t.artwork?.poster?.startsWith('https://') ? t.artwork.poster : '', testid: 'title-poster', optional: true }),
          field({ label: 'Backdrop URL', name: 'artwork.backdrop', value: t.artwork?.backdrop ?? '', testid: 'title-backdrop', optional: true })),
        t.artwork?.poster ? h('img', { src: t.artwork.poster, alt: 'Poster', class: 'logo-thumb', testid: 'title-poster-preview' }) : null)),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Availability')),
      h('div', { class: 'card-body stack' },
        h('div', { class: 'form-row' },
          field({ label: 'Available from (UTC)', name: 'availability.from', type: 'datetime-local', value: localTime(t.availability?.from), testid: 'title-from', optional: true }),
          field({ label: 'Available until (UTC)', name: 'availability.until', type: 'datetime-local', value: localTime(t.availability?.until), testid: 'title-until', optional: true })),
        h('div', { class: 'form-row' },
          field({ label: 'Only in countries', name: 'availability.allowed_countries', value: joined(t.availability?.allowed_countries), testid: 'title-allowed', hint: 'ISO codes, e.g. US, CA; empty means everywhere' }),
          field({ label: 'Blocked in countries', name: 'availability.blocked_countries', value: joined(t.availability?.blocked_countries), testid: 'title-blocked' })))),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Monetization')),
      h('div', { class: 'card-body form-row' },
        field({ label: 'Model', name: 'monetization.model', control: select('model', [['free', 'Free'], ['avod', 'Free with ads (AVOD)'], ['svod', 'Subscription (SVOD)'], ['tvod', 'Rent or buy (TVOD)']], m.model, 'title-model') }),
        field({ label: 'Subscription tier', name: 'monetization.tier', value: m.tier ?? '', testid: 'title-tier', hint: 'SVOD only' }),
        field({ label: 'Price (cents)', name: 'monetization.price', type: 'number', value: m.price?.amount ?? '', testid: 'title-price', hint: 'TVOD only' }),
        field({ label: 'Currency', name: 'monetization.price.currency', value: m.price?.currency ?? 'USD', testid: 'title-currency' }))),
    h('div', { class: 'savebar' }, h('div', { class: 'btn-row' },
      isNew ? null : button('Delete', { variant: 'danger-ghost', testid: 'title-delete', onClick: remove }), save)));

  function values() {
    const e = form.elements;
    const credits = [
      ...list(e.credits.value.replace(/\n/g, ';')).map((l) => { const [name, character] = l.split(/\s+as\s+/); return { name, role: 'actor', character }; }),
      ...list(e.crew.value.replace(/\n/g, ';')).map((l) => { const mm = l.match(/^(.*?)\s*\((.+)\)$/); return mm ? { name: mm[1], role: mm[2] } : { name: l, role: 'crew' }; }),
    ];
    const [system, value] = e.rating.value ? e.rating.value.split(':') : [];
    const model = e['monetization.model'].value;
    const num = (v) => (v === '' ? undefined : Number(v));
    return {
      kind: e.kind.value, status: e.status.value, title: e.title.value, synopsis: e.synopsis.value,
      genres: list(e.genres.value), tags: list(e.tags.value), credits,
      release_year: num(e.release_year.value), runtime_minutes: num(e.runtime_minutes.value), rating: system ? { system, value } : undefined,
      audio_languages: list(e.audio_languages.value), subtitle_languages: list(e.subtitle_languages.value),
      asset_id: e.asset_id.value.trim() || undefined,
      artwork: { poster: e['artwork.poster'].value.trim() || undefined, backdrop: e['artwork.backdrop'].value.trim() || undefined },
      availability: {
        from: isoTime(e['availability.from'].value), until: isoTime(e['availability.until'].value),
        allowed_countries: list(e['availability.allowed_countries'].value), blocked_countries: list(e['availability.blocked_countries'].value),
      },
      monetization: {
        model, tier: model === 'svod' ? e['monetization.tier'].value.trim() : undefined,
        price: model === 'tvod' ? { amount: num(e['monetization.price'].value) ?? 0, currency: e['monetization.price.currency'].value.trim() } : undefined,
      },
    };
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearErrors(form);
    busy(save, async () => {
      try {
        const saved = isNew
          ? await api('POST', '/v1/titles', { body: values() })
          : await api('PUT', `/v1/titles/${encodeURIComponent(t.id)}`, { body: values() });
        toast(isNew ? 'Title created' : 'Title saved');
        if (isNew) navigate(`/catalog/${saved.id}`);
      } catch (err) {
        showProblem(form, err);
      }
    });
  });
  async function remove() {
    if (!(await confirmDialog({ title: `Delete “${t.title}”?`, body: 'Its seasons, episodes and watch history go with it.', confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api('DELETE', `/v1/titles/${encodeURIComponent(t.id)}`);
      toast('Title deleted');
      navigate('/catalog');
    } catch (err) {
      toast(err.message, 'danger');
    }
  }
  mount(page,
    h('a', { href: '#/catalog', class: 'back-link' }, icon('back'), 'Catalog'),
    head(isNew ? 'New title' : t.title, isNew ? 'A movie, or a series to which you then add seasons and episodes.' : `${t.kind} · ${t.id}`,
      isNew ? null : statusBadge(t.status)),
    form,
    !isNew && t.kind === 'series' ? seasonTree(t) : null);
}

function seasonTree(t) {
  const base = `/v1/titles/${encodeURIComponent(t.id)}/seasons`;
  const box = h('section', { class: 'card', testid: 'season-tree' });
  const number = field({ label: 'Season number', name: 'number', type: 'number', testid: 'season-number' });
  const add = h('form', { class: 'form-row form-row-action' }, number,
    h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'season-add' }, 'Add season'));
  add.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', base, { body: { number: Number(add.elements.number.value) } });
      load();
    } catch (err) {
      showProblem(add, err);
    }
  });
  const load = async () => {
    try {
      const { data } = await api('GET', base);
      mount(box, h('div', { class: 'card-head' }, h('h2', { class: 'card-title' }, 'Seasons and episodes')),
        h('div', { class: 'card-body stack' },
          data.length ? h('ul', { class: 'stack' }, data.map((s) => seasonItem(s))) : h('p', { class: 'muted' }, 'No seasons yet.'),
          add));
    } catch (err) {
      mount(box, loadError(err, load));
    }
  };
  const seasonItem = (s) => {
    const ep = h('form', { class: 'form-row form-row-action' },
      field({ label: 'Episode', name: 'number', type: 'number', testid: 'episode-number' }),
      field({ label: 'Name', name: 'name', testid: 'episode-name' }),
      field({ label: 'Asset', name: 'asset_id', testid: 'episode-asset', optional: true }),
      h('button', { type: 'submit', class: 'btn btn-secondary', testid: 'episode-add' }, 'Add episode'));
    ep.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const e = ep.elements;
      try {
        await api('POST', `${base}/${s.id}/episodes`, { body: { number: Number(e.number.value), name: e.name.value, asset_id: e.asset_id.value.trim() || undefined } });
        load();
      } catch (err) {
        showProblem(ep, err);
      }
    });
    const del = (path) => async () => {
      try { await api('DELETE', path); load(); } catch (err) { toast(err.message, 'danger'); }
    };
    return h('li', { testid: 'season-item' },
      h('div', { class: 'btn-row' }, h('strong', null, `Season ${s.number}${s.name ? ` — ${s.name}` : ''}`),
        button('Delete season', { variant: 'ghost', size: 'sm', onClick: del(`${base}/${s.id}`) })),
      h('ol', null, s.episodes.map((e) => h('li', { testid: 'episode-item' }, `${e.number}. ${e.name || 'Untitled'}${e.asset_id ? ` · ${e.asset_id}` : ''} `,
        button('Delete', { variant: 'ghost', size: 'sm', onClick: del(`${base}/${s.id}/episodes/${e.id}`) })))),
      ep);
  };
  load();
  return box;
}

// --- collections --------------------------------------------------------

async function collections(body) {
  body.replaceChildren(loadingRegion('Loading collections', 4));
  let all, titlesByID;
  try {
    const [cs, ts] = await Promise.all([api('GET', '/v1/collections?limit=200'), api('GET', '/v1/titles?limit=200')]);
    all = cs.data;
    titlesByID = Object.fromEntries(ts.data.map((t) => [t.id, t]));
  } catch (err) {
    body.replaceChildren(loadError(err, () => collections(body)));
    return;
  }
  const editor = (c) => {
    let items = [...(c?.title_ids ?? [])];
    const itemsEl = h('ol', { testid: 'collection-items' });
    const drawItems = () => itemsEl.replaceChildren(...items.map((id, i) => h('li', { testid: 'collection-item' },
      titlesByID[id]?.title ?? id, ' ',
      button('↑', { size: 'sm', variant: 'ghost', ariaLabel: 'Move up', onClick: () => { if (i > 0) { [items[i - 1], items[i]] = [items[i], items[i - 1]]; drawItems(); } } }),
      button('↓', { size: 'sm', variant: 'ghost', ariaLabel: 'Move down', onClick: () => { if (i < items.length - 1) { [items[i + 1], items[i]] = [items[i], items[i + 1]]; drawItems(); } } }),
      button('Remove', { size: 'sm', variant: 'ghost', onClick: () => { items.splice(i, 1); drawItems(); } }))));
    drawItems();
    const picker = select('add', [['', 'Add a title…'], ...Object.values(titlesByID).map((t) => [t.id, t.title])], '', 'collection-add-title');
    picker.addEventListener('change', () => { if (picker.value && !items.includes(picker.value)) items.push(picker.value); picker.value = ''; drawItems(); });
    const save = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'collection-save' }, c ? 'Save collection' : 'Create collection');
    const form = h('form', { class: 'card form', testid: 'collection-form' },
      h('div', { class: 'card-body stack' }, formAlert(),
        h('div', { class: 'form-row' },
          field({ label: 'Name', name: 'name', value: c?.name ?? '', testid: 'collection-name' }),
          field({ label: 'Status', name: 'status', control: select('status', [['draft', 'Draft'], ['published', 'Published']], c?.status ?? 'draft', 'collection-status') }),
          field({ label: 'Position', name: 'position', type: 'number', value: c?.position ?? 0, testid: 'collection-position' })),
        itemsEl, picker,
        h('div', { class: 'btn-row' }, c ? button('Delete', { variant: 'danger-ghost', onClick: async () => { await api('DELETE', `/v1/collections/${c.id}`); collections(body); } }) : null, save)));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const e = form.elements;
      const payload = { name: e.name.value, status: e.status.value, position: Number(e.position.value) || 0, title_ids: items };
      busy(save, async () => {
        try {
          if (c) await api('PUT', `/v1/collections/${c.id}`, { body: payload });
          else await api('POST', '/v1/collections', { body: payload });
          toast('Collection saved');
          collections(body);
        } catch (err) {
          showProblem(form, err);
        }
      });
    });
    return form;
  };
  body.replaceChildren(
    h('h2', { class: 'card-title' }, 'New collection'), editor(null),
    ...all.sort((a, b) => a.position - b.position).map((c) => h('div', { testid: 'collection' }, h('h2', { class: 'card-title' }, c.name, ' ', statusBadge(c.status)), editor(c))));
}

// --- search preview -----------------------------------------------------

function searchPreview(body) {
  const results = h('div', { testid: 'search-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'form-row form-row-action', testid: 'search-form', role: 'search' },
    field({ label: 'Search', name: 'q', testid: 'search-q', placeholder: 'Title, cast, genre…' }),
    field({ label: 'Viewer country', name: 'country', testid: 'search-country', placeholder: 'US' }),
    field({ label: 'Rating limit', name: 'max_rating', control: select('max_rating', [['', 'None'], ...Object.values(RATINGS).flat()], '', 'search-max-rating') }),
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'search-go' }, 'Search'));
  const facet = { genre: '', year: '', rating: '', kind: '', cast: '' };
  const run = async () => {
    const e = form.elements;
    const qs = new URLSearchParams({ q: e.q.value, country: e.country.value.trim(), max_rating: e.max_rating.value });
    for (const [k, v] of Object.entries(facet)) if (v) qs.set(k, v);
    try {
      const r = await api('GET', `/v1/search?${qs}`);
      const facets = Object.entries(r.facets).filter(([, fs]) => fs.length).map(([name, fs]) => h('div', { testid: FACET_TESTIDS[name] },
        h('strong', null, name), ' ',
        fs.map((f) => button(`${f.value} (${f.count})`, { size: 'sm', variant: facet[name] === f.value ? 'primary' : 'ghost', onClick: () => { facet[name] = facet[name] === f.value ? '' : f.value; run(); } }))));
      results.replaceChildren(
        h('p', { class: 'muted', testid: 'search-total' }, `${r.total} titles a viewer ${e.country.value ? `in ${e.country.value.toUpperCase()} ` : ''}can find`),
        ...facets,
        r.data.length ? h('ol', null, r.data.map((x) => h('li', { testid: 'search-hit' }, h('a', { href: `#/catalog/${x.id}` }, x.title), ` · ${x.kind}${x.release_year ? ` · ${x.release_year}` : ''}${x.rating ? ` · ${x.rating.value}` : ''} · score ${x.score}`)))
          : emptyState({ iconName: 'info', title: 'Nothing found', body: 'Only published titles available to this viewer now appear.', testid: 'search-empty' }));
    } catch (err) {
      showProblem(form, err);
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
  body.replaceChildren(h('p', { class: 'muted' }, 'See what a viewer finds: only published titles inside their availability window, allowed in the country and within the rating limit.'), form, results);
  run();
}
