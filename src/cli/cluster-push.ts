import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  configKey,
  configStatusPrefix,
  decodeConfigStatus,
  nodesPrefix,
  type ConfigStatus,
  type PushedConfig,
} from '../control/cluster-records.js';
import { loadAll } from '../control/load.js';
import { pushedProblems, pushedSource } from '../control/producers/cluster-config.js';
import { parseDuration } from '../lib/duration.js';
import { ConfigError, formatProblem } from '../lib/errors.js';
import {
  ClusterCommandError,
  operatorName,
  withCluster,
  type ClusterContext,
} from './cluster-etcd.js';
import { ExitCode, type CommandOutcome } from './outcome.js';

/** How long push waits for every node's outcome unless `--timeout` says otherwise. */
const DEFAULT_TIMEOUT_MS = 60_000;
const POLL_MS = 100;

/** Checks the pushed file here as a node with the local file would load it; throws its problems. */
async function validate(context: ClusterContext, pushed: PushedConfig): Promise<void> {
  try {
    await loadAll(pushedSource(pushed, () => Promise.resolve(context.config)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const problems = pushedProblems(error.problems, pushed, context.config);
    throw new ClusterCommandError([
      `${pushed.name} rejected here, nothing pushed:`,
      ...problems.map((p) => `  ${formatProblem(p)}`),
    ]);
  }
}

/** The registered nodes and their statuses now. */
async function outcomes(
  context: ClusterContext,
): Promise<{ nodes: string[]; statuses: Map<string, ConfigStatus> }> {
  const { client, cluster } = context;
  const registered = nodesPrefix(cluster.prefix);
  const [nodes, statuses] = await Promise.all([
    client.range(registered, { prefix: true }),
    client.range(configStatusPrefix(cluster.prefix), { prefix: true }),
  ]);
  const byNode = new Map<string, ConfigStatus>();
  for (const kv of statuses.kvs) {
    const status = decodeConfigStatus(kv.value);
    if (status) byNode.set(status.node, status);
  }
  return { nodes: nodes.kvs.map((kv) => kv.key.slice(registered.length)).sort(), statuses: byNode };
}

/** Waits until every registered node reported on `version` (or a later one), or the deadline. */
async function waitForNodes(
  context: ClusterContext,
  version: number,
  timeoutMs: number,
): Promise<{ nodes: string[]; statuses: Map<string, ConfigStatus> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await outcomes(context);
    const done = seen.nodes.every((n) => (seen.statuses.get(n)?.version ?? 0) >= version);
    if (done || Date.now() >= deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** One line per node (stdout) and the rejections (stderr). */
function report(
  version: number,
  seen: { nodes: string[]; statuses: Map<string, ConfigStatus> },
  timeoutMs: number,
): CommandOutcome {
  const out: string[] = [];
  const errors: string[] = [];
  for (const node of seen.nodes) {
    const status = seen.statuses.get(node);
    if (status === undefined || status.version < version) {
      errors.push(
        `steerdns cluster: ${node}: no outcome for version ${version} within ${timeoutMs} ms`,
      );
    } else if (status.version > version) {
      out.push(`${node}: version ${version} superseded by version ${status.version}`);
    } else if (status.ok) {
      out.push(`${node}: loaded version ${version}`);
    } else {
      errors.push(
        `steerdns cluster: ${node}: rejected version ${version}, still serving the previous configuration:`,
      );
      errors.push(...status.problems.map((p) => `  ${formatProblem(p)}`));
    }
  }
  if (seen.nodes.length === 0)
    out.push('no node is registered now; every node loads it when it starts');
  return { out, errors, exitCode: errors.length > 0 ? ExitCode.failed : ExitCode.ok };
}

/**
 * `steerdns cluster config push FILE --config LOCAL [--timeout DURATION] [--no-wait]`: checks
 * FILE here (as a node with LOCAL would load it), stores it under `PREFIX config`, then waits
 * for every registered node's outcome and prints it. Exit 0 every node loaded it; 1 FILE was
 * rejected here (nothing stored), or by a node, or a node did not answer in time.
 */
export async function configPushCommand(args: readonly string[]): Promise<CommandOutcome> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      timeout: { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0)
    throw new ClusterCommandError(['config push expects one FILE'], ExitCode.usage);
  const timeoutMs =
    values.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(values.timeout);
  if (timeoutMs === undefined)
    throw new ClusterCommandError(
      [`--timeout expects a duration, got "${values.timeout}"`],
      ExitCode.usage,
    );
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ClusterCommandError([
      `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  return withCluster(values.config, async (context) => {
    const pushed: PushedConfig = { name: file, text, pushedAt: Date.now(), by: operatorName() };
    await validate(context, pushed);
    const { revision } = await context.client.put(
      configKey(context.cluster.prefix),
      JSON.stringify(pushed),
    );
    if (values['no-wait'])
      return { out: [`pushed version ${revision}`], errors: [], exitCode: ExitCode.ok };
    const seen = await waitForNodes(context, revision, timeoutMs);
    const outcome = report(revision, seen, timeoutMs);
    return { ...outcome, out: [`pushed version ${revision}`, ...outcome.out] };
  });
}
