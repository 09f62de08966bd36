import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/check-cycles.mjs', import.meta.url));

/** Writes `files` (path -> text) into a fresh src/ tree and runs the checker on it. */
function check(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-cycles-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, 'src', path)), { recursive: true });
      writeFileSync(join(dir, 'src', path), text);
    }
    const run = spawnSync(process.execPath, [script, join(dir, 'src')], {
      cwd: dir,
      encoding: 'utf8',
    });
    return { status: run.status, output: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('check-cycles: fails on file and folder cycles, type-only imports included', () => {
  const cases: { row: string; files: Record<string, string>; want: RegExp | undefined }[] = [
    {
      row: 'layered: no cycle',
      files: {
        'lib/a.ts': 'export const a = 1;\n',
        'dns/b.ts': "import { a } from '../lib/a.js';\nexport const b = a;\n",
        'app.ts': "export { b } from './dns/b.js';\n",
      },
      want: undefined,
    },
    {
      row: 'two files, one edge type-only',
      files: {
        'agent/x.ts': "import type { Y } from './y.js';\nexport interface X { y?: Y }\n",
        'agent/y.ts': "import { type X } from './x.js';\nexport type Y = X;\n",
      },
      want: /files import each other: src\/agent\/x\.ts -> src\/agent\/y\.ts -> src\/agent\/x\.ts/,
    },
    {
      row: 'folders, through different files, multi-line import',
      files: {
        'agent/cli.ts':
          "import {\n  parse,\n} from '../config/load.js';\nexport const c = parse;\n",
        'agent/key.ts': 'export const key = 1;\n',
        'config/load.ts': "import { key } from '../agent/key.js';\nexport const parse = key;\n",
      },
      want: /folders import each other: agent -> config -> agent\n {2}src\/agent\/cli\.ts imports src\/config\/load\.ts/,
    },
    {
      row: 'deeper: ../../ and a re-export',
      files: {
        'health/monitors/m.ts': "export * from '../../steering/s.js';\n",
        'steering/s.ts':
          "export const s = (): Promise<unknown> => import('../health/monitors/m.js');\n",
      },
      want: /folders import each other: health -> steering -> health/,
    },
    {
      row: 'an import in a comment is no edge',
      files: {
        'lib/a.ts': "// import { b } from '../dns/b.js';\nexport const a = 1;\n",
        'dns/b.ts': "import { a } from '../lib/a.js';\nexport const b = a;\n",
      },
      want: undefined,
    },
  ];
  for (const { row, files, want } of cases) {
    const { status, output } = check(files);
    if (want === undefined) {
      assert.equal(status, 0, `${row}: ${output}`);
      assert.match(output, /no import cycles/, row);
    } else {
      assert.equal(status, 1, `${row}: ${output}`);
      assert.match(output, want, row);
    }
  }
});
