import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import type { Target } from '../../src/health/monitor.js';
import { monitors } from '../../src/health/monitors/index.js';
import {
  closedPort,
  DNS_NAME,
  runMonitorContract,
  selfSignedCertificate,
  startBannerServer,
  startDnsResponder,
  startHttpServer,
  startHttpsServer,
  startTcpListener,
  type MonitorContractOptions,
} from './monitor.contract.js';

// Real servers on 127.0.0.1, started before the contract tests are registered.
const web = await startHttpServer();
const credentials = selfSignedCertificate();
const secure = typeof credentials === 'string' ? undefined : await startHttpsServer(credentials);
const listener = await startTcpListener();
const responder = await startDnsResponder();
const blackHole = await startDnsResponder(true);
const closed = await closedPort();
const smtpReady = await startBannerServer('220 mail.monitor.test ESMTP ready\r\n');
const smtpRefusing = await startBannerServer('554 no service here\r\n');
const silent = await startBannerServer(undefined);

after(async () => {
  const servers = [web, secure, listener, responder, blackHole, smtpReady, smtpRefusing, silent];
  await Promise.all(servers.flatMap((server) => (server ? [server.close()] : [])));
});

const at = (id: string, port: number | undefined): Target => ({ id, address: '127.0.0.1', port });

/** How each registered monitor is run through the contract; every type must appear. */
const CASES: Readonly<Record<string, MonitorContractOptions>> = {
  tcp: {
    // Nothing on loopback makes a connect hang; tcp.test.ts aborts a connect in flight.
    settingsFor: (kind) => (kind === 'hang' ? undefined : {}),
    upTarget: at('listener', listener.port),
    downTarget: at('closed', closed),
  },
  http: {
    settingsFor: (kind) => ({ path: kind === 'hang' ? '/slow' : '/health', contains: 'healthy' }),
    upTarget: at('web', web.port),
    downTarget: at('closed', closed),
  },
  https: {
    // tlsVerify is on by default: the self-signed certificate is the failing case.
    settingsFor: (kind) => ({
      path: kind === 'hang' ? '/slow' : '/health',
      ...(kind === 'down' ? {} : { tlsVerify: false }),
    }),
    upTarget: at('secure', secure?.port ?? closed),
    downTarget: at('secure', secure?.port ?? closed),
    ...(typeof credentials === 'string' ? { skip: credentials } : {}),
  },
  dns: {
    settingsFor: (kind) => ({
      qname: kind === 'down' ? 'nx.monitor.test' : DNS_NAME,
      answer: '192.0.2.1',
    }),
    upTarget: at('responder', responder.port),
    downTarget: at('responder', responder.port),
    hangTarget: at('black-hole', blackHole.port),
  },
  script: {
    settingsFor: (kind) => ({
      command:
        kind === 'up' ? ['/bin/true'] : kind === 'down' ? ['/bin/false'] : ['sh', '-c', 'sleep 5'],
    }),
    upTarget: at('local', 1),
    downTarget: at('local', 1),
  },
  banner: {
    settingsFor: () => ({ protocol: 'smtp' }),
    upTarget: at('smtp', smtpReady.port),
    downTarget: at('smtp-554', smtpRefusing.port),
    hangTarget: at('silent', silent.port),
  },
  static: {
    settingsFor: (kind) => (kind === 'hang' ? undefined : { state: kind }),
    upTarget: at('static', undefined),
    downTarget: at('static', undefined),
  },
};

test('every registered monitor has contract cases, and every case a monitor', () => {
  assert.deepEqual([...monitors.keys()].sort(), Object.keys(CASES).sort(), 'registry vs cases');
  for (const [type, definition] of monitors) assert.equal(definition.type, type, 'key = type');
});

/** The fixed headings of a monitor page, in order (as the policy pages). */
const HEADINGS = ['Name', 'Description', 'Config', 'Examples', 'Health/TTL effects'];

test('every registered monitor has a page with the fixed headings, listed in the index', () => {
  const docs = new URL('../../docs/monitors/', import.meta.url);
  const index = readFileSync(new URL('README.md', docs), 'utf8');
  for (const type of monitors.keys()) {
    const page = readFileSync(new URL(`${type}.md`, docs), 'utf8');
    const headings = [...page.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      { title: page.split('\n')[0], headings, listed: index.includes(`](${type}.md)`) },
      { title: `# ${type}`, headings: HEADINGS, listed: true },
      `docs/monitors/${type}.md`,
    );
  }
});

test('every documented setting is in the schema, and every setting documented', () => {
  const docs = new URL('../../docs/monitors/', import.meta.url);
  for (const [type, definition] of monitors) {
    const page = readFileSync(new URL(`${type}.md`, docs), 'utf8');
    const config = page.split('## Config')[1]?.split('## Examples')[0] ?? '';
    const documented = [...config.matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1]).sort();
    const keys = Object.keys(
      (definition.config as { properties?: object }).properties ?? {},
    ).sort();
    assert.deepEqual(documented, keys, `docs/monitors/${type}.md Config table`);
  }
});

for (const [type, definition] of monitors) {
  const options = CASES[type];
  if (options) runMonitorContract(definition, options);
}
