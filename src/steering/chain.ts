import type { Service } from './service.js';
import type { Member, Policy, PolicyResult, SelectionContext } from './types.js';

/** One policy's effect on the candidates, for explain. */
export interface ExplainStep {
  readonly pool: string;
  readonly policy: string;
  readonly kept: readonly string[];
  readonly dropped: readonly string[];
  readonly notes: readonly string[];
}

/** The outcome of running a service's chain for one query. */
export interface Decision {
  /** Members to answer, in order (at most `service.answers`). Empty for nodata/servfail/rcode. */
  readonly members: readonly Member[];
  readonly ttl: number;
  /** ECS scope prefix length to return. */
  readonly scope: number;
  /** The pool that answered, if any did. */
  readonly pool: string | undefined;
  /** Set when every pool came out empty and the all-down behaviour applied. */
  readonly allDown: boolean;
  /** Filled when `ctx.explain`. */
  readonly steps: readonly ExplainStep[];
}

/** Shared by every decision that is not explained; never pushed to. */
const NO_STEPS: ExplainStep[] = [];

const ids = (members: readonly Member[]): string[] => members.map((m) => m.id);

/**
 * Runs the service's policy chain over each pool in order until one yields candidates
 * (global availability), folding TTL caps (smallest) and ECS scopes (largest). When every
 * pool is empty the service's all-down behaviour decides. Synchronous, no I/O.
 *
 * Persistence (seed 001): when the chain has a `persistence` policy, the chain asks it,
 * just before the first `select` policy in front of it, whether the client is remembered
 * on one of the candidates left by the filters. If so, the `select` policies up to the
 * persistence policy are skipped (no rotation advances, nothing is balanced again) and
 * the persistence policy puts the remembered member first. Filters still run; if one of
 * them drops the remembered member, the skipped `select` policies run after all, on what
 * is left, and the persistence policy remembers that choice.
 */
export function decide(service: Service, ctx: SelectionContext, family: 4 | 6 | 0): Decision {
  let ttl = service.ttl;
  let scope = 0;
  const steps: ExplainStep[] = ctx.explain ? [] : NO_STEPS;
  const chain = service.chain;
  const keeper = persistenceIndex(chain);
  for (const pool of service.pools) {
    let candidates: readonly Member[] =
      family === 0 ? pool.members : family === 4 ? pool.ipv4Members : pool.ipv6Members;
    let held: Member | undefined;
    let firstSelect = -1;
    let replaying = false;
    for (let i = 0; i < chain.length; i++) {
      const policy = chain[i]!;
      if (i < keeper && policy.role === 'select' && !replaying) {
        if (firstSelect < 0) held = recall(chain, (firstSelect = i), keeper, candidates, ctx);
        if (held !== undefined) {
          if (ctx.explain)
            steps.push(step(pool.name, policy.name, candidates, candidates, [skipped(held)]));
          continue;
        }
      } else if (replaying && i < keeper) {
        if (policy.role !== 'select') continue;
      } else if (i === keeper && held !== undefined && !candidates.includes(held)) {
        // A filter after the selection dropped the remembered member: balance what is left.
        held = undefined;
        replaying = true;
        i = firstSelect - 1;
        continue;
      }
      const before = candidates;
      const result: PolicyResult = policy.apply(candidates, ctx);
      candidates = result.candidates;
      if (result.maxTtl !== undefined && result.maxTtl < ttl) ttl = result.maxTtl;
      if (result.scope !== undefined && result.scope > scope) scope = result.scope;
      if (ctx.explain) {
        const notes = result.notes ?? [];
        const said = i === keeper && held !== undefined ? [...notes, 'rotation skipped'] : notes;
        steps.push(step(pool.name, policy.name, before, candidates, said));
      }
      if (candidates.length === 0) break;
    }
    if (candidates.length > 0) {
      const members =
        candidates.length > service.answers ? candidates.slice(0, service.answers) : candidates;
      return { members, ttl, scope, pool: pool.name, allDown: false, steps };
    }
  }
  return allDown(service, ttl, scope, steps, family);
}

/** The position of the chain's persistence policy, or -1. */
function persistenceIndex(chain: readonly Policy[]): number {
  for (let i = 0; i < chain.length; i++) if (chain[i]!.role === 'persistence') return i;
  return -1;
}

/**
 * The member the persistence policy at `keeper` remembers the client on, if it is among
 * `candidates` and every `select` policy from `from` to `keeper` would ever answer it.
 */
function recall(
  chain: readonly Policy[],
  from: number,
  keeper: number,
  candidates: readonly Member[],
  ctx: SelectionContext,
): Member | undefined {
  const held = chain[keeper]!.recall?.(candidates, ctx);
  if (held === undefined) return undefined;
  for (let i = from; i < keeper; i++) {
    const policy = chain[i]!;
    if (policy.role === 'select' && policy.admits?.(held) === false) return undefined;
  }
  return held;
}

const skipped = (held: Member): string => `skipped: the client stays on ${held.id}`;

function step(
  pool: string,
  policy: string,
  before: readonly Member[],
  after: readonly Member[],
  notes: readonly string[],
): ExplainStep {
  const kept = new Set(ids(after));
  return {
    pool,
    policy,
    kept: ids(after),
    dropped: ids(before).filter((id) => !kept.has(id)),
    notes,
  };
}

function hasFamily(member: Member, family: 4 | 6): boolean {
  return family === 4 ? member.ipv4.length > 0 : member.ipv6.length > 0;
}

function allDown(
  service: Service,
  ttl: number,
  scope: number,
  steps: ExplainStep[],
  family: 4 | 6 | 0,
): Decision {
  const base = { ttl, scope, pool: undefined, allDown: true, steps };
  if (service.allDown.action !== 'fail-open') return { ...base, members: [] };
  // Fail open: every member of the first pool, with the shortest TTL any policy asked for.
  const first = service.pools[0]?.members ?? [];
  const members = family === 0 ? first : first.filter((m) => hasFamily(m, family));
  return { ...base, members };
}
