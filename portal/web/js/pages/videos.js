// Videos: the asset list with live transcode progress, "Add video" (from a URL,
// or a resumable tus upload of a file), and the detail page with renditions,
// the error when one failed, a Shaka Player preview (DASH or HLS) and delete.
//
// Progress is polled (GET /v1/assets/{id} every second while an asset is
// waiting or processing); the API has no server-sent events yet.

import { api, ApiError, listPage } from '../api.js';
import {
  badge, busy, button, clearErrors, confirmDialog, copyButton, emptyState, field, formAlert, formatDate,
  formatDateTime, h, icon, loadError, loadingRegion, modal, mount, showProblem, toast,
} from '../ui.js';
import { CHUNK_SIZE, createTusUpload, rememberedUpload, rememberUpload, tusUpload, uploadOffset } from '../tus.js';
import { playbackSection } from './playback.js';

const POLL_MS = 1000;
const busyStatus = (s) => s === 'waiting' || s === 'processing';

const STATUS = {
  waiting: { label: 'Queued', tone: 'neutral' },
  processing: { label: 'Processing', tone: 'info' },
  ready: { label: 'Ready', tone: 'success' },
  errored: { label: 'Errored', tone: 'danger' },
};

function assetBadge(status) {
  const s = STATUS[status] ?? { label: status || 'Unknown', tone: 'neutral' };
  const b = badge(s.label, s.tone, 'video-status');
  b.dataset.status = status ?? '';
  return b;
}

function progressBar(pct, testid = 'video-progress') {
  const p = Math.max(0, Math.min(100, Number(pct) || 0));
  return h('div', { class: 'video-progress', testid },
    h('div', { class: 'meter', role: 'progressbar', 'aria-label': 'Transcode progress', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p)) },
      h('div', { class: 'meter-fill', style: { width: `${Math.max(p, 2)}%` } })),
    h('span', { class: 'video-progress-pct' }, `${Math.round(p)}%`));
}

export function formatDuration(sec) {
  if (sec == null || !Number.isFinite(Number(sec))) return '—';
  const s = Math.round(Number(sec));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

function formatBitrate(bps) {
  if (!bps) return '—';
  return bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mbps` : `${Math.round(bps / 1e3)} kbps`;
}

function poster(a, cls = 'video-thumb') {
  if (a.status === 'ready' && a.playback) {
    const img = h('img', { src: `/stream/${encodeURIComponent(a.id)}/poster.jpg`, alt: '', loading: 'lazy', testid: 'video-poster' });
    img.addEventListener('error', () => img.replaceWith(icon('play', 18)), { once: true });
    return h('div', { class: cls }, img);
  }
  return h('div', { class: `${cls} ${cls}-empty` }, icon(a.status === 'errored' ? 'alert' : 'play', 18));
}

const shortId = (id) => (id?.length > 14 ? `${id.slice(0, 14)}…` : id);

// --- list -----------------------------------------------------------------------

export function render(page, { navigate }) {
  const list = h('div', { class: 'card-body flush' }, loadingRegion('Loading videos', 3));
  const count = h('span', { class: 'count', hidden: true });
  const addBtn = button('Add video', { variant: 'primary', iconName: 'plus', testid: 'video-add', onClick: () => openAdd() });

  mount(page,
    h('div', { class: 'page-head' },
      h('div', null,
        h('h1', { class: 'page-title', tabindex: '-1' }, 'Videos'),
        h('p', { class: 'page-sub' }, 'Upload or import videos; Marquee transcodes each into an adaptive HLS and DASH ladder.')),
      addBtn),
    h('section', { class: 'card', 'aria-labelledby': 'videos-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'videos-heading', class: 'card-title' }, 'Library ', count)),
      list));

  let rows = [];
  let next = null;
  let timer = null;

  async function load() {
    try {
      const p = await listPage('/v1/assets', { limit: 50 });
      rows = p.data;
      next = p.next;
      draw();
      schedule();
    } catch (err) {
      list.replaceChildren(loadError(err, load));
    }
  }

  async function loadMore(btn) {
    try {
      const p = await busy(btn, () => listPage('/v1/assets', { limit: 50, cursor: next }));
      rows = rows.concat(p.data);
      next = p.next;
      draw();
      schedule();
    } catch (err) {
      toast(err.message, 'danger');
    }
  }

  // While anything is queued or transcoding, ask about those assets every second.
  function schedule() {
    clearTimeout(timer);
    if (!rows.some((a) => busyStatus(a.status))) return;
    timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (!page.isConnected) return;
    const pending = rows.filter((a) => busyStatus(a.status));
    const fresh = await Promise.all(pending.map((a) =>
      api('GET', `/v1/assets/${encodeURIComponent(a.id)}`).catch((err) => (err.status === 404 ? { id: a.id, gone: true } : a))));
    if (!page.isConnected) return;
    for (const f of fresh) {
      const i = rows.findIndex((r) => r.id === f.id);
      if (i < 0) continue;
      if (f.gone) rows.splice(i, 1);
      else {
        if (rows[i].status !== f.status && f.status === 'ready') toast('A video is ready to play');
        rows[i] = f;
      }
    }
    draw();
    schedule();
  }

  function draw() {
    count.hidden = rows.length === 0;
    count.textContent = String(rows.length) + (next ? '+' : '');
    if (rows.length === 0) {
      list.replaceChildren(emptyState({
        iconName: 'play', testid: 'videos-empty', title: 'No videos yet',
        body: 'Add a video from a link or upload a file. It will be ready to stream in adaptive HLS and DASH.',
        action: button('Add video', { variant: 'primary', iconName: 'plus', onClick: () => openAdd() }),
      }));
      return;
    }
    mount(list,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table videos-table', testid: 'videos-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Video'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Duration'),
          h('th', { scope: 'col', class: 'hide-sm' }, 'Renditions'), h('th', { scope: 'col', class: 'hide-sm' }, 'Added'))),
        h('tbody', null, rows.map(row)))),
      next ? h('div', { class: 'load-more' }, button('Load more', { testid: 'videos-more', onClick: (e) => loadMore(e.currentTarget) })) : null);
  }

  function row(a) {
    const href = `#/videos/${encodeURIComponent(a.id)}`;
    const tr = h('tr', { class: 'row-link', testid: 'video-row', 'data-asset-id': a.id, 'data-status': a.status },
      h('td', null, h('a', { class: 'video-cell', href, testid: 'video-link' }, poster(a),
        h('span', { class: 'cell-stack' },
          h('span', { class: 'cell-strong mono', title: a.id }, shortId(a.id)),
          h('span', { class: 'muted small' }, a.status !== 'ready' ? (STATUS[a.status]?.label ?? '') : a.has_audio ? 'Video + audio' : 'Video only')))),
      h('td', null, h('div', { class: 'status-cell' }, assetBadge(a.status),
        a.status === 'processing' ? progressBar(a.progress) : null,
        a.status === 'errored' && a.error ? h('span', { class: 'muted small', testid: 'video-error-code' }, a.error.code) : null)),
      h('td', { class: 'num', testid: 'video-duration' }, formatDuration(a.duration)),
      h('td', { class: 'hide-sm num', testid: 'video-renditions' }, a.renditions?.length ? String(a.renditions.length) : '—'),
      h('td', { class: 'hide-sm muted' }, h('time', { datetime: a.created_at, title: formatDateTime(a.created_at) }, formatDate(a.created_at))));
    tr.addEventListener('click', (e) => { if (!e.target.closest('a, button')) navigate(`/videos/${encodeURIComponent(a.id)}`); });
    return tr;
  }

  function openAdd() {
    const onCreatedAsset = (asset) => {
      if (asset && !rows.some((r) => r.id === asset.id)) rows.unshift(asset);
      draw();
      schedule();
    };
    openAddDialog({
      onCreated: onCreatedAsset,
      onUploaded: async (assetId) => {
        if (!assetId) { load(); return; }
        try { onCreatedAsset(await api('GET', `/v1/assets/${encodeURIComponent(assetId)}`)); } catch { load(); }
      },
    });
  }

  window.addEventListener('hashchange', () => clearTimeout(timer), { once: true });
  load();
}

// --- add video ------------------------------------------------------------------

// protectionField chooses how a new video is packaged: clear (played from
// /stream and public or signed playback ids) or encrypted (cenc + cbcs,
// played only through drm playback ids with a license).
function protectionField(testid) {
  const select = h('select', { name: 'protection', class: 'input', testid },
    h('option', { value: 'clear' }, 'Clear'),
    h('option', { value: 'drm' }, 'DRM-encrypted (Clear Key, Widevine, PlayReady, FairPlay)'));
  return field({ label: 'Protection', name: 'protection', control: select, hint: 'Encrypted videos play only through a drm playback id and a license. This cannot be changed later.' });
}

function openAddDialog({ onCreated, onUploaded }) {
  // From a URL.
  const urlSubmit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'video-url-submit' }, icon('globe', 17), h('span', null, 'Import video'));
  const urlForm = h('form', { class: 'form', novalidate: true, testid: 'video-url-form' },
    formAlert(),
    field({ label: 'Video URL', name: 'input', type: 'url', testid: 'video-url-input', placeholder: 'https://media.example.com/trailer.mp4', hint: 'A direct link to a video file that Marquee can download (MP4, MOV, MKV, WebM…).' }),
    protectionField('video-url-protection'),
    h('div', { class: 'form-actions' }, urlSubmit));
  urlForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(urlForm);
    const input = urlForm.elements.input.value.trim();
    if (!input) { showProblem(urlForm, { field: 'input', message: 'Paste a link to a video file.' }); return; }
    const body = { input };
    if (urlForm.elements.protection.value === 'drm') body.playback_policy = 'drm';
    try {
      const asset = await busy(urlSubmit, () => api('POST', '/v1/assets', { body }));
      close();
      toast('Video added: transcoding has started');
      onCreated(asset);
    } catch (err) {
      showProblem(urlForm, err);
    }
  });

  // From a file, resumable.
  const fileInput = h('input', { type: 'file', accept: 'video/*,.mp4,.mov,.mkv,.webm', class: 'file-input', testid: 'video-file-input', name: 'file' });
  const progress = h('div', { class: 'upload-progress', testid: 'upload-progress', hidden: true });
  const uploadSubmit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'video-upload-submit' }, icon('upload', 17), h('span', null, 'Upload'));
  const cancelBtn = button('Pause', { testid: 'video-upload-pause', iconName: 'pause' });
  cancelBtn.hidden = true;
  const fileForm = h('form', { class: 'form', novalidate: true, testid: 'video-upload-form' },
    formAlert(),
    field({ label: 'Video file', name: 'file', control: fileInput, hint: `Sent in ${CHUNK_SIZE / (1024 * 1024)} MiB chunks. If the connection drops, pick the same file again to resume where it stopped.` }),
    protectionField('video-upload-protection'),
    progress,
    h('div', { class: 'form-actions' }, cancelBtn, uploadSubmit));
  let controller = null;
  cancelBtn.addEventListener('click', () => controller?.abort());

  function showProgress(sent, total, note) {
    const pct = total ? (sent / total) * 100 : 0;
    progress.hidden = false;
    mount(progress,
      h('div', { class: 'upload-progress-top' },
        h('span', { class: 'upload-progress-name' }, note),
        h('span', { class: 'quota-pct', testid: 'upload-progress-pct' }, `${Math.floor(pct)}%`)),
      h('div', { class: 'meter', role: 'progressbar', 'aria-label': 'Upload progress', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.floor(pct)) },
        h('div', { class: 'meter-fill', style: { width: `${pct}%` } })),
      h('span', { class: 'muted small' }, `${formatMiB(sent)} of ${formatMiB(total)}`));
  }

  fileForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(fileForm);
    const file = fileInput.files?.[0];
    if (!file) { showProblem(fileForm, { field: 'file', message: 'Choose a video file to upload.' }); return; }
    uploadSubmit.disabled = true;
    fileInput.disabled = true;
    cancelBtn.hidden = false;
    controller = new AbortController();
    let uploadedAsset = null;
    try {
      // Resume a remembered upload of the same file if the server still has it.
      let upload = rememberedUpload(file);
      if (upload?.expires_at && Date.parse(upload.expires_at) < Date.now()) upload = null;
      if (upload) {
        try { await uploadOffset(upload.location); } catch { upload = null; }
      }
      if (!upload) {
        const reserve = { size: file.size };
        if (fileForm.elements.protection.value === 'drm') reserve.playback_policy = 'drm';
        const reserved = await api('POST', '/v1/uploads', { body: reserve });
        const endpoint = new URL(reserved.url, location.href).href;
        const loc = await createTusUpload(endpoint, file.size);
        upload = { id: reserved.id, location: loc, expires_at: reserved.expires_at };
        rememberUpload(file, upload);
      }
      showProgress(0, file.size, `Uploading ${file.name}`);
      // The token in the upload's URL is its credential: no bearer goes with the bytes.
      const done = await tusUpload(upload.location, file, {
        signal: controller.signal, onProgress: (sent, total) => showProgress(sent, total, `Uploading ${file.name}`),
      });
      uploadedAsset = done.assetId;
      rememberUpload(file, null);
      showProgress(file.size, file.size, 'Upload complete');
      close();
      toast('Upload complete: transcoding has started');
      onUploaded(uploadedAsset);
    } catch (err) {
      if (err.status === 404 || err.status === 405) {
        showProblem(fileForm, new ApiError(err.status, { detail: 'File uploads are not available on this server yet. Import the video from a URL instead.' }));
      } else if (err.aborted) {
        showProblem(fileForm, { message: 'Upload paused. Pick the same file and press Upload to resume.' });
      } else {
        showProblem(fileForm, err);
      }
    } finally {
      controller = null;
      uploadSubmit.disabled = false;
      fileInput.disabled = false;
      cancelBtn.hidden = true;
    }
  });

  const panes = { url: urlForm, file: fileForm };
  const tabs = h('div', { class: 'segmented', role: 'tablist', 'aria-label': 'How to add the video' });
  function select(which) {
    for (const b of tabs.children) {
      const on = b.dataset.pane === which;
      b.setAttribute('aria-selected', String(on));
      b.classList.toggle('active', on);
    }
    for (const [k, p] of Object.entries(panes)) p.hidden = k !== which;
  }
  tabs.append(
    h('button', { type: 'button', role: 'tab', class: 'segment', 'data-pane': 'url', testid: 'video-add-url-tab', onClick: () => select('url') }, icon('globe', 15), h('span', null, 'From a URL')),
    h('button', { type: 'button', role: 'tab', class: 'segment', 'data-pane': 'file', testid: 'video-add-file-tab', onClick: () => select('file') }, icon('upload', 15), h('span', null, 'Upload a file')));
  select('url');

  const { dialog, close } = modal({
    title: 'Add a video', description: 'Import it from a link or upload it from this computer.',
    body: h('div', { class: 'stack' }, tabs, urlForm, fileForm), testid: 'video-add-dialog',
  });
  dialog.addEventListener('close', () => controller?.abort());
  urlForm.elements.input.focus();
}

function formatMiB(n) {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

// --- detail ---------------------------------------------------------------------

export function renderDetail(page, { navigate, params }) {
  const id = params.id;
  const body = h('div', { class: 'stack' }, loadingRegion('Loading the video', 5));
  const back = h('a', { class: 'back-link', href: '#/videos', testid: 'video-back' }, icon('back', 16), h('span', null, 'Videos'));
  const title = h('h1', { class: 'page-title', tabindex: '-1' }, 'Video');
  const headActions = h('div', { class: 'btn-row' });
  mount(page,
    back,
    h('div', { class: 'page-head' },
      h('div', null, title, h('p', { class: 'page-sub mono', testid: 'video-id' }, id)),
      headActions),
    body);

  let asset = null;
  let timer = null;
  let player = null;
  let drawnStatus = null;
  // Playback ids and the protected preview: built once, kept across redraws.
  let pbSection = null;

  async function load() {
    try {
      asset = await api('GET', `/v1/assets/${encodeURIComponent(id)}`);
      draw();
      schedule();
    } catch (err) {
      if (err.status === 404) {
        mount(body, emptyState({ iconName: 'alert', title: 'Video not found', body: 'It may have been deleted.', testid: 'video-not-found', action: button('Back to videos', { onClick: () => navigate('/videos') }) }));
        return;
      }
      body.replaceChildren(loadError(err, load));
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (busyStatus(asset?.status)) timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (!page.isConnected) return;
    try {
      asset = await api('GET', `/v1/assets/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err.status === 404) { load(); return; }
    }
    if (!page.isConnected) return;
    if (asset.status === drawnStatus && asset.status === 'processing') updateProgress();
    else draw();
    schedule();
  }

  function updateProgress() {
    const slot = body.querySelector('[data-testid="video-progress"]');
    if (slot) slot.replaceWith(progressBar(asset.progress));
  }

  function draw() {
    drawnStatus = asset.status;
    const a = asset;
    const del = button('Delete', { variant: 'danger-ghost', iconName: 'trash', testid: 'video-delete' });
    del.addEventListener('click', async () => {
      const ok = await confirmDialog({
        title: 'Delete this video?',
        body: 'Its renditions, poster and playback URLs are removed for good. Players using it will stop working.',
        confirmLabel: 'Delete video', danger: true,
      });
      if (!ok) return;
      try {
        await busy(del, () => api('DELETE', `/v1/assets/${encodeURIComponent(a.id)}`));
        toast('Video deleted');
        navigate('/videos');
      } catch (err) {
        toast(err.message, 'danger');
      }
    });
    mount(headActions, del);

    const summary = h('section', { class: 'card', 'aria-labelledby': 'video-summary-heading' },
      h('div', { class: 'card-head' },
        h('h2', { id: 'video-summary-heading', class: 'card-title' }, 'Details'),
        assetBadge(a.status)),
      h('div', { class: 'card-body' },
        busyStatus(a.status) ? h('div', { class: 'detail-progress' },
          h('p', { class: 'muted small' }, a.status === 'waiting' ? 'Waiting for a worker…' : 'Transcoding into the adaptive ladder…'),
          progressBar(a.progress)) : null,
        a.status === 'errored' ? h('div', { class: 'alert alert-danger', role: 'alert', testid: 'video-error' }, icon('alert', 16),
          h('div', null, h('span', { testid: 'video-error-message' }, a.error?.message || 'Transcoding failed.'),
            a.error?.code ? h('span', { class: 'request-id', testid: 'video-error-code' }, `Code ${a.error.code}`) : null)) : null,
        h('dl', { class: 'facts' },
          fact('Duration', h('span', { testid: 'video-detail-duration' }, formatDuration(a.duration))),
          fact('Renditions', String(a.renditions?.length ?? 0)),
          fact('Audio', a.status !== 'ready' || a.has_audio == null ? '—' : a.has_audio ? 'Yes' : 'No'),
          fact('Added', h('time', { datetime: a.created_at, title: formatDateTime(a.created_at) }, formatDate(a.created_at))),
          fact('Asset ID', h('span', { class: 'id-copy' }, h('code', { class: 'mono' }, a.id), copyButton(a.id, { label: '', variant: 'ghost', ariaLabel: 'Copy asset ID' })))),
        a.playback ? h('div', { class: 'playback-urls' },
          urlRow('HLS', a.playback.hls, 'video-hls-url'),
          urlRow('DASH', a.playback.dash, 'video-dash-url')) : null));

    const renditions = h('section', { class: 'card', 'aria-labelledby': 'renditions-heading' },
      h('div', { class: 'card-head' }, h('h2', { id: 'renditions-heading', class: 'card-title' }, 'Renditions ', h('span', { class: 'count' }, String(a.renditions?.length ?? 0)))),
      h('div', { class: 'card-body flush' }, a.renditions?.length
        ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'video-renditions-table' },
          h('thead', null, h('tr', null, ['Name', 'Resolution', 'Bitrate', 'Codec'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, [...a.renditions].sort((x, y) => (y.height ?? 0) - (x.height ?? 0)).map((r) => h('tr', { testid: 'rendition-row' },
            h('td', { class: 'cell-strong' }, r.name || (r.height ? `${r.height}p` : '—')),
            h('td', { class: 'num' }, r.width && r.height ? `${r.width}×${r.height}` : '—'),
            h('td', { class: 'num' }, formatBitrate(r.bitrate)),
            h('td', null, r.codec ? h('code', { class: 'mono' }, r.codec) : '—'))))))
        : h('p', { class: 'card-body muted' }, busyStatus(a.status) ? 'Renditions appear here once transcoding finishes.' : 'No renditions.')));

    const preview = a.status === 'ready' && a.playback ? playerCard(a) : null;
    destroyPlayer();
    pbSection ??= playbackSection(a, { loadShaka });
    pbSection.update(a);
    mount(body, preview, summary, pbSection.el, renditions);
  }

  function urlRow(label, path, testid) {
    const full = new URL(path, location.href).href;
    return h('div', { class: 'url-row' },
      h('span', { class: 'url-label' }, label),
      h('code', { class: 'mono url-value', testid, title: full }, full),
      copyButton(full, { label: '', variant: 'ghost', ariaLabel: `Copy the ${label} URL` }));
  }

  function playerCard(a) {
    const video = h('video', { class: 'player-video', controls: true, muted: true, playsinline: true, preload: 'auto', testid: 'video-player', poster: `/stream/${encodeURIComponent(a.id)}/poster.jpg` });
    video.muted = true;
    const state = h('p', { class: 'muted small', testid: 'player-state', role: 'status' }, 'Loading the player…');
    const toggle = h('div', { class: 'segmented segmented-sm', role: 'radiogroup', 'aria-label': 'Streaming format' });
    const formats = [
      { id: 'dash', label: 'DASH', url: a.playback.dash, testid: 'player-format-dash' },
      { id: 'hls', label: 'HLS', url: a.playback.hls, testid: 'player-format-hls' },
    ];
    for (const f of formats) {
      toggle.append(h('button', {
        type: 'button', class: 'segment', role: 'radio', 'data-format': f.id, testid: f.testid,
        onClick: () => play(f),
      }, f.label));
    }

    async function play(f) {
      for (const b of toggle.children) {
        const on = b.dataset.format === f.id;
        b.classList.toggle('active', on);
        b.setAttribute('aria-checked', String(on));
      }
      video.dataset.format = f.id;
      video.dataset.state = 'loading';
      state.textContent = `Loading ${f.label}…`;
      try {
        const shaka = await loadShaka();
        if (!shaka.Player.isBrowserSupported()) throw new Error('This browser cannot play adaptive streams (no Media Source Extensions).');
        if (!player) {
          player = new shaka.Player();
          await player.attach(video);
          player.addEventListener('error', (ev) => showPlayerError(ev.detail));
        }
        await player.load(new URL(f.url, location.href).href);
        if (video.dataset.format !== f.id) return; // switched again meanwhile
        video.dataset.state = 'loaded';
        const tracks = player.getVariantTracks?.() ?? [];
        state.textContent = `Playing ${f.label}${tracks.length ? ` · ${tracks.length} quality levels, adaptive` : ''}`;
        video.play().catch(() => { /* autoplay may be refused; the controls are there */ });
      } catch (err) {
        if (video.dataset.format === f.id) showPlayerError(err);
      }
    }

    function showPlayerError(err) {
      video.dataset.state = 'error';
      const code = err?.code ? ` (Shaka error ${err.code})` : '';
      state.textContent = `Could not play this stream${code}. ${err?.message ?? ''}`.trim();
    }

    const card = h('section', { class: 'card player-card', 'aria-labelledby': 'player-heading' },
      h('div', { class: 'card-head' },
        h('div', null,
          h('h2', { id: 'player-heading', class: 'card-title' }, 'Preview'),
          h('p', { class: 'card-sub' }, 'Plays the public stream with Shaka Player, as your viewers will see it.')),
        toggle),
      h('div', { class: 'card-body' }, h('div', { class: 'player-frame' }, video), state));
    queueMicrotask(() => play(formats[0]));
    return card;
  }

  function destroyPlayer() {
    if (!player) return;
    const p = player;
    player = null;
    p.destroy().catch(() => {});
  }

  window.addEventListener('hashchange', () => { clearTimeout(timer); destroyPlayer(); }, { once: true });
  load();
}

function fact(label, value) {
  return h('div', { class: 'fact' }, h('dt', null, label), h('dd', null, value));
}

let shakaPromise = null;
/** Loads the vendored Shaka Player build (a classic script that sets window.shaka) once. */
function loadShaka() {
  if (window.shaka) return Promise.resolve(window.shaka);
  shakaPromise ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/shaka-player.compiled.js';
    s.onload = () => {
      window.shaka.polyfill.installAll();
      resolve(window.shaka);
    };
    s.onerror = () => { shakaPromise = null; reject(new Error('Could not load the player.')); };
    document.head.append(s);
  });
  return shakaPromise;
}

