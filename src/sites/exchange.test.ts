import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../observability/log.js';
import type { MemberState, StateView } from '../steering/types.js';
import { SiteExchange, type ExchangeSettings } from './exchange.js';
import type { SteeredName } from './measure.js';
import type { SitesLayer } from './state-view.js';

const KEY = Buffer.alloc(32, 3).toString('base64');
const NAME: SteeredName = {
  name: 'www.example.org.',
  vips: ['A', 'B', 'C'].map((site, i) => ({
    key: `www.example.org. sites/${site}`,
    site,
    address: `192.0.2.${i + 1}`,
    port: undefined,
    capacity: undefined,
  })),
};

/** A state view where every VIP is up at `ms` (or its site's time) unless listed down. */
function stateOf(
  down: ReadonlySet<string>,
  ms = 10,
  times: Record<string, number> = {},
): StateView {
  return {
    member(key): MemberState {
      const site = key.slice(-1);
      return {
        up: !down.has(site),
        load: undefined,
        connections: undefined,
        admin: undefined,
        ttlHint: undefined,
        responseMs: times[site] ?? ms,
      };
    },
  };
}

function settings(site: string, peer: string, dir: string, intervalMs: number): ExchangeSettings {
  return {
    site,
    listen: { host: '127.0.0.1', port: 0 },
    keyId: '1',
    keys: [{ id: '1', key: KEY }],
    maxSkewMs: 30_000,
    weights: [4, 2, 1, 0],
    fewSitesByCapacity: false,
    ttl: 60,
    useDnsRespond: true,
    peers: [{ name: peer, address: undefined, addressFile: join(dir, `${peer}.addr`), intervalMs }],
  };
}

/** Two sites on loopback; each learns the other's port from the file written after it binds. */
async function pair(intervalMs: number) {
  const dir = await mkdtemp(join(tmpdir(), 'steerdns-sites-'));
  const log = createLogger('silent');
  const layers: { A: SitesLayer[]; B: SitesLayer[] } = { A: [], B: [] };
  const a = new SiteExchange(settings('A', 'B', dir, intervalMs), log, (l) => {
    layers.A.push(l);
  });
  const b = new SiteExchange(settings('B', 'A', dir, intervalMs), log, (l) => {
    layers.B.push(l);
  });
  await a.start([NAME], stateOf(new Set()));
  await writeFile(join(dir, 'A.addr'), a.address()!);
  await b.start([NAME], stateOf(new Set()));
  await writeFile(join(dir, 'B.addr'), b.address()!);
  const close = async (): Promise<void> => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { a, b, layers, close };
}

/** Resolves once `condition` holds; rejects after `ms`, saying what it waited for. */
async function until(what: string, condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const accepted = (site: SiteExchange): number => site.stats().accepted;

test('periodic updates go at the interval, and both sites compute the same table', async (t) => {
  const { a, b, layers, close } = await pair(200);
  t.after(close);
  await until('five updates at B', () => accepted(b) >= 5);
  await until('A hears B', () => accepted(a) >= 1);
  const last = (site: 'A' | 'B') => layers[site].at(-1)?.tables[0]?.totals;
  await until('equal tables', () => JSON.stringify(last('A')) === JSON.stringify(last('B')));
  // Each ranks the other and C (a site of the name that is no peer here): 4 and 2.
  assert.deepEqual(last('A'), [
    ['A', 4],
    ['B', 4],
    ['C', 4],
  ]);
});

test('a peer lost sends an event at once, long before the next interval', async (t) => {
  const { a, b, close } = await pair(60_000);
  t.after(close);
  await until('both rows', () => accepted(a) >= 1 && accepted(b) >= 1);
  const before = accepted(a);
  b.observe([NAME], stateOf(new Set(['A'])));
  await until('the event at A', () => accepted(a) > before, 5000);
  const status = a.status();
  assert.equal(status.peers[0]?.lastKind, 'event');
});

test('a changed order sends an update soon, not at the next interval', async (t) => {
  const { a, b, close } = await pair(60_000);
  t.after(close);
  await until('both rows', () => accepted(a) >= 1 && accepted(b) >= 1);
  const before = accepted(a);
  // B now measures C before A: its order goes from [A, C] to [C, A].
  b.observe([NAME], stateOf(new Set(), 10, { A: 50, C: 5 }));
  await until('the update at A', () => accepted(a) > before, 8000);
  const status = a.status();
  assert.equal(status.peers[0]?.lastKind, 'update');
  assert.deepEqual(status.tables[0]?.orders, [
    ['A', ['B', 'C']],
    ['B', ['C', 'A']],
  ]);
});
