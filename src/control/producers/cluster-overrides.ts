import type { EtcdClient } from '../../cluster/etcd-client.js';
import { PrefixView } from '../../cluster/prefix-view.js';
import type { Logger } from '../../observability/log.js';
import { decodeOverride, overridesPrefix } from '../cluster-records.js';
import type { ControlNode } from '../node.js';
import type { Override } from '../overrides.js';

/** The overrides producer of a clustered node. */
export interface ClusterOverrides {
  /** Resolves after the first read of etcd, or after `waitMs`, whichever comes first. */
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Follows `PREFIX overrides/` and publishes every override in it as the node's overrides
 * layer (`{ kind: 'overrides' }`), so every node applies what an operator set, and a node
 * that starts reads them again. A value that is no override is logged once and left out.
 * Expiry needs nothing here: an override past its `until` is ignored by the state view from
 * that moment, and its key's lease removes it from etcd soon after. While etcd is
 * unreachable the last overrides stay in force.
 */
export function startClusterOverrides(
  node: ControlNode,
  client: Pick<EtcdClient, 'range' | 'watch'>,
  prefix: string,
  log: Logger,
  waitMs: number,
): ClusterOverrides {
  const keyPrefix = overridesPrefix(prefix);
  const rejected = new Set<string>();
  const view = new PrefixView({
    client,
    prefix: keyPrefix,
    logger: log,
    onChange: (kvs) => {
      const overrides: [string, Override][] = [];
      for (const kv of kvs) {
        const member = kv.key.slice(keyPrefix.length);
        const override = decodeOverride(kv.value);
        if (override) overrides.push([member, override]);
        else if (!rejected.has(`${kv.key}@${kv.modRevision}`)) {
          rejected.add(`${kv.key}@${kv.modRevision}`);
          log.warn({ key: kv.key }, 'cluster override ignored: the value is not an override');
        }
      }
      log.info({ overrides: overrides.map(([member]) => member) }, 'cluster overrides');
      void node.publish({ kind: 'overrides', overrides });
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = Promise.race([
    view.start(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, waitMs);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
  return {
    ready,
    stop() {
      view.close();
    },
  };
}
