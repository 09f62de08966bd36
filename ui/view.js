// Rendering: plain DOM, text only through textContent (nothing from the server is parsed as
// HTML). The services' tables are updated in place, row by row, so that a button keeps its
// focus (and a click its target) across the updates.

/**
 * A member as the page shows it, from `/api/v1/services` or, without a token, `/status`.
 * @typedef {{
 *   key: string, pool: string, name: string, addresses: string[],
 *   health: { state: string, since: string | null, reason: string | null, forced: boolean },
 *   admin: string,
 *   override: null | { health?: string | null, admin?: string | null, until?: string | null,
 *                      reason?: string | null, by?: string | null },
 *   effective: null | { up: boolean | null, admin: string },
 *   agent?: { load: number | null, connections: number | null } | null,
 *   share: number | null,
 * }} MemberView
 * @typedef {{ name: string, pools: { name: string, members: MemberView[] }[] }} ServiceView
 */

/** Creates an element with a class and text. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** `12 s ago`, `3 min ago`, `2 h ago`. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '–');

/** A state as a badge: colour from the class, and always the word. */
function badge(kind, state, prefix = '') {
  const node = el('span', `badge ${kind}-${state}`, `${prefix}${state}`);
  node.dataset.state = state;
  return node;
}

/** What a member's agent announces: `load 20 %, 12 conns`; empty when nothing. */
function agentText(agent) {
  if (!agent) return '';
  const parts = [];
  if (agent.load !== null && agent.load !== undefined) parts.push(`load ${agent.load} %`);
  if (agent.connections !== null && agent.connections !== undefined)
    parts.push(`${agent.connections} conns`);
  return parts.join(', ');
}

/** Why a member is or is not in the answers, from what the answers use. */
function serving(member) {
  const effective = member.effective;
  if (!effective) return { text: '–', state: 'unknown' };
  if (effective.up === false) return { text: 'out: down', state: 'out' };
  if (effective.admin !== 'enabled') return { text: `out: ${effective.admin}`, state: 'held' };
  return { text: 'in answers', state: 'in' };
}

function overrideNote(override) {
  const parts = [];
  if (override.by) parts.push(`by ${override.by}`);
  if (override.reason) parts.push(override.reason);
  if (override.until) parts.push(`until ${clock(override.until)}`);
  return parts.join(', ');
}

/** Replaces the children of `cell` (a small cell: cheaper than comparing). */
function fill(cell, ...children) {
  cell.replaceChildren(...children);
}

/** The cells of one member's row, made once; `update` fills them. */
function memberRow(service, member, actions) {
  const row = el('tr', 'member');
  row.dataset.member = `${member.pool}/${member.name}`;
  const name = el('th');
  name.scope = 'row';
  const cells = {
    health: el('td', 'health'),
    since: el('td', 'since'),
    reason: el('td', 'reason'),
    admin: el('td', 'admin'),
    serving: el('td', 'serving'),
    share: el('td', 'share'),
    actions: el('td', 'actions'),
  };
  const label = `${member.pool}/${member.name} of ${service}`;
  const drain = el('button', 'drain', 'Drain');
  drain.type = 'button';
  drain.setAttribute('aria-label', `Drain ${label}`);
  const enable = el('button', 'enable', 'Enable');
  enable.type = 'button';
  enable.setAttribute('aria-label', `Enable ${label}`);
  drain.addEventListener('click', () => actions.act(service, row.member, 'drain'));
  enable.addEventListener('click', () => actions.act(service, row.member, 'enable'));
  cells.actions.append(drain, enable);
  row.append(
    name,
    cells.health,
    cells.since,
    cells.reason,
    cells.admin,
    cells.serving,
    cells.share,
    cells.actions,
  );
  const update = (m, now, canAct) => {
    row.member = m;
    fill(
      name,
      el('span', 'member-name', `${m.pool}/${m.name}`),
      el('span', 'addresses', m.addresses.join(' ')),
    );
    row.dataset.health = m.health.state;
    cells.health.dataset.state = m.health.state;
    const health = [badge('state', m.health.state)];
    if (m.override && m.override.health) health.push(badge('forced', m.override.health, 'forced '));
    fill(cells.health, ...health);
    cells.since.textContent = ago(m.health.since, now);
    cells.since.title = m.health.since ?? '';
    cells.reason.textContent =
      [m.health.reason, agentText(m.agent)].filter(Boolean).join(' · ') || '–';
    const admin = [badge('admin', m.admin)];
    if (m.override && m.override.admin) admin.push(badge('forced', m.override.admin, 'forced '));
    if (m.override) {
      const note = overrideNote(m.override);
      if (note) admin.push(el('span', 'note', note));
    }
    fill(cells.admin, ...admin);
    const use = serving(m);
    cells.serving.dataset.state = use.state;
    fill(cells.serving, badge('serving', use.state === 'unknown' ? 'unknown' : use.state, ''));
    cells.serving.firstChild.textContent = use.text;
    fill(cells.share, ...shareCell(m.share));
    drain.disabled = !canAct;
    enable.disabled = !canAct;
    drain.title = canAct ? '' : 'Enter the API token first';
    enable.title = drain.title;
  };
  return { row, update };
}

/** A share of the last minute as a percentage and a bar (the bar is decoration). */
function shareCell(share) {
  if (share === null || share === undefined) return [el('span', 'hint', '–')];
  const percent = Math.round(share * 1000) / 10;
  const bar = el('span', 'share-bar');
  bar.setAttribute('aria-hidden', 'true');
  const fillBar = el('span', 'bar-fill');
  fillBar.style.width = `${Math.min(100, Math.max(0, percent))}%`;
  bar.append(fillBar);
  return [bar, el('span', 'percent', `${percent} %`)];
}

const HEADINGS = [
  'Member',
  'Health',
  'Since',
  'Last check',
  'Admin',
  'Answers',
  'Share (1 min)',
  'Actions',
];

/** One service's table, kept by the page. */
function serviceTable(service) {
  const section = el('section', 'service');
  section.dataset.service = service;
  section.append(el('h3', '', service));
  const table = el('table', 'grid');
  const caption = el('caption', 'visually-hidden', `Members of ${service}: health and admin state`);
  const head = el('thead');
  const headRow = el('tr');
  for (const text of HEADINGS) {
    const th = el('th', '', text);
    th.scope = 'col';
    headRow.append(th);
  }
  head.append(headRow);
  const body = el('tbody');
  table.append(caption, head, body);
  section.append(table);
  return { section, body, rows: new Map() };
}

/**
 * Keeps `container` showing `services`: tables and rows are made once per service and
 * member and updated in place; gone ones are removed.
 * @param {HTMLElement} container
 * @param {ServiceView[]} services
 * @param {{ canAct: boolean, act: (service: string, member: MemberView, action: string) => void }} actions
 */
export function renderServices(container, services, actions) {
  const tables = (container.tables ??= new Map());
  const now = Date.now();
  const seen = new Set();
  let previous = null;
  for (const service of services) {
    seen.add(service.name);
    let table = tables.get(service.name);
    if (!table) {
      table = serviceTable(service.name);
      tables.set(service.name, table);
    }
    const position = previous ? previous.nextSibling : container.firstChild;
    if (table.section !== position) container.insertBefore(table.section, position);
    previous = table.section;
    renderRows(table, service, now, actions);
  }
  for (const [name, table] of tables)
    if (!seen.has(name)) {
      table.section.remove();
      tables.delete(name);
    }
  if (services.length === 0 && !container.querySelector('.empty'))
    container.append(el('p', 'empty hint', 'No services are configured.'));
  if (services.length > 0) container.querySelector('.empty')?.remove();
}

function renderRows(table, service, now, actions) {
  const seen = new Set();
  let previous = null;
  for (const pool of service.pools)
    for (const member of pool.members) {
      seen.add(member.key);
      let entry = table.rows.get(member.key);
      if (!entry) {
        entry = memberRow(service.name, member, actions);
        table.rows.set(member.key, entry);
      }
      entry.update(member, now, actions.canAct);
      const position = previous ? previous.nextSibling : table.body.firstChild;
      if (entry.row !== position) table.body.insertBefore(entry.row, position);
      previous = entry.row;
    }
  for (const [key, entry] of table.rows)
    if (!seen.has(key)) {
      entry.row.remove();
      table.rows.delete(key);
    }
  const empty = table.body.querySelector('.no-members');
  if (seen.size > 0) empty?.remove();
  else if (!empty) {
    const row = el('tr', 'no-members');
    const cell = el(
      'td',
      'hint',
      'No members now (members that join by announcing show when they do).',
    );
    cell.colSpan = HEADINGS.length;
    row.append(cell);
    table.body.append(row);
  }
}

/** One policy step as text: `up: kept a, b; dropped c (down)`. */
function stepText(step) {
  const kept = step.kept.length > 0 ? step.kept.join(', ') : 'none';
  const dropped = step.dropped.length > 0 ? `; dropped ${step.dropped.join(', ')}` : '';
  const notes = step.notes && step.notes.length > 0 ? ` (${step.notes.join('; ')})` : '';
  return `${step.policy}: kept ${kept}${dropped}${notes}`;
}

/**
 * The decisions log, newest first (it is small: rebuilt each time).
 * @param {HTMLElement} body a tbody
 * @param {{ at: string, transport: string, explanation: any }[]} decisions
 */
export function renderDecisions(body, decisions) {
  const rows = decisions.map(({ at, transport, explanation: e }) => {
    const row = el('tr');
    const time = el('td', '', clock(at));
    time.title = at;
    const answer = `${e.rcode} ${e.answers.join(' ') || '(no records)'}${e.allDown ? ' (all down)' : ''}`;
    const why = el('td');
    if (e.steps.length > 0 || (e.notes && e.notes.length > 0)) {
      const details = el('details');
      const count = e.steps.length;
      details.append(el('summary', '', `${count} ${count === 1 ? 'step' : 'steps'}`));
      const list = el('ol');
      for (const step of e.steps) list.append(el('li', '', `${step.pool}: ${stepText(step)}`));
      for (const note of e.notes ?? []) list.append(el('li', 'note', note));
      details.append(list);
      why.append(details);
    } else why.textContent = '–';
    row.append(
      time,
      el('td', '', `${e.name} ${e.type}`),
      el('td', '', `${e.client}${e.ecs ? ` (ECS ${e.ecs})` : ''} ${transport}`),
      el('td', '', answer),
      el('td', '', e.pool ?? '–'),
      why,
    );
    return row;
  });
  if (rows.length === 0) {
    const row = el('tr');
    const cell = el('td', 'hint', 'No steered query sampled yet.');
    cell.colSpan = 6;
    row.append(cell);
    rows.push(row);
  }
  body.replaceChildren(...rows);
}

const scalar = (value) =>
  value === null || value === undefined
    ? '–'
    : Array.isArray(value) && value.every((v) => typeof v !== 'object')
      ? value.join(', ')
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);

/**
 * Any JSON the page does not know the shape of (agents, cluster, sites): an array of
 * objects as a table, an object as a list of its fields (arrays of objects inside as
 * tables), anything else as text.
 */
export function renderGeneric(container, value) {
  // `{"agents": [...]}`: the one field is the content.
  const fields =
    value && typeof value === 'object' && !Array.isArray(value) ? Object.values(value) : [];
  const content =
    fields.length === 1 && fields[0] && typeof fields[0] === 'object' ? fields[0] : value;
  container.replaceChildren(genericNode(content, 0));
}

function genericNode(value, depth) {
  if (Array.isArray(value)) {
    if (value.length === 0) return el('p', 'hint', 'None.');
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v)))
      return objectTable(value);
    return el('p', '', value.map(scalar).join(', '));
  }
  if (value && typeof value === 'object') {
    const list = el('dl', 'fields');
    for (const [key, field] of Object.entries(value)) {
      list.append(el('dt', '', key));
      const dd = el('dd');
      if (depth < 2 && field && typeof field === 'object') dd.append(genericNode(field, depth + 1));
      else dd.textContent = scalar(field);
      list.append(dd);
    }
    return list;
  }
  return el('p', '', scalar(value));
}

function objectTable(rows) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const table = el('table', 'grid');
  const head = el('tr');
  for (const column of columns) {
    const th = el('th', '', column);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    for (const column of columns) tr.append(el('td', '', scalar(row[column])));
    body.append(tr);
  }
  table.append(thead, body);
  return table;
}
