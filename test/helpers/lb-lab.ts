import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createLab, run, type Lab, type NetHost } from './netns.js';
import { REPO_ROOT, tmpdirWith } from './server-process.js';

/**
 * The network of seed 004 in namespaces (root only), documentation addresses only:
 *
 *   client 198.51.100.2 -- router 198.51.100.1 | 192.0.2.1 --+-- bridge --+-- b1 192.0.2.11
 *   (route 203.0.113.10 via the floating address 192.0.2.10)   |            +-- b2 192.0.2.12
 *                                                               +-- s1 192.0.2.21, s2 .22, s3 .23
 *                                                                  (203.0.113.10 on lo)
 *
 * The balancers run `steerdns lb` (src/main.ts under tsx), each starting keepalived and
 * conntrackd; the servers run real HTTP servers (lb-http-server.ts) and reply to the router
 * directly; the client (lb-client.ts) takes commands on stdin. State scripts append
 * `NODE OLD NEW` to the trace. Everything is started by PID and {@link LbLab.remove} ends every
 * process (steerdns, the engines by their pid files, servers, client) and deletes the
 * namespaces (with them their nft tables, ip rules and addresses).
 */

export const CLUSTER = '203.0.113.10';
export const FLOATING = '192.0.2.10';
export const BALANCERS = { b1: '192.0.2.11', b2: '192.0.2.12' } as const;
export const SERVERS = { s1: '192.0.2.21', s2: '192.0.2.22', s3: '192.0.2.23' } as const;
export type BalancerName = keyof typeof BALANCERS;
export type ServerName = keyof typeof SERVERS;

/** What the lab's balancer configuration may change. */
export interface BalancerOptions {
  readonly weights?: Partial<Record<ServerName, number>>;
  readonly drain?: readonly ServerName[];
  readonly mode?: 'weighted' | 'adaptive';
  /** The servers' health check interval (ms) and fall. @default 200, 2 */
  readonly checkIntervalMs?: number;
  readonly fall?: number;
  /** The node's own reachability check (seed: e.g. a gateway): a TCP check of ADDR:PORT. */
  readonly ownCheck?: string;
  /** Its active script fails (exit 1) after writing the trace line. */
  readonly failActive?: boolean;
}

/** One running `steerdns lb`. */
export interface BalancerProcess {
  readonly name: BalancerName;
  readonly pid: number;
  readonly logs: () => Record<string, unknown>[];
  /** How many lines it has written so far (a `from` for {@link waitForLog}). */
  readonly lineCount: () => number;
  /** Resolves the first log entry (past or future) that `predicate` accepts. */
  readonly waitForLog: (
    predicate: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
    what?: string,
    from?: number,
  ) => Promise<Record<string, unknown>>;
  readonly exited: Promise<void>;
}

export interface LbLab {
  readonly lab: Lab;
  readonly dir: string;
  readonly host: (name: BalancerName | ServerName | 'router') => NetHost;
  readonly client: {
    send: (
      command: Record<string, unknown>,
      timeoutMs?: number,
    ) => Promise<Record<string, unknown>>;
  };
  readonly balancers: Partial<Record<BalancerName, BalancerProcess>>;
  /** Writes the balancer's configuration and starts it; resolves once it reports `balancer started`. */
  readonly startBalancer: (
    name: BalancerName,
    options?: BalancerOptions,
  ) => Promise<BalancerProcess>;
  /** Rewrites the configuration and sends SIGHUP; resolves when the reload is logged. */
  readonly reconfigure: (name: BalancerName, options: BalancerOptions) => Promise<void>;
  /** SIGKILL to steerdns, keepalived and conntrackd of a balancer (by PID). */
  readonly killBalancer: (name: BalancerName) => Promise<void>;
  /** SIGTERM to steerdns; resolves when it has exited. */
  readonly stopBalancer: (name: BalancerName) => Promise<void>;
  /** The balancers that hold the floating address now. */
  readonly holders: () => Promise<BalancerName[]>;
  /** Polls (every 10 ms) until `holders()` is exactly `want`; resolves the time it took. */
  readonly waitHolders: (want: readonly BalancerName[], timeoutMs: number) => Promise<number>;
  /** Polls (every 10 ms) until `name` holds the floating address (others may too); the time. */
  readonly waitHeldBy: (name: BalancerName, timeoutMs: number) => Promise<number>;
  /** The balancer whose MAC address the router's neighbour entry of the floating address has. */
  readonly routerNeighbour: () => Promise<BalancerName | undefined>;
  /**
   * Starts watching a balancer's interface (`ip -ts monitor address`): `added()` resolves the
   * wall-clock time (ms, Date.now's clock) the kernel reported the floating address added,
   * the first time after the watch started. Ended by {@link remove} at the latest.
   */
  readonly watchFloating: (
    name: BalancerName,
  ) => Promise<{ added: (timeoutMs: number) => Promise<number>; stop: () => void }>;
  /** The trace lines of the state scripts (`NODE OLD NEW`). */
  readonly trace: () => Promise<string[]>;
  readonly killServer: (name: ServerName) => void;
  readonly remove: () => Promise<void>;
}

const script = (trace: string) => `#!/bin/sh
echo "$STEERDNS_NODE $1 $2" >> "${trace}"
`;

function configOf(name: BalancerName, dir: string, options: BalancerOptions): string {
  const peer = name === 'b1' ? BALANCERS.b2 : BALANCERS.b1;
  const interval = options.checkIntervalMs ?? 200;
  const servers = Object.entries(SERVERS)
    .map(([server, address]) => {
      const weight = options.weights?.[server as ServerName] ?? 1;
      const drain = options.drain?.includes(server as ServerName) ?? false;
      return `    - name: ${server}
      address: ${address}
      weight: ${weight}
      drain: ${drain}
      health: { type: tcp, port: 80, interval: ${interval}ms, timeout: ${Math.floor(interval / 2)}ms, rise: 1, fall: ${options.fall ?? 2}, initial: up }`;
    })
    .join('\n');
  const hook = join(dir, options.failActive === true ? 'state-fail.sh' : 'state.sh');
  return `lb:
  node: ${name}
  interface: eth0
  floating: ${FLOATING}/24
  cluster: ${CLUSTER}
  ports: [80]
  vrrp: { id: 51, priority: ${name === 'b1' ? 200 : 190}, advert: 100ms }
  sync: { address: ${BALANCERS[name]}, peer: ${peer} }
  servers:
${servers}
  balance: { mode: ${options.mode ?? 'weighted'}, interval: 1s }
  scripts: { initial: [${hook}], active: [${hook}], standby: [${hook}], inop: [${hook}] }
  scriptTimeout: 5s
${options.ownCheck === undefined ? '' : `  checks: [{ name: gateway, type: tcp, target: '${options.ownCheck}', interval: 200ms, timeout: 100ms, fall: 2, rise: 1, initial: up }]\n`}  runDirectory: ${join(dir, name)}
`;
}

/** Kills a PID, ignoring one already gone. */
function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Gone.
  }
}

async function pidFile(path: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** The engine PIDs a balancer's run directory names. */
async function enginePids(dir: string, name: BalancerName): Promise<number[]> {
  const files = ['keepalived.pid', 'vrrp.pid', 'checkers.pid', 'conntrackd.pid'];
  const pids = await Promise.all(files.map((f) => pidFile(join(dir, name, f))));
  return pids.filter((p): p is number => p !== undefined);
}

function spawnLogged(argv: readonly string[]): {
  child: ChildProcess;
  lines: string[];
  onLine: Set<(line: string) => void>;
} {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const onLine = new Set<(line: string) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const listener of onLine) listener(line);
  });
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(`stderr: ${line}`));
  return { child, lines, onLine };
}

/** Builds the lab: namespaces, addresses, routes, the three HTTP servers and the client. */
export async function createLbLab(): Promise<LbLab> {
  const dir = await tmpdirWith({});
  const tracePath = join(dir, 'trace');
  await writeFile(join(dir, 'state.sh'), script(tracePath));
  await chmod(join(dir, 'state.sh'), 0o755);
  await writeFile(
    join(dir, 'state-fail.sh'),
    `${script(tracePath)}[ "$2" = active ] && exit 1\nexit 0\n`,
  );
  await chmod(join(dir, 'state-fail.sh'), 0o755);
  const lab = await createLab({
    hosts: [
      { name: 'router', ipv4: '192.0.2.1' },
      ...Object.entries(BALANCERS).map(([name, ipv4]) => ({ name, ipv4 })),
      ...Object.entries(SERVERS).map(([name, ipv4]) => ({ name, ipv4 })),
    ],
  });
  const clientNs = `${lab.switchNs.replace(/-sw$/, '')}-client`;
  const children: ChildProcess[] = [];
  const balancers: Partial<Record<BalancerName, BalancerProcess>> = {};
  const host = (name: BalancerName | ServerName | 'router'): NetHost => lab.hosts[name]!;
  const serverProcesses = new Map<ServerName, ChildProcess>();

  const remove = async (): Promise<void> => {
    for (const name of Object.keys(BALANCERS) as BalancerName[]) {
      kill(balancers[name]?.pid, 'SIGKILL');
      for (const pid of await enginePids(dir, name)) kill(pid, 'SIGKILL');
    }
    for (const child of children) kill(child.pid, 'SIGKILL');
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null
          ? Promise.resolve()
          : new Promise((r) => c.once('exit', r)),
      ),
    );
    // The engines are not our children: wait until their PIDs are gone.
    const deadline = Date.now() + 5000;
    for (const name of Object.keys(BALANCERS) as BalancerName[]) {
      for (const pid of await enginePids(dir, name)) {
        while (
          Date.now() < deadline &&
          (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')) !== ''
        ) {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
    await run(['ip', 'netns', 'del', clientNs]).catch(() => undefined);
    await lab.remove();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // Client <-> router: a veth pair of its own.
    await run(['ip', 'netns', 'add', clientNs]);
    await run(['ip', '-n', clientNs, 'link', 'set', 'lo', 'up']);
    await run([
      'ip',
      '-n',
      clientNs,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      'eth1',
      'netns',
      host('router').ns,
    ]);
    await run(['ip', '-n', clientNs, 'addr', 'add', '198.51.100.2/24', 'dev', 'eth0']);
    await run(['ip', '-n', clientNs, 'link', 'set', 'eth0', 'up']);
    await run(['ip', '-n', clientNs, 'route', 'add', 'default', 'via', '198.51.100.1']);
    const router = host('router');
    await router.run(['ip', 'addr', 'add', '198.51.100.1/24', 'dev', 'eth1']);
    await router.run(['ip', 'link', 'set', 'eth1', 'up']);
    await router.run([
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.accept_redirects=0',
      'net.ipv4.conf.eth0.accept_redirects=0',
    ]);
    await router.run(['ip', 'route', 'add', `${CLUSTER}/32`, 'via', FLOATING]);
    for (const name of Object.keys(SERVERS) as ServerName[]) {
      const server = host(name);
      await server.run(['ip', 'addr', 'add', `${CLUSTER}/32`, 'dev', 'lo']);
      await server.run(['ip', 'route', 'add', 'default', 'via', '192.0.2.1']);
      // The cluster address is on lo only: never answer ARP for it on the bridge.
      await server.run([
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.conf.all.arp_ignore=1',
        'net.ipv4.conf.all.arp_announce=2',
      ]);
    }
    for (const name of Object.keys(SERVERS) as ServerName[]) {
      const { child, lines, onLine } = spawnLogged([
        ...host(name).prefix,
        process.execPath,
        '--import',
        'tsx',
        'test/helpers/lb-http-server.ts',
        name,
      ]);
      children.push(child);
      serverProcesses.set(name, child);
      await waitLine(lines, onLine, (l) => l === 'listening', 30_000, `server ${name} listening`);
    }
    const client = spawnLogged([
      'ip',
      'netns',
      'exec',
      clientNs,
      process.execPath,
      '--import',
      'tsx',
      'test/helpers/lb-client.ts',
      CLUSTER,
      '80',
    ]);
    children.push(client.child);
    await waitLine(client.lines, client.onLine, (l) => l === 'ready', 30_000, 'client ready');
    let clientQueue = Promise.resolve<unknown>(undefined);
    const send = (
      command: Record<string, unknown>,
      timeoutMs = 60_000,
    ): Promise<Record<string, unknown>> => {
      const result = clientQueue.then(async () => {
        const from = client.lines.length;
        client.child.stdin!.write(`${JSON.stringify(command)}\n`);
        const line = await waitLine(
          client.lines,
          client.onLine,
          (_l, i) => i >= from,
          timeoutMs,
          `client answer to ${command['op'] as string}`,
          from,
        );
        return JSON.parse(line) as Record<string, unknown>;
      });
      clientQueue = result.catch(() => undefined);
      return result;
    };

    const startBalancer = async (
      name: BalancerName,
      options: BalancerOptions = {},
    ): Promise<BalancerProcess> => {
      const file = join(dir, `${name}.yaml`);
      await writeFile(file, configOf(name, dir, options));
      const { child, lines, onLine } = spawnLogged([
        ...host(name).prefix,
        process.execPath,
        '--import',
        'tsx',
        'src/main.ts',
        'lb',
        '--config',
        file,
      ]);
      children.push(child);
      const parsed = (): Record<string, unknown>[] =>
        lines.flatMap((l) => {
          try {
            return [JSON.parse(l) as Record<string, unknown>];
          } catch {
            return [];
          }
        });
      const exited = new Promise<void>((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      const waitForLog = async (
        predicate: (entry: Record<string, unknown>) => boolean,
        timeoutMs = 30_000,
        what = 'a log line',
        from = 0,
      ): Promise<Record<string, unknown>> => {
        const line = await waitLine(
          lines,
          onLine,
          (l) => {
            try {
              return predicate(JSON.parse(l) as Record<string, unknown>);
            } catch {
              return false;
            }
          },
          timeoutMs,
          `${name}: ${what}`,
          from,
          exited,
        );
        return JSON.parse(line) as Record<string, unknown>;
      };
      const balancer: BalancerProcess = {
        name,
        pid: child.pid!,
        logs: parsed,
        lineCount: () => lines.length,
        waitForLog,
        exited,
      };
      balancers[name] = balancer;
      await waitForLog((e) => e['msg'] === 'balancer started', 60_000, 'balancer started');
      return balancer;
    };

    const holders = async (): Promise<BalancerName[]> => {
      const held: BalancerName[] = [];
      for (const name of Object.keys(BALANCERS) as BalancerName[]) {
        const out = await host(name).run(['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
        if (out.includes(` ${FLOATING}/`)) held.push(name);
      }
      return held;
    };

    return {
      lab,
      dir,
      host,
      client: { send },
      balancers,
      startBalancer,
      async reconfigure(name, options) {
        const balancer = balancers[name]!;
        const from = balancer.lineCount();
        await writeFile(join(dir, `${name}.yaml`), configOf(name, dir, options));
        kill(balancer.pid, 'SIGHUP');
        await balancer.waitForLog(
          (e) => e['msg'] === 'balancer settings reloaded',
          10_000,
          'reload',
          from,
        );
      },
      async killBalancer(name) {
        const pids = await enginePids(dir, name);
        kill(balancers[name]?.pid, 'SIGKILL');
        for (const pid of pids) kill(pid, 'SIGKILL');
        await balancers[name]?.exited;
      },
      async stopBalancer(name) {
        kill(balancers[name]?.pid, 'SIGTERM');
        await balancers[name]?.exited;
      },
      holders,
      async waitHolders(want, timeoutMs) {
        const started = performance.now();
        const key = [...want].sort().join(',');
        for (;;) {
          const now = (await holders()).sort().join(',');
          if (now === key) return performance.now() - started;
          if (performance.now() - started > timeoutMs) {
            throw new Error(
              `lb-lab: the floating address is held by [${now}], not [${key}], after ${timeoutMs} ms`,
            );
          }
          await new Promise((r) => setTimeout(r, 10));
        }
      },
      async waitHeldBy(name, timeoutMs) {
        const started = performance.now();
        while (!(await holders()).includes(name)) {
          if (performance.now() - started > timeoutMs) {
            throw new Error(
              `lb-lab: ${name} does not hold the floating address after ${timeoutMs} ms`,
            );
          }
          await new Promise((r) => setTimeout(r, 10));
        }
        return performance.now() - started;
      },
      async routerNeighbour() {
        const neigh = await host('router').run(['ip', 'neigh', 'show', FLOATING, 'dev', 'eth0']);
        const mac = /lladdr ([0-9a-f:]+)/.exec(neigh)?.[1];
        for (const name of Object.keys(BALANCERS) as BalancerName[]) {
          const link = await host(name).run(['ip', '-o', 'link', 'show', 'dev', 'eth0']);
          if (mac !== undefined && link.includes(`link/ether ${mac}`)) return name;
        }
        return undefined;
      },
      async watchFloating(name) {
        const watch = spawnLogged([
          'ip',
          '-n',
          host(name).ns,
          '-ts',
          'monitor',
          'address',
          'dev',
          'eth0',
        ]);
        children.push(watch.child);
        await new Promise((resolve) => watch.child.once('spawn', resolve));
        // Let ip subscribe before anything happens (it prints nothing until an event).
        await new Promise((resolve) => setTimeout(resolve, 200));
        const added = (timeoutMs: number): Promise<number> =>
          waitLine(
            watch.lines,
            watch.onLine,
            (line) => /^\[[^\]]+\] \d+: eth0 +inet 192\.0\.2\.10\//.test(line),
            timeoutMs,
            `${name} adding the floating address`,
          ).then((line) => new Date(/^\[([^\]]+)\]/.exec(line)![1]!).getTime());
        return {
          added,
          stop: () => {
            kill(watch.child.pid, 'SIGTERM');
          },
        };
      },
      async trace() {
        return (await readFile(tracePath, 'utf8').catch(() => ''))
          .split('\n')
          .filter((l) => l !== '');
      },
      killServer(name) {
        kill(serverProcesses.get(name)?.pid, 'SIGKILL');
      },
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Resolves the first line from index `from` on that `accept` takes; rejects at the deadline. */
function waitLine(
  lines: string[],
  onLine: Set<(line: string) => void>,
  accept: (line: string, index: number) => boolean,
  timeoutMs: number,
  what: string,
  from = 0,
  exited?: Promise<void>,
): Promise<string> {
  for (let i = from; i < lines.length; i++)
    if (accept(lines[i]!, i)) return Promise.resolve(lines[i]!);
  return new Promise((resolve, reject) => {
    const listener = (line: string): void => {
      if (!accept(line, lines.length - 1)) return;
      done();
      resolve(line);
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new Error(
          `lb-lab: no ${what} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`,
        ),
      );
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      onLine.delete(listener);
    };
    onLine.add(listener);
    void exited?.then(() => {
      if (!onLine.has(listener)) return;
      done();
      reject(
        new Error(
          `lb-lab: the process exited before ${what}; last lines:\n${lines.slice(-15).join('\n')}`,
        ),
      );
    });
  });
}
