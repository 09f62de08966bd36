import type { EtcdClient } from '../cluster/etcd-client.js';
import { overridesPrefix } from '../control/cluster-records.js';
import type { ControlNode } from '../control/node.js';
import type { Override } from '../control/overrides.js';
import { ApiError } from './errors.js';
import type { OverrideStore } from './override-store.js';

/** How long a write waits to come back through the node's watch of etcd. */
const APPLIED_WITHIN_MS = 5000;

/** The etcd client and key prefix of a clustered node, once its cluster producer runs. */
export type ClusterKeys = () =>
  { readonly client: EtcdClient; readonly prefix: string } | undefined;

/** The same override, field by field (an etcd value read back has no `at`). */
const same = (a: Override, b: Override): boolean =>
  a.health === b.health &&
  a.admin === b.admin &&
  a.until === b.until &&
  a.reason === b.reason &&
  a.by === b.by;

/** Resolves once the node's overrides layer has `override` for `key` (or after the deadline). */
function applied(node: ControlNode, key: string, override: Override | undefined): Promise<void> {
  const matches = (): boolean => {
    const current = node.snapshot().overrides.get(key);
    if (override === undefined) return current === undefined;
    return current !== undefined && same(override, current);
  };
  if (matches()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, APPLIED_WITHIN_MS);
    const unsubscribe = node.subscribe((_snapshot, change) => {
      if (change.kind === 'overrides' && matches()) done();
    });
  });
}

/**
 * The overrides of a clustered node: written to etcd (`PREFIX overrides/<member key>`, with a
 * lease that ends a second after `until`), the same keys `steerdns cluster override` writes;
 * every node's cluster-overrides producer reads them back into its layer. A write resolves
 * once this node's layer has it (or after a few seconds: the watch may lag).
 */
export function etcdOverrides(node: ControlNode, keys: ClusterKeys): OverrideStore {
  return {
    async set(key, override) {
      const cluster = keys();
      if (cluster === undefined)
        throw new ApiError(
          'STEERDNS_ERR_API_OVERRIDE_STORE',
          'the node has not joined its cluster yet',
        );
      const { client, prefix } = cluster;
      const etcdKey = `${overridesPrefix(prefix)}${key}`;
      try {
        if (override === undefined) await client.delete(etcdKey);
        else {
          const ttl =
            override.until === undefined
              ? undefined
              : Math.max(1, Math.ceil((override.until - Date.now()) / 1000) + 1);
          const lease = ttl === undefined ? undefined : (await client.leaseGrant(ttl)).id;
          await client.put(etcdKey, JSON.stringify(override), lease === undefined ? {} : { lease });
        }
      } catch (error) {
        throw new ApiError(
          'STEERDNS_ERR_API_OVERRIDE_STORE',
          `the override cannot be written to etcd: ${(error as Error).message}`,
        );
      }
      await applied(node, key, override);
    },
    stop: () => undefined,
  };
}
