import type { CompiledConfig } from '../config/compiled.js';
import { ConfigError } from '../lib/errors.js';
import type { TrackerState } from '../health/tracker.js';
import { loadServices, referralGeo, type LoadedServices } from '../server/load-services.js';
import { PersistenceStores } from '../steering/persistence-store.js';
import type { StateView } from '../steering/types.js';
import type { ZoneSet } from '../zone/zone-set.js';
import { NO_AGENTS, type AgentSnapshot } from '../agent/registry.js';
import type { ClusterView } from './cluster-view.js';
import { composeState } from './state-view.js';
import {
  measuredStateView,
  NO_REFERRAL,
  offlineStateView,
  referralState,
  type ReferralLayer,
  type ReferralState,
} from '../referral/state.js';
import { sitesStateView, type SitesLayer } from '../sites/state-view.js';
import {
  NO_OVERRIDES,
  overriddenStateView,
  type Override,
  type OverridesLayer,
} from './overrides.js';

/** Health results by check id: immutable states, as the health board reports them. */
export type HealthLayer = ReadonlyMap<string, TrackerState>;

/**
 * Everything a node answers from, at one version. Immutable: a change makes a new
 * snapshot, and a query reads the one that was current when it started.
 */
export interface NodeSnapshot {
  /** Goes up by one with every change applied. */
  readonly version: number;
  readonly config: CompiledConfig;
  /** The zones of `config`, loaded in this process (a primary keeps an outline). */
  readonly zones: ZoneSet;
  /** The services built from `config` with the members announced now. */
  readonly services: LoadedServices;
  /** State layers, each from its producer. */
  readonly health: HealthLayer;
  readonly agents: AgentSnapshot;
  /** What operators force on members (forced health, admin state), by member key. */
  readonly overrides: OverridesLayer;
  /** The live state answers are decided on: configuration, agents, health, then overrides. */
  readonly state: StateView;
  /** This node's view of its cluster; undefined when it runs alone. Not answered from. */
  readonly cluster: ClusterView | undefined;
  /** Client-centric roles (seed 002): a DNS-B's table, the owner's offline sites. */
  readonly referral: ReferralState;
  /** The live hand-off tables of this site (seed 003, docs/sites.md); undefined: not a site. */
  readonly sites: SitesLayer | undefined;
}

/** A change a producer publishes. `config` carries the zones this process loaded for it. */
export type NodeChange =
  | { readonly kind: 'config'; readonly config: CompiledConfig; readonly zones: ZoneSet }
  | { readonly kind: 'health'; readonly states: readonly (readonly [string, TrackerState])[] }
  | { readonly kind: 'agents'; readonly agents: AgentSnapshot }
  /** Every override in force (the whole layer: operators change few, rarely). */
  | { readonly kind: 'overrides'; readonly overrides: readonly (readonly [string, Override])[] }
  /** The cluster as this node sees it now (roles, epochs, nodes, its own checks). */
  | { readonly kind: 'cluster'; readonly cluster: ClusterView }
  /** The DNS-LBs registered here and the site lists received (the whole layer). */
  | { readonly kind: 'referral'; readonly referral: ReferralLayer }
  /** This site's hand-off tables, recomputed from its and its peers' DSSP rows (whole layer). */
  | { readonly kind: 'sites'; readonly sites: SitesLayer | undefined };

/**
 * Called with the new snapshot and the change that made it. A listener with work to do
 * outside the process (binding sockets, say) returns its promise: the publisher can wait
 * for it and hear what failed.
 */
export type NodeListener = (snapshot: NodeSnapshot, change: NodeChange) => void | Promise<void>;

/**
 * The one owner of a node's configuration and live state. Producers (the configuration
 * loader, the health board, the agent listener, the link to a primary) publish changes;
 * consumers (the DNS server, the operator interface, the link to workers) subscribe and
 * read snapshots. Persistence tables live here too: they outlive every reload.
 */
export class ControlNode {
  readonly persistence: PersistenceStores;
  private current: NodeSnapshot;
  private readonly listeners = new Set<NodeListener>();
  private readonly queued: NodeChange[] = [];
  private delivering = false;

  constructor(
    config: CompiledConfig,
    zones: ZoneSet,
    options: { readonly persistence?: PersistenceStores; readonly agents?: AgentSnapshot } = {},
  ) {
    this.persistence = options.persistence ?? new PersistenceStores();
    const agents = options.agents ?? NO_AGENTS;
    const services = this.build(config, zones, agents);
    const layers = {
      health: new Map(),
      agents,
      overrides: NO_OVERRIDES,
      cluster: undefined,
      referral: builtReferral(config, NO_REFERRAL),
      sites: undefined,
    };
    this.current = snapshotOf(0, config, zones, services, layers);
  }

  /** The snapshot current now. */
  snapshot(): NodeSnapshot {
    return this.current;
  }

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: NodeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies a change and tells every subscriber. A configuration whose services cannot
   * be built on its zones throws {@link ConfigError}, and nothing changes. Resolves, once
   * the subscribers' own work is done, the errors it met (never rejects).
   */
  publish(change: NodeChange): Promise<readonly Error[]> {
    // A subscriber that publishes (a reload restarting checks, say) must not make the
    // others see changes out of order: its change waits until this one is delivered.
    if (this.delivering) {
      this.queued.push(change);
      return Promise.resolve([]);
    }
    this.current = this.apply(change);
    const work: Promise<void>[] = [];
    this.delivering = true;
    try {
      this.deliver(this.current, change, work);
      for (let next = this.queued.shift(); next; next = this.queued.shift()) {
        try {
          this.current = this.apply(next);
          this.deliver(this.current, next, work);
        } catch (error) {
          work.push(Promise.reject(asError(error)));
        }
      }
    } finally {
      this.delivering = false;
      this.queued.length = 0;
    }
    return settle(work);
  }

  private deliver(snapshot: NodeSnapshot, change: NodeChange, work: Promise<void>[]): void {
    for (const listener of this.listeners) {
      try {
        const pending = listener(snapshot, change);
        if (pending) work.push(pending);
      } catch (error) {
        work.push(Promise.reject(asError(error)));
      }
    }
  }

  private apply(change: NodeChange): NodeSnapshot {
    const { version, config, zones, services, health, agents } = this.current;
    const next = version + 1;
    const layers: Layers = this.current;
    switch (change.kind) {
      case 'config': {
        const built = this.build(change.config, change.zones, agents);
        const checks = new Set(change.config.health.checks.map((check) => check.id));
        const kept = new Map([...health].filter(([id]) => checks.has(id)));
        const referral = builtReferral(change.config, layers.referral.layer);
        return snapshotOf(next, change.config, change.zones, built, {
          ...layers,
          health: kept,
          referral,
        });
      }
      case 'health': {
        const merged = new Map(health);
        for (const [id, state] of change.states) merged.set(id, state);
        return snapshotOf(next, config, zones, services, { ...layers, health: merged });
      }
      case 'agents': {
        const rebuilt =
          change.agents.membership === agents.membership
            ? services
            : this.build(config, zones, change.agents);
        return snapshotOf(next, config, zones, rebuilt, { ...layers, agents: change.agents });
      }
      case 'overrides': {
        const overrides = new Map(change.overrides);
        return snapshotOf(next, config, zones, services, { ...layers, overrides });
      }
      case 'referral': {
        const referral = builtReferral(config, change.referral);
        return snapshotOf(next, config, zones, services, { ...layers, referral });
      }
      case 'sites':
        return snapshotOf(next, config, zones, services, { ...layers, sites: change.sites });
      case 'cluster':
        // No answer depends on it: the state view is kept as it is.
        return { ...this.current, version: next, cluster: change.cluster };
    }
  }

  private build(config: CompiledConfig, zones: ZoneSet, agents: AgentSnapshot): LoadedServices {
    const { services, problems } = loadServices(config, zones, this.persistence, agents.nodes);
    if (problems.length > 0) throw new ConfigError(problems);
    return services;
  }
}

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

async function settle(work: readonly Promise<void>[]): Promise<readonly Error[]> {
  if (work.length === 0) return [];
  const outcomes = await Promise.allSettled(work);
  return outcomes.flatMap((outcome) =>
    outcome.status === 'rejected' ? [asError(outcome.reason)] : [],
  );
}

/** The state layers of a snapshot, each from its producer. */
interface Layers {
  readonly health: HealthLayer;
  readonly agents: AgentSnapshot;
  readonly overrides: OverridesLayer;
  readonly cluster: ClusterView | undefined;
  readonly referral: ReferralState;
  readonly sites: SitesLayer | undefined;
}

/** The referral layer built on a configuration: its DNS-B settings and its members. */
function builtReferral(config: CompiledConfig, layer: ReferralLayer): ReferralState {
  const members = config.services.flatMap((s) => s.pools.flatMap((p) => p.members));
  const balancer = config.referral?.balancer;
  const proxy = balancer?.proxy && { label: balancer.label, ...balancer.proxy };
  const geo = referralGeo(config);
  const locate = geo && ((address: Uint8Array) => geo.locate(address));
  return referralState(config.referral?.backbone, members, layer, proxy, locate);
}

function snapshotOf(
  version: number,
  config: CompiledConfig,
  zones: ZoneSet,
  services: LoadedServices,
  layers: Layers,
): NodeSnapshot {
  const { health, agents, overrides, cluster, referral, sites } = layers;
  const composed = composeState(config, services, health, agents);
  const overridden = overriddenStateView(overrides, offlineStateView(referral.offline, composed));
  const state = measuredStateView(referral.measured, sitesStateView(sites, overridden));
  return {
    version,
    config,
    zones,
    services,
    health,
    agents,
    overrides,
    state,
    cluster,
    referral,
    sites,
  };
}
