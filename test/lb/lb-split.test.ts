import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canCreateNamespaces } from '../helpers/netns.js';
import { createLbLab, type LbLab } from '../helpers/lb-lab.js';
import { commandExists } from '../helpers/lb-tools.js';

/**
 * VRRP alone blocked between the balancers (issue 11): both become active, as keepalived
 * does; once the block is lifted the state scripts and the floating address heal within 1 s.
 */

const skip = !canCreateNamespaces()
  ? 'needs root and ip netns'
  : !['keepalived', 'conntrackd', 'conntrack', 'nft'].every(commandExists)
    ? 'needs keepalived, conntrackd, conntrack and nft (scripts/ensure-test-tools.sh)'
    : false;

const BLOCK = `table ip vrrp_block {
    chain input { type filter hook input priority 0; policy accept; ip protocol vrrp drop; }
    chain output { type filter hook output priority 0; policy accept; ip protocol vrrp drop; }
}`;

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
  'VRRP blocked between the balancers: both active; unblocked: scripts and address heal within 1 s',
  { skip, timeout: 120_000 },
  (t) =>
    inLab(t, async (lab) => {
      await lab.startBalancer('b1');
      await lab.waitHolders(['b1'], 10_000);
      const b2 = await lab.startBalancer('b2');
      await b2.waitForLog((e) => e['msg'] === 'role initial -> standby', 10_000, 'standby');
      const opened = (await lab.client.send({ op: 'open', n: 20 }))['servers'] as string[];

      const blockedFrom = b2.lineCount();
      await lab.host('b2').run(['sh', '-c', `printf '%s\\n' '${BLOCK}' | nft -f -`]);
      await b2.waitForLog(
        (e) => e['msg'] === 'role standby -> active',
        5000,
        'b2 active',
        blockedFrom,
      );
      await lab.waitHolders(['b1', 'b2'], 5000);
      const split = (await lab.client.send({ op: 'ask' }))['servers'] as string[];
      t.diagnostic(
        `split: both hold the address; the router follows ${(await lab.routerNeighbour()) ?? 'nobody'}; ${split.filter((s) => !s.startsWith('error')).length} of 20 flows answer`,
      );

      const healFrom = b2.lineCount();
      const unblockedAt = performance.now();
      await lab.host('b2').run(['nft', 'delete', 'table', 'ip', 'vrrp_block']);
      await b2.waitForLog(
        (e) => e['msg'] === 'hook ran' && e['role'] === 'standby',
        5000,
        'the standby script after the heal',
        healFrom,
      );
      await lab.waitHolders(['b1'], 5000);
      const healMs = performance.now() - unblockedAt;
      t.diagnostic(
        `healed (b2 standby script ran, b1 alone holds the address) ${Math.round(healMs)} ms after the unblock`,
      );
      assert.ok(healMs <= 1000, `healing took ${Math.round(healMs)} ms`);
      const trace = await lab.trace();
      assert.deepEqual(
        trace.filter((l) => l.startsWith('b2 ')),
        ['b2 initial initial', 'b2 initial standby', 'b2 standby active', 'b2 active standby'],
      );
      assert.deepEqual(
        trace.filter((l) => l.startsWith('b1 ')),
        ['b1 initial initial', 'b1 initial standby', 'b1 standby active'],
        'b1 stayed active throughout',
      );
      // The router goes back to b1: keepalived re-announces the address every second while
      // master (garp_master_refresh 1).
      const routerFrom = performance.now();
      const deadline = Date.now() + 3000;
      while ((await lab.routerNeighbour()) !== 'b1' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await lab.routerNeighbour(), 'b1');
      t.diagnostic(
        `the router followed b1 again ${Math.round(performance.now() - unblockedAt)} ms after the unblock`,
      );
      assert.ok(performance.now() - routerFrom <= 2000, 'within the 1 s refresh and some margin');
      const after = (await lab.client.send({ op: 'ask' }))['servers'] as string[];
      t.diagnostic(
        `after the heal ${after.filter((s) => !s.startsWith('error')).length} of 20 flows answer`,
      );
      assert.deepEqual(after, opened, 'the flows go on through b1 after the heal');
    }),
);
