// Lint rules. The dependency rule between folders (docs/architecture.md) is enforced here
// with no-restricted-imports, one block per folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const folderRule = (folder, forbidden) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/*`, `../${f}/*`, `../../${f}/*`],
          message: `src/${folder} may not import from src/${f} (docs/architecture.md)`,
        })),
      },
    ],
  },
});

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
  folderRule('lib', ['dns', 'zone', 'config', 'answer', 'server', 'cli', 'observability']),
  folderRule('dns', ['zone', 'config', 'answer', 'server', 'cli']),
  folderRule('zone', ['config', 'answer', 'server', 'cli']),
  folderRule('config', ['zone', 'answer', 'server', 'cli']),
  folderRule('answer', ['config', 'server', 'cli']),
  folderRule('geo', [
    'dns',
    'zone',
    'config',
    'answer',
    'steering',
    'health',
    'agent',
    'server',
    'cli',
  ]),
  folderRule('steering', ['dns', 'zone', 'config', 'answer', 'health', 'agent', 'server', 'cli']),
  folderRule('health', ['zone', 'config', 'answer', 'agent', 'server', 'cli']),
  folderRule('agent', ['dns', 'zone', 'answer', 'steering', 'health', 'server', 'cli']),
  folderRule('server', ['cli']),
);
