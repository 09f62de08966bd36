import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { canCreateNamespaces, createLab, type Lab } from '../helpers/netns.js';
import { startServer, tmpdirWith, type ServerProcess } from '../helpers/server-process.js';

/**
 * A node joins an etcd that takes only TLS clients with a certificate (`--client-cert-auth`):
 * etcd in one network namespace on https://192.0.2.2:2379, a steerdns node in another with
 * `cluster.etcd.ca`, `cert` and `key`. A node with a certificate of another CA is refused and
 * never joins. Certificates are made with openssl for the test.
 */

const run = promisify(execFile);
const ETCD = '192.0.2.2';

async function makeCertificates(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  const subject = (cn: string) => ['-subj', `/CN=${cn}`];
  for (const ca of ['ca', 'other-ca']) {
    const key = ['-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`];
    await ssl('req', '-x509', ...key, '-days', '2', '-out', `${ca}.pem`, ...subject(ca));
  }
  await writeFile(join(dir, 'server.ext'), `subjectAltName=IP:${ETCD}\n`);
  const issue = async (name: string, ca: string, ext?: string) => {
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      ...subject(name),
    );
    await ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      `${name}.pem`,
      ...(ext ? ['-extfile', ext] : []),
    );
  };
  await issue('server', 'ca', 'server.ext');
  await issue('client', 'ca');
  await issue('stranger', 'other-ca');
}

const configOf = (dir: string, client: string) => `
listen: ['192.0.2.11:53']
workers: 1
zones:
  - origin: example.org
    records: |
      @ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ 3600 IN NS ns1
      ns1 3600 IN A 192.0.2.53
cluster:
  node: ${client}
  etcd:
    endpoints: ['https://${ETCD}:2379']
    ca: ${join(dir, 'ca.pem')}
    cert: ${join(dir, `${client}.pem`)}
    key: ${join(dir, `${client}.key`)}
`;

describe(
  'etcd over TLS with client certificates',
  { skip: !canCreateNamespaces(), timeout: 120_000 },
  () => {
    let lab: Lab;
    let etcd: EtcdCluster;
    let dir: string;
    const servers: ServerProcess[] = [];

    before(async () => {
      dir = await tmpdirWith({});
      await makeCertificates(dir);
      lab = await createLab({
        hosts: [
          { name: 'etcd', ipv4: ETCD },
          { name: 'n1', ipv4: '192.0.2.11' },
          { name: 'n2', ipv4: '192.0.2.12' },
        ],
      });
      etcd = await startEtcd({
        members: [
          {
            name: 'a',
            // The plain unix socket is the test's own way in (its health check).
            clientUrl: `unix://localhost:12379,https://${ETCD}:2379`,
            peerUrl: 'unix://localhost:12380',
            commandPrefix: lab.hosts['etcd']!.prefix,
          },
        ],
        extraArgs: [
          '--cert-file',
          join(dir, 'server.pem'),
          '--key-file',
          join(dir, 'server.key'),
          '--trusted-ca-file',
          join(dir, 'ca.pem'),
          '--client-cert-auth',
        ],
      });
      await writeFile(join(dir, 'client.yaml'), configOf(dir, 'client'));
      await writeFile(
        join(dir, 'stranger.yaml'),
        configOf(dir, 'stranger').replace("listen: ['192.0.2.11:53']", "listen: ['192.0.2.12:53']"),
      );
    });

    after(async () => {
      for (const server of servers) await server.stop(3000);
      await (etcd as EtcdCluster | undefined)?.remove();
      await (lab as Lab | undefined)?.remove();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('a node with a certificate of the cluster CA joins; one of another CA does not', async () => {
      const member = await startServer(['serve', '--config', join(dir, 'client.yaml')], {
        addListen: false,
        prefix: lab.hosts['n1']!.prefix,
      });
      servers.push(member);
      await member.waitForLog((e) => e?.['msg'] === 'etcd session started', 20_000);
      await member.waitForLog((e) => e?.['msg'] === 'role initial -> active', 20_000);
      const stranger = await startServer(['serve', '--config', join(dir, 'stranger.yaml')], {
        addListen: false,
        prefix: lab.hosts['n2']!.prefix,
      });
      servers.push(stranger);
      // It keeps answering (DNS does not wait for etcd) but never gets a lease.
      await stranger.waitForLog((e) => String(e?.['msg']).includes('cannot grant a lease'), 20_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(
        !stranger.entries().some((e) => e['msg'] === 'etcd session started'),
        'a client certificate of another CA was accepted',
      );
    });
  },
);
