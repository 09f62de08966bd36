import { Type } from '@sinclair/typebox';
import type { ExplainRequest } from '../answer/explain.js';
import type { ExplainOnLiveState } from '../server/status-api.js';
import { ApiError } from './errors.js';
import {
  ErrorBody,
  ExplainBody,
  ExplainQuery,
  HealthzBody,
  ReadyzBody,
  StatusBody,
} from './schemas.js';
import type { ApiApp, ApiContext } from './context.js';

/** The parameters explain accepts. */
const EXPLAIN_PARAMETERS = new Set(['name', 'type', 'client', 'ecs']);

/**
 * Explains the query of `url` (`?name=&type=&client=&ecs=`) on the live state: the
 * explanation, or an error with the code of `GET /explain` (STEERDNS_ERR_EXPLAIN for a bad
 * parameter, as `steerdns explain --server` reads it).
 */
export async function explainUrl(
  url: string,
  explain: ExplainOnLiveState | undefined,
): Promise<{ explanation: Record<string, unknown> }> {
  if (!explain)
    throw new ApiError('STEERDNS_ERR_EXPLAIN_UNAVAILABLE', 'this server cannot explain');
  const params = new URL(url, 'http://operator').searchParams;
  const explainError = (message: string): ApiError => new ApiError('STEERDNS_ERR_EXPLAIN', message);
  for (const key of new Set(params.keys())) {
    if (!EXPLAIN_PARAMETERS.has(key))
      throw explainError(
        `unknown parameter "${key}"; known: ${[...EXPLAIN_PARAMETERS].join(', ')}`,
      );
    if (params.getAll(key).length > 1) throw explainError(`parameter "${key}" given twice`);
  }
  const name = params.get('name');
  if (name === null || name === '') throw explainError('parameter "name" is required');
  const request: { -readonly [K in keyof ExplainRequest]: ExplainRequest[K] } = { name };
  for (const key of ['type', 'client', 'ecs'] as const) {
    const value = params.get(key);
    if (value !== null) request[key] = value;
  }
  const outcome = await explain(request);
  // An ExplainError keeps its code: a bad name, type, client or ECS.
  if (outcome instanceof Error) throw new ApiError('STEERDNS_ERR_EXPLAIN', outcome.message);
  return { explanation: outcome as unknown as Record<string, unknown> };
}

/** Methods the read-only paths refuse with 405 (HEAD and GET are served). */
const OTHER_METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

function readOnly(app: ApiApp, url: string): void {
  app.route({
    method: [...OTHER_METHODS],
    url,
    schema: { hide: true },
    handler: async (_request, reply) => {
      reply.header('allow', 'GET, HEAD');
      throw new ApiError('STEERDNS_ERR_API_METHOD', `${url} is read-only: GET or HEAD`);
    },
  });
}

/**
 * The routes that need no token (and predate /api/v1): `/healthz`, `/readyz`, `/status`,
 * `/explain`, `/metrics` (a token with `api.metricsAuth`).
 */
export function operatorRoutes(app: ApiApp, context: ApiContext): void {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'the process answers',
        tags: ['probes'],
        response: { 200: HealthzBody },
      },
    },
    () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      schema: {
        summary: 'zones loaded and the first round of health checks done',
        tags: ['probes'],
        response: { 200: ReadyzBody, 503: ReadyzBody },
      },
    },
    async (_request, reply) => {
      const readiness = context.operator?.ready() ?? { zones: true, health: true };
      const ready = readiness.zones && readiness.health;
      return reply.code(ready ? 200 : 503).send({ ready, ...readiness });
    },
  );
  app.get(
    '/status',
    {
      schema: {
        summary: 'every member with its state, as steerdns status --server shows it',
        tags: ['legacy'],
        response: { 200: StatusBody },
      },
    },
    () => context.status() as { members: Record<string, unknown>[] },
  );
  readOnly(app, '/status');
  app.get(
    '/explain',
    {
      schema: {
        summary: 'what the server would answer now and why (steerdns explain --server)',
        tags: ['legacy'],
        // Checked by explainUrl, with the messages `steerdns explain --server` has always shown.
        querystring: Type.Object(
          Object.fromEntries(
            Object.entries(ExplainQuery.properties).map(([key, value]) => [
              key,
              Type.Optional(Type.Unknown({ description: value.description ?? key })),
            ]),
          ),
          { additionalProperties: true },
        ),
        response: { 200: ExplainBody, 400: ErrorBody },
      },
    },
    async (request) => explainUrl(request.url, context.explain),
  );
  readOnly(app, '/explain');
  const metrics = context.metrics;
  if (metrics) {
    app.get(
      '/metrics',
      {
        schema: {
          summary: 'Prometheus text exposition',
          tags: ['metrics'],
          response: { 200: Type.String(), 500: Type.String() },
        },
      },
      async (_request, reply) => {
        let text: string;
        try {
          text = await metrics.text();
        } catch (error) {
          context.log.error({ err: error }, 'operator interface: /metrics failed');
          return reply.code(500).type('text/plain').send('metrics unavailable\n');
        }
        return reply
          .type(metrics.contentType)
          .serializer((s: string) => s)
          .send(text);
      },
    );
    readOnly(app, '/metrics');
  }
}
