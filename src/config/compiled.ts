/**
 * The compiled configuration: every default applied, every check done, nothing but plain
 * data. It crosses process boundaries (primary to workers), and later etcd and the API,
 * as JSON: `JSON.parse(JSON.stringify(compiled))` is the same configuration.
 */
import type { CompiledDistributedSites } from './compile-sites.js';
import type { CookieSettings } from '../dns/cookies.js';
import type { RateLimitSettings } from '../dns/rrl.js';
import type { AllDownAction } from '../steering/service.js';
import type { MemberKey } from './member-key.js';
import type { LbSettings } from '../lb/settings.js';
import type { CompiledApi } from './compile-api.js';

/** Where something was written, for `file:line: reason`. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
}

/** An address and port to listen on (UDP and TCP); port 0 lets the system choose. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Where a zone's records come from. */
export interface ZoneSource {
  /** The apex with a trailing dot. */
  readonly origin: string;
  /** Absolute path of the master file, if any. */
  readonly file: string | undefined;
  /** Inline records as master-file text, with the config line of each of its lines. */
  readonly inline:
    { readonly text: string; readonly file: string; readonly lines: readonly number[] } | undefined;
  readonly defaultTtl: number | undefined;
  /** Addresses or prefixes allowed to AXFR, as written (each checked). */
  readonly transfer: readonly string[];
  readonly declaredAt: SourcePosition;
}

/** Where and how node status announcements are received (the `agents` section). */
export interface AgentsConfig {
  readonly listen: readonly ListenAddress[];
  readonly keyFile: string;
  /** The shared HMAC key, read when the configuration is compiled, base64. */
  readonly key: string;
  /** A second key still accepted during a key rotation (`previousKeyFile`), base64. */
  readonly previousKey: string | undefined;
  /** A node silent for this many of its announced intervals is removed. */
  readonly missedIntervals: number;
  readonly maxSkewMs: number;
  /** IPv4 address of the interface IPv4 multicast groups in `listen` are joined on. */
  readonly multicastInterface: string | undefined;
}

/** Live state given statically in the file, until checks or agents report it. */
export interface StaticState {
  readonly up?: boolean;
  readonly load?: number;
  readonly connections?: number;
  readonly responseMs?: number;
}

/** One member of a pool, as answered. */
export interface CompiledMember {
  readonly name: string;
  /** `service pool/member`: the one identity health, agents, overrides and logs use. */
  readonly key: MemberKey;
  readonly addresses: readonly string[];
  /** CNAME services: the target with a trailing dot. */
  readonly target: string | undefined;
  readonly site: string | undefined;
  readonly region: string | undefined;
  /** Upper-case ISO 3166 code. */
  readonly country: string | undefined;
  readonly coordinates: readonly [number, number] | undefined;
  readonly weight: number;
  readonly capacity: number | undefined;
  /** What answering it costs (the cost policy); undefined: not given. */
  readonly cost: number | undefined;
  readonly admin: 'enabled' | 'disabled' | 'draining';
  /** `required`: the member is down unless its agent announces it. */
  readonly announce: 'required' | 'optional';
  readonly state: StaticState | undefined;
  /** The id of the health check this member depends on, if checked. */
  readonly check: string | undefined;
  readonly declaredAt: SourcePosition;
}

/** A pool of a service. */
export interface CompiledPool {
  readonly name: string;
  readonly members: readonly CompiledMember[];
}

/** A policy of a chain with its settings, schema defaults applied. */
export interface CompiledPolicy {
  readonly policy: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** What to answer when every pool is empty after the chain: plain data already. */
export type CompiledAllDown = AllDownAction;

/** Members that join by announcing themselves (seed 000). */
export interface DynamicMembers {
  readonly pool: string;
  readonly weight: number;
  readonly site: string | undefined;
  readonly region: string | undefined;
}

/** A steered name. */
export interface CompiledService {
  /** Lower case, with a trailing dot. */
  readonly name: string;
  readonly type: 'A' | 'AAAA' | 'CNAME';
  readonly ttl: number;
  readonly answers: number;
  readonly pools: readonly CompiledPool[];
  readonly dynamic: DynamicMembers | undefined;
  readonly policies: readonly CompiledPolicy[];
  readonly allDown: CompiledAllDown;
  readonly declaredAt: SourcePosition;
}

/** One topology rule (prefixes as written, each checked). */
export interface CompiledTopologyRule {
  readonly cidrs: readonly string[];
  readonly regions: readonly string[];
  readonly countries: readonly string[];
  readonly continents: readonly string[];
  readonly ldnsGroups: readonly string[];
  readonly prefer: Readonly<Record<string, number>>;
  readonly index: number;
}

/** Sites, LDNS groups, topology rules and the country database, shared by every service. */
export interface CompiledTopology {
  readonly sites: Readonly<
    Record<
      string,
      {
        readonly region: string | undefined;
        readonly coordinates: readonly [number, number] | undefined;
      }
    >
  >;
  readonly ldnsGroups: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly CompiledTopologyRule[];
  /** Absolute path of the country database; undefined: the bundled one. */
  readonly countryDatabase: string | undefined;
}

/** The state machine settings of a check. */
export interface CompiledTracker {
  readonly rise: number;
  readonly fall: number;
  readonly intervalMs: number;
  readonly initial: 'up' | 'down' | 'unknown';
  /** Time constant of the response-time average (`averaging`), ms; undefined: 10 s. */
  readonly averagingMs?: number;
}

/** One check to run, shared by every member with the same target and settings. */
export interface CompiledCheck {
  readonly id: string;
  readonly type: string;
  readonly address: string;
  readonly port: number | undefined;
  /** The monitor's settings, its schema's defaults applied. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly tracker: CompiledTracker;
  readonly timeoutMs: number;
}

/** Every check of the configuration. */
export interface CompiledHealth {
  readonly checks: readonly CompiledCheck[];
  readonly startupGraceMs: number;
}

/** A service address the master holds. */
export interface CompiledServiceAddress {
  readonly address: string;
  readonly prefixLength: number;
  readonly interface: string;
}

/** One of the node's own checks, with the name it is shown by. */
export interface CompiledNodeCheck extends CompiledCheck {
  readonly name: string;
}

/** `cluster.replication`: persistence entries shared node to node. */
export interface CompiledReplication {
  readonly host: string;
  /** 0: the system chooses (the bound port is registered). */
  readonly port: number;
  /** Absolute path of the key file. */
  readonly keyFile: string;
  /** The shared key, base64 (read at load: the configuration crosses processes as data). */
  readonly key: string;
  readonly maxSkewMs: number;
}

/** The `cluster:` section, every default applied. */
export interface CompiledCluster {
  /** This node's name. */
  readonly node: string;
  /** The cluster's name; its keys live under {@link prefix}. */
  readonly name: string;
  /** `/steerdns/NAME/`. */
  readonly prefix: string;
  readonly etcd: {
    readonly endpoints: readonly string[];
    /** Absolute paths of the TLS files, read when the node connects. */
    readonly ca: string | undefined;
    readonly cert: string | undefined;
    readonly key: string | undefined;
    readonly username: string | undefined;
    /** Absolute path of the password file. */
    readonly passwordFile: string | undefined;
    readonly timeoutMs: number;
  };
  readonly leaseTtlSeconds: number;
  readonly marginMs: number;
  readonly addresses: readonly CompiledServiceAddress[];
  /** Absolute paths of the scripts run on entering each role. */
  readonly hooks: Readonly<Record<'initial' | 'active' | 'standby' | 'inop', readonly string[]>>;
  readonly hookTimeoutMs: number;
  readonly inopHoldMs: number;
  readonly selfQuery: boolean;
  readonly checks: readonly CompiledNodeCheck[];
  /** Undefined: no persistence entry leaves this node. */
  readonly replication: CompiledReplication | undefined;
}

/** `referral.backbone`: this node is a DNS-B (seed 002). */
export interface CompiledBackbone {
  readonly name: string;
  readonly listen: ListenAddress;
  /** Lower case, with a trailing dot. */
  readonly names: readonly string[];
  readonly referralTtl: number;
  readonly unmapped: 'nearest' | 'geo' | 'answer';
  readonly nearestMinPrefix: number;
  /** Absolute path, if the table is saved. */
  readonly stateFile: string | undefined;
  readonly missedIntervals: number;
  /** The rankings variant: answer the DNS-LBs' rankings directly. */
  readonly direct: boolean;
  /** TTL of a direct answer, seconds. */
  readonly directTtl: number;
  /** Site lists to a multicast group instead of to each DNS-LB. */
  readonly multicast: { readonly group: CompiledMulticastGroup; readonly ttl: number } | undefined;
}

/** An IPv4 multicast group of the map protocol, and the interface (an IPv4 address). */
export interface CompiledMulticastGroup {
  readonly host: string;
  readonly port: number;
  readonly interface: string | undefined;
}

/** `referral.balancer`: this node is a DNS-LB. */
export interface CompiledBalancer {
  readonly label: string;
  readonly address: string;
  readonly resolvers: readonly string[];
  readonly backbones: readonly ListenAddress[];
  readonly intervalMs: number;
  readonly listen: ListenAddress | undefined;
  /** A multicast group it takes site lists from. */
  readonly multicast: CompiledMulticastGroup | undefined;
  /** Balanced names (lower case, no dot) whose rankings it sends to the DNS-Bs. */
  readonly rank: readonly string[];
  /** The proxy-cache variant; undefined: off. */
  readonly proxy: CompiledBalancerProxy | undefined;
}

/** `referral.balancer.proxy`: the DNS-LB answers its own address and proxies HTTP. */
export interface CompiledBalancerProxy {
  readonly listen: ListenAddress;
  /** Balanced names, lower case, no dot: it answers `<label>.<name>`. */
  readonly names: readonly string[];
  /** The address answered (canonical text). */
  readonly answer: string;
  /** Seconds. */
  readonly ttl: number;
  /** Site address -> where its HTTP is fetched. */
  readonly origins: Readonly<Record<string, ListenAddress>>;
  readonly cacheBytes: number;
  readonly maxBodyBytes: number;
  readonly timeoutMs: number;
}

/** `referral.owner`: this node is the DNS-A. */
export interface CompiledOwner {
  readonly name: string;
  /** Lower case, no trailing dot (as map messages carry them). */
  readonly names: readonly string[];
  /** The service whose members are the sites, lower case with a trailing dot. */
  readonly service: string;
  readonly backbones: readonly ListenAddress[];
  readonly intervalMs: number;
}

/** The `referral:` section (docs/client-centric.md). */
export interface CompiledReferral {
  /** The map protocol's HMAC key, base64. */
  readonly key: string;
  readonly maxSkewMs: number;
  readonly backbone: CompiledBackbone | undefined;
  readonly balancer: CompiledBalancer | undefined;
  readonly owner: CompiledOwner | undefined;
  /** `referral.measurements`: where measurement agents send their rounds. */
  readonly measurements: { readonly listen: ListenAddress } | undefined;
}

/** The configuration a node runs on. Plain, frozen data. */
export interface CompiledConfig {
  /** The file it came from; undefined for `serve --zone`. */
  readonly file: string | undefined;
  readonly listen: readonly ListenAddress[];
  readonly workers: number;
  readonly log: { readonly level: string; readonly explainSample: number };
  readonly dns: {
    readonly udpPayloadMax: number;
    readonly tcpIdleTimeoutMs: number;
    readonly tcpMessageTimeoutMs: number;
    readonly tcpMaxConnections: number;
    readonly tcpMaxPerSource: number;
    readonly tcpOutputLimit: number;
    /** `dns.udpEngine` (src/dns/udp-engines.ts). */
    readonly udpEngine: 'auto' | 'dgram' | 'batched';
  };
  /** `dns.rateLimit` and `dns.cookies`; undefined: that protection is off. */
  readonly protection: {
    readonly rateLimit: RateLimitSettings | undefined;
    readonly cookies: CookieSettings | undefined;
  };
  readonly zones: readonly ZoneSource[];
  /** `metrics:` (docs/metrics.md): false turns counting and `GET /metrics` off. */
  readonly metrics: { readonly enabled: boolean };
  /** The operator HTTP interface; undefined when not served. */
  readonly api: CompiledApi | undefined;
  readonly agents: AgentsConfig | undefined;
  readonly services: readonly CompiledService[];
  readonly topology: CompiledTopology;
  readonly health: CompiledHealth;
  /** The `cluster:` section; undefined: this node runs alone. */
  readonly cluster: CompiledCluster | undefined;
  /** The `referral:` section; undefined: no client-centric role. */
  readonly referral?: CompiledReferral | undefined;
  /** The `lb:` section (`steerdns lb`); undefined: no balancer. */
  readonly lb?: LbSettings | undefined;
  /** The `distributedSites:` section (seed 003, docs/sites.md); undefined: not a site. */
  readonly distributedSites?: CompiledDistributedSites | undefined;
}

/**
 * The compiled value as JSON gives it back (fields that are undefined are left out), frozen
 * with everything in it: what one process compiles is what another receives.
 */
export function seal<T>(value: T): T {
  return deepFreeze(JSON.parse(JSON.stringify(value)) as T);
}

/** Freezes a compiled value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
