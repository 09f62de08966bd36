import type { Logger } from '../../observability/log.js';
import type { ConfigSource } from '../load.js';
import type { ControlNode } from '../node.js';
import type { ReloadOutcome } from './config.js';
import type { ClusterProducer } from './cluster.js';
import { startClusterConfig } from './cluster-config.js';
import { startClusterOverrides } from './cluster-overrides.js';

/** What operators share through etcd, followed by one node. */
export interface ClusterOperator {
  stop(): void;
}

/**
 * Starts following what operators put in etcd for the whole cluster: the overrides
 * (`steerdns cluster override`) and the pushed configuration (`steerdns cluster config
 * push`). Resolves once both were read (a pushed configuration found at start is loaded
 * by then), or after the etcd timeout when etcd does not answer: the node answers from
 * its own file meanwhile and catches up when etcd does.
 */
export async function startClusterOperator(
  node: ControlNode,
  cluster: ClusterProducer,
  log: Logger,
  local: ConfigSource,
  reloadFrom: (source: ConfigSource) => Promise<ReloadOutcome>,
): Promise<ClusterOperator> {
  const compiled = node.snapshot().config.cluster;
  if (compiled === undefined) return { stop: () => undefined };
  const { prefix, node: name } = compiled;
  // A first read takes one range and one watch: a few request timeouts at most.
  const waitMs = 3 * compiled.etcd.timeoutMs;
  const client = cluster.client;
  const overrides = startClusterOverrides(node, client, prefix, log, waitMs);
  const config = startClusterConfig({ client, prefix, node: name, local, reloadFrom, log, waitMs });
  await Promise.all([overrides.ready, config.ready]);
  return {
    stop() {
      config.stop();
      overrides.stop();
    },
  };
}
