import type { EtcdClient, KeyValue } from '../../cluster/etcd-client.js';
import { PrefixView } from '../../cluster/prefix-view.js';
import { basename, dirname, join, resolve } from 'node:path';
import { seal, type CompiledConfig } from '../../config/compiled.js';
import { parseConfig } from '../../config/load.js';
import { formatProblem, type Problem } from '../../lib/errors.js';
import type { Logger } from '../../observability/log.js';
import {
  configKey,
  configStatusPrefix,
  decodePushedConfig,
  type ConfigStatus,
  type PushedConfig,
} from '../cluster-records.js';
import type { ConfigSource } from '../load.js';
import type { ReloadOutcome } from './config.js';

/**
 * The sections each node keeps from its own file whatever is pushed: how it joins the
 * cluster, where it listens, its operator interface and its processes.
 */
export const NODE_LOCAL_SECTIONS = ['cluster', 'listen', 'api', 'workers'] as const;

/** Where a node reads a pushed file from: as if it sat beside the node's own file. */
export function pushedPath(pushed: Pick<PushedConfig, 'name'>, own: CompiledConfig): string {
  return join(dirname(resolve(own.file ?? '.')), basename(pushed.name));
}

/**
 * The configuration a node runs for a pushed one: the pushed text, parsed as if it were a
 * file beside the node's own (so relative paths, such as zone files, are the node's own:
 * they must exist on every node), with the node-local sections of the node's own file.
 */
export function pushedSource(pushed: PushedConfig, local: ConfigSource): ConfigSource {
  return async (): Promise<CompiledConfig> => {
    const own = await local();
    const config = parseConfig(pushed.text, pushedPath(pushed, own));
    return seal({
      ...config,
      cluster: own.cluster,
      listen: own.listen,
      api: own.api,
      workers: own.workers,
    });
  };
}

/** Problems of a pushed file named as the operator named it (zone files keep their paths). */
export function pushedProblems(
  problems: readonly Problem[],
  pushed: Pick<PushedConfig, 'name'>,
  own: CompiledConfig,
): Problem[] {
  const path = pushedPath(pushed, own);
  return problems.map((p) => (p.file === path ? { ...p, file: pushed.name } : p));
}

/** Options of {@link startClusterConfig}. */
export interface ClusterConfigOptions {
  readonly client: Pick<EtcdClient, 'range' | 'watch' | 'put'>;
  readonly prefix: string;
  /** This node's name: its outcome goes to `PREFIX config-status/<node>`. */
  readonly node: string;
  /** The node's own configuration (its file, with the command line's flags). */
  readonly local: ConfigSource;
  /** The reload path of SIGHUP, from another source. */
  readonly reloadFrom: (source: ConfigSource) => Promise<ReloadOutcome>;
  readonly log: Logger;
  /** How long {@link ClusterConfig.ready} waits for etcd's first answer. */
  readonly waitMs: number;
}

/** The pushed-configuration follower of a clustered node. */
export interface ClusterConfig {
  /**
   * Resolves once the pushed configuration found at start (if any) is loaded or rejected,
   * or when etcd has not answered within `waitMs`.
   */
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Follows `PREFIX config`: every new version is loaded through the reload path (checked
 * whole first; a rejected one leaves the running configuration in place), and the outcome
 * is written to `PREFIX config-status/<node>`. A node that starts while a pushed
 * configuration exists loads it (its own file stays the source of the node-local sections);
 * when the key is deleted the node goes back to its own file. Versions that arrive while
 * one loads are skipped but for the newest.
 */
export function startClusterConfig(options: ClusterConfigOptions): ClusterConfig {
  const { client, prefix, node, local, reloadFrom, log } = options;
  const key = configKey(prefix);
  let seen: number | undefined;
  let applied = false;
  let closed = false;
  let work = Promise.resolve();

  const handle = async (kv: KeyValue | undefined): Promise<void> => {
    if (closed || kv?.modRevision !== seen) return; // a newer version is queued
    if (kv === undefined) {
      if (!applied) return;
      log.info('the pushed configuration was deleted: back to this node’s own file');
      applied = !(await reloadFrom(local)).ok;
      return;
    }
    const version = kv.modRevision;
    const pushed = decodePushedConfig(kv.value);
    let outcome: ReloadOutcome;
    if (pushed === undefined) {
      const problems = [{ file: key, line: 0, reason: 'not a pushed configuration' }];
      outcome = { ok: false, problems };
    } else {
      log.info({ version, file: pushed.name, by: pushed.by }, 'loading a pushed configuration');
      outcome = await reloadFrom(pushedSource(pushed, local));
      if (outcome.ok) applied = true;
      else outcome = { ok: false, problems: await named(outcome.problems, pushed) };
    }
    if (!outcome.ok)
      log.error(
        { version, problems: outcome.problems.map(formatProblem) },
        'pushed configuration rejected, still serving the previous one',
      );
    await report({ node, version, ...outcome, at: Date.now() });
  };

  const named = async (problems: readonly Problem[], pushed: PushedConfig): Promise<Problem[]> => {
    try {
      return pushedProblems(problems, pushed, await local());
    } catch {
      return [...problems]; // the node's own file is what is wrong: its problems say so
    }
  };

  const report = async (status: ConfigStatus): Promise<void> => {
    const value = JSON.stringify(status satisfies { problems: readonly Problem[] });
    for (let attempt = 0; !closed && seen === status.version; attempt++) {
      try {
        await client.put(`${configStatusPrefix(prefix)}${node}`, value);
        return;
      } catch (error) {
        if (attempt === 0) log.warn({ err: error }, 'cannot write the pushed configuration status');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };

  let firstHandled: () => void = () => undefined;
  const firstDone = new Promise<void>((resolve) => (firstHandled = resolve));
  const view = new PrefixView({
    client,
    prefix: key, // also sees config-status/: only the exact key counts
    logger: log,
    onChange: (kvs) => {
      const kv = kvs.find((candidate) => candidate.key === key);
      if (kv?.modRevision === seen) {
        firstHandled();
        return;
      }
      seen = kv?.modRevision;
      work = work.then(() => handle(kv)).finally(firstHandled);
    },
  });
  // Waits for etcd's first answer up to `waitMs`; once it answered, for the load it started.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = Promise.race([
    view.start().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(resolve, options.waitMs, false))),
  ]).then((synced) => {
    clearTimeout(timer);
    return synced ? firstDone : undefined;
  });
  return {
    ready,
    stop() {
      closed = true;
      view.close();
    },
  };
}
