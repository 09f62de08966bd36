import type { PersistenceChange, PersistenceStores } from '../steering/persistence-store.js';
import type { ReplicatedTable } from './replication.js';

/** The changes of one service's persistence store, as they cross processes. */
interface PersistenceRow {
  readonly service: string;
  readonly changes: readonly PersistenceChange[];
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
        const changes = store.drainChanges({ refreshes: !urgent });
        if (changes.length > 0) rows.push({ service, changes });
      }
      return rows;
    },
    snapshot() {
      const rows: PersistenceRow[] = [];
      for (const [service, store] of stores.all()) {
        const changes = [...store.entries()].map(([key, entry]) => ({ key, entry }));
        if (changes.length > 0) rows.push({ service, changes });
      }
      return rows;
    },
    merge(rows) {
      for (const row of rows as readonly PersistenceRow[]) stores.merge(row.service, row.changes);
    },
  };
}
