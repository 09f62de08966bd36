/**
 * The steerdns command. The only module that touches `process`: arguments, signals,
 * standard streams and exit codes.
 */
import { STEERDNS_VERSION } from './lib/version.js';
import cluster from 'node:cluster';
import { startApp, startWorkerApp } from './app.js';
import type { Channel } from './control/producers/primary.js';
import type { PrimaryMessage, WorkerMessage } from './control/messages.js';
import { WorkerStartError } from './control/consumers/workers.js';
import { parseServeArgs, UsageError, USAGE } from './cli/args.js';
import { runCheck } from './cli/check.js';
import { explainCommand } from './cli/explain.js';
import { statusCommand, StatusError } from './cli/status.js';
import { clusterCommand } from './cli/cluster.js';
import { memberCommand } from './cli/member-action.js';
import { isBalancerStatus, LB_USAGE, lbStatusCommand, runLb } from './cli/lb.js';
import type { CommandOutcome } from './cli/outcome.js';
import { ConfigError, formatProblem } from './lib/errors.js';
import { createLogger, type Logger } from './observability/log.js';
import { startAgent, type AgentLog } from './agent/agent.js';
import { AGENT_USAGE, AgentUsageError, parseAgentArgs } from './agent/cli.js';
import { KeyFileError } from './agent/key-file.js';
import { MEASURE_USAGE, parseMeasureArgs } from './referral/mservice-cli.js';
import { startMeasuringAgent } from './referral/mservice.js';

const VERSION = STEERDNS_VERSION;

function fail(lines: readonly string[], code: number): never {
  for (const line of lines) process.stderr.write(`${line}\n`);
  process.exit(code);
}

/**
 * Keeps the process up until `work` settles. A request whose socket the other side reset
 * can leave nothing referenced on the event loop for a moment (seen with fetch), and the
 * process would end with status 0 and no word instead of the command's error.
 */
async function untilDone<T>(work: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    return await work;
  } finally {
    clearInterval(keepAlive);
  }
}

/** Prints a command's outcome and exits with its code. */
function finish(outcome: CommandOutcome): void {
  for (const line of outcome.out) process.stdout.write(`${line}\n`);
  fail(outcome.errors, outcome.exitCode);
}

function onSignals(signals: readonly NodeJS.Signals[], action: () => Promise<unknown>): void {
  for (const signal of signals) process.on(signal, () => void action());
}

/** The signals the agent uses (drain, enable), which `pkill -USR1 -f steerdns` sends everywhere. */
type UserSignal = 'SIGUSR1' | 'SIGUSR2';

/**
 * What this process does on SIGUSR1 and SIGUSR2; each command sets it. Both have a listener
 * from the first moment main.ts runs, in every process (workers too): without one, SIGUSR1
 * opens Node's inspector on 127.0.0.1:9229, which runs any code it is sent as this user,
 * and SIGUSR2 ends the process unlogged. (bin/steerdns.js adds no-op listeners even
 * earlier, before the bundle loads; see its comment.)
 */
let onUserSignal: (signal: UserSignal) => void = () => undefined;
for (const signal of ['SIGUSR1', 'SIGUSR2'] as const) {
  process.on(signal, () => {
    onUserSignal(signal);
  });
}

/**
 * The channel of a worker to its primary, listening from the first moment: the primary
 * sends its snapshot as soon as the worker is online, before the worker has read its
 * arguments. Messages wait here until the worker takes them.
 */
function primaryChannel(): Channel {
  const waiting: PrimaryMessage[] = [];
  // Every listener gets every message from when it listens; the first also gets those that waited.
  const listeners: ((message: PrimaryMessage) => void)[] = [];
  process.on('message', (message: PrimaryMessage) => {
    if (listeners.length === 0) waiting.push(message);
    for (const listener of listeners) listener(message);
  });
  process.send?.({ type: 'hello' } satisfies WorkerMessage);
  return {
    on: (_event, listener) => {
      listeners.push(listener);
      for (const message of waiting.splice(0)) listener(message);
    },
    send: (message) => process.send?.(message),
  };
}

const workerChannel = cluster.isWorker ? primaryChannel() : undefined;

async function serveWorker(log: Logger): Promise<void> {
  const channel = workerChannel!;
  const worker = await startWorkerApp({ channel }, log);
  // The primary decides; a terminal's Ctrl-C reaches every process of the group.
  process.on('SIGHUP', () => undefined);
  const stop = async (): Promise<void> => {
    await worker.close();
    cluster.worker?.disconnect();
  };
  onSignals(['SIGINT', 'SIGTERM'], stop);
  void worker.stopped.then(stop);
}

async function serve(args: readonly string[]): Promise<void> {
  const options = parseServeArgs(args);
  const config = await options.source();
  const log = createLogger(
    config.log.level,
    cluster.isWorker ? { worker: cluster.worker?.id } : {},
  );
  onUserSignal = (signal) => {
    log.warn({ signal }, `${signal} ignored: steerdns serve gives it no meaning`);
  };
  // A worker takes its configuration (and all the rest) from the primary.
  if (cluster.isWorker) return serveWorker(log);
  const starting = startApp(options.source, log);
  // Handlers from the first moment: the `listening` line comes before startApp resolves, and
  // a SIGHUP or SIGTERM right after it would otherwise meet the default action (the end of
  // the process). A signal during the start waits for it; a failed start is main's to report.
  const started = starting.catch(() => undefined);
  onSignals(['SIGHUP'], async () => (await started)?.reload());
  onSignals(['SIGINT', 'SIGTERM'], async () => {
    const app = await started;
    log.info('stopping');
    await app?.close();
    process.exit(0);
  });
  await starting;
}

/** `steerdns agent`: announces this node until SIGTERM/SIGINT; SIGUSR1 drains, SIGUSR2 undrains. */
function runAgent(args: readonly string[]): void {
  if (args.includes('--measure')) {
    runMeasuringAgent(args);
    return;
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${AGENT_USAGE}\n`);
    return;
  }
  const options = parseAgentArgs(args);
  const logger = createLogger('info', { agent: options.node });
  const log: AgentLog = (level, message, fields) => {
    logger[level](fields ?? {}, message);
  };
  const agent = startAgent({ ...options, log });
  logger.info(
    { service: options.service, addresses: options.addresses, to: options.to },
    `announcing ${options.service} every ${options.intervalMs} ms`,
  );
  onUserSignal = (signal) => {
    agent.setDrain(signal === 'SIGUSR1');
  };
  onSignals(['SIGINT', 'SIGTERM'], async () => {
    await agent.stop();
    process.exit(0);
  });
}

/** `steerdns lb`: one balancer of the pair until SIGTERM/SIGINT; SIGHUP reloads. */
async function lb(args: readonly string[]): Promise<void> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${LB_USAGE}\n`);
    return;
  }
  if (args[0] === 'status') {
    finish(await lbStatusCommand(args.slice(1)));
    return;
  }
  const log = createLogger('info', { lb: true });
  onUserSignal = (signal) => {
    log.warn({ signal }, `${signal} ignored: steerdns lb gives it no meaning`);
  };
  // Signals that come while the balancer starts wait for it: a stop must remove what it added.
  const starting = runLb(args, log);
  const started = starting.catch(() => undefined);
  let stopping = false;
  onSignals(['SIGHUP'], async () => (await started)?.reload());
  onSignals(['SIGINT', 'SIGTERM'], async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    await (await started)?.balancer.stop();
    process.exit(0);
  });
  await starting;
}

/** `steerdns agent --measure`: measures the sites every interval until SIGTERM/SIGINT. */
function runMeasuringAgent(args: readonly string[]): void {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${MEASURE_USAGE}\n`);
    return;
  }
  const options = parseMeasureArgs(args);
  const logger = createLogger('info', { agent: options.name });
  const agent = startMeasuringAgent({
    ...options,
    log: (level, message, fields) => {
      logger[level](fields ?? {}, message);
    },
  });
  logger.info(
    { address: options.address, sites: options.sites.map((s) => s.address), to: options.to },
    `measuring ${options.sites.length} sites every ${options.intervalMs} ms`,
  );
  onSignals(['SIGINT', 'SIGTERM'], async () => {
    await agent.stop();
    process.exit(0);
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'serve':
      return serve(args);
    case 'check':
      finish(await runCheck(args));
      return;
    case 'explain':
      finish(await untilDone(explainCommand(args)));
      return;
    case 'status':
      if (await isBalancerStatus(args)) {
        finish(await lbStatusCommand(args));
        return;
      }
      // The table is the output: log lines (a member going down is a warning) stay out of it.
      finish(await untilDone(statusCommand(args, createLogger('error'))));
      return;
    case 'cluster':
      finish(await untilDone(clusterCommand(args)));
      return;
    case 'drain':
    case 'enable':
    case 'disable':
    case 'override':
      finish(await untilDone(memberCommand(command, args)));
      return;
    case 'agent':
      runAgent(args);
      return;
    case 'lb':
      return lb(args);
    case 'version':
    case '--version':
      process.stdout.write(`steerdns ${VERSION}\n`);
      return;
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      fail(
        [
          command === undefined
            ? 'steerdns: give a command'
            : `steerdns: unknown command "${command}"`,
          USAGE,
        ],
        2,
      );
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.problems.map(formatProblem), 1);
  if (error instanceof UsageError) fail([`steerdns: ${error.message}`, USAGE], 2);
  if (error instanceof AgentUsageError) fail([`steerdns agent: ${error.message}`, AGENT_USAGE], 2);
  if (error instanceof WorkerStartError) fail([`steerdns: ${error.message}`], 1);
  if (error instanceof StatusError) fail([`steerdns status: ${error.message}`], 1);
  if (error instanceof KeyFileError) fail([`steerdns agent: ${error.message}`], 1);
  const code = (error as { code?: string }).code;
  if (code?.startsWith('ERR_PARSE_ARGS_') === true) {
    fail([`steerdns: ${(error as Error).message}`, USAGE], 2);
  }
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
    fail([`steerdns: cannot listen: ${(error as Error).message}`], 1);
  }
  fail([`steerdns: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`], 1);
});
