import type { SampledDecision } from '../control/decisions.js';
import type { ControlNode, NodeSnapshot } from '../control/node.js';
import type { ReloadOutcome } from '../control/producers/config.js';
import type { PersistenceStores } from '../steering/persistence-store.js';
import type { OverrideStore } from './override-store.js';
import type { DecisionsInWindow } from './shares.js';

/** Whether the node answers: its zones are loaded and the first round of checks is done. */
export interface Readiness {
  readonly zones: boolean;
  readonly health: boolean;
}

/** The node behind /api/v1: its state, and what an operator may change in it. */
export interface Operator {
  snapshot(): NodeSnapshot;
  ready(): Readiness;
  /** Decisions per member key over the last minute; undefined when nobody counts them. */
  decisions(): DecisionsInWindow | undefined;
  /** The decisions log: the last sampled real queries, explained, newest first. */
  sampled(): readonly SampledDecision[];
  readonly overrides: OverrideStore;
  /** Re-reads the configuration, as SIGHUP does. */
  reload(): Promise<ReloadOutcome>;
  readonly persistence: PersistenceStores;
  /** Forgets one persistence entry everywhere in the node (every worker); false if none. */
  forget(service: string, key: string): boolean;
}

/** The parts of a node an Operator is built from in tests: the node itself. */
export type OperatorNode = Pick<ControlNode, 'snapshot' | 'persistence'>;
