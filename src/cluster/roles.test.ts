import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../observability/log.js';
import type { AddressHolder, ServiceAddress } from './address.js';
import { RoleKeeper, roleFor, type RoleInputs } from './roles.js';

const ok: RoleInputs = {
  masterEpoch: undefined,
  followedEpoch: 4,
  sessionOk: true,
  checksOk: true,
  hookFailed: false,
  stopping: false,
};

describe('roleFor', () => {
  it('is active only as the elected master with its checks passing and its session renewed', () => {
    assert.equal(roleFor({ ...ok, masterEpoch: 7 }).role, 'active');
    assert.equal(roleFor(ok).role, 'standby');
    assert.equal(roleFor({ ...ok, checksOk: undefined }).role, 'initial');
    assert.equal(roleFor({ ...ok, followedEpoch: 0 }).role, 'initial');
    assert.equal(roleFor({ ...ok, sessionOk: undefined }).role, 'initial');
    assert.equal(roleFor({ ...ok, masterEpoch: 7, checksOk: false }).role, 'inop');
    assert.equal(roleFor({ ...ok, masterEpoch: 7, sessionOk: false }).role, 'inop');
    assert.equal(roleFor({ ...ok, masterEpoch: 7, hookFailed: true }).role, 'inop');
    assert.equal(roleFor({ ...ok, masterEpoch: 7, stopping: true }).role, 'inop');
  });
});

const addresses: ServiceAddress[] = [
  { address: '192.0.2.53', prefixLength: 24, interface: 'eth0' },
];

/** A holder that records what it was asked, in order, and can be made slow or failing. */
function recordingHolder(log: string[], options: { failAdd?: boolean; addDelayMs?: number } = {}) {
  const holder: AddressHolder = {
    async add() {
      log.push('add');
      if (options.addDelayMs !== undefined)
        await new Promise((resolve) => setTimeout(resolve, options.addDelayMs));
      if (options.failAdd === true) throw new Error('no such device');
    },
    async remove() {
      log.push('remove');
      await Promise.resolve();
    },
  };
  return holder;
}

describe('RoleKeeper', () => {
  let dir: string;
  let trace: string;
  let script: string;
  let failing: string;
  const quiet = createLogger('silent');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'steerdns-roles-'));
    trace = join(dir, 'trace');
    script = join(dir, 'hook.sh');
    failing = join(dir, 'fail.sh');
    await writeFile(
      script,
      `#!/bin/sh\necho "$1>$2 $STEERDNS_ROLE $STEERDNS_OLD_ROLE $STEERDNS_EPOCH $STEERDNS_NODE $STEERDNS_ADDRESSES" >> "${trace}"\n`,
    );
    await writeFile(failing, '#!/bin/sh\necho broken >&2\nexit 3\n');
    await chmod(script, 0o755);
    await chmod(failing, 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const hooks = () => ({ initial: [script], active: [script], standby: [script], inop: [script] });

  it('adds the addresses before the active hook and deletes them before the standby hook', async () => {
    await writeFile(trace, '');
    const calls: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder(calls),
      hooks: hooks(),
      hookTimeoutMs: 5000,
      log: quiet,
      onChange: (role) => calls.push(`role ${role}`),
    });
    await keeper.start();
    await keeper.set('active', 5, 'elected master');
    assert.equal(keeper.holding, true);
    await keeper.set('standby', 5, 'another node is master');
    assert.equal(keeper.holding, false);
    assert.deepEqual(calls, ['remove', 'add', 'role active', 'remove', 'role standby']);
    const lines = (await readFile(trace, 'utf8')).trim().split('\n');
    assert.deepEqual(lines, [
      'initial>initial initial initial 0 n1 192.0.2.53/24',
      'initial>active active initial 5 n1 192.0.2.53/24',
      'active>standby standby active 5 n1 192.0.2.53/24',
    ]);
  });

  it('goes straight to the latest wish when several come during a transition', async () => {
    await writeFile(trace, '');
    const calls: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder(calls, { addDelayMs: 50 }),
      hooks: { active: [script], standby: [script], inop: [script] },
      hookTimeoutMs: 5000,
      log: quiet,
    });
    const first = keeper.set('active', 1, 'elected');
    void keeper.set('standby', 1, 'lost');
    void keeper.set('inop', 1, 'checks');
    await first;
    assert.equal(keeper.role, 'inop');
    const lines = (await readFile(trace, 'utf8')).trim().split('\n');
    assert.deepEqual(lines, [
      'initial>active active initial 1 n1 192.0.2.53/24',
      'active>inop inop active 1 n1 192.0.2.53/24',
    ]);
  });

  it('release deletes the addresses at once, even while the active hook runs', async () => {
    const slow = join(dir, 'slow.sh');
    await writeFile(slow, '#!/bin/sh\nsleep 1\n');
    await chmod(slow, 0o755);
    const calls: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder(calls),
      hooks: { active: [slow] },
      hookTimeoutMs: 5000,
      log: quiet,
    });
    const going = keeper.set('active', 1, 'elected');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await keeper.release('lease at risk');
    assert.ok(performance.now() - started < 500, 'release waited for the hook');
    assert.deepEqual(calls, ['add', 'remove']);
    assert.equal(keeper.holding, false);
    await going;
  });

  it('a failing hook is reported and stops the hooks after it', async () => {
    await writeFile(trace, '');
    const failures: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder([]),
      hooks: { active: [failing, script] },
      hookTimeoutMs: 5000,
      log: quiet,
      onHookFailure: (outcome) => failures.push(`${outcome.failure}: ${outcome.output.trim()}`),
    });
    await keeper.set('active', 2, 'elected');
    assert.deepEqual(failures, ['exit 3: broken']);
    assert.equal(await readFile(trace, 'utf8'), '', 'the hook after the failing one ran');
  });

  it('a hook that runs too long is killed at its timeout', async () => {
    const stuck = join(dir, 'stuck.sh');
    await writeFile(stuck, '#!/bin/sh\nsleep 30\n');
    await chmod(stuck, 0o755);
    const failures: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder([]),
      hooks: { standby: [stuck] },
      hookTimeoutMs: 200,
      log: quiet,
      onHookFailure: (outcome) => failures.push(outcome.failure ?? ''),
    });
    const started = performance.now();
    await keeper.set('standby', 0, 'follower');
    assert.ok(performance.now() - started < 5000);
    assert.deepEqual(failures, ['timeout']);
  });

  it('an address that cannot be added leaves the node inop, holding nothing', async () => {
    const calls: string[] = [];
    const keeper = new RoleKeeper({
      node: 'n1',
      addresses,
      holder: recordingHolder(calls, { failAdd: true }),
      hooks: {},
      hookTimeoutMs: 1000,
      log: quiet,
    });
    await keeper.set('active', 3, 'elected');
    assert.equal(keeper.role, 'inop');
    assert.equal(keeper.holding, false);
    assert.deepEqual(calls, ['add', 'remove']);
  });
});
