import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Linter, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
// A computed specifier: the config is JavaScript, and typed here by what the test uses.
const configPath = join(root, 'eslint.config.js');
const { folderImports, ALLOWED_IMPORTS } = (await import(configPath)) as {
  folderImports: Rule.RuleModule;
  ALLOWED_IMPORTS: Record<string, string[]>;
};

/** The folder-imports messages for `code` as if it were the file `path` of the repository. */
function lint(path: string, code: string): string[] {
  const linter = new Linter({ cwd: root });
  const config: Linter.Config[] = [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { steerdns: { rules: { 'folder-imports': folderImports } } },
      rules: { 'steerdns/folder-imports': 'error' },
    },
  ];
  return linter.verify(code, config, { filename: join(root, path) }).map((m) => m.message);
}

test('folder-imports: an allow-list per folder, relative imports resolved at any depth', () => {
  const cases: { row: string; path: string; code: string; want: RegExp | undefined }[] = [
    { row: 'same folder', path: 'src/agent/a.ts', code: "import './b.js';", want: undefined },
    {
      row: 'allowed folder',
      path: 'src/agent/a.ts',
      code: "import { x } from '../lib/ip.js';",
      want: undefined,
    },
    {
      row: 'forbidden folder',
      path: 'src/agent/a.ts',
      code: "import { x } from '../config/load.js';",
      want: /^src\/agent may not import from src\/config \(it may import: lib\); .*docs\/architecture\.md$/,
    },
    {
      row: 'type-only import',
      path: 'src/health/view.ts',
      code: "import type { X } from '../answer/steer.js';",
      want: /src\/health may not import from src\/answer/,
    },
    {
      row: 'two levels up',
      path: 'src/health/monitors/http.ts',
      code: "import { x } from '../../server/agents.js';",
      want: /src\/health may not import from src\/server/,
    },
    {
      row: 'two levels up, allowed',
      path: 'src/health/monitors/dns.ts',
      code: "import { x } from '../../dns/name.js';",
      want: undefined,
    },
    {
      row: 'one level up from a subfolder stays in the folder',
      path: 'src/health/monitors/dns.ts',
      code: "import { x } from '../monitor.js';",
      want: undefined,
    },
    {
      row: 're-export',
      path: 'src/lib/a.ts',
      code: "export * from '../dns/name.js';",
      want: /src\/lib may not import from src\/dns \(it may import: nothing\)/,
    },
    {
      row: 'dynamic import',
      path: 'src/zone/a.ts',
      code: "export const m = import('../steering/chain.js');",
      want: /src\/zone may not import from src\/steering/,
    },
    {
      row: 'type import expression',
      path: 'src/dns/a.ts',
      code: "export type T = typeof import('../zone/zone.js');",
      want: /src\/dns may not import from src\/zone/,
    },
    {
      row: 'app.ts from a folder',
      path: 'src/server/a.ts',
      code: "import { startApp } from '../app.js';",
      want: /src\/server may not import from src\/app\.ts/,
    },
    {
      row: 'cli from control',
      path: 'src/control/a.ts',
      code: "import { x } from '../cli/args.js';",
      want: /src\/control may not import from src\/cli/,
    },
    {
      row: 'main.ts may import app.ts and cli',
      path: 'src/main.ts',
      code: "import './app.js';\nimport './cli/args.js';",
      want: undefined,
    },
    {
      row: 'app.ts may not import cli',
      path: 'src/app.ts',
      code: "import './cli/args.js';",
      want: /src\/app\.ts may not import from src\/cli/,
    },
    {
      row: 'a new folder needs an entry',
      path: 'src/cache/a.ts',
      code: "import '../lib/ip.js';",
      want: /src\/cache has no entry in ALLOWED_IMPORTS/,
    },
    {
      row: 'packages and node: modules are not folders',
      path: 'src/lib/a.ts',
      code: "import 'node:net';\nimport 'yaml';",
      want: undefined,
    },
    {
      row: 'outside src/',
      path: 'test/x.test.ts',
      code: "import '../src/app.js';",
      want: undefined,
    },
  ];
  for (const { row, path, code, want } of cases) {
    const messages = lint(path, code);
    if (want === undefined) assert.deepEqual(messages, [], row);
    else {
      assert.equal(messages.length, 1, `${row}: ${JSON.stringify(messages)}`);
      assert.match(messages[0]!, want, row);
    }
  }
});

test('folder-imports: every folder of src/ has an allow-list, and the lists are layers (no cycle)', async () => {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(join(root, 'src'), { withFileTypes: true });
  const folders = entries
    .filter((e) => e.isDirectory() || (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')))
    .map((e) => e.name)
    .sort();
  assert.deepEqual(Object.keys(ALLOWED_IMPORTS).sort(), folders);
  for (const [folder, allowed] of Object.entries(ALLOWED_IMPORTS)) {
    assert.ok(!allowed.includes(folder), folder);
    for (const to of allowed) assert.ok(folders.includes(to), `${folder} -> ${to}`);
  }
  // Peel off folders whose allowed folders are all peeled: all of them go when there is no cycle.
  const placed = new Set<string>();
  for (let round = 0; round < folders.length; round++) {
    for (const [folder, allowed] of Object.entries(ALLOWED_IMPORTS)) {
      if (allowed.every((to) => placed.has(to))) placed.add(folder);
    }
  }
  assert.deepEqual([...placed].sort(), folders, 'the allow-lists have a cycle');
});
