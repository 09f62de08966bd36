import type { Static, TSchema } from '@sinclair/typebox';
import type { GeoLookup } from '../geo/geo.js';
import type { Cidr } from '../lib/ip.js';
import type { PersistenceStore } from './persistence-store.js';

/** Administrative state of a member, set by the operator (or a draining agent). */
export type AdminState = 'enabled' | 'disabled' | 'draining';

/** One server or site a steered name may answer with. Static: from configuration. */
export interface Member {
  /** Unique within the service: `pool/member`. Health, persistence and logs key on it. */
  readonly id: string;
  /** Unique across services (`service pool/member`): live state is looked up by it. */
  readonly key: string;
  readonly name: string;
  readonly pool: string;
  /** Position in the pool's member list (stripe and first walk the list in order). */
  readonly index: number;
  /** Position among all members of the service: policies index per-member state by it. */
  readonly ordinal: number;
  /** IPv4 and IPv6 addresses answered for A and AAAA, as text and as 4/16 bytes. */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  /** The same addresses as 4 and 16 bytes: the RDATA answered. */
  readonly ipv4Bytes: readonly Buffer[];
  readonly ipv6Bytes: readonly Buffer[];
  /** For CNAME services: the target name, with a trailing dot. */
  readonly target: string | undefined;
  readonly site: string | undefined;
  readonly region: string | undefined;
  readonly country: string | undefined;
  /** Latitude and longitude in degrees. */
  readonly coordinates: readonly [number, number] | undefined;
  readonly weight: number;
  /** Maximum connections (seed 003/004 capacity). */
  readonly capacity: number | undefined;
  /** What answering it costs, in the operator's unit (seed 002 "lowest cost"). */
  readonly cost: number | undefined;
  readonly admin: AdminState;
  /** `required`: down unless an agent announces it (a live node of its name). */
  readonly announce: 'required' | 'optional';
}

/** Live facts about a member, from health checks and status announcements. */
export interface MemberState {
  /** undefined: not checked yet. */
  readonly up: boolean | undefined;
  /** Load in percent (0-100), if known. */
  readonly load: number | undefined;
  /** Active connections, if known. */
  readonly connections: number | undefined;
  /** Admin state reported by the member itself (an agent in maintenance); overrides config when stricter. */
  readonly admin: AdminState | undefined;
  /** The shortest time in seconds in which this state could change; caps the answer TTL. */
  readonly ttlHint: number | undefined;
  /** Time-weighted average response time in ms (seed 003), if measured. */
  readonly responseMs: number | undefined;
}

/** An immutable view of every member's state, taken once per query. */
export interface StateView {
  /** The state of the member with this {@link Member.key}. */
  member(key: string): MemberState;
  /**
   * The live hand-off table of a steered name (seed 003, the `distributedSites:` exchange,
   * docs/sites.md), when this node is a site that exchanges it; undefined otherwise.
   */
  handoff?(service: string): LiveHandoff | undefined;
  /** What measurement agents measured from near the clients (seed 002 MService), if any. */
  readonly measured?: MeasuredView;
}

/** The ordered hand-off table of one steered name, as the sites computed it from DSSP. */
export interface LiveHandoff {
  /** Site -> total weight; a site absent or at 0 gets no hand-off. */
  readonly totals: ReadonlyMap<string, number>;
  /** Upper bound of the answer TTL, seconds (`distributedSites.ttl`). */
  readonly ttl: number;
  /** `useDnsRespond: false`: this site is answered first, the table orders the rest. */
  readonly localFirst: string | undefined;
}

/** The figures of one measurement agent, as the agent nearest to a client. */
export interface AgentFigures {
  /** The agent's name (its sender label). */
  readonly agent: string;
  /** The agent's own address: the prefix it stands for. */
  readonly address: string;
  /** Leading bits the client's address has in common with the agent's. */
  readonly commonBits: number;
  /** How old the agent's last figures are, ms. */
  readonly ageMs: number;
  /** The response time the agent measured for a site address, ms; undefined: none or failed. */
  figure(address: string): number | undefined;
}

/** Measurement agents by address: the one whose address shares the longest prefix with a client. */
export interface MeasuredView {
  /** The agent nearest to `location` (same family), or undefined when none is. */
  nearest(location: Uint8Array, now: number): AgentFigures | undefined;
  /** The agent of this name (a configured "client prefix -> agent" table), if heard. */
  named(agent: string, location: Uint8Array, now: number): AgentFigures | undefined;
}

/** Who asked: the resolver and, if it sent one, the client subnet (RFC 7871). */
export interface ClientInfo {
  /** The resolver's address, 4 or 16 bytes. */
  readonly resolver: Uint8Array;
  /** The address steering decisions use: the ECS subnet when sent, else the resolver. */
  readonly location: Uint8Array;
  /** Prefix length of `location` (the ECS source prefix, or 32/128). */
  readonly locationPrefix: number;
  /** True when `location` came from ECS. */
  readonly fromEcs: boolean;
  /** The resolver's address as text (IPv4-mapped IPv6 unmapped). */
  readonly resolverText: string;
}

/** Everything a policy may read. Built once per query; every field is a snapshot. */
export interface SelectionContext {
  readonly service: string;
  readonly client: ClientInfo;
  readonly state: StateView;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  readonly random: () => number;
  /** Milliseconds, from the injected clock. */
  readonly now: number;
  /** When true, policies say why they dropped candidates (explain, sampled logs). */
  readonly explain: boolean;
  /**
   * When true, the decision is only shown (an operator's explain), not made: policies write
   * nothing a real query would (a persistence entry, say). Rotation may still move.
   */
  readonly dryRun?: boolean;
}

/** What one policy made of the candidates. */
export interface PolicyResult {
  /** Kept candidates, in preference order. */
  readonly candidates: readonly Member[];
  /** Upper bound for the answer TTL in seconds; the chain keeps the smallest. */
  readonly maxTtl?: number;
  /** ECS scope prefix length the decision depended on; the chain keeps the largest. */
  readonly scope?: number;
  /** Why candidates were dropped or how they were ordered; only filled when `ctx.explain`. */
  readonly notes?: readonly string[];
}

/**
 * What the chain may do with a policy when a client is remembered (seed 001: a returning
 * LDNS is answered "foregoing the actions necessary to separately load balance" it).
 * - `filter` (the default): drops or orders candidates by facts (health, admin state,
 *   load limits, topology); always runs.
 * - `select`: picks among the eligible (rotations, weights, hashes, least-load); skipped
 *   when a `persistence` policy later in the chain remembers the client, so a returning
 *   client neither advances a rotation nor is balanced again.
 * - `persistence`: remembers decisions; implements {@link Policy.recall}.
 */
export type PolicyRole = 'filter' | 'select' | 'persistence';

/**
 * One step of a service's policy chain. Must not mutate `candidates`, do I/O, or throw for
 * any configuration its schema accepted. May return an empty list: the chain, not the
 * policy, decides what an empty result means (next pool, then the all-down behaviour).
 */
export interface Policy {
  readonly name: string;
  /** @default 'filter' */
  readonly role?: PolicyRole;
  apply(candidates: readonly Member[], ctx: SelectionContext): PolicyResult;
  /**
   * `select` policies that never answer some members (weight 0): false for those. A
   * remembered member this says false for is not kept: the client is balanced afresh.
   */
  admits?(member: Member): boolean;
  /**
   * `persistence` policies: the member this client is remembered on, if its entry holds at
   * `ctx.now` and the member is among `candidates`. Reads only; `apply` counts the hit.
   */
  recall?(candidates: readonly Member[], ctx: SelectionContext): Member | undefined;
}

/** What a policy is built from: its configuration and the service it serves. */
export interface PolicyDeps {
  readonly service: string;
  /** Every member of every pool of the service. */
  readonly members: readonly Member[];
  readonly topology: TopologyConfig;
  /** The persistence store of a service; it outlives configuration reloads. */
  readonly persistence: (service: string, maxEntries: number) => PersistenceStore;
}

/** One topology rule: which clients it matches and the scores it gives sites, pools or members. */
export interface TopologyRule {
  readonly cidrs: readonly Cidr[];
  readonly regions: readonly string[];
  readonly countries: readonly string[];
  readonly continents: readonly string[];
  readonly ldnsGroups: readonly string[];
  readonly prefer: ReadonlyMap<string, number>;
  /** Position in the configuration, for explain. */
  readonly index: number;
}

/** Sites, regions, LDNS groups and topology rules shared by every service. */
export interface TopologyConfig {
  readonly rules: readonly TopologyRule[];
  readonly geo: GeoLookup;
  readonly sites: ReadonlyMap<
    string,
    {
      readonly region: string | undefined;
      readonly coordinates: readonly [number, number] | undefined;
    }
  >;
  readonly ldnsGroups: ReadonlyMap<string, readonly string[]>;
}

/** A kind of policy: its name, config schema and factory. Registered in policies/index.ts. */
export interface PolicyDefinition<S extends TSchema = TSchema> {
  /** kebab-case; = folder name = config value. */
  readonly name: string;
  readonly config: S;
  create(config: Static<S>, deps: PolicyDeps): Policy;
}

/** Declares a policy definition with its config type inferred from the schema. */
export const definePolicy = <S extends TSchema>(
  definition: PolicyDefinition<S>,
): PolicyDefinition<S> => definition;
