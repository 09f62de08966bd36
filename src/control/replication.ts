/**
 * Tables that every process of a node (and later every node of a cluster) keeps a copy
 * of: changes go out as a stream, a newcomer gets a full copy, and when two writers
 * disagree each copy settles on the same row by the table's own deterministic rule.
 */

/** Rows of one table, as they cross processes. */
export interface ReplicationBatch {
  readonly table: string;
  readonly rows: readonly unknown[];
}

/** A table with copies in several places. */
export interface ReplicatedTable {
  readonly name: string;
  /**
   * Rows written here since the last call. `urgent` only: new decisions that another
   * copy must know at once; otherwise every change, refreshes included.
   */
  takeChanges(urgent: boolean): unknown[];
  /** Every row, for a copy that starts empty. */
  snapshot(): unknown[];
  /** Applies rows written elsewhere; they are not taken again as changes of this copy. */
  merge(rows: readonly unknown[]): void;
}

/** How often refreshes (not new decisions) are sent. */
const REFRESH_MS = 1000;
/** How often new decisions are looked for: well below the time between two queries. */
const URGENT_MS = 2;

/** Sends the changes of local tables and applies those of other copies. */
export interface Replicator {
  /** Applies a batch received from another copy. */
  receive(batch: ReplicationBatch): void;
  /** Every row of every table, for a newcomer. */
  snapshot(): ReplicationBatch[];
  /** Sends what is left and stops. */
  stop(): void;
}

/**
 * Replicates `tables` through `send`: new decisions within a few milliseconds, other
 * changes once a second, so that a busy node sends a batch per interval, not a message
 * per query.
 */
export function startReplicator(
  tables: readonly ReplicatedTable[],
  send: (batch: ReplicationBatch) => void,
): Replicator {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const flush = (urgent: boolean): void => {
    for (const table of tables) {
      const rows = table.takeChanges(urgent);
      if (rows.length > 0) send({ table: table.name, rows });
    }
  };
  const urgentTimer = setInterval(() => {
    flush(true);
  }, URGENT_MS);
  const refreshTimer = setInterval(() => {
    flush(false);
  }, REFRESH_MS);
  urgentTimer.unref();
  refreshTimer.unref();
  return {
    receive(batch) {
      byName.get(batch.table)?.merge(batch.rows);
    },
    snapshot: () => tables.map((table) => ({ table: table.name, rows: table.snapshot() })),
    stop() {
      clearInterval(urgentTimer);
      clearInterval(refreshTimer);
      flush(false);
    },
  };
}
