import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/**
 * Runs the real server (`src/main.ts`) as a child process for end-to-end tests: it listens on
 * port 0 (the system chooses), and the helper takes the addresses it bound from its own
 * `listening` log line, so a test can never reach another test's server. It also collects
 * the log lines and stops the server by PID.
 */

/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** How a server process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** An address and port, as the DNS client and `node:net` take them (`::1`, no brackets). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The fields of the server's `listening` line: every listener, as `host:port` or `[v6]:port`. */
export interface Bound {
  readonly dns: { readonly udp: readonly string[]; readonly tcp: readonly string[] };
  readonly api: string | undefined;
  readonly agents: readonly string[];
}

/** Splits `host:port` or `[v6]:port` (the way the server writes addresses). */
export function endpoint(text: string): Endpoint {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!match) throw new Error(`server-process: not an ADDR:PORT: "${text}"`);
  return { host: match[1] ?? match[2]!, port: Number(match[3]) };
}

/** A running server process. */
export interface ServerProcess {
  readonly pid: number;
  /** What the server's first `listening` line says it bound. */
  readonly bound: Bound;
  /** The first DNS listener (UDP and TCP share its port), for the DNS client. */
  readonly address: Endpoint;
  /** The port of {@link address}. */
  readonly port: number;
  /** The DNS listener on `host` (`127.0.0.1`, `::1`); throws if the server has none there. */
  readonly dnsAt: (host: string) => Endpoint;
  /** The operator interface (`api.listen`), if the server has one. */
  readonly api: Endpoint | undefined;
  /** The sockets that receive agent announcements (`agents.listen`). */
  readonly agents: readonly Endpoint[];
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
  /** Add `--listen 127.0.0.1:0` when `args` has no `--listen`. @default true */
  readonly addListen?: boolean;
  /** How long to wait for the `listening` line. @default 60000: a busy machine starts two tsx workers slowly */
  readonly readyTimeoutMs?: number;
  /** Script to run instead of `src/main.ts`, relative to `cwd` (helpers' self-tests). */
  readonly entry?: string;
  /**
   * An executable to run as it is, relative to `cwd`, instead of `node --import tsx ENTRY`:
   * `bin/steerdns.js` runs the installed command (the bundle, with its shebang's options).
   */
  readonly executable?: string;
  /**
   * A command that runs the server's command line, such as `['/usr/bin/taskset', '-c', '0,1']`.
   * It must exec it (keep the PID): the helper signals that PID.
   */
  readonly prefix?: readonly string[];
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

/** `text` with the first `from` replaced by `to`; throws when `text` has no `from` (an edit of a file that moved on). */
export function replaced(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`server-process: no "${from}" to replace`);
  return text.replace(from, to);
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

/**
 * The environment variable that runs servers on another UDP engine (`dns.udpEngine`):
 * {@link startServer} writes it into the `--config` file (which must be in the temporary
 * directory) and checks that the server says it runs that engine. test/e2e/udp-batched.test.ts
 * sets it to run end-to-end tests on the batched engine.
 */
export const UDP_ENGINE_ENV = 'STEERDNS_TEST_UDP_ENGINE';

/** Sets `dns.udpEngine` in the `--config` file of `args` when {@link UDP_ENGINE_ENV} asks for it. */
async function applyUdpEngine(args: readonly string[]): Promise<string | undefined> {
  const engine = process.env[UDP_ENGINE_ENV];
  if (engine === undefined || engine === '') return undefined;
  const at = args.indexOf('--config');
  const file = at >= 0 ? args[at + 1] : undefined;
  if (file === undefined || !resolve(file).startsWith(tmpdir()))
    throw new Error(`server-process: ${UDP_ENGINE_ENV} needs --config with a file in ${tmpdir()}`);
  const doc = parseDocument(await readFile(file, 'utf8'));
  doc.setIn(['dns', 'udpEngine'], engine);
  await writeFile(file, String(doc));
  return engine;
}

/**
 * Starts `node --import tsx src/main.ts ...args` from the repository root; unless `args` has
 * `--listen`, `--listen 127.0.0.1:0` is added. Resolves once the server has logged its
 * `listening` line (every listener bound), with the addresses of that line; rejects with its
 * output if it exits first or has not logged it after `readyTimeoutMs`.
 * @example const server = await startServer(['serve', '--zone', `example.org=${zoneFile}`]);
 */
export async function startServer(
  args: readonly string[],
  opts: StartOptions = {},
): Promise<ServerProcess> {
  const expanded = [...args];
  const engine = await applyUdpEngine(expanded);
  if (opts.addListen !== false && !expanded.includes('--listen')) {
    expanded.push('--listen', '127.0.0.1:0');
  }
  const [server, serverArgs] = opts.executable
    ? [resolve(opts.cwd ?? REPO_ROOT, opts.executable), expanded]
    : [process.execPath, ['--import', 'tsx', opts.entry ?? 'src/main.ts', ...expanded]];
  const [command = server, ...commandArgs] = [...(opts.prefix ?? []), server, ...serverArgs];
  const child = spawn(command, commandArgs, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const running = wrap(child, opts.maxLogLines ?? 100_000);
  try {
    const started = withBound(running, await waitListening(running, opts.readyTimeoutMs ?? 60_000));
    if (engine !== undefined && !started.entries().some((e) => e['udpEngine'] === engine))
      throw new Error(
        `server-process: the server does not say (at log level info) that it runs UDP engine ${engine}`,
      );
    return started;
  } catch (err) {
    await running.stop(1000);
    throw err;
  }
}

const isStrings = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string');

/** The fields of a `listening` line, or undefined when `entry` is not one. */
export function listeningOf(entry: Record<string, unknown> | undefined): Bound | undefined {
  if (entry?.['msg'] !== 'listening') return undefined;
  const dns = entry['dns'] as Record<string, unknown> | undefined;
  const api = entry['api'];
  const agents = entry['agents'] ?? [];
  if (!isStrings(dns?.['udp']) || !isStrings(dns['tcp'])) return undefined;
  if ((api !== undefined && typeof api !== 'string') || !isStrings(agents)) return undefined;
  return { dns: { udp: dns['udp'], tcp: dns['tcp'] }, api, agents };
}

async function waitListening(server: Running, timeoutMs: number): Promise<Bound> {
  try {
    const line = await server.waitForLog((entry) => listeningOf(entry) !== undefined, timeoutMs);
    return listeningOf(parseJson(line))!;
  } catch (error) {
    const output = `stderr:\n${server.stderr().join('\n')}\nstdout (last lines):\n${server.logs().slice(-50).join('\n')}`;
    if (!server.isAlive()) {
      const info = await server.exited;
      throw new Error(
        `server-process: server exited (code ${info.code}, signal ${info.signal}) before its "listening" line\n${output}`,
        { cause: error },
      );
    }
    throw new Error(
      `server-process: no "listening" line (msg "listening" with dns.udp and dns.tcp) within ${timeoutMs} ms\n${output}`,
      { cause: error },
    );
  }
}

/** Adds what the `listening` line says to a running process. */
function withBound(server: Running, bound: Bound): ServerProcess {
  const udp = bound.dns.udp.map(endpoint);
  const paired = bound.dns.udp.join() === bound.dns.tcp.join();
  if (udp.length === 0 || !paired)
    throw new Error(
      `server-process: the "listening" line does not pair each UDP listener with TCP on its port: ${JSON.stringify(bound.dns)}`,
    );
  const address = udp[0]!;
  return {
    ...server,
    bound,
    address,
    port: address.port,
    dnsAt: (host) => {
      const found = udp.find((u) => u.host === host);
      if (!found)
        throw new Error(`server-process: no DNS listener on ${host}: ${bound.dns.udp.join(', ')}`);
      return found;
    },
    api: bound.api === undefined ? undefined : endpoint(bound.api),
    agents: bound.agents.map(endpoint),
  };
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

/** A server process before it is known where it listens. */
type Running = Omit<ServerProcess, 'bound' | 'address' | 'port' | 'dnsAt' | 'api' | 'agents'>;

function wrap(child: ChildProcess, maxLines: number): Running {
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
