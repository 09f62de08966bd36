import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeConfigStatus, decodeOverride, decodePushedConfig } from './cluster-records.js';

test('decodeOverride: overrides are read, anything else is left out', () => {
  const rows: [string, unknown][] = [
    ['{"admin":"disabled","by":"ops@h","at":1}', { admin: 'disabled', by: 'ops@h' }],
    ['{"health":"down","until":5000}', { health: 'down', until: 5000 }],
    [
      '{"health":"up","admin":"draining","reason":"r"}',
      { health: 'up', admin: 'draining', reason: 'r' },
    ],
    ['{"admin":"off"}', undefined],
    ['{"health":"maybe"}', undefined],
    ['{"reason":"nothing forced"}', undefined],
    ['{"admin":"disabled","until":"soon"}', undefined],
    ['not json', undefined],
    ['null', undefined],
    ['"disabled"', undefined],
  ];
  for (const [value, expected] of rows) assert.deepEqual(decodeOverride(value), expected, value);
});

test('decodePushedConfig and decodeConfigStatus: their own values only', () => {
  assert.deepEqual(
    decodePushedConfig('{"name":"c.yaml","text":"zones: []","pushedAt":3,"by":"u@h"}'),
    {
      name: 'c.yaml',
      text: 'zones: []',
      pushedAt: 3,
      by: 'u@h',
    },
  );
  assert.equal(decodePushedConfig('{"text":"zones: []"}'), undefined);
  assert.equal(decodePushedConfig('{'), undefined);
  const status = {
    node: 'n1',
    version: 7,
    ok: false,
    problems: [{ file: 'c.yaml', line: 3, reason: 'r' }],
    at: 9,
  };
  assert.deepEqual(decodeConfigStatus(JSON.stringify(status)), status);
  assert.equal(decodeConfigStatus('{"node":"n1","version":"7","ok":true}'), undefined);
});
