import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newerRecord, parseMasterRecord, type MasterRecord } from './master-record.js';

const record = (epoch: number, node = 'n1'): MasterRecord => ({
  node,
  epoch,
  addresses: ['192.0.2.53/24'],
  since: 1_700_000_000_000,
});

test('a master record of an older epoch is dropped and counted; a newer or equal one is kept', () => {
  assert.deepEqual(newerRecord(undefined, record(5)), { record: record(5), stale: false });
  assert.deepEqual(newerRecord(record(5), record(9, 'n2')), {
    record: record(9, 'n2'),
    stale: false,
  });
  assert.deepEqual(newerRecord(record(9, 'n2'), record(5)), {
    record: record(9, 'n2'),
    stale: true,
  });
  assert.deepEqual(newerRecord(record(9), record(9)), { record: record(9), stale: false });
});

test('master records are read from JSON and anything else is refused', () => {
  assert.deepEqual(parseMasterRecord(JSON.stringify(record(3))), record(3));
  for (const text of [
    '',
    'null',
    '{"node":"n1"}',
    '{"node":"n1","epoch":"3","addresses":[],"since":1}',
    '{"node":"n1","epoch":3,"addresses":[1],"since":1}',
  ])
    assert.equal(parseMasterRecord(text), undefined, text);
});
