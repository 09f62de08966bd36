import { existsSync, readFileSync } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from './errors.js';
import type { ApiApp } from './context.js';

/** Content types of the files a dashboard is made of. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * The `ui/` folder of the package: found from this module upwards (src/api/ in a checkout,
 * dist/ in the bundle) as the folder beside the package.json named steerdns.
 */
export function uiRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (name === 'steerdns') return join(dir, 'ui');
      } catch {
        // Not a package manifest we can read: look further up.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

const notFound = (path: string): ApiError =>
  new ApiError('STEERDNS_ERR_API_NOT_FOUND', `no file ${path} in the dashboard`);

/**
 * The file of `root` that URL path `rest` (below /ui/) names, or undefined. Every segment
 * is checked (no `..`, no empty or hidden segment, no NUL or backslash), and the real path
 * must still lie inside `root`: a symbolic link cannot lead out of it.
 */
export async function staticFile(root: string, rest: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  const segments = decoded === '' ? ['index.html'] : decoded.split('/');
  if (segments.some((s) => s === '' || s.startsWith('.') || /[\\\0]/.test(s))) return undefined;
  try {
    const realRoot = await realpath(root);
    const file = await realpath(join(realRoot, ...segments));
    if (!file.startsWith(realRoot + sep)) return undefined;
    return (await stat(file)).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Serves the dashboard (the package's `ui/` folder) at /ui/, no token needed. */
export function uiRoutes(app: ApiApp, root: string | undefined = uiRoot()): void {
  app.get('/ui', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/ui/', 301),
  );
  app.get<{ Params: { '*': string } }>(
    '/ui/*',
    { schema: { summary: 'the web dashboard (static files)', tags: ['ui'] } },
    async (request, reply) => {
      const rest = request.params['*'];
      const file = root === undefined ? undefined : await staticFile(root, rest);
      if (file === undefined) throw notFound(rest);
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      reply.header('x-content-type-options', 'nosniff');
      reply.header('cache-control', 'no-cache');
      return reply.type(type).send(await readFile(file));
    },
  );
}
