import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchedEngine } from './udp-batched.js';
import { chooseUdpEngine, UDP_ENGINES, type UdpEngineSetting } from './udp-engines.js';

const addonRuns = batchedEngine.unavailable() === undefined;

test('every engine is registered once, under the name dns.udpEngine gives it', () => {
  assert.deepEqual(
    UDP_ENGINES.map((e) => e.name),
    ['dgram', 'batched'],
  );
});

test('dns.udpEngine chooses the engine, or says why batched cannot run', () => {
  const rows: {
    setting: UdpEngineSetting;
    workers: number;
    ports: number[];
    want: string | RegExp;
  }[] = [
    { setting: 'dgram', workers: 1, ports: [0], want: 'dgram' },
    { setting: 'dgram', workers: 4, ports: [0], want: 'dgram' },
    { setting: 'auto', workers: 1, ports: [0], want: addonRuns ? 'batched' : 'dgram' },
    { setting: 'auto', workers: 2, ports: [53], want: addonRuns ? 'batched' : 'dgram' },
    // Workers share a port 0 through cluster's dgram handle; the addon cannot.
    { setting: 'auto', workers: 2, ports: [53, 0], want: 'dgram' },
    { setting: 'batched', workers: 1, ports: [0], want: addonRuns ? 'batched' : /cannot run/ },
    {
      setting: 'batched',
      workers: 2,
      ports: [0],
      want: /cannot run: (workers: 2 with a listen port 0|.*not)/,
    },
    { setting: 'batched', workers: 2, ports: [5353], want: addonRuns ? 'batched' : /cannot run/ },
  ];
  for (const { setting, workers, ports, want } of rows) {
    const row = JSON.stringify({ setting, workers, ports });
    if (typeof want === 'string') {
      const choice = chooseUdpEngine(setting, { workers, ports });
      assert.equal(choice.engine.name, want, row);
      assert.match(choice.reason, /./, row);
    } else {
      assert.throws(
        () => chooseUdpEngine(setting, { workers, ports }),
        { code: 'STEERDNS_ERR_UDP_ENGINE', message: want },
        row,
      );
    }
  }
});
