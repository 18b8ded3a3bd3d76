// The portal's only way to the server: the public JSON API under /v1.
// The session (token, and the descendant tenant being acted as) lives in
// localStorage so a reload keeps the user where they were.

const TOKEN_KEY = 'marquee.token';
const EMAIL_KEY = 'marquee.email';
const ACTING_KEY = 'marquee.acting';

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  get email() { return localStorage.getItem(EMAIL_KEY); },
  /** @returns {{id: string, name: string} | null} */
  get acting() {
    try { return JSON.parse(localStorage.getItem(ACTING_KEY) || 'null'); } catch { return null; }
  },
  start(token, email) {
    localStorage.setItem(TOKEN_KEY, token);
    if (email) localStorage.setItem(EMAIL_KEY, email);
    localStorage.removeItem(ACTING_KEY);
  },
  actAs(tenant) {
    if (tenant) localStorage.setItem(ACTING_KEY, JSON.stringify({ id: tenant.id, name: tenant.name }));
    else localStorage.removeItem(ACTING_KEY);
  },
  end() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(EMAIL_KEY);
    localStorage.removeItem(ACTING_KEY);
  },
};

/** An RFC 9457 problem returned by the API (or made up for a network failure). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem.code || '';
    this.field = problem.field || '';
    this.title = problem.title || '';
    this.requestId = problem.request_id || '';
  }
}

/**
 * Calls the API. `body` is sent as JSON unless `raw` is given (sent as is with
 * `contentType`). `acting: false` leaves out Marquee-Tenant, to ask about the
 * caller's own tenant while acting as another.
 */
export async function api(method, path, { body, raw, contentType, auth = true, acting = true } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  if (auth && acting && session.acting) headers['Marquee-Tenant'] = session.acting.id;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    if (contentType) headers['Content-Type'] = contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }

  let res;
  try {
    res = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, { detail: 'Could not reach Marquee. Check your connection and try again.', code: 'network' });
  }

  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;

  const problem = data && typeof data === 'object' ? data : { detail: `The server answered ${res.status} ${res.statusText}.` };
  const err = new ApiError(res.status, problem);
  // A token that no longer works ends the session; login itself answers 401 for
  // a wrong password, which is the form's business, not the session's.
  if (res.status === 401 && auth && session.token) {
    session.end();
    window.dispatchEvent(new CustomEvent('marquee:signed-out', { detail: err }));
  }
  throw err;
}

/** Fetches one page of a cursor-paginated list; `next` is null on the last page. */
export async function listPage(path, { limit = 20, cursor } = {}) {
  const qs = new URLSearchParams({ limit: String(limit) });
  if (cursor) qs.set('cursor', cursor);
  const sep = path.includes('?') ? '&' : '?';
  const page = await api('GET', `${path}${sep}${qs}`);
  return { data: page?.data ?? [], next: page?.next_cursor || null };
}
