// The dashboard's client of the steerdns REST API (docs/api.md): JSON over fetch, the token
// in sessionStorage only (gone when the tab closes), a deadline on every request.

const TOKEN_KEY = 'steerdns.apiToken';
const REQUEST_TIMEOUT_MS = 5000;

/** The API token of this tab, if one was entered. */
export const token = {
  /** @returns {string | null} */
  get: () => sessionStorage.getItem(TOKEN_KEY),
  /** @param {string} value */
  set: (value) => {
    sessionStorage.setItem(TOKEN_KEY, value);
  },
  clear: () => {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/**
 * @typedef {{ ok: boolean, status: number, body: any, error?: string }} Reply
 * `status` 0: no answer (the server is unreachable or too slow); `error` says why.
 */

/**
 * Sends one request; never throws.
 * @param {string} method
 * @param {string} path absolute, from the server's root
 * @param {{ auth?: boolean, body?: unknown }} [options]
 * @returns {Promise<Reply>}
 */
export async function request(method, path, options = {}) {
  const headers = { accept: 'application/json' };
  const secret = token.get();
  if (options.auth !== false && secret) headers['x-api-key'] = secret;
  let body;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, {
      method,
      headers,
      body,
      signal: abort.signal,
      cache: 'no-store',
    });
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = { error: { code: 'NOT_JSON', message: text.slice(0, 200) } };
    }
    return { ok: response.ok, status: response.status, body: parsed };
  } catch (error) {
    const reason = abort.signal.aborted
      ? `no answer within ${REQUEST_TIMEOUT_MS} ms`
      : String(error);
    return { ok: false, status: 0, body: null, error: reason };
  } finally {
    clearTimeout(timer);
  }
}

/** The message of an API error reply, for people. */
export function errorText(/** @type {Reply} */ reply) {
  if (reply.status === 0) return reply.error ?? 'no answer';
  const error = reply.body && reply.body.error;
  return error ? `${error.message} (${error.code})` : `HTTP ${reply.status}`;
}

/**
 * The paths the server's OpenAPI document lists (`/openapi.json`, no token needed): the
 * dashboard asks only for routes the server has. An empty set when it has none.
 * @returns {Promise<Set<string>>}
 */
export async function apiPaths() {
  const reply = await request('GET', '/openapi.json', { auth: false });
  if (!reply.ok || !reply.body || typeof reply.body.paths !== 'object') return new Set();
  return new Set(Object.keys(reply.body.paths));
}

/** The path of a member's action (`drain`, `enable`, ...). */
export function memberActionPath(service, pool, member, action) {
  const part = encodeURIComponent;
  return `/api/v1/services/${part(service)}/members/${part(pool)}/${part(member)}/${action}`;
}
