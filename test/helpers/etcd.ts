import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs a real etcd (Debian `etcd-server`, /usr/bin/etcd) for tests: 1 or 3 members in a fresh
 * temp dir, by default on unix sockets, so that no port is probed and every test has its own
 * cluster. The "URLs" `unix://localhost:12379` make etcd create socket FILES named
 * `localhost:12379` in its cwd (the temp dir); clients reach them as
 * `unix://DIR/localhost:12379` (see src/cluster/etcd-transport.ts). Members are stopped by PID.
 */

/** One member; the defaults are a/b/c on unix sockets. */
export interface EtcdMemberSpec {
  readonly name: string;
  /** etcd's listen and advertise client URL, e.g. `unix://localhost:12379`, `http://192.0.2.2:2379`. */
  readonly clientUrl: string;
  /** Its peer URL, e.g. `unix://localhost:12380`, `http://192.0.2.2:2380`. */
  readonly peerUrl: string;
  /** Run it through this, e.g. `['ip', 'netns', 'exec', 'NS']` (which execs: same PID). */
  readonly commandPrefix?: readonly string[];
}

/** Options of {@link startEtcd}. */
export interface EtcdClusterOptions {
  /** 1 (member a) or 3 (a, b, c) unix-socket members. @default 1 */
  readonly size?: 1 | 3;
  /** Explicit members instead of `size` (e.g. TCP URLs inside network namespaces). */
  readonly members?: readonly EtcdMemberSpec[];
  /** More etcd flags for every member, e.g. `['--heartbeat-interval', '50']`. */
  readonly extraArgs?: readonly string[];
  /** How long to wait for the cluster to be healthy. @default 15000 */
  readonly readyTimeoutMs?: number;
}

/** A running etcd cluster. */
export interface EtcdCluster {
  /** The temp dir (cwd of every member; data dirs, logs and sockets are in it). */
  readonly dir: string;
  readonly names: readonly string[];
  /** Every member's client endpoint, in member order, as steerdns' client takes them. */
  readonly endpoints: readonly string[];
  endpoint(member: string): string;
  pid(member: string): number | undefined;
  /** SIGTERM, then SIGKILL after `timeoutMs` (default 5000); resolves once it exited. */
  stop(member: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL; resolves once it exited. */
  kill(member: string): Promise<void>;
  /** Starts a stopped member again with its data dir and waits until it answers /health. */
  start(member: string): Promise<void>;
  /** SIGSTOP: the member holds its sockets and answers nothing (an unreachable etcd). */
  pause(member: string): void;
  /** SIGCONT. */
  resume(member: string): void;
  /** Kills every member by PID and deletes the dir. */
  remove(): Promise<void>;
}

const ETCD = '/usr/bin/etcd';

function defaultMembers(size: 1 | 3): EtcdMemberSpec[] {
  return ['a', 'b', 'c'].slice(0, size).map((name, i) => ({
    name,
    clientUrl: `unix://localhost:${i + 1}2379`,
    peerUrl: `unix://localhost:${i + 1}2380`,
  }));
}

/** The client endpoint of a member: a unix socket file in `dir`, or the TCP URL as it is. */
function clientEndpoint(dir: string, spec: EtcdMemberSpec): string {
  // A member may listen on several URLs (`unix://localhost:12379,http://192.0.2.2:2379`):
  // the test reaches it on the first.
  const first = spec.clientUrl.split(',')[0]!;
  return first.startsWith('unix://') ? `unix://${join(dir, first.slice('unix://'.length))}` : first;
}

/** GET /health of one member; true when it says healthy. Never rejects. */
async function healthy(endpoint: string): Promise<boolean> {
  const answer = await call(endpoint, 'GET', '/health');
  return answer?.status === 200 && answer.body.includes('"true"');
}

/** The raft leader and term a member reports (`leader/term`), or undefined. Never rejects. */
async function leaderSeen(endpoint: string): Promise<string | undefined> {
  const answer = await call(endpoint, 'POST', '/v3/maintenance/status');
  if (answer?.status !== 200) return undefined;
  const status = JSON.parse(answer.body) as { leader?: string; raftTerm?: string };
  return status.leader === undefined ? undefined : `${status.leader}/${status.raftTerm}`;
}

/** One request to a member with a 1 s deadline; undefined on any failure. */
function call(
  endpoint: string,
  method: string,
  path: string,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const target = endpoint.startsWith('unix://')
      ? { socketPath: endpoint.slice('unix://'.length) }
      : { host: new URL(endpoint).hostname, port: Number(new URL(endpoint).port) };
    const req = request({ ...target, path, method, agent: false, timeout: 1000 });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      resolve(undefined);
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on('error', () => {
        resolve(undefined);
      });
    });
    req.end();
  });
}

/** Starts etcd and resolves once every member answers /health (rejects after the deadline). */
export async function startEtcd(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  const specs = options.members ?? defaultMembers(options.size ?? 1);
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-etcd-'));
  const readyTimeoutMs = options.readyTimeoutMs ?? 15000;
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const children = new Map<string, ChildProcess>();
  const exited = new Map<string, Promise<void>>();
  const specOf = (member: string): EtcdMemberSpec => {
    const spec = specs.find((s) => s.name === member);
    if (spec === undefined) throw new Error(`etcd helper: no member ${member}`);
    return spec;
  };

  const launch = async (spec: EtcdMemberSpec): Promise<void> => {
    const log = await open(join(dir, `${spec.name}.log`), 'a');
    const argv = [
      ...(spec.commandPrefix ?? []),
      ETCD,
      ...['--name', spec.name, '--data-dir', join(dir, `${spec.name}.etcd`)],
      ...['--listen-client-urls', spec.clientUrl, '--advertise-client-urls', spec.clientUrl],
      ...['--listen-peer-urls', spec.peerUrl, '--initial-advertise-peer-urls', spec.peerUrl],
      ...['--initial-cluster', initialCluster, '--initial-cluster-state', 'new'],
      ...['--initial-cluster-token', `steerdns-test-${process.pid}`],
      ...(options.extraArgs ?? []),
    ];
    const child = spawn(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', log.fd, log.fd] });
    await log.close();
    children.set(spec.name, child);
    exited.set(
      spec.name,
      new Promise((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.once('error', () => {
          resolve();
        });
      }),
    );
  };

  const waitHealthy = async (names: readonly string[]): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    for (const name of names) {
      const endpoint = clientEndpoint(dir, specOf(name));
      while (!(await healthy(endpoint))) {
        const child = children.get(name);
        if (child !== undefined && child.exitCode !== null)
          throw new Error(
            `etcd helper: member ${name} exited (${child.exitCode}); see ${dir}/${name}.log`,
          );
        if (Date.now() > deadline)
          throw new Error(
            `etcd helper: member ${name} not healthy within ${readyTimeoutMs} ms; see ${dir}/${name}.log`,
          );
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  };

  // Members can be healthy while the first raft election settles (a second leader change
  // follows the first now and then): wait until all report one leader and term, twice.
  const waitStable = async (): Promise<void> => {
    const deadline = Date.now() + readyTimeoutMs;
    let previous: string | undefined;
    for (;;) {
      const seen = await Promise.all(specs.map((spec) => leaderSeen(clientEndpoint(dir, spec))));
      const agreed = seen.every((s) => s !== undefined && s === seen[0]) ? seen[0] : undefined;
      if (agreed !== undefined && agreed === previous) return;
      previous = agreed;
      if (Date.now() > deadline)
        throw new Error(
          `etcd helper: no stable leader within ${readyTimeoutMs} ms: ${seen.join(', ')}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const signal = (member: string, name: NodeJS.Signals): void => {
    const child = children.get(member);
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, name);
  };
  const running = (member: string): boolean => {
    const child = children.get(member);
    return child?.exitCode === null && child.signalCode === null;
  };

  const stop = async (member: string, timeoutMs = 5000): Promise<void> => {
    if (!running(member)) return;
    signal(member, 'SIGCONT');
    signal(member, 'SIGTERM');
    const timer = setTimeout(() => {
      signal(member, 'SIGKILL');
    }, timeoutMs);
    await exited.get(member);
    clearTimeout(timer);
  };
  const kill = async (member: string): Promise<void> => {
    if (!running(member)) return;
    signal(member, 'SIGKILL');
    await exited.get(member);
  };

  const cluster: EtcdCluster = {
    dir,
    names: specs.map((s) => s.name),
    endpoints: specs.map((s) => clientEndpoint(dir, s)),
    endpoint: (member) => clientEndpoint(dir, specOf(member)),
    pid: (member) => children.get(member)?.pid,
    stop,
    kill,
    start: async (member) => {
      if (running(member)) throw new Error(`etcd helper: member ${member} is running`);
      // A killed member leaves its socket files behind.
      for (const url of [specOf(member).clientUrl, specOf(member).peerUrl])
        if (url.startsWith('unix://'))
          await rm(join(dir, url.slice('unix://'.length)), { force: true });
      await launch(specOf(member));
      await waitHealthy([member]);
    },
    pause: (member) => {
      signal(member, 'SIGSTOP');
    },
    resume: (member) => {
      signal(member, 'SIGCONT');
    },
    remove: async () => {
      await Promise.all(specs.map((s) => kill(s.name)));
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    for (const spec of specs) await launch(spec);
    await waitHealthy(specs.map((s) => s.name));
    if (specs.length > 1) await waitStable();
  } catch (error) {
    await cluster.remove();
    throw error;
  }
  return cluster;
}
