/**
 * What the agent measures: load % (CPU busy, or an operator's command) and active
 * connections (ESTABLISHED TCP sockets on given local ports, or an operator's command).
 * A meter resolves a number or rejects with a short, stable message; the agent logs it
 * and leaves the field out of the announcement.
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { urlToHttpOptions } from 'node:url';
import { httpGet, HttpGetError } from '../lib/http-get.js';
import { runCommand } from './command.js';

/** Measures one figure. `signal` aborts a running command. */
export type Meter = (signal: AbortSignal) => Promise<number>;

/** CPU time counters from the `cpu` line of /proc/stat, in clock ticks. */
export interface CpuTimes {
  /** Ticks not idle and not waiting for I/O. */
  readonly busy: number;
  /** All ticks (user nice system idle iowait irq softirq steal). */
  readonly total: number;
}

/** Reads the aggregate `cpu` line of /proc/stat; undefined when there is none. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  // guest and guest_nice (fields 9-10) are already counted in user and nice.
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (ticks.length < 4 || ticks.some((t) => !Number.isFinite(t) || t < 0)) return undefined;
  const total = ticks.reduce((sum, t) => sum + t, 0);
  const idle = ticks[3]! + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy percent between two samples; undefined when no tick passed or counters went back. */
export function cpuBusyPercent(previous: CpuTimes, current: CpuTimes): number | undefined {
  const total = current.total - previous.total;
  const busy = current.busy - previous.busy;
  if (total <= 0 || busy < 0) return undefined;
  return clampPercent((busy / total) * 100);
}

/** Counts ESTABLISHED sockets in a /proc/net/tcp or tcp6 table whose local port is in `ports`. */
export function countEstablished(table: string, ports: ReadonlySet<number>): number {
  let count = 0;
  for (const line of table.split('\n')) {
    // "  sl  local_address rem_address   st ...": local is HEXADDR:HEXPORT, st 01 = ESTABLISHED.
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== '01') continue;
    const local = fields[1] ?? '';
    const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (ports.has(port)) count++;
  }
  return count;
}

/** The first number in a command's output (`42`, `37.5`, `-1`, `1e3`), or undefined. */
export function firstNumber(text: string): number | undefined {
  const match = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(text);
  if (!match) return undefined;
  const value = Number(match[0]);
  return Number.isFinite(value) ? value : undefined;
}

/** Clamps to 0-100 and keeps one decimal. */
export function clampPercent(value: number): number {
  return Math.round(Math.min(100, Math.max(0, value)) * 10) / 10;
}

/** The 1-minute load average per CPU, in percent: the estimate when /proc/stat is missing. */
export function loadAveragePercent(): number {
  const count = Math.max(1, cpus().length);
  return clampPercent(((loadavg()[0] ?? 0) / count) * 100);
}

/** At most this much of a load URL's body is read. */
export const MAX_BODY = 64 * 1024;

/** Options of {@link fetchText}. */
export interface FetchTextOptions {
  /** The whole request, body included, is given up after this long. */
  readonly timeoutMs: number;
  /** Aborting ends the request and rejects with `aborted`. */
  readonly signal?: AbortSignal;
  /** Certificate authorities for https instead of Node's bundled ones (tests). */
  readonly ca?: string | Buffer | undefined;
}

/**
 * GETs an http:// or https:// URL and resolves the first 64 KiB of its body as UTF-8 when
 * the status is 2xx. No keep-alive (nothing stays open between calls), no redirects
 * followed, TLS certificates verified ({@link httpGet}). Rejects with a short, stable
 * message: `HTTP 503`, `timeout`, `aborted`, or the network error (`connect ECONNREFUSED
 * 127.0.0.1:8080`).
 */
export async function fetchText(url: string, options: FetchTextOptions): Promise<string> {
  const target = new URL(url);
  const tls = target.protocol === 'https:';
  const success = (status: number): boolean => status >= 200 && status <= 299;
  let response;
  try {
    response = await httpGet(
      {
        ...urlToHttpOptions(target),
        method: 'GET',
        headers: { accept: 'text/plain, application/json;q=0.9, */*;q=0.8' },
        ...(tls && options.ca !== undefined ? { ca: options.ca } : {}),
      },
      {
        tls,
        maxBodyBytes: MAX_BODY,
        timeoutMs: options.timeoutMs,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        readBody: success,
      },
    );
  } catch (error) {
    throw error instanceof HttpGetError ? new Error(error.message) : error;
  }
  if (!success(response.status)) throw new Error(`HTTP ${response.status}`);
  return response.body.toString('utf8');
}

/** True for an absolute http:// or https:// URL with a host. */
export function isLoadUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Options of {@link createLoadMeter}. */
export interface LoadMeterOptions {
  /** Shell command whose first printed number is the load %; replaces the CPU figure. */
  readonly command?: string | undefined;
  /** http(s) URL whose body's first number is the load %; replaces the CPU figure. */
  readonly url?: string | undefined;
  /** Certificate authorities for an https `url` instead of Node's bundled ones (tests). */
  readonly ca?: string | Buffer | undefined;
  /** The command is killed, or the request given up, after this long. */
  readonly timeoutMs: number;
  /** Where /proc is mounted. @default '/proc' */
  readonly procRoot?: string;
}

/**
 * Load %: the command's first number, or the first number in the URL's body (clamped to
 * 0-100), when one is given; otherwise CPU busy over the time since the previous call
 * from /proc/stat. The first call, which has no previous sample, and hosts without
 * /proc/stat use the 1-minute load average per CPU.
 */
export function createLoadMeter(options: LoadMeterOptions): Meter {
  const { command, url, timeoutMs } = options;
  if (command !== undefined && url !== undefined) {
    throw new Error('load: give a command or a URL, not both');
  }
  if (url !== undefined) {
    return async (signal) => {
      const body = await fetchText(url, { timeoutMs, signal, ca: options.ca });
      const value = firstNumber(body);
      if (value === undefined) throw new Error('no number in the body');
      return clampPercent(value);
    };
  }
  if (command !== undefined) {
    return async (signal) => {
      const value = firstNumber(await runCommand(command, { timeoutMs, signal }));
      if (value === undefined) throw new Error('no number in the output');
      return clampPercent(value);
    };
  }
  const path = join(options.procRoot ?? '/proc', 'stat');
  let previous: CpuTimes | undefined;
  let last = 0;
  return async () => {
    const text = await readOptional(path);
    if (text === undefined) return loadAveragePercent();
    const current = parseProcStat(text);
    if (current === undefined) throw new Error(`${path}: no cpu line`);
    const busy = previous === undefined ? undefined : cpuBusyPercent(previous, current);
    if (busy !== undefined) {
      [previous, last] = [current, busy];
    } else if (current.total !== previous?.total) {
      // First call, or counters went back (CPUs taken offline): start over.
      [previous, last] = [current, loadAveragePercent()];
    } // else no clock tick since the previous call: keep its sample and figure.
    return last;
  };
}

/** Options of {@link createConnectionMeter}. */
export interface ConnectionMeterOptions {
  /** Shell command whose first printed number is the connection count. */
  readonly command?: string | undefined;
  /** Local ports whose ESTABLISHED TCP connections are counted (IPv4 and IPv6). */
  readonly ports?: readonly number[] | undefined;
  /** The command is killed after this long. */
  readonly timeoutMs: number;
  /** Where /proc is mounted. @default '/proc' */
  readonly procRoot?: string;
}

/**
 * Active connections from the command, or from /proc/net/tcp and tcp6 for `ports`;
 * undefined when neither is given (the announcement then carries no count).
 */
export function createConnectionMeter(options: ConnectionMeterOptions): Meter | undefined {
  const { command, timeoutMs } = options;
  if (command !== undefined) {
    return async (signal) => {
      const value = firstNumber(await runCommand(command, { timeoutMs, signal }));
      if (value === undefined) throw new Error('no number in the output');
      return Math.min(1_000_000_000, Math.max(0, Math.round(value)));
    };
  }
  if (options.ports === undefined || options.ports.length === 0) return undefined;
  const ports = new Set(options.ports);
  const root = options.procRoot ?? '/proc';
  const tables = [join(root, 'net', 'tcp'), join(root, 'net', 'tcp6')];
  return async () => {
    const texts = await Promise.all(tables.map(readOptional));
    // One of them may be missing (IPv6 disabled); both missing means no /proc at all.
    if (texts.every((t) => t === undefined)) throw new Error(`${tables[0]!}: not found`);
    return texts.reduce((sum, t) => sum + (t === undefined ? 0 : countEstablished(t, ports)), 0);
  };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`${path}: ${code}`, { cause: error });
  }
}
