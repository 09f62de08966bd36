import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from 'playwright-core';

/**
 * Runs Debian's Chromium headless for browser tests and drives it with playwright-core
 * over the DevTools protocol. The helper starts the process itself (its own process group,
 * a fresh empty profile in a temporary directory, DevTools on port 0: Chromium says which
 * port it bound on stderr), so that it holds the PID: {@link RunningBrowser.close} closes the
 * browser by its handle and kills the group by that PID when it does not end in time, then
 * removes the profile.
 */

/** The Chromium the tests run (Debian's `chromium` package; scripts/ensure-test-tools.sh). */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags of every run: no network of its own, no first-run or background work. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium. */
export interface RunningBrowser {
  readonly pid: number;
  readonly browser: Browser;
  /** The profile directory (`--user-data-dir`), removed by {@link close}. */
  readonly profile: string;
  /** stderr lines so far (Chromium's own log). */
  readonly stderr: () => string[];
  /** Closes the browser, kills it by PID if it has not ended after `killAfterMs`, removes its profile. Idempotent. */
  close(killAfterMs?: number): Promise<void>;
}

/** Options of {@link startChromium}. */
export interface ChromiumOptions {
  /** How long Chromium may take to say where DevTools listen, and to connect. @default 60000 */
  readonly startTimeoutMs?: number;
}

const DEVTOOLS = /DevTools listening on (ws:\/\/\S+)/;

/** Resolves the DevTools address Chromium prints; rejects at the deadline or if it exits first. */
function devtoolsAddress(child: ChildProcess, lines: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = createInterface({ input: child.stderr! });
    let found = false;
    const timer = setTimeout(() => {
      fail(`no "DevTools listening" line within ${timeoutMs} ms`);
    }, timeoutMs);
    const fail = (why: string): void => {
      clearTimeout(timer);
      if (!found) reject(new Error(`chromium: ${why}\nstderr:\n${lines.join('\n')}`));
      found = true;
    };
    // Every line is kept, also after the address was found (for failure reports).
    reader.on('line', (line) => {
      lines.push(line);
      const match = DEVTOOLS.exec(line);
      if (match && !found) {
        found = true;
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      fail(`exited (${signal ?? String(code)}) before DevTools listened`);
    });
  });
}

/**
 * The processes of group `pgid` that still run (Linux /proc): not the zombies, which an init
 * that does not reap (a container's) may keep listed after they died.
 */
export function liveGroupMembers(pgid: number): number[] {
  const live: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X')
      live.push(Number(name));
  }
  return live;
}

/** Waits (at most `ms`) until no process of group `pgid` runs. */
async function groupGone(pgid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (liveGroupMembers(pgid).length > 0) {
    if (Date.now() > deadline)
      throw new Error(
        `chromium: processes ${liveGroupMembers(pgid).join(', ')} of group ${pgid} still run`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Kills the process group of `pid`; no error if it is gone. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * Starts Chromium and connects playwright-core to it. Rejects (after killing it and
 * removing its profile) when it has not started within `startTimeoutMs`.
 */
export async function startChromium(options: ChromiumOptions = {}): Promise<RunningBrowser> {
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const profile = await mkdtemp(join(tmpdir(), 'steerdns-chromium-'));
  const child = spawn(
    CHROMIUM,
    [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else
      child.once('exit', () => {
        resolve();
      });
  });
  const lines: string[] = [];
  const cleanUp = async (killAfterMs: number): Promise<void> => {
    try {
      if (pid !== undefined) {
        const timer = setTimeout(() => {
          killGroup(pid);
        }, killAfterMs);
        await exited;
        clearTimeout(timer);
        // Renderers and the zygote are in the group too: none may outlive the test.
        killGroup(pid);
        await groupGone(pid, 5000);
      }
    } finally {
      await rm(profile, { recursive: true, force: true });
    }
  };
  if (pid === undefined) {
    await cleanUp(0);
    throw new Error(`chromium: could not start ${CHROMIUM}`);
  }
  let browser: Browser;
  try {
    const address = await devtoolsAddress(child, lines, timeoutMs);
    browser = await chromium.connectOverCDP(address, { timeout: timeoutMs });
  } catch (error) {
    killGroup(pid);
    await cleanUp(0);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    pid,
    browser,
    profile,
    stderr: () => [...lines],
    close(killAfterMs = 10_000) {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          killGroup(pid);
        }, killAfterMs);
        try {
          // Connected over CDP, close() ends the browser's contexts and disconnects;
          // Chromium itself is ended by signal below.
          await Promise.race([browser.close(), exited]);
        } catch {
          // A browser that hangs or died: the signal below ends it.
        }
        clearTimeout(timer);
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
        await cleanUp(killAfterMs);
      })();
      return closing;
    },
  };
}
