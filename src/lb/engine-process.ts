import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Logger } from '../observability/log.js';

/** How long a stopped engine gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 3000;
/** An engine that exits on its own is started again after this long. */
const RESTART_DELAY_MS = 1000;

/** One engine (keepalived, conntrackd) that steerdns starts and supervises by PID. */
export interface EngineSpec {
  readonly name: string;
  readonly argv: readonly string[];
  /** Pid files the engine writes (its own and its children's): read to kill leftovers. */
  readonly pidFiles: readonly string[];
  /** Called before every start (e.g. to remove a stale lock). */
  readonly beforeStart?: () => Promise<void>;
}

/**
 * Runs an engine in the foreground in a process group of its own, logs its output, starts it
 * again when it exits on its own, and on {@link stop} ends the group and every PID of its pid
 * files (SIGTERM, then SIGKILL) and waits until none is left.
 */
export class EngineProcess {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  private readonly spec: EngineSpec;
  private readonly log: Logger;

  constructor(spec: EngineSpec, log: Logger) {
    this.spec = spec;
    this.log = log;
  }

  /** The PID of the running engine, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills what a previous run left (by its pid files), then starts the engine. */
  async start(): Promise<void> {
    await killLeftovers(this.spec, this.log);
    await this.spawnOnce();
  }

  private async spawnOnce(): Promise<void> {
    await this.spec.beforeStart?.();
    if (this.stopping) return;
    const [file = '', ...args] = this.spec.argv;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const log = this.log.child({ engine: this.spec.name });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.info({ line }, 'engine output');
      });
    }
    child.on('error', (error) => {
      log.error({ err: error }, `cannot start ${this.spec.name}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopping) return;
      log.error({ code, signal }, `${this.spec.name} exited; starting it again`);
      this.restartTimer = setTimeout(() => void this.spawnOnce(), RESTART_DELAY_MS);
    });
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve);
      child.once('error', () => {
        resolve();
      });
    });
    log.info({ enginePid: child.pid }, `${this.spec.name} started`);
  }

  /** Ends the engine and everything it started; resolves when all of it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    // The engine first: keepalived hands over on SIGTERM (a priority 0 advert).
    if (child?.pid !== undefined) signalGroup(child.pid, 'SIGTERM');
    const pids = new Set(await pidsFromFiles(this.spec.pidFiles));
    if (child?.pid !== undefined) pids.add(child.pid);
    const exited =
      child?.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise<void>((resolve) =>
            child.once('exit', () => {
              resolve();
            }),
          );
    for (const pid of pids) signalPid(pid, 'SIGTERM');
    const graceful = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) =>
        setTimeout(() => {
          resolve(false);
        }, STOP_GRACE_MS),
      ),
    ]);
    if (!graceful && child?.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    for (const pid of pids) if (alive(pid)) signalPid(pid, 'SIGKILL');
    await exited;
    await waitGone([...pids], STOP_GRACE_MS);
  }
}

/** Kills the processes a previous run's pid files name, if they still run this engine. */
async function killLeftovers(spec: EngineSpec, log: Logger): Promise<void> {
  const program = spec.argv[0] ?? '';
  const pids: number[] = [];
  for (const pid of await pidsFromFiles(spec.pidFiles)) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === program) pids.push(pid);
  }
  if (pids.length === 0) return;
  log.warn({ engine: spec.name, pids }, `killing ${spec.name} left by a previous run`);
  for (const pid of pids) signalPid(pid, 'SIGKILL');
  await waitGone(pids, STOP_GRACE_MS);
}

async function pidsFromFiles(files: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 1) pids.push(pid);
  }
  return pids;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone.
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
