import { formatProblem } from '../lib/errors.js';
import { ApiError } from './errors.js';
import { serviceName } from './members.js';
import type { Operator } from './operator.js';
import { explainUrl } from './routes-operator.js';
import {
  AgentsBody,
  ClusterBody,
  SitesBody,
  DecisionsBody,
  ErrorBody,
  ExplainBody,
  ExplainQuery,
  PersistenceBody,
  PersistenceQuery,
  ReloadBody,
} from './schemas.js';
import { needOperator, SECURITY, type ApiApp, type ApiContext } from './context.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The persistence entry of `service` and `key`; coded 404s when there is none. */
function entryOf(operator: Operator, query: { service: string; key: string }) {
  const service = serviceName(query.service);
  const store = service === undefined ? undefined : operator.persistence.get(service);
  if (service === undefined || store === undefined)
    throw new ApiError(
      'STEERDNS_ERR_API_NO_SERVICE',
      `no persistence table for service ${query.service}`,
    );
  const entry = store.get(query.key);
  if (entry === undefined)
    throw new ApiError(
      'STEERDNS_ERR_API_NO_ENTRY',
      `no persistence entry ${query.key} in ${service}`,
    );
  const expires = entry.lastSeen + entry.ttlMs;
  return {
    service,
    key: query.key,
    member: entry.member,
    created: iso(entry.created),
    lastSeen: iso(entry.lastSeen),
    expires: iso(expires),
    holds: Date.now() <= expires,
    ttlMs: entry.ttlMs,
    hits: entry.hits,
  };
}

/** Explain, persistence, agents, cluster, sites and reload: the node as a whole. */
export function nodeRoutes(app: ApiApp, context: ApiContext): void {
  app.get(
    '/api/v1/explain',
    {
      schema: {
        summary: 'what the server would answer now and why (as steerdns explain --server)',
        tags: ['explain'],
        security: SECURITY,
        querystring: ExplainQuery,
        response: { 200: ExplainBody, 400: ErrorBody, 401: ErrorBody, 503: ErrorBody },
      },
    },
    async (request) => {
      const ready = context.operator?.ready();
      if (ready !== undefined && !ready.zones)
        throw new ApiError('STEERDNS_ERR_API_NOT_READY', 'the zones are not loaded yet');
      return explainUrl(request.url, context.explain);
    },
  );
  app.get(
    '/api/v1/persistence',
    {
      schema: {
        summary: 'one persistence entry: the member a client key is kept on',
        tags: ['persistence'],
        security: SECURITY,
        querystring: PersistenceQuery,
        response: { 200: PersistenceBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    (request) => entryOf(needOperator(context.operator), request.query),
  );
  app.delete(
    '/api/v1/persistence',
    {
      schema: {
        summary: 'forget one persistence entry (every worker): the client is steered afresh',
        tags: ['persistence'],
        security: SECURITY,
        querystring: PersistenceQuery,
        response: { 200: PersistenceBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    (request) => {
      const operator = needOperator(context.operator);
      const entry = entryOf(operator, request.query);
      operator.forget(entry.service, entry.key);
      context.log.info(
        { service: entry.service, key: entry.key, member: entry.member, by: request.caller!.name },
        `persistence entry forgotten: ${entry.service} ${entry.key} (by ${request.caller!.name})`,
      );
      return entry;
    },
  );
  app.get(
    '/api/v1/decisions',
    {
      schema: {
        summary: 'the decisions log: the last sampled real queries, explained on the live state',
        tags: ['explain'],
        security: SECURITY,
        response: { 200: DecisionsBody, 401: ErrorBody },
      },
    },
    () => ({
      decisions: needOperator(context.operator)
        .sampled()
        .map((d) => ({ ...d, explanation: d.explanation as unknown as Record<string, unknown> })),
    }),
  );
  app.get(
    '/api/v1/agents',
    {
      schema: {
        summary: 'every node heard announcing (steerdns agent)',
        tags: ['agents'],
        security: SECURITY,
        response: { 200: AgentsBody, 401: ErrorBody },
      },
    },
    () => {
      const { agents } = needOperator(context.operator).snapshot();
      return {
        agents: agents.nodes.map((node) => ({
          service: node.service,
          node: node.node,
          addresses: [...node.addresses],
          load: node.load ?? null,
          connections: node.connections ?? null,
          capacity: node.capacity ?? null,
          admin: node.admin,
          intervalMs: node.intervalMs,
          heardAt: iso(node.heardAt),
          expiresAt: iso(node.expiresAt),
        })),
      };
    },
  );
  app.get(
    '/api/v1/cluster',
    {
      schema: {
        summary: "this node's view of its cluster",
        tags: ['cluster'],
        security: SECURITY,
        response: { 200: ClusterBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    () => {
      const cluster = needOperator(context.operator).snapshot().cluster;
      if (cluster === undefined)
        throw new ApiError(
          'STEERDNS_ERR_API_NOT_CLUSTERED',
          'this node runs alone: no cluster section',
        );
      return cluster;
    },
  );
  app.get(
    '/api/v1/sites',
    {
      schema: {
        summary: "this site's DSSP peers, counters and live hand-off tables (seed 003)",
        tags: ['sites'],
        security: SECURITY,
        response: { 200: SitesBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    () => {
      // The same section as GET /status shows: one producer of it, two ways to read it.
      const status = context.status();
      const sites =
        typeof status === 'object' && status !== null && 'sites' in status
          ? status.sites
          : undefined;
      if (typeof sites !== 'object' || sites === null)
        throw new ApiError(
          'STEERDNS_ERR_API_NOT_A_SITE',
          'this node is no site: no distributedSites section',
        );
      return sites;
    },
  );
  app.post(
    '/api/v1/reload',
    {
      schema: {
        summary: 're-read the configuration, as SIGHUP does; a rejected one names file:line',
        tags: ['node'],
        security: SECURITY,
        response: { 200: ReloadBody, 401: ErrorBody, 403: ErrorBody, 422: ErrorBody },
      },
    },
    async (request) => {
      const operator = needOperator(context.operator);
      const caller = request.caller!;
      context.log.info({ by: caller.name }, `reload asked through the API by ${caller.name}`);
      const outcome = await operator.reload();
      if (!outcome.ok)
        throw new ApiError(
          'STEERDNS_ERR_API_RELOAD_REJECTED',
          `reload rejected, still serving the previous configuration: ${outcome.problems.map(formatProblem).join('; ')}`,
          { problems: outcome.problems.map((p) => ({ ...p, text: formatProblem(p) })) },
        );
      return { ok: true as const, version: operator.snapshot().version };
    },
  );
}
