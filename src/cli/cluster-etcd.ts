import { hostname, userInfo } from 'node:os';
import { EtcdClient, EtcdError } from '../cluster/etcd-client.js';
import type { CompiledCluster } from '../config/compile-cluster.js';
import { readConfig, type CompiledConfig } from '../config/load.js';
import { configKey, decodePushedConfig } from '../control/cluster-records.js';
import { pushedSource } from '../control/producers/cluster-config.js';
import { etcdOptions } from '../control/producers/cluster.js';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { ExitCode, type CommandOutcome } from './outcome.js';

/** A `steerdns cluster` command that cannot go on; `exitCode` says how it ends. */
export class ClusterCommandError extends Error {
  readonly code = 'STEERDNS_ERR_CLUSTER_COMMAND';
  readonly exitCode: number;
  readonly lines: readonly string[];
  /** Whether the usage text follows the lines (a malformed command line). */
  readonly showUsage: boolean;

  constructor(
    lines: readonly string[],
    exitCode: number = ExitCode.failed,
    showUsage = exitCode === ExitCode.usage,
  ) {
    super(lines.join('\n'));
    this.lines = lines;
    this.exitCode = exitCode;
    this.showUsage = showUsage;
  }
}

/** The local configuration with its cluster section, and a client on its etcd. */
export interface ClusterContext {
  readonly config: CompiledConfig;
  readonly cluster: CompiledCluster;
  readonly client: EtcdClient;
}

/**
 * Reads the configuration `file` and opens a client on its `cluster.etcd` (the one a node
 * of that file uses); runs `work` with them and closes the client. Problems of the file,
 * a file without `cluster:`, and etcd failures become a {@link ClusterCommandError}.
 */
export async function withCluster<T>(
  file: string | undefined,
  work: (context: ClusterContext) => Promise<T>,
): Promise<T> {
  if (file === undefined)
    throw new ClusterCommandError(
      ['--config FILE is required (a node configuration with cluster:)'],
      ExitCode.usage,
    );
  let config: CompiledConfig;
  try {
    config = await readConfig(file);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ClusterCommandError(error.problems.map(formatProblem));
    throw error;
  }
  const cluster = config.cluster;
  if (cluster === undefined) throw new ClusterCommandError([`${file}: it has no cluster: section`]);
  const client = new EtcdClient(etcdOptions(cluster));
  try {
    return await work({ config, cluster, client });
  } catch (error) {
    if (error instanceof EtcdError) throw new ClusterCommandError([error.message]);
    throw error;
  } finally {
    client.close();
  }
}

/** Who runs the command, for the values it writes: `user@host`. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no user entry (a container): the host alone says enough
  }
  return `${user}@${hostname()}`;
}

/**
 * The configuration the nodes run now: the pushed one when there is one (and it compiles
 * here), else the local file. Member names are checked against it.
 */
export async function runningConfig(context: ClusterContext): Promise<CompiledConfig> {
  const { kvs } = await context.client.range(configKey(context.cluster.prefix));
  const pushed = kvs[0] === undefined ? undefined : decodePushedConfig(kvs[0].value);
  if (pushed === undefined) return context.config;
  try {
    return await pushedSource(pushed, () => Promise.resolve(context.config))();
  } catch {
    return context.config;
  }
}

/** The outcome of a failed command. */
export const failedWith = (error: ClusterCommandError): CommandOutcome => ({
  out: [],
  errors: error.lines.map((line) => `steerdns cluster: ${line}`),
  exitCode: error.exitCode,
});
