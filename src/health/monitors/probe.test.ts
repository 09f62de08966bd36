import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Target } from '../monitor.js';
import { endpoint, errorReason, probeResult, runProbe } from './probe.js';

const coded = (code: unknown): Error => Object.assign(new Error('x'), { code });

test('errorReason maps error codes to short, stable reasons', () => {
  const cases: { row: string; error: unknown; want: string }[] = [
    { row: 'refused', error: coded('ECONNREFUSED'), want: 'refused' },
    { row: 'timed out', error: coded('ETIMEDOUT'), want: 'timeout' },
    { row: 'host unreachable', error: coded('EHOSTUNREACH'), want: 'unreachable' },
    { row: 'network unreachable', error: coded('ENETUNREACH'), want: 'unreachable' },
    { row: 'other code lower-cased', error: coded('ECONNRESET'), want: 'econnreset' },
    {
      row: 'node code lower-cased',
      error: coded('ERR_SOCKET_BAD_PORT'),
      want: 'err_socket_bad_port',
    },
    { row: 'no code', error: new Error('boom'), want: 'error' },
    { row: 'empty code', error: coded(''), want: 'error' },
    { row: 'numeric code', error: coded(42), want: 'error' },
    { row: 'not an error', error: 'ECONNREFUSED', want: 'error' },
    { row: 'null', error: null, want: 'error' },
  ];
  for (const { row, error, want } of cases) assert.equal(errorReason(error), want, row);
});

test('endpoint: settings port, else target port, else fallback; bad targets have a reason', () => {
  const t = (address: string, port?: number): Target => ({ id: 't', address, port });
  const cases: {
    row: string;
    target: Target;
    port?: number;
    fallback?: number;
    want: ReturnType<typeof endpoint>;
  }[] = [
    {
      row: 'settings win',
      target: t('127.0.0.1', 81),
      port: 82,
      fallback: 80,
      want: { address: '127.0.0.1', port: 82 },
    },
    {
      row: 'target next',
      target: t('127.0.0.1', 81),
      fallback: 80,
      want: { address: '127.0.0.1', port: 81 },
    },
    { row: 'fallback last', target: t('::1'), fallback: 80, want: { address: '::1', port: 80 } },
    { row: 'no port at all', target: t('127.0.0.1'), want: 'no port' },
    { row: 'a name is not an address', target: t('localhost', 80), want: 'bad address' },
    { row: 'empty address', target: t('', 80), want: 'bad address' },
    { row: 'port 0', target: t('127.0.0.1', 0), want: 'bad port' },
    { row: 'port 65536', target: t('127.0.0.1', 65536), want: 'bad port' },
    { row: 'fractional port', target: t('127.0.0.1', 1.5), want: 'bad port' },
  ];
  for (const { row, target, port, fallback, want } of cases)
    assert.deepEqual(endpoint(target, port, fallback), want, row);
});

test('probeResult leaves out an absent reason', () => {
  assert.deepEqual(probeResult(true, 1), { ok: true, latencyMs: 1 });
  assert.deepEqual(probeResult(false, 2, 'x'), { ok: false, latencyMs: 2, reason: 'x' });
  assert.equal(Object.hasOwn(probeResult(true, 1), 'reason'), false, 'no reason key');
});

test('runProbe settles once, releases once, and turns throws and aborts into reasons', async () => {
  const cases: {
    row: string;
    run: (abort: AbortController, released: () => void) => Promise<unknown>;
    want: { ok: boolean; reason?: string };
    releases: number;
  }[] = [
    {
      row: 'finishes later',
      run: (a, released) =>
        runProbe(a.signal, (finish) => {
          setImmediate(() => {
            finish(true);
            finish(false, 'ignored');
          });
          return released;
        }),
      want: { ok: true },
      releases: 1,
    },
    {
      row: 'finishes synchronously',
      run: (a, released) =>
        runProbe(a.signal, (finish) => {
          finish(false, 'no port');
          return released;
        }),
      want: { ok: false, reason: 'no port' },
      releases: 1,
    },
    {
      row: 'aborted while running',
      run: (a, released) => {
        const pending = runProbe(a.signal, () => released);
        a.abort();
        return pending;
      },
      want: { ok: false, reason: 'timeout' },
      releases: 1,
    },
    {
      row: 'already aborted: body never runs',
      run: (a, released) => {
        a.abort();
        return runProbe(a.signal, () => {
          released();
          return released;
        });
      },
      want: { ok: false, reason: 'timeout' },
      releases: 0,
    },
    {
      row: 'body throws',
      run: (a) =>
        runProbe(a.signal, () => {
          throw Object.assign(new Error('bad'), { code: 'ERR_SOCKET_BAD_PORT' });
        }),
      want: { ok: false, reason: 'err_socket_bad_port' },
      releases: 0,
    },
    {
      row: 'release throws: still resolves',
      run: (a) =>
        runProbe(a.signal, (finish) => {
          setImmediate(() => {
            finish(true);
          });
          return () => {
            throw new Error('already closed');
          };
        }),
      want: { ok: true },
      releases: 0,
    },
  ];
  for (const { row, run, want, releases } of cases) {
    let count = 0;
    const result = (await run(new AbortController(), () => {
      count++;
    })) as {
      ok: boolean;
      reason?: string;
      latencyMs: number;
    };
    const { latencyMs, ...rest } = result;
    assert.deepEqual(rest, want, row);
    assert.ok(latencyMs >= 0, `${row}: latency`);
    assert.equal(count, releases, `${row}: releases`);
  }
});
