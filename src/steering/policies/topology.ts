import { Type } from '@sinclair/typebox';
import { cidrContains, formatAddress } from '../../lib/ip.js';
import { rirOf } from '../../geo/iana-ipv4.js';
import {
  definePolicy,
  type ClientInfo,
  type Member,
  type PolicyDeps,
  type TopologyRule,
} from '../types.js';

interface Match {
  readonly rule: TopologyRule;
  /** ECS scope: how much of the client address the match depended on. */
  readonly scope: number;
  readonly why: string;
}

/** The first rule the client matches (seed 001 topological mode), if any. */
export function matchRule(
  client: ClientInfo,
  deps: PolicyDeps,
  groups: ReadonlyMap<string, Set<string>>,
): Match | undefined {
  const { location } = client;
  let place: ReturnType<PolicyDeps['topology']['geo']['locate']> | undefined;
  const locate = () => (place ??= deps.topology.geo.locate(location));
  for (const rule of deps.topology.rules) {
    const cidr = rule.cidrs.find((c) => cidrContains(c, location));
    if (cidr)
      return { rule, scope: cidr.prefix, why: `${formatAddress(cidr.bytes)}/${cidr.prefix}` };
    const region = rirOf(location);
    if (region && rule.regions.includes(region)) return { rule, scope: 8, why: `region ${region}` };
    if (rule.countries.length > 0 || rule.continents.length > 0) {
      const { country, continent, prefix } = locate();
      if (country && rule.countries.includes(country))
        return { rule, scope: prefix, why: `country ${country}` };
      if (continent && rule.continents.includes(continent))
        return { rule, scope: prefix, why: `continent ${continent}` };
    }
    const resolver = rule.ldnsGroups.length > 0 ? formatAddress(client.resolver) : '';
    const group = rule.ldnsGroups.find((name) => groups.get(name)?.has(resolver));
    if (group) return { rule, scope: 0, why: `LDNS group ${group}` };
  }
  return undefined;
}

/** The score a rule gives a member: by its site, else its pool, else its name; 0 if absent. */
export function scoreOf(rule: TopologyRule, member: Member): number {
  return (
    (member.site === undefined ? undefined : rule.prefer.get(member.site)) ??
    rule.prefer.get(member.pool) ??
    rule.prefer.get(member.name) ??
    0
  );
}

/**
 * Seed 001 topological mode: the client (ECS subnet, else the resolver) is matched against
 * the `topology` rules in order (CIDR, registry region, country, continent, LDNS group); the
 * first match scores sites, pools or members and the candidates are ordered by score.
 * `strict` drops members the rule does not score. The ECS scope is the matched prefix.
 */
export const topology = definePolicy({
  name: 'topology',
  config: Type.Object(
    {
      strict: Type.Boolean({
        default: false,
        description: 'drop members the matching rule gives no score',
      }),
    },
    { additionalProperties: false },
  ),
  create: ({ strict }, deps) => {
    const groups = new Map(
      [...deps.topology.ldnsGroups].map(([name, list]) => [name, new Set(list)]),
    );
    const widest = Math.max(0, ...deps.topology.rules.flatMap((r) => r.cidrs.map((c) => c.prefix)));
    return {
      name: 'topology',
      apply(candidates, ctx) {
        const match = matchRule(ctx.client, deps, groups);
        if (!match)
          return {
            candidates,
            scope: widest,
            notes: ctx.explain ? ['no topology rule matches'] : [],
          };
        const scored = candidates.map((member, index) => ({
          member,
          index,
          score: scoreOf(match.rule, member),
        }));
        scored.sort((a, b) => b.score - a.score || a.index - b.index);
        const kept = strict ? scored.filter((s) => s.score > 0) : scored;
        const notes = ctx.explain
          ? [
              `rule ${match.rule.index} matches by ${match.why}`,
              ...scored.map((s) => `${s.member.id} score ${s.score}`),
            ]
          : [];
        return { candidates: kept.map((s) => s.member), scope: match.scope, notes };
      },
    };
  },
});
