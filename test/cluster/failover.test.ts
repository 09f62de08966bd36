import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  clusterDiagnostics,
  deadline as waitFor,
  ETCD_HOST,
  NODES,
  SERVICE,
  startClusterLab,
  type ClusterLab,
} from '../helpers/cluster-lab.js';
import { canCreateNamespaces } from '../helpers/netns.js';
import { EtcdClient } from '../../src/cluster/etcd-client.js';
import { parseMasterRecord, type MasterRecord } from '../../src/control/master-record.js';

/**
 * Three steerdns nodes in network namespaces, a three-member etcd, a client
 * (test/helpers/cluster-lab.ts). The master holds the service address 192.0.2.53; the tests
 * take the master away in several ways and watch the address and the answers.
 */

describe(
  'a cluster of three nodes on etcd',
  { skip: !canCreateNamespaces(), timeout: 240_000 },
  () => {
    let cluster: ClusterLab;
    const deadline = <T>(what: string, ms: number, probe: () => Promise<T | undefined>) =>
      waitFor(what, ms, probe, () => clusterDiagnostics(cluster.servers));

    /** What `PREFIX/master` holds now, read from etcd (its unix socket, from outside the namespaces). */
    const masterRecord = async (): Promise<MasterRecord | undefined> => {
      const client = new EtcdClient({ endpoints: cluster.etcd.endpoints });
      try {
        const { kvs } = await client.range('/steerdns/default/master');
        return kvs[0] && parseMasterRecord(kvs[0].value);
      } finally {
        client.close();
      }
    };

    before(async () => {
      cluster = await startClusterLab();
    });

    after(async () => {
      await (cluster as ClusterLab | undefined)?.remove();
    });

    it('elects one master, which holds the service address and answers on it', async () => {
      const master = await cluster.onlyHolder();
      const answer = await cluster.lab.hosts['client']!.run([
        'dig',
        '+short',
        '+time=1',
        '+tries=2',
        `@${SERVICE}`,
        'www.example.org',
        'A',
      ]);
      assert.equal(answer.trim(), '198.51.100.10');
      // The others reach standby on their own time (each learns the master from its watch).
      const roleOf = (trace: string, name: string) =>
        trace
          .split('\n')
          .filter((line) => line.startsWith(`${name} `))
          .at(-1) ?? '';
      const trace = await deadline('every node in its role', 10_000, async () => {
        const text = await readFile(join(cluster.dir, 'trace'), 'utf8');
        const settled = NODES.every((name) =>
          / (active|standby) [1-9]\d*$/.test(roleOf(text, name)),
        );
        return settled ? text : undefined;
      });
      for (const name of NODES) {
        const lines = trace.split('\n').filter((line) => line.startsWith(`${name} `));
        assert.match(lines[0] ?? '', new RegExp(`^${name} initial initial 0$`), trace);
        const expected = name === master ? 'active' : 'standby';
        assert.match(lines.at(-1) ?? '', new RegExp(`^${name} \\w+ ${expected} [1-9]\\d*$`), trace);
        if (name !== master) assert.ok(!trace.includes(`${name} standby active`), trace);
      }
    });

    it('a graceful stop of the master moves the address within a second', async () => {
      const master = await cluster.onlyHolder();
      const stopping = cluster.servers.get(master)!.stop(5000);
      const started = performance.now();
      const next = await cluster.onlyHolder(master);
      const movedMs = performance.now() - started;
      await stopping;
      assert.ok(movedMs < 1000, `the address moved to ${next} after ${Math.round(movedMs)} ms`);
      process.stdout.write(`# graceful move ${master} -> ${next}: ${Math.round(movedMs)} ms\n`);
      await cluster.startNode(master);
    });

    it('kill -9 of the master: answers on the service address resume within 3.5 s', async () => {
      const master = await cluster.onlyHolder();
      const before = await masterRecord();
      // The probe runs inside the client namespace, 1,000 queries per second.
      const probe = await cluster.probe(1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      cluster.servers.get(master)!.signal('SIGKILL');
      await cluster.servers.get(master)!.exited;
      const next = await cluster.onlyHolder(master);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const result = await probe.stop();
      process.stdout.write(`# kill -9 ${master} -> ${next}: gap ${result.longestGapMs} ms\n`);
      assert.ok(result.answered > 500, `answered only ${result.answered}`);
      assert.ok(result.longestGapMs < 3500, `no answer for ${result.longestGapMs} ms`);
      // The new master wrote its record with its (greater) epoch.
      assert.equal(before?.node, master);
      const after = await deadline(`a master record by ${next}`, 5000, async () => {
        const record = await masterRecord();
        return record?.node === next ? record : undefined;
      });
      assert.ok(after.epoch > before.epoch, `epoch ${after.epoch} after ${before.epoch}`);
      await cluster.startNode(master);
    });

    it('a master cut off from etcd deletes the address before another node takes it', async () => {
      const master = await cluster.onlyHolder();
      const host = cluster.lab.hosts[master]!;
      await host.run(['nft', 'add table inet sdcut']);
      await host.run(['nft', 'add chain inet sdcut out { type filter hook output priority 0 ; }']);
      await host.run(['nft', `add rule inet sdcut out ip daddr ${ETCD_HOST} drop`]);
      const started = performance.now();
      let both = 0;
      let next: string | undefined;
      try {
        while (performance.now() - started < 8000) {
          const held = await cluster.holders();
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
        // inop (lease at risk), then standby (directly, or through initial with a new lease).
        const trace = await readFile(join(cluster.dir, 'trace'), 'utf8');
        const mine = trace.split('\n').filter((line) => line.startsWith(`${master} `));
        return trace.includes(`${master} active inop`) &&
          /^\S+ \w+ standby [1-9]\d*$/.test(mine.at(-1) ?? '')
          ? true
          : undefined;
      });
    });

    it('a failing own check makes the node inop; it comes back when the check passes', async () => {
      const master = await cluster.onlyHolder();
      await writeFile(join(cluster.dir, `${master}.fail`), '');
      const next = await cluster.onlyHolder(master);
      await deadline(`${master} inop`, 10_000, async () =>
        (await readFile(join(cluster.dir, 'trace'), 'utf8')).includes(`${master} active inop`)
          ? true
          : undefined,
      );
      await rm(join(cluster.dir, `${master}.fail`));
      await deadline(`${master} standby after inop`, 10_000, async () => {
        const trace = await readFile(join(cluster.dir, 'trace'), 'utf8');
        const mine = trace.split('\n').filter((line) => line.startsWith(`${master} `));
        return mine.at(-1)?.startsWith(`${master} inop standby`) === true ? true : undefined;
      });
      assert.deepEqual(await cluster.holders(), [next]);
    });

    it('etcd stopped: every node keeps answering on its own address and nobody takes the address', async () => {
      for (const member of cluster.etcd.names) await cluster.etcd.stop(member);
      // Past the lease: the master has deleted the address and nobody took it.
      await deadline('no holder of the service address', 8000, async () =>
        (await cluster.holders()).length === 0 ? true : undefined,
      );
      for (let i = 0; i < 10; i++) {
        assert.ok((await cluster.holders()).length === 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      for (const name of NODES) {
        const answer = await cluster.lab.hosts['client']!.run([
          'dig',
          '+short',
          '+time=1',
          '+tries=2',
          `@${cluster.lab.hosts[name]!.ipv4}`,
          'www.example.org',
          'A',
        ]);
        assert.equal(answer.trim(), '198.51.100.10', `${name} stopped answering`);
      }
      // Together: one member alone has no quorum and never reports healthy.
      await Promise.all(cluster.etcd.names.map((member) => cluster.etcd.start(member)));
      await cluster.onlyHolder();
    });
  },
);
