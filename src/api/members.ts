import { canonicalName } from '../config/compile-services.js';
import { memberKey } from '../config/member-key.js';
import type { NodeSnapshot } from '../control/node.js';
import { holds, type Override } from '../control/overrides.js';
import { composeState, healthIndex, targetStates } from '../control/state-view.js';
import { offlineStateView } from '../referral/state.js';
import type { Service } from '../steering/service.js';
import type { AdminState, Member, StateView } from '../steering/types.js';
import type { MemberViewType, ServiceViewType } from './schemas.js';
import { decisionsOf, shareOf, type DecisionsInWindow } from './shares.js';

/**
 * The real state of a snapshot: configuration, agents, health and the referral layer,
 * without the operator overrides (the snapshot's `state` has them on top). Worked out
 * once per snapshot.
 */
const realStates = new WeakMap<NodeSnapshot, StateView>();
function realState(snapshot: NodeSnapshot): StateView {
  let view = realStates.get(snapshot);
  if (view) return view;
  const { config, services, health, agents, referral } = snapshot;
  view = offlineStateView(referral.offline, composeState(config, services, health, agents));
  realStates.set(snapshot, view);
  return view;
}

const iso = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString();

/** An override as the API shows it; null when none holds now. */
export function overrideView(
  override: Override | undefined,
  now: number,
): MemberViewType['override'] {
  if (override === undefined || !holds(override, now)) return null;
  return {
    health: override.health ?? null,
    admin: override.admin ?? null,
    until: iso(override.until),
    reason: override.reason ?? null,
    by: override.by ?? null,
  };
}

const adminOf = (member: Member, live: AdminState | undefined): AdminState =>
  member.admin !== 'enabled' ? member.admin : (live ?? 'enabled');

/** What the API needs besides the snapshot: the decisions of the last minute, if counted. */
export interface ViewInputs {
  readonly decisions: DecisionsInWindow | undefined;
  readonly now: number;
}

function memberView(
  snapshot: NodeSnapshot,
  member: Member,
  serviceDecisions: number,
  inputs: ViewInputs,
): MemberViewType {
  const { targetOf } = healthIndex(snapshot.config);
  const id = targetOf.get(member.key);
  const tracked =
    id === undefined ? undefined : targetStates(snapshot.config, snapshot.health).state(id);
  const real = realState(snapshot).member(member.key);
  const effective = snapshot.state.member(member.key);
  const override = overrideView(snapshot.overrides.get(member.key), inputs.now);
  const state = tracked
    ? tracked.health
    : real.up === undefined
      ? 'unchecked'
      : real.up
        ? 'up'
        : 'down';
  const last = tracked?.last;
  return {
    key: member.key,
    pool: member.pool,
    name: member.name,
    addresses: [...member.ipv4, ...member.ipv6, ...(member.target ? [member.target] : [])],
    health: {
      state,
      since: tracked && tracked.checks > 0 ? iso(tracked.since) : null,
      reason: last
        ? last.ok
          ? `ok ${last.latencyMs.toFixed(1)} ms`
          : (last.reason ?? 'failed')
        : null,
      check: id ?? null,
      forced: override?.health != null,
    },
    agent: {
      load: real.load ?? null,
      connections: real.connections ?? null,
      responseMs: real.responseMs === undefined ? null : Math.round(real.responseMs * 10) / 10,
    },
    admin: adminOf(member, real.admin),
    override,
    effective: { up: effective.up ?? null, admin: adminOf(member, effective.admin) },
    shareLastMinute: shareOf(inputs.decisions, member.key, serviceDecisions),
  };
}

function serviceView(
  snapshot: NodeSnapshot,
  service: Service,
  inputs: ViewInputs,
): ServiceViewType {
  const keys = service.pools.flatMap((pool) => pool.members.map((m) => m.key));
  const total = decisionsOf(inputs.decisions, keys);
  return {
    name: service.name,
    pools: service.pools.map((pool) => ({
      name: pool.name,
      members: pool.members.map((member) => memberView(snapshot, member, total, inputs)),
    })),
  };
}

/** Every service of a snapshot, once each, in the order of the configuration. */
export function servicesOf(snapshot: NodeSnapshot): Service[] {
  const seen = new Set<Service>();
  for (const { service } of snapshot.services.byKey.values()) seen.add(service);
  return [...seen];
}

/** Every service with its pools and members, with live state. */
export function servicesView(snapshot: NodeSnapshot, inputs: ViewInputs): ServiceViewType[] {
  return servicesOf(snapshot).map((service) => serviceView(snapshot, service, inputs));
}

/** `text` as a service name (final dot optional, any case); undefined if it is no name. */
export function serviceName(text: string): string | undefined {
  try {
    return canonicalName(text);
  } catch {
    return undefined;
  }
}

/** The service named `text`, if the snapshot has it. */
export function findService(snapshot: NodeSnapshot, text: string): Service | undefined {
  const name = serviceName(text);
  return name === undefined ? undefined : servicesOf(snapshot).find((s) => s.name === name);
}

/** One service's view; undefined when there is no such service. */
export function serviceViewOf(
  snapshot: NodeSnapshot,
  text: string,
  inputs: ViewInputs,
): ServiceViewType | undefined {
  const service = findService(snapshot, text);
  return service && serviceView(snapshot, service, inputs);
}

/** One member's view and key; undefined when there is no such member. */
export function memberViewOf(
  snapshot: NodeSnapshot,
  service: string,
  pool: string,
  member: string,
  inputs: ViewInputs,
): MemberViewType | undefined {
  const found = findService(snapshot, service);
  if (!found) return undefined;
  const key = memberKey(found.name, pool, member);
  const target = found.pools.flatMap((p) => p.members).find((m) => m.key === key);
  if (!target) return undefined;
  const keys = found.pools.flatMap((p) => p.members.map((m) => m.key));
  return memberView(snapshot, target, decisionsOf(inputs.decisions, keys), inputs);
}
