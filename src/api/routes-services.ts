import { holds, type Override } from '../control/overrides.js';
import { parseDuration } from '../lib/duration.js';
import type { AdminState } from '../steering/types.js';
import type { Caller } from './auth.js';
import { ApiError } from './errors.js';
import {
  findService,
  memberViewOf,
  servicesView,
  serviceViewOf,
  type ViewInputs,
} from './members.js';
import type { Operator } from './operator.js';
import type { StoredOverride } from './override-store.js';
import {
  ActionBody,
  ErrorBody,
  MemberBody,
  MemberParams,
  OverrideBody,
  ServiceParams,
  ServicesBody,
  ServiceView,
  type ActionBodyType,
  type MemberViewType,
} from './schemas.js';
import { needOperator, SECURITY, type ApiApp, type ApiContext } from './context.js';

const inputsOf = (operator: Operator): ViewInputs => ({
  decisions: operator.decisions(),
  now: Date.now(),
});

interface MemberRef {
  readonly service: string;
  readonly pool: string;
  readonly member: string;
}

/** The member a path names, with its key; a coded 404 when there is none. */
function resolveMember(operator: Operator, ref: MemberRef): { key: string; view: MemberViewType } {
  const snapshot = operator.snapshot();
  if (!findService(snapshot, ref.service))
    throw new ApiError('STEERDNS_ERR_API_NO_SERVICE', `no service ${ref.service}`);
  const view = memberViewOf(snapshot, ref.service, ref.pool, ref.member, inputsOf(operator));
  if (!view)
    throw new ApiError(
      'STEERDNS_ERR_API_NO_MEMBER',
      `no member ${ref.pool}/${ref.member} in service ${ref.service}`,
    );
  return { key: view.key, view };
}

/** When an override given `body` ends (ms since the epoch), or undefined: it does not. */
export function untilOf(body: ActionBodyType, now: number): number | undefined {
  if (body.expiresIn !== undefined && body.until !== undefined)
    throw new ApiError('STEERDNS_ERR_API_BAD_REQUEST', 'give expiresIn or until, not both');
  if (body.expiresIn !== undefined) {
    const ms =
      typeof body.expiresIn === 'number' ? body.expiresIn * 1000 : parseDuration(body.expiresIn);
    if (ms === undefined || ms <= 0)
      throw new ApiError(
        'STEERDNS_ERR_API_BAD_REQUEST',
        `expiresIn: expected a duration such as 30s, 10m, 2h, got "${body.expiresIn}"`,
      );
    return now + ms;
  }
  if (body.until !== undefined) {
    const until = Date.parse(body.until);
    if (Number.isNaN(until) || until <= now)
      throw new ApiError(
        'STEERDNS_ERR_API_BAD_REQUEST',
        `until: not a time in the future: "${body.until}"`,
      );
    return until;
  }
  return undefined;
}

/** The override a member has now, if it holds. */
function currentOverride(operator: Operator, key: string, now: number): Override | undefined {
  const override = operator.snapshot().overrides.get(key);
  return override !== undefined && holds(override, now) ? override : undefined;
}

/** An override record without the undefined fields (as it is stored and compared). */
function record(fields: {
  health?: 'up' | 'down' | undefined;
  admin?: AdminState | undefined;
  until?: number | undefined;
  reason?: string | undefined;
  by: string;
  at: number;
}): StoredOverride | undefined {
  if (fields.health === undefined && fields.admin === undefined) return undefined;
  return {
    ...(fields.health !== undefined ? { health: fields.health } : {}),
    ...(fields.admin !== undefined ? { admin: fields.admin } : {}),
    ...(fields.until !== undefined ? { until: fields.until } : {}),
    ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
    by: fields.by,
    at: fields.at,
  };
}

const describe = (override: Override | undefined): string => {
  if (override === undefined) return 'cleared';
  const parts = [
    ...(override.admin !== undefined ? [`admin ${override.admin}`] : []),
    ...(override.health !== undefined ? [`health ${override.health}`] : []),
    ...(override.until !== undefined ? [`until ${new Date(override.until).toISOString()}`] : []),
  ];
  return parts.join(', ');
};

/** Writes the override, logs who and why, and answers the member as it is now. */
async function apply(
  context: ApiContext,
  operator: Operator,
  ref: MemberRef,
  key: string,
  next: StoredOverride | undefined,
  caller: Caller,
  action: string,
  reason: string | undefined,
): Promise<{ member: MemberViewType }> {
  await operator.overrides.set(key, next);
  context.log.info(
    { member: key, action, by: caller.name, reason: reason ?? null, override: next ?? null },
    `override ${describe(next)}: ${key} (${action} by ${caller.name}${reason === undefined ? '' : `: ${reason}`})`,
  );
  return { member: resolveMember(operator, ref).view };
}

const MEMBER_PATH = '/api/v1/services/:service/members/:pool/:member';

const ACTIONS: readonly {
  action: 'drain' | 'enable' | 'disable';
  admin: AdminState | undefined;
  summary: string;
}[] = [
  {
    action: 'drain',
    admin: 'draining',
    summary: 'drain a member: no new clients (admin draining)',
  },
  {
    action: 'disable',
    admin: 'disabled',
    summary: 'disable a member: never answered (admin disabled)',
  },
  {
    action: 'enable',
    admin: undefined,
    summary: "enable a member: removes the override's admin state (the real one applies again)",
  },
];

/**
 * The services and their members with live state, and what an operator forces on a member:
 * drain, disable, enable (the admin part of its override) and a forced health with an
 * optional end (the whole override). An override is one record per member, `{ health?,
 * admin?, until?, reason?, by }`: gdnsd `admin_state` semantics, the real state is shown
 * beside it.
 */
export function serviceRoutes(app: ApiApp, context: ApiContext): void {
  const tags = ['services'];
  app.get(
    '/api/v1/services',
    {
      schema: {
        summary: 'every service, pool and member with its live state',
        tags,
        security: SECURITY,
        response: { 200: ServicesBody, 401: ErrorBody },
      },
    },
    () => {
      const operator = needOperator(context.operator);
      return { services: servicesView(operator.snapshot(), inputsOf(operator)) };
    },
  );
  app.get(
    '/api/v1/services/:service',
    {
      schema: {
        summary: 'one service',
        tags,
        security: SECURITY,
        params: ServiceParams,
        response: { 200: ServiceView, 401: ErrorBody, 404: ErrorBody },
      },
    },
    (request) => {
      const operator = needOperator(context.operator);
      const view = serviceViewOf(operator.snapshot(), request.params.service, inputsOf(operator));
      if (!view)
        throw new ApiError('STEERDNS_ERR_API_NO_SERVICE', `no service ${request.params.service}`);
      return view;
    },
  );
  app.get(
    MEMBER_PATH,
    {
      schema: {
        summary: 'one member',
        tags,
        security: SECURITY,
        params: MemberParams,
        response: { 200: MemberBody, 401: ErrorBody, 404: ErrorBody },
      },
    },
    (request) => ({
      member: resolveMember(needOperator(context.operator), request.params).view,
    }),
  );
  for (const { action, admin, summary } of ACTIONS) {
    app.post(
      `${MEMBER_PATH}/${action}`,
      {
        schema: {
          summary,
          tags,
          security: SECURITY,
          params: MemberParams,
          body: ActionBody,
          response: {
            200: MemberBody,
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
          },
        },
        // No body at all is the same as `{}`: every field is optional.
        preValidation: (request, _reply, done) => {
          const raw = request as { body: unknown };
          raw.body ??= {};
          done();
        },
      },
      async (request) => {
        const operator = needOperator(context.operator);
        const { key } = resolveMember(operator, request.params);
        const now = Date.now();
        const body = request.body;
        const until = untilOf(body, now);
        const current = currentOverride(operator, key, now);
        const caller = request.caller!;
        const next = record({
          health: current?.health,
          admin,
          until: until ?? current?.until,
          reason: body.reason ?? current?.reason,
          by: caller.name,
          at: now,
        });
        return apply(context, operator, request.params, key, next, caller, action, body.reason);
      },
    );
  }
  app.post(
    `${MEMBER_PATH}/override`,
    {
      schema: {
        summary: 'force a member up or down (and optionally its admin state), with an optional end',
        tags,
        security: SECURITY,
        params: MemberParams,
        body: OverrideBody,
        response: {
          200: MemberBody,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const operator = needOperator(context.operator);
      const { key } = resolveMember(operator, request.params);
      const now = Date.now();
      const body = request.body;
      const current = currentOverride(operator, key, now);
      const caller = request.caller!;
      const next = record({
        health: body.health,
        admin: body.admin ?? current?.admin,
        until: untilOf(body, now),
        reason: body.reason,
        by: caller.name,
        at: now,
      });
      return apply(context, operator, request.params, key, next, caller, 'override', body.reason);
    },
  );
  app.delete(
    `${MEMBER_PATH}/override`,
    {
      schema: {
        summary:
          "clear a member's override (forced health and admin state): the real state applies",
        tags,
        security: SECURITY,
        params: MemberParams,
        response: { 200: MemberBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const operator = needOperator(context.operator);
      const { key } = resolveMember(operator, request.params);
      return apply(
        context,
        operator,
        request.params,
        key,
        undefined,
        request.caller!,
        'clear',
        undefined,
      );
    },
  );
}
