// A small tus 1.0.0 client (core protocol + creation). Our API reserves the
// upload (POST /v1/uploads {size} answers {id, url, expires_at}); this creates
// it at `url` (POST with Upload-Length), sends the bytes in chunks with PATCH
// and Upload-Offset, and asks the server with HEAD where to go on after a
// failure or when the same file is picked again later (the upload's URL is
// remembered in localStorage per file).

const TUS = '1.0.0';
// Marquee's API accepts request bodies of at most 1 MiB, PATCH chunks included.
// A 413 halves the chunk and tries again, for servers with a smaller limit.
export const CHUNK_SIZE = 1024 * 1024;
const MIN_CHUNK = 64 * 1024;
const STORE = 'marquee.uploads';

/** The key a file is remembered under, to resume it after a reload. */
export function fingerprint(file) {
  return ['tus', file.name, file.size, file.lastModified].join(':');
}

export function rememberedUpload(file) {
  try { return JSON.parse(localStorage.getItem(STORE) || '{}')[fingerprint(file)] ?? null; } catch { return null; }
}

export function rememberUpload(file, upload) {
  let all = {};
  try { all = JSON.parse(localStorage.getItem(STORE) || '{}'); } catch { /* start over */ }
  if (upload) all[fingerprint(file)] = upload; else delete all[fingerprint(file)];
  localStorage.setItem(STORE, JSON.stringify(all));
}

function request(method, url, { headers = {}, body, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Tus-Resumable', TUS);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(Object.assign(new Error('Network error while uploading.'), { retryable: true }));
    xhr.onabort = () => reject(Object.assign(new Error('Upload cancelled.'), { aborted: true }));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body ?? null);
  });
}

function failure(xhr, what) {
  let detail = '';
  try { detail = JSON.parse(xhr.responseText)?.detail ?? ''; } catch { detail = xhr.responseText?.slice(0, 200) ?? ''; }
  const err = new Error(detail || `${what} failed (${xhr.status}).`);
  err.status = xhr.status;
  err.retryable = xhr.status === 0 || xhr.status === 409 || xhr.status === 423 || xhr.status >= 500;
  return err;
}

/** tus creation: returns the upload's URL (the Location answered). */
export async function createTusUpload(url, size, headers = {}) {
  const xhr = await request('POST', url, { headers: { ...headers, 'Upload-Length': String(size) } });
  if (xhr.status !== 201) throw failure(xhr, 'Starting the upload');
  const location = xhr.getResponseHeader('Location');
  return location ? new URL(location, url).href : url;
}

/** Asks the server how many bytes of the upload it already has. */
export async function uploadOffset(url, headers) {
  const xhr = await request('HEAD', url, { headers });
  if (xhr.status !== 200 && xhr.status !== 204) throw failure(xhr, 'Checking the upload');
  const offset = Number(xhr.getResponseHeader('Upload-Offset'));
  if (!Number.isFinite(offset)) throw new Error('The upload server did not say how much it has (Upload-Offset).');
  return offset;
}

/**
 * Sends `file` to the tus upload at `url`, resuming from the server's offset.
 * `onProgress(sent, total)` is called as bytes go out. Retries a failed chunk
 * a few times with backoff, re-asking the offset each time. Resolves to
 * { offset, assetId } (Marquee names the new asset on the last PATCH).
 */
export async function tusUpload(url, file, { headers = {}, chunkSize = CHUNK_SIZE, onProgress, signal, retries = 5 } = {}) {
  let offset = await uploadOffset(url, headers);
  onProgress?.(offset, file.size);
  let failures = 0;
  let size = chunkSize;
  let assetId = null;
  while (offset < file.size) {
    const chunk = file.slice(offset, Math.min(offset + size, file.size));
    try {
      const start = offset;
      const xhr = await request('PATCH', url, {
        headers: { ...headers, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
        body: chunk, signal,
        onProgress: (n) => onProgress?.(start + n, file.size),
      });
      if (xhr.status === 413 && size > MIN_CHUNK) {
        size = Math.max(MIN_CHUNK, Math.floor(size / 2));
        offset = await uploadOffset(url, headers);
        continue;
      }
      if (xhr.status !== 204 && xhr.status !== 200) throw failure(xhr, 'Uploading');
      assetId = xhr.getResponseHeader('Marquee-Asset-Id') || assetId;
      offset = Number(xhr.getResponseHeader('Upload-Offset'));
      if (!Number.isFinite(offset) || offset <= start) throw Object.assign(new Error('The upload server did not move the offset on.'), { retryable: true });
      failures = 0;
      onProgress?.(offset, file.size);
    } catch (err) {
      if (err.aborted || !err.retryable || ++failures > retries) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** (failures - 1), 8000)));
      offset = await uploadOffset(url, headers);
    }
  }
  return { offset, assetId };
}
