import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigSchema } from '../src/config/schema.js';

test('the published JSON Schema matches the one the loader uses', () => {
  const published: unknown = JSON.parse(
    readFileSync(new URL('../schema/config.json', import.meta.url), 'utf8'),
  );
  assert.deepEqual(
    published,
    JSON.parse(JSON.stringify(ConfigSchema)),
    'run: node --import tsx scripts/write-schema.ts',
  );
});
