import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from './server-process.js';

/** What a `steerdns agent` test process announces, and where. */
export interface AgentProcessOptions {
  /** The server's agents port on 127.0.0.1. */
  readonly port: number;
  readonly keyFile: string;
  readonly node: string;
  readonly address: string;
  /** @default 'app.example.org' */
  readonly service?: string;
  /** @default 300 */
  readonly intervalMs?: number;
  /** Load % the agent reports (through `--load-command 'echo N'`). */
  readonly load?: number;
  readonly drain?: boolean;
}

const running = new Set<ChildProcess>();

/** Starts a real `steerdns agent` (the TypeScript sources through tsx). */
export function startAgentProcess(options: AgentProcessOptions): ChildProcess {
  const args = [
    '--import',
    'tsx',
    'src/main.ts',
    'agent',
    '--to',
    `127.0.0.1:${options.port}`,
    '--key-file',
    options.keyFile,
    '--service',
    options.service ?? 'app.example.org',
    '--address',
    options.address,
    '--node',
    options.node,
    '--interval',
    `${options.intervalMs ?? 300}ms`,
  ];
  if (options.load !== undefined) args.push('--load-command', `echo ${options.load}`);
  if (options.drain) args.push('--drain');
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: 'ignore' });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Stops an agent by PID and resolves once it has exited. */
export function stopAgentProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => {
      done();
    });
    child.kill(signal);
  });
}

/** Kills every agent still running (for an `after` hook). */
export async function stopAllAgentProcesses(): Promise<void> {
  await Promise.all([...running].map((child) => stopAgentProcess(child, 'SIGKILL')));
}
