import type { ProtectionStats } from '../answer/protection.js';
import type { QueryTotals } from '../answer/query-counters.js';
/**
 * What a primary and its workers say to each other over the cluster IPC channel: one
 * generic snapshot (a worker that starts) and one generic change (everything after), plus
 * the few control words. Everything here is plain data (JSON).
 */
import type { ExplainRequest, QueryExplanation } from '../answer/explain.js';
import type { CompiledConfig } from '../config/compiled.js';
import type { TrackerState } from '../health/tracker.js';
import type { AgentSnapshot } from '../agent/registry.js';
import type { BoundDns } from '../server/dns-server.js';
import type { NodeChange, NodeSnapshot } from './node.js';
import type { Override } from './overrides.js';
import type { ReplicationBatch } from './replication.js';
import type { ReferralLayer } from '../referral/state.js';
import type { SampledDecision } from './decisions.js';
import type { SitesLayer } from '../sites/state-view.js';

/** The part of a snapshot that crosses processes: zones and services are rebuilt there. */
export interface SharedSnapshot {
  readonly version: number;
  readonly config: CompiledConfig;
  readonly health: readonly (readonly [string, TrackerState])[];
  readonly agents: AgentSnapshot;
  readonly overrides: readonly (readonly [string, Override])[];
  /** The referral layer (seed 002), when anything was heard. */
  readonly referral?: ReferralLayer;
  /** The sites layer (seed 003), when this node is a site. */
  readonly sites?: SitesLayer;
}

/** A change as it crosses processes: a configuration travels without its zones. */
export type SharedChange =
  | { readonly kind: 'config'; readonly config: CompiledConfig }
  | Exclude<NodeChange, { kind: 'config' }>;

/** From the primary to a worker. */
export type PrimaryMessage =
  | { readonly type: 'snapshot'; readonly snapshot: SharedSnapshot }
  | { readonly type: 'change'; readonly version: number; readonly change: SharedChange }
  /** Rows of replicated tables (persistence) written by another process. */
  | { readonly type: 'replicate'; readonly batch: ReplicationBatch }
  /** Explain this query on your state (the primary keeps only an outline of the zones). */
  | { readonly type: 'explain'; readonly id: number; readonly request: ExplainRequest }
  /** Send your query counters now (a scrape of /metrics). */
  | { readonly type: 'report' }
  | { readonly type: 'stop' };

/** From a worker to the primary. */
export type WorkerMessage =
  /**
   * The worker listens: the primary sends its snapshot now. (A message sent when cluster
   * reports a worker online can arrive before the worker's modules have loaded, and is lost.)
   */
  | { readonly type: 'hello' }
  /** The worker answers, on these addresses. */
  | { readonly type: 'ready'; readonly dns: BoundDns }
  /** A configuration could not be applied here (its zones did not load, say). */
  | { readonly type: 'rejected'; readonly version: number; readonly reason: string }
  /** A configuration change was applied here: the next worker may reload. */
  | { readonly type: 'reloaded'; readonly version: number }
  | { readonly type: 'replicate'; readonly batch: ReplicationBatch }
  /** The worker's rate-limit and cookie counters so far (sent every second). */
  | { readonly type: 'protection'; readonly stats: ProtectionStats }
  /** A query the worker answered, explained there (a few a second: the decisions log). */
  | { readonly type: 'decision'; readonly decision: SampledDecision }
  /** The worker's query counters so far (every second when they changed, and on `report`). */
  | { readonly type: 'queries'; readonly totals: QueryTotals }
  | {
      readonly type: 'explained';
      readonly id: number;
      readonly explanation?: QueryExplanation;
      readonly error?: { readonly message: string };
    };

/** The shared part of a snapshot. */
export function shareSnapshot(snapshot: NodeSnapshot): SharedSnapshot {
  return {
    version: snapshot.version,
    config: snapshot.config,
    health: [...snapshot.health],
    agents: snapshot.agents,
    overrides: [...snapshot.overrides],
    referral: snapshot.referral.layer,
    ...(snapshot.sites ? { sites: snapshot.sites } : {}),
  };
}

/** The shared form of a change. */
export function shareChange(change: NodeChange): SharedChange {
  return change.kind === 'config' ? { kind: 'config', config: change.config } : change;
}
