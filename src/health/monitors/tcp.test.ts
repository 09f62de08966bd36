import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { Target } from '../monitor.js';
import {
  assertNoLeak,
  closedPort,
  createMonitor,
  startTcpListener,
} from '../../../test/contract/monitor.contract.js';
import { tcp } from './tcp.js';

const listener = await startTcpListener();
const closed = await closedPort();
after(() => listener.close());

const at = (port: number | undefined, address = '127.0.0.1'): Target => ({
  id: 't',
  address,
  port,
});

test('tcp: up when the connection opens, else a reason', async () => {
  const cases: { row: string; settings: object; target: Target; want: string | undefined }[] = [
    { row: 'listener, target port', settings: {}, target: at(listener.port), want: undefined },
    {
      row: 'settings port wins',
      settings: { port: listener.port },
      target: at(closed),
      want: undefined,
    },
    { row: 'nothing listening', settings: {}, target: at(closed), want: 'refused' },
    {
      row: 'settings port closed',
      settings: { port: closed },
      target: at(listener.port),
      want: 'refused',
    },
    { row: 'no port anywhere', settings: {}, target: at(undefined), want: 'no port' },
    {
      row: 'a name, not an address',
      settings: {},
      target: at(listener.port, 'localhost'),
      want: 'bad address',
    },
    { row: 'target port 0', settings: {}, target: at(0), want: 'bad port' },
  ];
  for (const { row, settings, target, want } of cases) {
    const result = await createMonitor(tcp, settings).check(target, new AbortController().signal);
    assert.deepEqual(
      { ok: result.ok, reason: result.reason },
      { ok: want === undefined, reason: want },
      row,
    );
  }
});

test('tcp: a connect aborted in flight settles with timeout and closes the socket', async () => {
  const before = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo())
    before.set(kind, (before.get(kind) ?? 0) + 1);
  const abort = new AbortController();
  const pending = createMonitor(tcp, {}).check(at(listener.port), abort.signal);
  abort.abort();
  const result = await pending;
  assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout' });
  await assertNoLeak(before, 'aborted connect');
});

test('tcp settings: port optional, limits enforced, nothing else accepted', () => {
  assert.deepEqual(Value.Default(tcp.config, {}), {});
  const cases: { row: string; settings: object; valid: boolean }[] = [
    { row: 'empty', settings: {}, valid: true },
    { row: 'port', settings: { port: 443 }, valid: true },
    { row: 'port 0', settings: { port: 0 }, valid: false },
    { row: 'port 65536', settings: { port: 65536 }, valid: false },
    { row: 'port as text', settings: { port: '443' }, valid: false },
    { row: 'unknown key', settings: { timeout: 1 }, valid: false },
  ];
  for (const { row, settings, valid } of cases)
    assert.equal(Value.Check(tcp.config, settings), valid, row);
});
