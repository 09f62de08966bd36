import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { CompiledApi } from '../config/compile-api.js';
import type { Logger } from '../observability/log.js';
import type { MetricsExposition } from '../observability/metrics-exposition.js';
import type { ExplainOnLiveState } from '../server/status-api.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';
import type { Operator } from './operator.js';

/** The fastify instance of the operator interface, typed by the TypeBox schemas. */
export type ApiApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What the operator interface serves from. */
export interface ApiContext {
  readonly log: Logger;
  /** The `api:` settings now (tokens, metricsAuth); undefined: no tokens, read-only. */
  settings(): CompiledApi | undefined;
  /** The body of `GET /status`. */
  status(): unknown;
  readonly explain?: ExplainOnLiveState | undefined;
  readonly metrics?: MetricsExposition | undefined;
  /** The node behind /api/v1; undefined: those routes answer 501 (a bare status interface). */
  readonly operator?: Operator | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who asks, once the request is authorized (routes under /api/v1). */
    caller: Caller | null;
  }
}

/** The OpenAPI security of every /api/v1 route: one of the two headers. */
export const SECURITY = [{ apiKey: [] }, { bearer: [] }];

/** Throws unless `operator` is there: routes of /api/v1 need a node behind them. */
export function needOperator(operator: Operator | undefined): Operator {
  if (operator === undefined)
    throw new ApiError('STEERDNS_ERR_API_UNAVAILABLE', 'this interface has no node behind it');
  return operator;
}
