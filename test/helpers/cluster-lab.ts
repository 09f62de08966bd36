import { spawn } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startEtcd, type EtcdCluster } from './etcd.js';
import { addressesOf, createLab, type Lab } from './netns.js';
import { REPO_ROOT, startServer, tmpdirWith, type ServerProcess } from './server-process.js';
import type { ProbeResult } from './udp-probe.js';

/**
 * Three steerdns nodes in network namespaces on one bridge, a three-member etcd in a
 * namespace of its own, and a client namespace: the cluster tests' and the failover
 * benchmark's network. The master holds the service address 192.0.2.53; every node listens on
 * it (ip_nonlocal_bind) and on its own address. Hooks append `NODE OLD NEW EPOCH` to `trace`.
 */

export const SERVICE = '192.0.2.53';
export const NODES = ['n1', 'n2', 'n3'] as const;
export const ETCD_HOST = '192.0.2.2';
const ETCD_PORTS = [2379, 22379, 32379];
const NODE_ADDRESSES: Record<string, string> = {
  n1: '192.0.2.11',
  n2: '192.0.2.12',
  n3: '192.0.2.13',
};
export const CLIENT = '192.0.2.100';

const zone = `$ORIGIN example.org.
@ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ 300 IN NS ns1
ns1 300 IN A ${SERVICE}
www 300 IN A 198.51.100.10
`;

const hook = (trace: string) => `#!/bin/sh
echo "$STEERDNS_NODE $1 $2 $STEERDNS_EPOCH" >> "${trace}"
`;

const configOf = (
  name: string,
  dir: string,
) => `listen: ['${NODE_ADDRESSES[name]}:53', '${SERVICE}:53']
workers: 1
log: { level: info }
dns:
  # The probe sends 1,000 queries a second from one client.
  rateLimit: { exempt: ['${CLIENT}/32'] }
zones:
  - origin: example.org
    file: ${join(dir, 'example.org.zone')}
cluster:
  node: ${name}
  etcd:
    endpoints: [${ETCD_PORTS.map((p) => `'http://${ETCD_HOST}:${p}'`).join(', ')}]
  leaseTtl: 2s
  margin: 500ms
  addresses:
    - { address: ${SERVICE}, prefix: 24, interface: eth0 }
  hooks:
    initial: [${join(dir, 'hook.sh')}]
    active: [${join(dir, 'hook.sh')}]
    standby: [${join(dir, 'hook.sh')}]
    inop: [${join(dir, 'hook.sh')}]
  checks:
    - { name: marker, type: script, target: 127.0.0.1, command: [test, '!', -e, ${join(dir, `${name}.fail`)}], interval: 500ms, timeout: 400ms, fall: 2, rise: 1 }
`;

/** A running cluster lab. */
export interface ClusterLab {
  readonly lab: Lab;
  readonly etcd: EtcdCluster;
  /** Configs, zone, hook and its `trace` file; `NODE.fail` makes that node's own check fail. */
  readonly dir: string;
  readonly servers: Map<string, ServerProcess>;
  /** The running nodes that hold the service address now. */
  holders(): Promise<string[]>;
  /** Waits (20 s at most) until exactly one running node holds it, other than `except`. */
  onlyHolder(except?: string): Promise<string>;
  /** Starts (again) node `name` in its namespace. */
  startNode(name: string): Promise<ServerProcess>;
  /** Starts a UDP probe in the client namespace (one query every `intervalMs` to the service address). */
  probe(intervalMs?: number): Promise<{ stop(): Promise<ProbeResult> }>;
  /** Stops every node, etcd, and removes the namespaces and the dir. */
  remove(): Promise<void>;
}

/** Waits until `probe` gives a value; throws after `timeoutMs`, naming `what` and `diagnostics()`. */
export async function deadline<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  diagnostics: () => string = () => '',
  everyMs = 20,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diagnostics()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The role changes, checks and cluster errors each node logged, for a failure message. */
export function clusterDiagnostics(servers: ReadonlyMap<string, ServerProcess>): string {
  return [...servers]
    .map(
      ([name, server]) =>
        `\n${name}:\n${server
          .logs()
          .filter((line) => /role|etcd|session|master|hook|address|check/.test(line))
          .slice(-15)
          .join('\n')}`,
    )
    .join('');
}

/** Builds the lab and starts etcd and the three nodes. */
export async function startClusterLab(): Promise<ClusterLab> {
  const lab = await createLab({
    hosts: [
      { name: 'etcd', ipv4: ETCD_HOST },
      ...NODES.map((name) => ({ name, ipv4: NODE_ADDRESSES[name]! })),
      { name: 'client', ipv4: CLIENT },
    ],
  });
  const servers = new Map<string, ServerProcess>();
  let etcd: EtcdCluster | undefined;
  let dir: string | undefined;
  const remove = async (): Promise<void> => {
    for (const server of servers.values()) await server.stop(3000);
    await etcd?.remove();
    await lab.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const name of NODES)
      await lab.hosts[name]!.run(['sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1']);
    etcd = await startEtcd({
      members: ['a', 'b', 'c'].map((member, i) => ({
        name: member,
        clientUrl: `unix://localhost:${i + 1}2379,http://${ETCD_HOST}:${ETCD_PORTS[i]}`,
        peerUrl: `unix://localhost:${i + 1}2380`,
        commandPrefix: lab.hosts['etcd']!.prefix,
      })),
    });
    const files = tmpdirWith({ 'example.org.zone': zone, trace: '' });
    dir = await files;
    const base = dir;
    await writeFile(join(base, 'hook.sh'), hook(join(base, 'trace')));
    await chmod(join(base, 'hook.sh'), 0o755);
    for (const name of NODES) await writeFile(join(base, `${name}.yaml`), configOf(name, base));
    const startNode = async (name: string): Promise<ServerProcess> => {
      const server = await startServer(['serve', '--config', join(base, `${name}.yaml`)], {
        addListen: false,
        prefix: lab.hosts[name]!.prefix,
      });
      servers.set(name, server);
      return server;
    };
    for (const name of NODES) await startNode(name);
    // A node killed with SIGKILL cannot delete its address: its namespace keeps it until the
    // node starts again. Only running nodes count.
    const holders = async (): Promise<string[]> => {
      const held: string[] = [];
      for (const name of NODES.filter((n) => servers.get(n)?.isAlive() === true))
        if ((await addressesOf(lab.hosts[name]!)).includes(SERVICE)) held.push(name);
      return held;
    };
    const running = etcd;
    return {
      lab,
      etcd: running,
      dir: base,
      servers,
      holders,
      onlyHolder: (except) =>
        deadline(
          `exactly one holder of ${SERVICE}${except === undefined ? '' : ` other than ${except}`}`,
          20_000,
          async () => {
            const held = await holders();
            return held.length === 1 && held[0] !== except ? held[0] : undefined;
          },
          () => clusterDiagnostics(servers),
        ),
      startNode,
      probe: (intervalMs = 1) => probeFromClient(lab, intervalMs),
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** test/helpers/probe-process.ts run inside the client namespace. */
async function probeFromClient(
  lab: Lab,
  intervalMs: number,
): Promise<{ stop(): Promise<ProbeResult> }> {
  const argv = ['--import', 'tsx', 'test/helpers/probe-process.ts', SERVICE, '53'];
  const client = spawn(
    'ip',
    [
      'netns',
      'exec',
      lab.hosts['client']!.ns,
      process.execPath,
      ...argv,
      'www.example.org',
      String(intervalMs),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const output: string[] = [];
  const exited = new Promise((resolve) => client.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('cluster-lab: the probe did not start within 30 s'));
    }, 30_000);
    createInterface({ input: client.stdout }).on('line', (line) => {
      output.push(line);
      if (line === 'probing') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    async stop() {
      client.kill('SIGTERM');
      await exited;
      const last = output.at(-1);
      if (last === undefined || last === 'probing')
        throw new Error('cluster-lab: the probe reported nothing');
      return JSON.parse(last) as ProbeResult;
    },
  };
}
