import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/lib/ip.js';
import { measuredView, type AgentMeasurement } from '../../src/referral/measurements.js';
import { parseMeasureArgs } from '../../src/referral/mservice-cli.js';

const agent = (
  name: string,
  address: string,
  receivedAt: number,
  ms: number,
): AgentMeasurement => ({
  agent: name,
  address,
  intervalMs: 1000,
  receivedAt,
  sites: [
    { address: '192.0.2.1', ok: true, ms, resets: 0, abnormal: 0 },
    { address: '192.0.2.2', ok: false, ms: 1, resets: 1, abnormal: 0 },
  ],
});

test('the nearest agent: the longest common prefix, same family; equal prefixes: the newest', () => {
  const view = measuredView([
    agent('pop1', '198.51.100.10', 1000, 10),
    agent('pop2', '198.51.100.200', 2000, 20),
    agent('pop6', '2001:db8::10', 1000, 60),
  ])!;
  const nearest = (client: string) => view.nearest(parseAddress(client)!, 5000);
  assert.equal(nearest('198.51.100.11')?.agent, 'pop1');
  assert.equal(nearest('198.51.100.201')?.agent, 'pop2');
  // .128 = 1000 0000 shares 25 bits with .200 = 1100 1000, 24 with .10 = 0000 1010.
  assert.equal(nearest('198.51.100.128')?.agent, 'pop2');
  assert.equal(nearest('2001:db8::1')?.agent, 'pop6');
  assert.equal(nearest('203.0.113.1')?.agent, 'pop2', 'no prefix in common: the newest');
  const figures = nearest('198.51.100.11')!;
  assert.equal(figures.ageMs, 4000);
  assert.equal(figures.figure('192.0.2.1'), 10);
  assert.equal(figures.figure('192.0.2.2'), undefined, 'a failed probe is no figure');
  assert.equal(view.named('pop6', parseAddress('198.51.100.1')!, 5000)?.address, '2001:db8::10');
  assert.equal(view.named('pop9', parseAddress('198.51.100.1')!, 5000), undefined);
  assert.equal(measuredView([]), undefined);
  const v4only = measuredView([agent('pop1', '198.51.100.10', 0, 1)])!;
  assert.equal(v4only.nearest(parseAddress('2001:db8::1')!, 0), undefined, 'other family');
});

test('steerdns agent --measure: its command line', () => {
  const key = () => Buffer.alloc(32, 1);
  const parsed = parseMeasureArgs(
    [
      '--measure',
      '--to',
      '127.0.0.1:7355',
      '--key-file',
      'k',
      '--node',
      'pop1',
      '--address',
      '198.51.100.10',
      '--site',
      '192.0.2.1=127.0.0.1:8080',
      '--site',
      '2001:db8::1',
    ],
    key,
  );
  assert.deepEqual(
    { ...parsed, key: undefined },
    {
      name: 'pop1',
      address: '198.51.100.10',
      sites: [
        { address: '192.0.2.1', probe: { host: '127.0.0.1', port: 8080 } },
        { address: '2001:db8::1', probe: { host: '2001:db8::1', port: 80 } },
      ],
      to: [{ host: '127.0.0.1', port: 7355 }],
      key: undefined,
      intervalMs: 300_000,
      timeoutMs: 10_000,
      path: '/',
    },
  );
  const base = ['--to', '127.0.0.1:1', '--key-file', 'k', '--node', 'p', '--address', '192.0.2.9'];
  const bad: [string[], RegExp][] = [
    [[...base], /--site is required/],
    [[...base, '--site', 'nowhere'], /--site expects/],
    [
      [
        '--to',
        '127.0.0.1:1',
        '--key-file',
        'k',
        '--node',
        'P_1',
        '--address',
        '192.0.2.9',
        '--site',
        '192.0.2.1',
      ],
      /--node expects a DNS label/,
    ],
    [
      [...base, '--site', '192.0.2.1', '--interval', '1s', '--timeout', '2s'],
      /--timeout must be shorter/,
    ],
  ];
  for (const [args, want] of bad) assert.throws(() => parseMeasureArgs(args, key), want);
});
