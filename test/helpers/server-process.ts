import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { query } from './dns-client.js';

/**
 * Runs the real server (`src/main.ts`) as a child process for end-to-end tests: picks free
 * ports, collects its log lines, waits until it answers DNS, and stops it by PID.
 */

/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Placeholder in `startServer` arguments that is replaced by the chosen port. */
export const PORT = '{port}';

/** How a server process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running server process. */
export interface ServerProcess {
  readonly pid: number;
  /** The port substituted for `{port}` (and used for the readiness query). */
  readonly port: number;
  /** The address of the readiness query, for use with the DNS client. */
  readonly address: { readonly host: string; readonly port: number };
  /** stdout lines so far (pino JSON). */
  readonly logs: () => string[];
  /** stderr lines so far. */
  readonly stderr: () => string[];
  /** stdout lines parsed as JSON; lines that are not JSON objects are left out. */
  readonly entries: () => Record<string, unknown>[];
  /**
   * Resolves the first stdout line (past or future) for which `predicate` is true; `entry` is
   * the line parsed as JSON, if it is. Rejects on timeout or when the process exits first.
   */
  readonly waitForLog: (
    predicate: (entry: Record<string, unknown> | undefined, line: string) => boolean,
    timeoutMs?: number,
  ) => Promise<string>;
  /** True until the process has exited. */
  readonly isAlive: () => boolean;
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitInfo>;
  /** Sends a signal by PID (e.g. 'SIGHUP' to reload). */
  readonly signal: (sig: NodeJS.Signals) => void;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves how it ended. Idempotent. */
  readonly stop: (killAfterMs?: number) => Promise<ExitInfo>;
}

/** Options for {@link startServer}. */
export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** @default the repository root */
  readonly cwd?: string;
  /** Port to put in place of `{port}`. @default a free port from {@link freePort} */
  readonly port?: number;
  /** Add `--listen 127.0.0.1:{port}` when `args` has no `--listen`. @default true */
  readonly addListen?: boolean;
  /** Name of the SOA readiness query. @default the origin of the first `--zone`, else '.' */
  readonly readyName?: string;
  /** @default '127.0.0.1' */
  readonly readyHost?: string;
  /** @default 15000 */
  readonly readyTimeoutMs?: number;
  /** Script to run instead of `src/main.ts`, relative to `cwd` (helpers' self-tests). */
  readonly entry?: string;
  /**
   * An executable to run as it is, relative to `cwd`, instead of `node --import tsx ENTRY`:
   * `bin/steerdns.js` runs the installed command (the bundle, with its shebang's options).
   */
  readonly executable?: string;
  /** Keep about this many recent stdout lines (at most twice as many). @default 100000 */
  readonly maxLogLines?: number;
}

const children = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills servers a test forgot to stop, so none outlive the test process. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of children) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
}

interface BoundTcp {
  readonly port: number;
  readonly close: () => Promise<void>;
}

function bindTcp(host: string, port: number): Promise<BoundTcp | undefined> {
  return new Promise((resolveBind) => {
    const server = createServer();
    server.once('error', () => {
      resolveBind(undefined);
    });
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      resolveBind({
        port: typeof address === 'object' && address ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => {
              done();
            });
          }),
      });
    });
  });
}

function bindUdp(host: string, port: number): Promise<(() => Promise<void>) | undefined> {
  return new Promise((resolveBind) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolveBind(undefined);
    });
    socket.bind({ address: host, port, exclusive: true }, () => {
      resolveBind(() => new Promise<void>((done) => socket.close(done)));
    });
  });
}

/**
 * Finds a port that is free for both UDP and TCP on every host in `hosts`, by binding them all.
 * Another process may still take it before the server binds it; that is rare on loopback.
 */
export async function freePort(hosts: readonly string[] = ['127.0.0.1']): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = await bindTcp(hosts[0] ?? '127.0.0.1', 0);
    if (!first) continue;
    const closers: (() => Promise<void>)[] = [first.close];
    let ok = true;
    for (const host of hosts) {
      const udp = await bindUdp(host, first.port);
      if (udp) closers.push(udp);
      const tcp: BoundTcp | undefined = host === hosts[0] ? first : await bindTcp(host, first.port);
      if (tcp && tcp !== first) closers.push(tcp.close);
      ok &&= udp !== undefined && tcp !== undefined;
    }
    await Promise.all(closers.map((close) => close()));
    if (ok) return first.port;
  }
  throw new Error('server-process: no port free for both UDP and TCP after 100 attempts');
}

/** Writes `files` (relative path → content) into a fresh temporary directory; returns its path. */
export async function tmpdirWith(files: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-test-'));
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  return dir;
}

function defaultReadyName(args: readonly string[]): string {
  const zone = args.includes('--zone') ? args[args.indexOf('--zone') + 1] : undefined;
  return zone?.includes('=') ? zone.split('=')[0]! : '.';
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Starts `node --import tsx src/main.ts ...args` from the repository root. Every `{port}` in
 * `args` becomes a free port; unless `args` has `--listen`, `--listen 127.0.0.1:{port}` is
 * added. Resolves once the server answers (any RCODE) an SOA query over UDP; rejects with its
 * output if it exits first or is not answering after `readyTimeoutMs`.
 * @example const server = await startServer(['serve', '--zone', `example.org=${zoneFile}`]);
 */
export async function startServer(
  args: readonly string[],
  opts: StartOptions = {},
): Promise<ServerProcess> {
  const port = opts.port ?? (await freePort());
  const expanded = args.map((a) => a.replaceAll(PORT, String(port)));
  if (opts.addListen !== false && !expanded.includes('--listen')) {
    expanded.push('--listen', `127.0.0.1:${port}`);
  }
  const [command, commandArgs] = opts.executable
    ? [resolve(opts.cwd ?? REPO_ROOT, opts.executable), expanded]
    : [process.execPath, ['--import', 'tsx', opts.entry ?? 'src/main.ts', ...expanded]];
  const child = spawn(command, commandArgs, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = wrap(child, port, opts.readyHost ?? '127.0.0.1', opts.maxLogLines ?? 100_000);
  try {
    await waitReady(
      server,
      opts.readyName ?? defaultReadyName(args),
      opts.readyTimeoutMs ?? 15_000,
    );
  } catch (err) {
    await server.stop(1000);
    throw err;
  }
  return server;
}

async function waitReady(server: ServerProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.isAlive() && Date.now() < deadline) {
    try {
      await query(server.address, { name, type: 'SOA' }, { timeoutMs: 250 });
      return;
    } catch {
      await sleep(50);
    }
  }
  const output = `stderr:\n${server.stderr().join('\n')}\nstdout:\n${server.logs().slice(-50).join('\n')}`;
  if (!server.isAlive()) {
    const info = await server.exited;
    throw new Error(
      `server-process: server exited (code ${info.code}, signal ${info.signal}) before answering\n${output}`,
    );
  }
  throw new Error(
    `server-process: server not answering ${name} SOA after ${timeoutMs} ms\n${output}`,
  );
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function wrap(child: ChildProcess, port: number, host: string, maxLines: number): ServerProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error('server-process: spawn failed');
  children.add(child);
  installExitHook();
  // A forgotten server must not keep the test process alive; the exit hook kills it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  const out: string[] = [];
  const err: string[] = [];
  const listeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    out.push(line);
    if (out.length > 2 * maxLines) out.splice(0, out.length - maxLines);
    for (const listener of listeners) listener(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => err.push(line));
  child.on('error', (error) => err.push(`spawn error: ${error.message}`));
  let alive = true;
  const exited = new Promise<ExitInfo>((done) => {
    child.once('exit', (code, signal) => {
      alive = false;
      children.delete(child);
      done({ code, signal });
    });
  });
  let stopping: Promise<ExitInfo> | undefined;

  const waitForLog: ServerProcess['waitForLog'] = (predicate, timeoutMs = 5000) => {
    const matches = (line: string): boolean => predicate(parseJson(line), line);
    const past = out.find(matches);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolveLog, rejectLog) => {
      const finish = (error: Error | undefined, line?: string): void => {
        clearTimeout(timer);
        listeners.delete(listener);
        if (error) rejectLog(error);
        else resolveLog(line!);
      };
      const listener = (line: string): void => {
        if (matches(line)) finish(undefined, line);
      };
      const timer = setTimeout(() => {
        finish(
          new Error(
            `server-process: no matching log line in ${timeoutMs} ms; last lines:\n${out.slice(-20).join('\n')}`,
          ),
        );
      }, timeoutMs);
      listeners.add(listener);
      void exited.then(() => {
        // Let readline deliver the last lines before giving up.
        setImmediate(() => {
          finish(
            new Error(
              `server-process: server exited before a matching log line\n${err.join('\n')}`,
            ),
          );
        });
      });
    });
  };

  return {
    pid,
    port,
    address: { host, port },
    logs: () => [...out],
    stderr: () => [...err],
    entries: () => out.map(parseJson).filter((e) => e !== undefined),
    waitForLog,
    isAlive: () => alive,
    exited,
    signal: (sig) => {
      if (alive) process.kill(pid, sig);
    },
    stop: (killAfterMs = 5000) => {
      stopping ??= (async () => {
        child.ref();
        if (alive) process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (alive) process.kill(pid, 'SIGKILL');
        }, killAfterMs);
        const info = await exited;
        clearTimeout(timer);
        return info;
      })();
      return stopping;
    },
  };
}
