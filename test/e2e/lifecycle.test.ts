/**
 * End to end: worker processes, reload on SIGHUP (good and broken files) and clean stops on
 * SIGTERM and SIGINT, with one and with two workers.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { query, DnsTimeoutError } from '../helpers/dns-client.js';
import type { ExitInfo } from '../helpers/server-process.js';
import {
  pidAlive,
  rdataTexts,
  sleep,
  startDataSet,
  within,
  workersOf,
  type DataSetServer,
} from './fixtures/server.js';
import { EXAMPLE_ORG_ZONE } from './fixtures/zones.js';

/** Log lines (parsed) written after line `from`. */
function entriesSince(server: DataSetServer, from: number): Record<string, unknown>[] {
  return server.process
    .logs()
    .slice(from)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

/** Waits until `count` log entries after line `from` satisfy `predicate`. */
async function waitForEntries(
  server: DataSetServer,
  from: number,
  predicate: (entry: Record<string, unknown>) => boolean,
  count: number,
  what: string,
  timeoutMs = 8000,
): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = entriesSince(server, from).filter(predicate);
    if (found.length >= count) return found;
    if (Date.now() > deadline || !server.process.isAlive()) {
      const tail = server.process.logs().slice(from).join('\n');
      throw new Error(`no ${count} log lines for ${what} within ${timeoutMs} ms:\n${tail}`);
    }
    await sleep(25);
  }
}

/** The PIDs of the worker processes, from their "ready" log lines. */
function workerPids(server: DataSetServer): number[] {
  const pids = server.process
    .entries()
    .filter((e) => e['msg'] === 'ready' && e['worker'] !== undefined)
    .map((e) => Number(e['pid']));
  return [...new Set(pids)];
}

/** The A records of www.example.org (and www.example.net) over both families and transports. */
async function assertAnswers(
  server: DataSetServer,
  wantOrg: readonly string[],
  wantNet: string,
  where: string,
): Promise<void> {
  for (const address of [server.v4, server.v6]) {
    for (const transport of ['udp', 'tcp'] as const) {
      for (let i = 0; i < 3; i++) {
        const label = `${where}: ${address.host} ${transport} #${i}`;
        const org = await query(address, { name: 'www.example.org', type: 'A' }, { transport });
        assert.deepEqual(rdataTexts(org.answers).sort(), [...wantOrg], label);
        const net = await query(address, { name: 'www.example.net', type: 'A' }, { transport });
        assert.deepEqual(rdataTexts(net.answers), [wantNet], `${label} (example.net)`);
      }
    }
  }
}

/** example.org with the two www addresses replaced and the serial bumped. */
function zoneWith(a: string, b: string, serial: number): string {
  return EXAMPLE_ORG_ZONE.replace('300 IN A 192.0.2.1', `300 IN A ${a}`)
    .replace('IN 300 A 192.0.2.2', `IN 300 A ${b}`)
    .replace('2026112301', String(serial));
}

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `"${needle}" not found`);
  return index + 1;
}

/** Stops the server with `signal` and checks that it and every worker are gone. */
async function assertCleanStop(server: DataSetServer, signal: NodeJS.Signals): Promise<void> {
  const workers = workerPids(server);
  server.process.signal(signal);
  const timedOut: ExitInfo = { code: null, signal: null };
  const info = await within(server.process.exited, 8000, timedOut);
  assert.deepEqual(info, { code: 0, signal: null }, `${signal}: exit`);
  for (let i = 0; i < 40 && workers.some(pidAlive); i++) await sleep(50);
  assert.deepEqual(workers.filter(pidAlive), [], `${signal}: workers still running`);
  await assert.rejects(
    query(server.v4, { name: 'www.example.org', type: 'A' }, { timeoutMs: 300 }),
    DnsTimeoutError,
    `${signal}: something still answers on the port`,
  );
}

/** Reload steps: each writes files, sends SIGHUP, and checks the log and the answers. */
function reloadTests(workers: number, extraArgs: string[], stopSignal: NodeJS.Signals): void {
  let server: DataSetServer;
  let yaml: string;
  let zonePath: string;
  let yamlPath: string;

  before(async () => {
    server = await startDataSet({ workers: 1 }, extraArgs);
    zonePath = join(server.dir, 'zones/example.org.zone');
    yamlPath = server.config;
    yaml = await readFile(yamlPath, 'utf8');
    if (workers > 1) {
      await server.process.waitForLog((e) => e?.['msg'] === 'all workers ready', 10_000);
    }
  });
  after(async () => {
    await server.stop();
  });

  test(`${workers} worker process(es) besides the primary`, () => {
    const pids = workerPids(server);
    if (workers === 1) {
      assert.deepEqual(pids, [], 'no workers with --workers 1');
    } else {
      assert.equal(pids.length, workers, `worker PIDs ${pids.join(', ')}`);
      assert.ok(!pids.includes(server.process.pid), 'workers are not the primary');
      assert.ok(pids.every(pidAlive), 'workers running');
      assert.deepEqual(
        workersOf(server.process.pid).sort(),
        pids.sort(),
        'children of the primary',
      );
    }
  });

  test('serves UDP and TCP on both families', async () => {
    await assertAnswers(server, ['192.0.2.1', '192.0.2.2'], '192.0.2.2', 'initial');
  });

  const badZone = zoneWith('192.0.2.21', '192.0.2.22', 3).replace(
    'mail    IN A     192.0.2.25',
    'mail    IN A     192.0.2.256',
  );
  const steps = [
    {
      name: 'a changed zone file is answered after SIGHUP',
      zone: zoneWith('192.0.2.21', '192.0.2.22', 2),
      yaml: (y: string) => y,
      accepted: true,
      want: ['192.0.2.21', '192.0.2.22'],
      wantNet: '192.0.2.2',
    },
    {
      name: 'a broken zone file is rejected with file:line and the old data stays',
      zone: badZone,
      yaml: (y: string) => y,
      accepted: false,
      where: new RegExp(`example\\.org\\.zone:${lineOf(badZone, '192.0.2.256')}: \\S`),
      want: ['192.0.2.21', '192.0.2.22'],
      wantNet: '192.0.2.2',
    },
    {
      name: 'a YAML config failing the schema is rejected with file:line',
      zone: zoneWith('192.0.2.31', '192.0.2.32', 4),
      yaml: (y: string) => y.replace('    ttl: 900', '    ttl: soon'),
      accepted: false,
      where: 'ttl: soon',
      want: ['192.0.2.21', '192.0.2.22'],
      wantNet: '192.0.2.2',
    },
    {
      name: 'a YAML config that does not parse is rejected with file:line',
      zone: zoneWith('192.0.2.31', '192.0.2.32', 4),
      yaml: (y: string) => y.replace('log:\n', 'log: [\n'),
      accepted: false,
      where: /steerdns\.yaml:\d+: \S/,
      want: ['192.0.2.21', '192.0.2.22'],
      wantNet: '192.0.2.2',
    },
    {
      name: 'good files again: zone file and inline records both reloaded',
      zone: zoneWith('192.0.2.31', '192.0.2.32', 5),
      yaml: (y: string) => y.replace('www   IN A   192.0.2.2', 'www   IN A   192.0.2.3'),
      accepted: true,
      want: ['192.0.2.31', '192.0.2.32'],
      wantNet: '192.0.2.3',
    },
  ];

  for (const step of steps) {
    test(step.name, async () => {
      const nextYaml = step.yaml(yaml);
      await writeFile(zonePath, step.zone);
      await writeFile(yamlPath, nextYaml);
      const from = server.process.logs().length;
      server.process.signal('SIGHUP');
      if (step.accepted) {
        await waitForEntries(server, from, (e) => e['msg'] === 'reloaded', workers, step.name);
      } else {
        const where =
          typeof step.where === 'string'
            ? new RegExp(`steerdns\\.yaml:${lineOf(nextYaml, step.where)}: \\S`)
            : step.where!;
        const [entry] = await waitForEntries(
          server,
          from,
          (e) => typeof e['msg'] === 'string' && where.test(e['msg']),
          1,
          `${step.name} (${String(where)})`,
        );
        assert.match(String(entry?.['msg']), /still serving/, step.name);
        await sleep(100);
        const reloaded = entriesSince(server, from).filter((e) => e['msg'] === 'reloaded');
        assert.deepEqual(reloaded, [], `${step.name}: reloaded anyway`);
      }
      await assertAnswers(server, step.want, step.wantNet, step.name);
      assert.ok(server.process.isAlive(), `${step.name}: server alive`);
    });
  }

  test(`${stopSignal} stops the primary and every worker with exit code 0`, async () => {
    await assertCleanStop(server, stopSignal);
  });
}

describe('--workers 2 (overriding workers: 1 in the file), reload, SIGTERM', () => {
  reloadTests(2, ['--workers', '2'], 'SIGTERM');
});

describe('--workers 1, reload, SIGINT', () => {
  reloadTests(1, ['--workers', '1'], 'SIGINT');
});

describe('--workers 2, SIGINT', () => {
  let server: DataSetServer;
  before(async () => {
    server = await startDataSet({ workers: 2 });
    await server.process.waitForLog((e) => e?.['msg'] === 'all workers ready', 10_000);
  });
  after(async () => {
    await server.stop();
  });

  test('serves, then SIGINT stops the primary and both workers', async () => {
    assert.equal(workerPids(server).length, 2, 'two workers');
    await assertAnswers(server, ['192.0.2.1', '192.0.2.2'], '192.0.2.2', 'workers 2');
    await assertCleanStop(server, 'SIGINT');
  });
});
