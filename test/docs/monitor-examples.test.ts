/**
 * Every example of the monitor pages (docs/monitors/*.md) is accepted by the loader as
 * written: a `health:` section placed on a service, or a whole `services:` section.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, formatProblem } from '../../src/lib/errors.js';

const DOCS = 'docs/monitors';

const ZONE = {
  origin: 'example.org',
  ttl: 3600,
  records: '@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\n',
};

/** The yaml blocks of a page, with the line each starts on. */
function yamlBlocks(file: string): { line: number; text: string }[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: { line: number; text: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    blocks.push({ line: i + 2, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** A whole configuration around an example. */
function configAround(example: Record<string, unknown>): string {
  if ('services' in example) return stringify({ zones: [ZONE], ...example });
  assert.ok('health' in example, 'an example is a health: section or a services: section');
  const service = {
    name: 'www.example.org',
    health: example['health'],
    pools: [{ name: 'main', members: [{ name: 'web1', address: '192.0.2.10' }] }],
  };
  return stringify({ zones: [ZONE], services: [service] });
}

const pages = readdirSync(DOCS).filter((name) => name.endsWith('.md'));

test('monitor docs: every example is accepted by the loader as written', () => {
  let examples = 0;
  for (const page of pages) {
    for (const block of yamlBlocks(join(DOCS, page))) {
      const where = `${DOCS}/${page}:${block.line}`;
      const example = parse(block.text) as Record<string, unknown>;
      try {
        const compiled = parseConfig(configAround(example), where);
        assert.ok(compiled.health.checks.length > 0, `${where}: the example makes a check`);
      } catch (error) {
        if (error instanceof ConfigError)
          assert.fail(`${where}: rejected: ${error.problems.map(formatProblem).join('; ')}`);
        throw error;
      }
      examples++;
    }
  }
  assert.ok(examples >= 15, `examples checked: ${examples}`);
});

test('monitor docs: a misspelled setting in an example would be caught', () => {
  const bad = configAround({ health: { type: 'http', pth: '/health' } });
  assert.throws(() => parseConfig(bad, 'bad.yaml'), ConfigError);
});
