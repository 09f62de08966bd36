import type { PersistenceChange, PersistenceStores } from '../steering/persistence-store.js';
import type { ReplicatedTable } from './replication.js';

/** The changes of one service's persistence store, as they cross processes. */
interface PersistenceRow {
  readonly service: string;
  readonly changes: readonly PersistenceChange[];
}

/** Changes per row at most: a million entries cross as many small messages, not one huge one. */
export const ROW_CHANGES = 1000;

/** `changes` of `service` as rows of at most {@link ROW_CHANGES}. */
function pushRows(rows: PersistenceRow[], service: string, changes: PersistenceChange[]): void {
  for (let i = 0; i < changes.length; i += ROW_CHANGES)
    rows.push({
      service,
      changes: changes.length <= ROW_CHANGES ? changes : changes.slice(i, i + ROW_CHANGES),
    });
}

/**
 * The persistence tables of a node as one replicated table: every process of the node
 * answers a returning resolver with the same member (seed 001), and the same rows can
 * later travel between nodes.
 */
export function persistenceTable(stores: PersistenceStores): ReplicatedTable {
  return {
    name: 'persistence',
    takeChanges(urgent) {
      const rows: PersistenceRow[] = [];
      for (const [service, store] of stores.all()) {
        pushRows(rows, service, store.drainChanges({ refreshes: !urgent }));
      }
      return rows;
    },
    snapshot() {
      const rows: PersistenceRow[] = [];
      for (const [service, store] of stores.all()) {
        pushRows(
          rows,
          service,
          [...store.entries()].map(([key, entry]) => ({ key, entry })),
        );
      }
      return rows;
    },
    merge(rows) {
      for (const row of rows as readonly PersistenceRow[]) stores.merge(row.service, row.changes);
    },
  };
}
