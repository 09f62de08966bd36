// Lint rules. The dependency rule between folders (docs/architecture.md) is enforced here as
// an allow-list: the `folder-imports` rule below.
import { dirname, relative, resolve } from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Everything below the server: the folders the server builds on. */
const BELOW_SERVER = [
  'lib',
  'observability',
  'dns',
  'geo',
  'zone',
  'steering',
  'health',
  'agent',
  'cluster',
  'sites',
  'referral',
];
const BELOW_APP = [
  ...BELOW_SERVER,
  'lb',
  'answer',
  'config',
  'server',
  'control',
  'metrics',
  'api',
];

/**
 * What each folder of src/ may import from, besides itself; everything else of src/
 * (another folder, src/app.ts, src/main.ts) is forbidden. `app.ts` may import every folder but
 * `cli`, and only `main.ts` imports `app.ts` and `cli` (`cli` imports `app.ts` too, for
 * `checkOnce`). Keep in step with the table in docs/architecture.md.
 */
export const ALLOWED_IMPORTS = {
  lib: [],
  observability: ['lib'],
  dns: ['lib'],
  geo: ['lib'],
  zone: ['lib', 'dns'],
  steering: ['lib', 'geo'],
  health: ['lib', 'dns', 'steering'],
  agent: ['lib'],
  cluster: ['lib', 'observability'],
  sites: ['lib', 'observability', 'dns', 'steering', 'health'],
  referral: ['lib', 'observability', 'dns', 'steering', 'health', 'agent'],
  answer: ['lib', 'dns', 'zone', 'steering'],
  lb: ['lib', 'observability', 'cluster', 'health', 'steering'],
  config: ['lib', 'dns', 'steering', 'health', 'agent', 'lb'],
  server: [...BELOW_SERVER, 'answer', 'config'],
  control: [...BELOW_SERVER, 'answer', 'config', 'server'],
  metrics: [...BELOW_SERVER, 'answer', 'config', 'server', 'control'],
  api: [...BELOW_SERVER, 'answer', 'config', 'server', 'control'],
  'app.ts': BELOW_APP,
  cli: [...BELOW_APP, 'app.ts'],
  'main.ts': [...BELOW_APP, 'app.ts', 'cli'],
};

const SRC = resolve(import.meta.dirname, 'src');

/** The folder of src/ a path lies in (`app.ts`, `main.ts` for those two), or undefined. */
function folderOf(path) {
  const inside = relative(SRC, path);
  if (inside === '' || inside.startsWith('..')) return undefined;
  // A file right in src/ is its own folder; an import names it by its .js output.
  return inside.split(/[\\/]/)[0].replace(/\.js$/, '.ts');
}

/**
 * Reports an import from src/ that the importing file's folder may not make: the specifier
 * is resolved against the file, so `../x/y.js` and `../../x/y.js` are told apart.
 */
export const folderImports = {
  meta: {
    type: 'problem',
    docs: { description: 'the dependency rule between the folders of src/' },
    schema: [],
    messages: {
      forbidden:
        'src/{{from}} may not import from src/{{to}} (it may import: {{allowed}}); see the dependency rule in docs/architecture.md',
      unknown:
        'src/{{from}} has no entry in ALLOWED_IMPORTS of eslint.config.js; add it there and to docs/architecture.md',
    },
  },
  create(context) {
    const from = folderOf(context.filename);
    if (from === undefined) return {};
    const allowed = ALLOWED_IMPORTS[from];
    const check = (node, source) => {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = folderOf(resolve(dirname(context.filename), source));
      if (to === undefined || to === from) return;
      if (allowed === undefined) {
        context.report({ node, messageId: 'unknown', data: { from } });
      } else if (!allowed.includes(to)) {
        const list = allowed.length === 0 ? 'nothing' : allowed.join(', ');
        context.report({ node, messageId: 'forbidden', data: { from, to, allowed: list } });
      }
    };
    const fromSource = (node) => {
      if (node.source) check(node.source, node.source.value);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => {
        if (node.source.type === 'Literal') check(node.source, node.source.value);
      },
      // `typeof import('../x.js')` in a type.
      TSImportType: (node) => {
        const literal = node.argument.type === 'TSLiteralType' ? node.argument.literal : undefined;
        if (literal?.type === 'Literal') check(node.argument, literal.value);
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/prefer-for-of': 'off',
      '@typescript-eslint/no-unnecessary-condition': [
        'error',
        { allowConstantLoopConditions: true },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard (ui/): plain ES modules the browser loads as they are.
    files: ['ui/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'AbortController',
          'document',
          'fetch',
          'sessionStorage',
          'setTimeout',
          'clearTimeout',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'only src/main.ts touches process' },
        { object: 'process', property: 'on', message: 'only src/main.ts touches process' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { steerdns: { rules: { 'folder-imports': folderImports } } },
    rules: { 'steerdns/folder-imports': 'error' },
  },
);
