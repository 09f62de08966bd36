import type { Override } from '../control/overrides.js';

/**
 * Where the operator's overrides live: the API writes them here, and the node's overrides
 * layer follows. A node alone keeps them in a state file (override-file.ts); a node of a
 * cluster in etcd, where every node reads them (override-etcd.ts).
 */
export interface OverrideStore {
  /**
   * Sets the override of member `key`, or clears it (undefined). Resolves once the node
   * applies it; rejects with an ApiError (STEERDNS_ERR_API_OVERRIDE_STORE) when it cannot
   * be kept, and then nothing changed.
   */
  set(key: string, override: Override | undefined): Promise<void>;
  stop(): void;
}

/** An override as stored (a state file, an etcd value): the override and when it was set. */
export type StoredOverride = Override & { readonly at: number };
