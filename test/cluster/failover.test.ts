import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { addressesOf, canCreateNamespaces, createLab, type Lab } from '../helpers/netns.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

/**
 * Three steerdns nodes in network namespaces on one bridge, a three-member etcd in a
 * namespace of its own, a client namespace. The master holds the service address
 * 192.0.2.53; the tests take the master away in several ways and watch the address and
 * the answers. Every node listens on the service address (ip_nonlocal_bind) and on its own.
 */

const SERVICE = '192.0.2.53';
const NODES = ['n1', 'n2', 'n3'] as const;
const ETCD_HOST = '192.0.2.2';
const ETCD_PORTS = [2379, 22379, 32379];

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
  address: string,
  dir: string,
) => `listen: ['${address}:53', '${SERVICE}:53']
workers: 1
log: { level: info }
dns:
  # The probe sends 1,000 queries a second from one client.
  rateLimit: { exempt: ['192.0.2.100/32'] }
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

/** The role changes and cluster errors each node logged, for a failure message. */
let diagnostics = (): string => '';

const deadline = async <T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 20,
): Promise<T> => {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diagnostics()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
};

describe(
  'a cluster of three nodes on etcd',
  { skip: !canCreateNamespaces(), timeout: 240_000 },
  () => {
    let lab: Lab;
    let etcd: EtcdCluster;
    let dir: string;
    const servers = new Map<string, ServerProcess>();

    const addressOf = (name: string): string => lab.hosts[name]!.ipv4;
    diagnostics = () =>
      [...servers]
        .map(
          ([name, server]) =>
            `\n${name}:\n${server
              .logs()
              .filter((line) => /role|etcd|session|master|hook|address|check/.test(line))
              .slice(-15)
              .join('\n')}`,
        )
        .join('');
    // A node killed with SIGKILL cannot delete its address: its namespace keeps it until the
    // node starts again. Only running nodes count.
    const holders = async (): Promise<string[]> => {
      const held: string[] = [];
      for (const name of NODES.filter((n) => servers.get(n)?.isAlive() === true))
        if ((await addressesOf(lab.hosts[name]!)).includes(SERVICE)) held.push(name);
      return held;
    };
    const onlyHolder = (except?: string) =>
      deadline(
        `exactly one holder of ${SERVICE}${except ? ` other than ${except}` : ''}`,
        20_000,
        async () => {
          const held = await holders();
          return held.length === 1 && held[0] !== except ? held[0] : undefined;
        },
      );
    const startNode = async (name: string): Promise<ServerProcess> => {
      const server = await startServer(['serve', '--config', join(dir, `${name}.yaml`)], {
        addListen: false,
        prefix: lab.hosts[name]!.prefix,
      });
      servers.set(name, server);
      return server;
    };

    before(async () => {
      lab = await createLab({
        hosts: [
          { name: 'etcd', ipv4: ETCD_HOST },
          { name: 'n1', ipv4: '192.0.2.11' },
          { name: 'n2', ipv4: '192.0.2.12' },
          { name: 'n3', ipv4: '192.0.2.13' },
          { name: 'client', ipv4: '192.0.2.100' },
        ],
      });
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
      dir = await tmpdirWith({ 'example.org.zone': zone, trace: '' });
      await writeFile(join(dir, 'hook.sh'), hook(join(dir, 'trace')));
      await chmod(join(dir, 'hook.sh'), 0o755);
      for (const name of NODES) {
        await writeFile(join(dir, `${name}.yaml`), configOf(name, addressOf(name), dir));
      }
      for (const name of NODES) await startNode(name);
    });

    after(async () => {
      for (const server of servers.values()) await server.stop(3000);
      // Each may be missing when `before` failed half way.
      await (etcd as EtcdCluster | undefined)?.remove();
      await (lab as Lab | undefined)?.remove();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('elects one master, which holds the service address and answers on it', async () => {
      const master = await onlyHolder();
      const answer = await lab.hosts['client']!.run([
        'dig',
        '+short',
        '+time=1',
        '+tries=2',
        `@${SERVICE}`,
        'www.example.org',
        'A',
      ]);
      assert.equal(answer.trim(), '198.51.100.10');
      const trace = await readFile(join(dir, 'trace'), 'utf8');
      for (const name of NODES) {
        const lines = trace.split('\n').filter((line) => line.startsWith(`${name} `));
        assert.match(lines[0] ?? '', new RegExp(`^${name} initial initial 0$`), trace);
        const expected = name === master ? 'active' : 'standby';
        assert.match(lines.at(-1) ?? '', new RegExp(`^${name} \\w+ ${expected} [1-9]\\d*$`), trace);
        if (name !== master) assert.ok(!trace.includes(`${name} standby active`), trace);
      }
    });

    it('a graceful stop of the master moves the address within a second', async () => {
      const master = await onlyHolder();
      const stopping = servers.get(master)!.stop(5000);
      const started = performance.now();
      const next = await onlyHolder(master);
      const movedMs = performance.now() - started;
      await stopping;
      assert.ok(movedMs < 1000, `the address moved to ${next} after ${Math.round(movedMs)} ms`);
      process.stdout.write(`# graceful move ${master} -> ${next}: ${Math.round(movedMs)} ms\n`);
      await startNode(master);
    });

    it('kill -9 of the master: answers on the service address resume within 3.5 s', async () => {
      const master = await onlyHolder();
      // The probe runs inside the client namespace, 1,000 queries per second.
      const client = spawn(
        'ip',
        [
          'netns',
          'exec',
          lab.hosts['client']!.ns,
          process.execPath,
          '--import',
          'tsx',
          'test/helpers/probe-process.ts',
          SERVICE,
          '53',
          'www.example.org',
          '1',
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const lines = createInterface({ input: client.stdout });
      const output: string[] = [];
      const probing = new Promise<void>((resolve) => {
        lines.on('line', (line) => {
          output.push(line);
          if (line === 'probing') resolve();
        });
      });
      await probing;
      await new Promise((resolve) => setTimeout(resolve, 500));
      servers.get(master)!.signal('SIGKILL');
      await servers.get(master)!.exited;
      const next = await onlyHolder(master);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      client.kill('SIGTERM');
      await new Promise((resolve) => client.once('exit', resolve));
      const result = JSON.parse(output.at(-1)!) as { longestGapMs: number; answered: number };
      process.stdout.write(`# kill -9 ${master} -> ${next}: gap ${result.longestGapMs} ms\n`);
      assert.ok(result.answered > 500, `answered only ${result.answered}`);
      assert.ok(result.longestGapMs < 3500, `no answer for ${result.longestGapMs} ms`);
      await startNode(master);
    });

    it('a master cut off from etcd deletes the address before another node takes it', async () => {
      const master = await onlyHolder();
      const host = lab.hosts[master]!;
      await host.run(['nft', 'add table inet sdcut']);
      await host.run(['nft', 'add chain inet sdcut out { type filter hook output priority 0 ; }']);
      await host.run(['nft', `add rule inet sdcut out ip daddr ${ETCD_HOST} drop`]);
      const started = performance.now();
      let both = 0;
      let next: string | undefined;
      try {
        while (performance.now() - started < 8000) {
          const held = await holders();
          if (held.length > 1) both++;
          if (held.length === 1 && held[0] !== master) {
            next = held[0];
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await host.run(['nft', 'delete table inet sdcut']);
      }
      assert.equal(both, 0, 'two nodes held the service address at once');
      assert.ok(next !== undefined, 'no other node took the address');
      process.stdout.write(
        `# cut off ${master} -> ${next}: ${Math.round(performance.now() - started)} ms\n`,
      );
      // The cut-off node comes back as standby without a restart.
      await deadline(`${master} standby again`, 15_000, async () => {
        const trace = await readFile(join(dir, 'trace'), 'utf8');
        return trace.split('\n').at(-2)?.startsWith(`${master} `) === true &&
          trace.includes(`${master} inop standby`)
          ? true
          : undefined;
      });
    });

    it('a failing own check makes the node inop; it comes back when the check passes', async () => {
      const master = await onlyHolder();
      await writeFile(join(dir, `${master}.fail`), '');
      const next = await onlyHolder(master);
      await deadline(`${master} inop`, 10_000, async () =>
        (await readFile(join(dir, 'trace'), 'utf8')).includes(`${master} active inop`)
          ? true
          : undefined,
      );
      await rm(join(dir, `${master}.fail`));
      await deadline(`${master} standby after inop`, 10_000, async () => {
        const trace = await readFile(join(dir, 'trace'), 'utf8');
        const mine = trace.split('\n').filter((line) => line.startsWith(`${master} `));
        return mine.at(-1)?.startsWith(`${master} inop standby`) === true ? true : undefined;
      });
      assert.deepEqual(await holders(), [next]);
    });

    it('etcd stopped: every node keeps answering on its own address and nobody takes the address', async () => {
      for (const member of etcd.names) await etcd.stop(member);
      // Past the lease: the master has deleted the address and nobody took it.
      await deadline('no holder of the service address', 8000, async () =>
        (await holders()).length === 0 ? true : undefined,
      );
      for (let i = 0; i < 10; i++) {
        assert.ok((await holders()).length === 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const name of NODES) {
        const answer = await lab.hosts['client']!.run([
          'dig',
          '+short',
          '+time=1',
          '+tries=2',
          `@${addressOf(name)}`,
          'www.example.org',
          'A',
        ]);
        assert.equal(answer.trim(), '198.51.100.10', `${name} stopped answering`);
      }
      // Together: one member alone has no quorum and never reports healthy.
      await Promise.all(etcd.names.map((member) => etcd.start(member)));
      await onlyHolder();
    });
  },
);
