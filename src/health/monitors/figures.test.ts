import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figuresOf } from './http.js';

test('figuresOf reads load and connections from a JSON object, and nothing else', () => {
  const cases: [string, ReturnType<typeof figuresOf>][] = [
    ['{"load":80}', { load: 80 }],
    ['{"load":12.5,"connections":300,"other":"x"}', { load: 12.5, connections: 300 }],
    ['{"connections":0}', { connections: 0 }],
    ['{}', {}],
    ['{"load":101}', undefined],
    ['{"load":"80"}', undefined],
    ['{"connections":1.5}', undefined],
    ['{"connections":-1}', undefined],
    ['[80]', undefined],
    ['null', undefined],
    ['load=80', undefined],
  ];
  for (const [body, want] of cases) assert.deepEqual(figuresOf(Buffer.from(body)), want, body);
});
