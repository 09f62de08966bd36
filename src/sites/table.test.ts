import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constrained, orderFrom } from './measure.js';
import type { NameReport, SiteReport } from './report.js';
import { handoffTable, type PeerRow } from './table.js';
import { triggered } from './exchange.js';

/** Seed 003 Table I, matrix[tester][tested] in ms (SYSTEMS.md). */
const SEED_003: Record<string, Record<string, number>> = {
  A: { B: 2925, C: 1364, D: 197, E: 3702, F: 1759 },
  B: { A: 3155, C: 207, D: 2490, E: 1106, F: 1409 },
  C: { A: 1073, B: 1314, D: 1997, E: 1743, F: 683 },
  D: { A: 3439, B: 378, C: 3869, E: 2344, F: 2235 },
  E: { A: 113, B: 813, C: 995, D: 1190, F: 419 },
  F: { A: 641, B: 1827, C: 3883, D: 339, E: 468 },
};
const NAME = 'www.example.org.';
const WEIGHTS = [4, 2, 1, 0];

/** What `tester` measured, with the sites in `down` answering none of its checks. */
function measured(tester: string, down: ReadonlySet<string>): NameReport {
  const vips = Object.keys(SEED_003).map((site) => ({
    site,
    address: `192.0.2.${site.charCodeAt(0) - 64}`,
    up: !down.has(site),
    averageMs: site === tester ? 1 : SEED_003[tester]![site]!,
  }));
  return {
    name: NAME,
    order: orderFrom(tester, vips),
    measured: vips,
    capacity: [{ address: 'x', up: !down.has(tester), available: null }],
  };
}

function report(sender: string, name: NameReport): SiteReport {
  return {
    sender,
    epoch: '0123456789abcdef',
    sequence: 1,
    timestamp: 0,
    kind: 'update',
    intervalMs: 60_000,
    names: [name],
    memory: { freeBytes: 0, totalBytes: 0 },
  };
}

function tableAt(local: string, down: ReadonlySet<string>) {
  const peers = new Map<string, PeerRow>();
  for (const site of Object.keys(SEED_003))
    if (site !== local && !down.has(site))
      peers.set(site, {
        report: report(site, measured(site, down)),
        receivedAt: 0,
        expiresAt: 1000,
      });
  return handoffTable(local, measured(local, down), peers, WEIGHTS, 10);
}

test('every site computes seed 003 Table III from its own row and its peers', () => {
  for (const local of Object.keys(SEED_003)) {
    const table = tableAt(local, new Set());
    assert.deepEqual(
      Object.fromEntries(table.totals),
      { A: 7, B: 6, C: 6, D: 8, E: 5, F: 10 },
      `site ${local}`,
    );
  }
});

test('with site D down every other site drops it (and its row): A 8, B 4, C 8, E 6, F 9', () => {
  for (const local of ['A', 'B', 'C', 'E', 'F']) {
    const table = tableAt(local, new Set(['D']));
    assert.deepEqual(
      Object.fromEntries(table.totals),
      { A: 8, B: 4, C: 8, D: 0, E: 6, F: 9 },
      `site ${local}`,
    );
  }
});

test('a stale peer row stops counting; the orders say whose rows counted', () => {
  const peers = new Map<string, PeerRow>([
    ['B', { report: report('B', measured('B', new Set())), receivedAt: 0, expiresAt: 5 }],
  ]);
  const fresh = handoffTable('A', measured('A', new Set()), peers, WEIGHTS, 4);
  const stale = handoffTable('A', measured('A', new Set()), peers, WEIGHTS, 5);
  assert.deepEqual(
    fresh.orders.map(([tester]) => tester),
    ['A', 'B'],
  );
  assert.deepEqual(
    stale.orders.map(([tester]) => tester),
    ['A'],
  );
});

test('triggers: a peer lost, a local constraint, and their recovery', () => {
  const all = [measured('A', new Set())];
  assert.equal(triggered(all, all), undefined);
  assert.equal(triggered(all, [measured('A', new Set(['C']))]), 'peer-unreachable');
  assert.equal(triggered([measured('A', new Set(['C']))], all), 'recovered');
  const full: NameReport = { ...all[0]!, capacity: [{ address: 'x', up: true, available: 0 }] };
  assert.ok(constrained(full));
  assert.equal(triggered(all, [full]), 'local-constraint');
  assert.equal(triggered([full], all), 'recovered');
});

test('three or fewer sites: totals by the connections each can still take, if all report', () => {
  const three = (site: string, available: number | null, up = true): NameReport => ({
    name: NAME,
    order: ['A', 'B', 'C'].filter((s) => s !== site),
    measured: ['A', 'B', 'C'].map((s) => ({ site: s, address: s, up: true, averageMs: 10 })),
    capacity: [{ address: site, up, available }],
  });
  const rows = (reports: Record<string, NameReport>) =>
    new Map(
      Object.entries(reports).map(([site, r]): [string, PeerRow] => [
        site,
        { report: report(site, r), receivedAt: 0, expiresAt: 1000 },
      ]),
    );
  const byCapacity = handoffTable(
    'A',
    three('A', 900),
    rows({ B: three('B', 400), C: three('C', 100) }),
    WEIGHTS,
    10,
    true,
  );
  assert.deepEqual(Object.fromEntries(byCapacity.totals), { A: 900, B: 400, C: 100 });
  const downVip = handoffTable(
    'A',
    three('A', 900),
    rows({ B: three('B', 400, false), C: three('C', 100) }),
    WEIGHTS,
    10,
    true,
  );
  assert.equal(Object.fromEntries(downVip.totals)['B'], 0, 'a down VIP takes nothing');
  const oneUnknown = handoffTable(
    'A',
    three('A', 900),
    rows({ B: three('B', null), C: three('C', 100) }),
    WEIGHTS,
    10,
    true,
  );
  assert.deepEqual(
    Object.fromEntries(oneUnknown.totals),
    { A: 8, B: 6, C: 4 },
    'a site without a limit: the ranks (orders B C, A C, A B)',
  );
  const off = handoffTable(
    'A',
    three('A', 900),
    rows({ B: three('B', 400), C: three('C', 100) }),
    WEIGHTS,
    10,
  );
  assert.deepEqual(Object.fromEntries(off.totals), { A: 8, B: 6, C: 4 }, 'off: the ranks');
  assert.notEqual(tableAt('A', new Set()).totals.length, 3, 'six sites: never by capacity');
});
