import type { MasterRecord } from './master-record.js';
import type { Role } from '../cluster/roles.js';
import type { Health } from '../health/tracker.js';

/** A node of the cluster as the others see it (its registration in etcd). */
export interface ClusterNodeView {
  readonly name: string;
  readonly role: Role;
  /** The epoch of the master it is or follows (0: none known). */
  readonly epoch: number;
  /** When it last wrote its registration (ms since the epoch, its own clock). */
  readonly updatedAt: number;
  /** Its DNS listeners. */
  readonly dns: readonly string[];
  /** How many health checks it owns, as this node computes it (health once per cluster). */
  readonly targets?: number;
  /** How long its persistence batches take to reach this node (shared persistence), ms. */
  readonly replicationLagMs?: number;
  /** Where it takes persistence entries from its peers, when it shares them. */
  readonly replication?: string;
}

/** One of this node's own checks. */
export interface OwnCheckView {
  readonly name: string;
  readonly health: Health;
  readonly reason: string | undefined;
}

/** The cluster as one node sees it: what `steerdns status` shows. */
export interface ClusterView {
  readonly cluster: string;
  readonly node: string;
  readonly role: Role;
  /** This node's epoch as master, or the epoch of the master it follows (0: none known). */
  readonly epoch: number;
  /** The master's name, when one is known. */
  readonly master: string | undefined;
  /** Whether this node holds the service addresses now. */
  readonly holding: boolean;
  readonly addresses: readonly string[];
  /**
   * `joining` before the first lease, `ok` while it renews, `at-risk` past its margin,
   * `lost` until a new lease.
   */
  readonly session: 'joining' | 'ok' | 'at-risk' | 'lost';
  /** When the lease was last renewed (ms since the epoch), if ever. */
  readonly renewedAt: number | undefined;
  readonly etcdEndpoint: string;
  readonly nodes: readonly ClusterNodeView[];
  readonly checks: readonly OwnCheckView[];
  /** The master record of the highest epoch seen (`PREFIX/master`, written by the master). */
  readonly masterRecord?: MasterRecord;
  /** Master records of an older epoch than the one kept, dropped since start. */
  readonly staleMasterRecords: number;
  /** The owner of each health check (check id → node), when checks are shared. */
  readonly healthOwners?: Readonly<Record<string, string>>;
}
