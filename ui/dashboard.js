// The steerdns dashboard: polls the REST API (at most once a second) and shows services,
// members, decisions, agents and the cluster; drains and enables members with the token.
// Without a token it shows the public `GET /status` (health only, read-only).
import { apiPaths, errorText, memberActionPath, request, token } from './api.js';
import { renderDecisions, renderGeneric, renderServices } from './view.js';

/** The shortest time between the starts of two polls. */
const POLL_MS = 1000;
/** Agents, cluster and sites change slowly: every this many polls. */
const SLOW_EVERY = 5;

const $ = (id) => document.getElementById(id);

const page = {
  /** Paths of the server's OpenAPI document (what routes it has). */
  paths: new Set(),
  polls: 0,
  lastStart: 0,
  timer: undefined,
  running: false,
};

/** @returns {import('./view.js').ServiceView[]} */
function fromApi(services) {
  return services.map((service) => ({
    name: service.name,
    pools: service.pools.map((pool) => ({
      name: pool.name,
      members: pool.members.map((m) => ({
        key: m.key,
        pool: m.pool,
        name: m.name,
        addresses: m.addresses,
        health: m.health,
        admin: m.admin,
        override: m.override,
        effective: m.effective,
        agent: m.agent,
        share: m.shareLastMinute,
      })),
    })),
  }));
}

/** The rows of `GET /status` (`member` is `pool/name`), grouped like the API's services. */
function fromStatus(rows) {
  const services = new Map();
  for (const row of rows) {
    const slash = row.member.indexOf('/');
    const pool = row.member.slice(0, slash);
    const pools = services.get(row.service) ?? new Map();
    services.set(row.service, pools);
    const members = pools.get(pool) ?? [];
    pools.set(pool, members);
    members.push({
      key: `${row.service} ${row.member}`,
      pool,
      name: row.member.slice(slash + 1),
      addresses: row.addresses,
      health: {
        state: row.state,
        since: row.since ?? null,
        reason: row.last ?? null,
        forced: false,
      },
      admin: row.admin,
      override: null,
      effective: null,
      share: null,
    });
  }
  return [...services].map(([name, pools]) => ({
    name,
    pools: [...pools].map(([pool, members]) => ({ name: pool, members })),
  }));
}

function notice(text, alert = false) {
  const node = $('notice');
  node.textContent = text;
  node.classList.toggle('alert', alert);
}

function connection(text, state) {
  const node = $('connection');
  node.textContent = text;
  node.dataset.state = state;
}

const now = () => new Date().toLocaleTimeString([], { hour12: false });

const actions = {
  canAct: false,
  async act(service, member, action) {
    const label = `${member.pool}/${member.name} (${service})`;
    notice(`${action === 'drain' ? 'Draining' : 'Enabling'} ${label}…`);
    const reply = await request(
      'POST',
      memberActionPath(service, member.pool, member.name, action),
      {
        body: { reason: 'from the dashboard' },
      },
    );
    if (!reply.ok) {
      if (reply.status === 401) forgetToken('The token was refused.');
      notice(`Could not ${action} ${label}: ${errorText(reply)}`, true);
      return;
    }
    notice(`${action === 'drain' ? 'Drained' : 'Enabled'} ${label}.`);
    pollSoon();
  },
};

function forgetToken(why) {
  token.clear();
  actions.canAct = false;
  notice(`${why} Enter the API token to see the full view and to act.`, true);
}

/** Members and their live state: the API with a token, else the public /status. */
async function pollServices() {
  const withToken = token.get() !== null && page.paths.has('/api/v1/services');
  if (withToken) {
    const reply = await request('GET', '/api/v1/services');
    if (reply.ok) {
      actions.canAct = true;
      $('services-mode').textContent = '';
      renderServices($('services-body'), fromApi(reply.body.services), actions);
      return { ok: true, mode: 'live' };
    }
    if (reply.status === 401) forgetToken('The token was refused.');
    else return { ok: false, why: errorText(reply) };
  }
  const reply = await request('GET', '/status', { auth: false });
  if (!reply.ok) return { ok: false, why: errorText(reply) };
  actions.canAct = false;
  $('services-mode').textContent =
    'Read-only view (GET /status): enter the API token for overrides, traffic shares, decisions and the drain and enable buttons.';
  renderServices($('services-body'), fromStatus(reply.body.members ?? []), actions);
  return { ok: true, mode: 'read-only' };
}

async function pollDecisions() {
  const section = $('decisions');
  if (!actions.canAct || !page.paths.has('/api/v1/decisions')) {
    section.hidden = true;
    return;
  }
  const reply = await request('GET', '/api/v1/decisions');
  section.hidden = !reply.ok;
  if (reply.ok) renderDecisions($('decisions-body'), reply.body.decisions ?? []);
}

/** The sections whose shape the page does not know in detail, and where they come from. */
function optionalSections() {
  const sites = [...page.paths].filter(
    (path) => /^\/api\/v1\/(sites|handoff)/.test(path) && !path.includes('{'),
  );
  return [
    { id: 'agents', paths: ['/api/v1/agents'] },
    // A node alone has no cluster view (the route says 404): /status says whether it has one.
    { id: 'cluster', paths: ['/api/v1/cluster'], when: clustered },
    // A node that is no site answers 404 there too: /status says whether it is one.
    { id: 'sites', paths: sites, when: isSite },
  ];
}

/** True when the public /status has `section` (a 404 would be a console error). */
async function statusHas(section) {
  const reply = await request('GET', '/status', { auth: false });
  return (
    reply.ok &&
    reply.body !== null &&
    reply.body[section] !== undefined &&
    reply.body[section] !== null
  );
}

/** True when the node is in a cluster (the public /status has its cluster view). */
const clustered = () => statusHas('cluster');

/** True when the node is a site of seed 003 (the public /status has its sites view). */
const isSite = () => statusHas('sites');

/** Agents, cluster nodes, sites: shown when the server has the route and it has anything. */
async function pollOptional() {
  for (const { id, paths, when } of optionalSections()) {
    const present = paths.filter((path) => page.paths.has(path));
    if (!actions.canAct || present.length === 0 || (when && !(await when()))) {
      $(id).hidden = true;
      continue;
    }
    const replies = await Promise.all(present.map((path) => request('GET', path)));
    const shown = replies.filter((reply) => reply.ok && !isEmpty(reply.body));
    $(id).hidden = shown.length === 0;
    if (shown.length > 0)
      renderGeneric($(`${id}-body`), shown.length === 1 ? shown[0].body : shown.map((r) => r.body));
  }
}

/** Nothing to show: null, `{}`, or an object whose only field is null or empty. */
function isEmpty(body) {
  if (body === null || body === undefined) return true;
  if (Array.isArray(body)) return body.length === 0;
  if (typeof body !== 'object') return false;
  const values = Object.values(body);
  return values.length === 0 || (values.length === 1 && isEmpty(values[0]));
}

async function poll() {
  page.lastStart = Date.now();
  if (page.paths.size === 0) page.paths = await apiPaths();
  const services = await pollServices();
  if (!services.ok) {
    connection(`Cannot read the server (${services.why}); retrying`, 'error');
    return;
  }
  await pollDecisions();
  if (page.polls++ % SLOW_EVERY === 0) await pollOptional();
  connection(`${services.mode === 'live' ? 'Live' : 'Read-only'}: updated ${now()}`, services.mode);
}

/** Polls now if the last poll started a second ago or more, else at that second. */
function pollSoon() {
  clearTimeout(page.timer);
  const wait = Math.max(0, page.lastStart + POLL_MS - Date.now());
  page.timer = setTimeout(loop, wait);
}

async function loop() {
  if (page.running) return;
  page.running = true;
  try {
    await poll();
  } catch (error) {
    connection(`The dashboard failed: ${String(error)}`, 'error');
  } finally {
    page.running = false;
    pollSoon();
  }
}

function start() {
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('token-input');
    const value = input.value.trim();
    input.value = '';
    if (value === '') return;
    token.set(value);
    page.polls = 0;
    notice('Token kept for this tab (sessionStorage).');
    pollSoon();
  });
  $('token-forget').addEventListener('click', () => {
    forgetToken('Token forgotten.');
    pollSoon();
  });
  void loop();
}

start();
