import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { canCreateNamespaces } from '../helpers/netns.js';
import { createLbLab, type LbLab } from '../helpers/lb-lab.js';
import { commandExists } from '../helpers/lb-tools.js';

/**
 * `steerdns lb` (issue 11, seed 004) in the namespaces of lb-lab.ts: two balancers (keepalived
 * VRRP v3 at 0.1 s, conntrackd FTFW, the nftables data plane) in front of three HTTP servers
 * that hold the cluster address on lo and reply to the router directly.
 */

const skip = !canCreateNamespaces()
  ? 'needs root and ip netns'
  : !['keepalived', 'conntrackd', 'conntrack', 'nft'].every(commandExists)
    ? 'needs keepalived, conntrackd, conntrack and nft (scripts/ensure-test-tools.sh)'
    : false;

const answers = (reply: Record<string, unknown>): string[] => reply['servers'] as string[];
const served = (list: readonly string[]): number =>
  list.filter((s) => !s.startsWith('error')).length;
const counts = (reply: Record<string, unknown>): Record<string, number> =>
  reply['counts'] as Record<string, number>;

/** Removes the lab after the test; on a failure first prints the balancers' last log lines. */
async function inLab(
  t: { after: (fn: () => Promise<void>) => void },
  body: (lab: LbLab) => Promise<void>,
): Promise<void> {
  const lab = await createLbLab();
  t.after(() => lab.remove());
  try {
    await body(lab);
  } catch (error) {
    for (const b of Object.values(lab.balancers)) {
      const lines = b
        .logs()
        .slice(-40)
        .map((e) => JSON.stringify(e));
      process.stderr.write(`${b.name}:\n${lines.join('\n')}\n`);
    }
    throw error;
  }
}

test(
  'kill -9 of the active balancer: the standby holds the address within 1 s, >= 90 of 100 flows go on; graceful stop: takeover within 200 ms, none lost',
  { skip, timeout: 180_000 },
  (t) =>
    inLab(t, async (lab) => {
      await lab.startBalancer('b1');
      await lab.waitHolders(['b1'], 10_000);
      const b2 = await lab.startBalancer('b2');
      await b2.waitForLog((e) => e['msg'] === 'role initial -> standby', 10_000, 'standby');

      const opened = answers(await lab.client.send({ op: 'open', n: 100 }));
      assert.equal(
        served(opened),
        100,
        `every flow answers before the failover: ${opened.join(' ')}`,
      );
      // conntrackd has sent every flow (with its mark) to the standby.
      await waitFor(async () => (await flowsOn(lab, 'b2')) >= 100, 10_000, 'the 100 flows on b2');

      const watch = await lab.watchFloating('b2');
      const killedAt = Date.now();
      await lab.killBalancer('b1');
      const tookMs = await lab.waitHeldBy('b2', 5000);
      // The kernel's time of the address change, not the polling's (which a loaded machine slows).
      const sinceKill = (await watch.added(5000)) - killedAt;
      watch.stop();
      t.diagnostic(
        `kill -9: b2 held the floating address ${Math.round(sinceKill)} ms after the kill`,
      );
      assert.ok(
        sinceKill <= 1000,
        `b2 took ${Math.round(sinceKill)} ms (poll ${Math.round(tookMs)} ms)`,
      );
      assert.equal(
        await lab.routerNeighbour(),
        'b2',
        "the router's ARP entry follows b2's gratuitous ARP",
      );

      const after = answers(await lab.client.send({ op: 'ask' }));
      t.diagnostic(`kill -9: ${served(after)} of 100 flows answered after the failover`);
      assert.ok(
        served(after) >= 90,
        `only ${served(after)} of 100 flows survived: ${after.join(' ')}`,
      );
      for (let i = 0; i < 100; i++) {
        if (!after[i]!.startsWith('error'))
          assert.equal(after[i], opened[i], 'a flow stays on its server');
      }
      const fresh = counts(await lab.client.send({ op: 'new', n: 60, parallel: 6 }));
      assert.deepEqual(
        Object.keys(fresh).sort(),
        ['s1', 's2', 's3'],
        `new connections: ${JSON.stringify(fresh)}`,
      );

      // b1 comes back, takes its flows from b2 (resync) and the address (higher priority).
      await lab.client.send({ op: 'close' });
      const b1 = await lab.startBalancer('b1');
      await b1.waitForLog((e) => e['msg'] === 'role standby -> active', 15_000, 'b1 active again');
      await lab.waitHolders(['b1'], 5000);
      const second = answers(await lab.client.send({ op: 'open', n: 100 }));
      assert.equal(served(second), 100);
      await waitFor(async () => (await flowsOn(lab, 'b2')) >= 100, 10_000, 'the new flows on b2');

      const handover = await lab.watchFloating('b2');
      const stoppedAt = Date.now();
      const stopping = lab.stopBalancer('b1');
      await lab.waitHolders(['b2'], 5000);
      const takeoverMs = (await handover.added(5000)) - stoppedAt;
      handover.stop();
      t.diagnostic(
        `graceful stop: b2 added the floating address ${Math.round(takeoverMs)} ms after SIGTERM`,
      );
      assert.ok(takeoverMs <= 200, `graceful takeover took ${Math.round(takeoverMs)} ms`);
      await stopping;
      const kept = answers(await lab.client.send({ op: 'ask' }));
      assert.equal(served(kept), 100, `a graceful stop loses no flow: ${kept.join(' ')}`);
      assert.deepEqual(kept, second);
    }),
);

test(
  'state scripts run in order: initial -> standby -> active -> standby -> inop',
  { skip, timeout: 120_000 },
  (t) =>
    inLab(t, async (lab) => {
      await lab.startBalancer('b1');
      await lab.waitHolders(['b1'], 10_000);
      const b2 = await lab.startBalancer('b2');
      await b2.waitForLog((e) => e['msg'] === 'role initial -> standby', 10_000, 'standby');
      await lab.killBalancer('b1');
      await b2.waitForLog((e) => e['msg'] === 'role standby -> active', 5000, 'b2 active');
      await lab.startBalancer('b1');
      await b2.waitForLog((e) => e['msg'] === 'role active -> standby', 15_000, 'b2 standby again');
      await lab.stopBalancer('b2');
      const trace = (await lab.trace()).filter((line) => line.startsWith('b2 '));
      assert.deepEqual(trace, [
        'b2 initial initial',
        'b2 initial standby',
        'b2 standby active',
        'b2 active standby',
        'b2 standby inop',
      ]);
    }),
);

/** Established flows to the cluster address in a balancer's conntrack table. */
async function flowsOn(lab: LbLab, name: 'b1' | 'b2'): Promise<number> {
  const out = await lab
    .host(name)
    .run(['conntrack', '-L', '-p', 'tcp', '--orig-dst', '203.0.113.10'])
    .catch(() => '');
  return out.split('\n').filter((l) => l.includes(' ESTABLISHED ') && !l.includes('mark=0 '))
    .length;
}

async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test(
  "the node's own reachability check down: it goes inop (keepalived FAULT) and the peer takes over",
  { skip, timeout: 120_000 },
  (t) =>
    inLab(t, async (lab) => {
      // b1's "gateway" is s3's HTTP port: killing s3 cuts b1's reachability.
      const b1 = await lab.startBalancer('b1', { ownCheck: '192.0.2.23:80' });
      await lab.waitHolders(['b1'], 10_000);
      const b2 = await lab.startBalancer('b2');
      await b2.waitForLog((e) => e['msg'] === 'role initial -> standby', 10_000, 'standby');
      const killedAt = Date.now();
      lab.killServer('s3');
      await b1.waitForLog((e) => e['msg'] === 'role active -> inop', 10_000, 'b1 inop');
      await lab.waitHolders(['b2'], 5000);
      // b2's own check of s3 may fail later than b1's reachability check: new connections
      // go out once b2 has taken s3 out of its map (else a few reach the dead s3: refused).
      await b2.waitForLog(
        (e) =>
          e['msg'] === 'shares pushed' &&
          (e['time'] as number) >= killedAt &&
          (e['slots'] as Record<string, number>)['s3'] === undefined,
        10_000,
        's3 out of b2 map',
      );
      const fresh = (await lab.client.send({ op: 'new', n: 20, parallel: 4 }))['counts'] as Record<
        string,
        number
      >;
      // s3 is down for b2 as well (its own server check): the others take the connections.
      assert.deepEqual(Object.keys(fresh).sort(), ['s1', 's2'], JSON.stringify(fresh));
      const trace = (await lab.trace()).filter((l) => l.startsWith('b1 '));
      assert.deepEqual(trace.slice(-1), ['b1 active inop']);
      const status = JSON.parse(await readFile(join(lab.dir, 'b1', 'status.json'), 'utf8')) as {
        role: string;
        faults: string[];
      };
      assert.equal(status.role, 'inop');
      assert.deepEqual(status.faults, ['own checks down: gateway']);
    }),
);

test(
  'a failing state script makes the node inop (keepalived FAULT) and the peer takes over',
  { skip, timeout: 120_000 },
  (t) =>
    inLab(t, async (lab) => {
      const b2 = await lab.startBalancer('b2');
      await lab.waitHolders(['b2'], 10_000);
      // b1 has the higher priority: it takes over, its active script fails, it goes inop.
      const before = b2.lineCount();
      const b1 = await lab.startBalancer('b1', { failActive: true });
      await b1.waitForLog((e) => e['msg'] === 'hook failed', 10_000, 'the active script failing');
      await b1.waitForLog((e) => e['msg'] === 'role active -> inop', 10_000, 'b1 inop');
      await lab.waitHolders(['b2'], 5000);
      await b2.waitForLog(
        (e) => e['msg'] === 'role standby -> active',
        10_000,
        'b2 active again',
        before,
      );
      const trace = (await lab.trace()).filter((l) => l.startsWith('b1 '));
      assert.deepEqual(trace.slice(0, 4), [
        'b1 initial initial',
        'b1 initial standby',
        'b1 standby active',
        'b1 active inop',
      ]);
    }),
);
