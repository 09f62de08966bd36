// Writes schema/config.json from the TypeBox schema (test/schema-drift.test.ts checks it).
import { writeFileSync } from 'node:fs';
import { ConfigSchema } from '../src/config/schema.js';

writeFileSync(
  new URL('../schema/config.json', import.meta.url),
  `${JSON.stringify(ConfigSchema, null, 2)}\n`,
);
