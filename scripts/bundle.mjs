// Builds the installed command's code: src/main.ts and its dependencies in one ESM file,
// dist/steerdns.mjs. One module instead of several hundred (typebox alone has 266 files)
// saves about 16 MB of resident memory per process and shortens start-up; see
// BENCHMARKS.md. Type checking is `npm run typecheck`'s job; esbuild only strips types.
//   node scripts/bundle.mjs
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await rm(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts'],
  outfile: 'dist/steerdns.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // The CommonJS dependencies (pino, maxmind) call require(); an ES module has none.
  banner: {
    js: "import { createRequire as steerdnsCreateRequire } from 'node:module'; const require = steerdnsCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
