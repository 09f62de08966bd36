import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { Problem } from '../lib/errors.js';
import { parseHostPort } from '../lib/ip.js';
import type { apiSchema } from './schema-api.js';
import type { Where } from './yaml-source.js';

/** The `api:` section as written. */
export type ApiConfig = Static<typeof apiSchema>;

/** Least bytes of an API token's secret (128 bits). */
export const MIN_TOKEN_BYTES = 16;

/**
 * One API token: who it is (the name in logs, `by` of an override) and the SHA-256 of its
 * secret. Only the digest is kept: the compiled configuration travels to worker processes
 * and into logs of a rejected reload, the secret never does.
 */
export interface ApiToken {
  readonly name: string;
  /** SHA-256 of the secret's UTF-8 bytes, hex. */
  readonly digest: string;
}

/** The `api:` section, every default applied and every path absolute. */
export interface CompiledApi {
  readonly listen: { readonly host: string; readonly port: number };
  /** The tokens of `tokenFile`; undefined: none configured (reads on loopback only, no writes). */
  readonly tokens: readonly ApiToken[] | undefined;
  /** HTTPS with these PEM files; undefined: plain HTTP. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /** Where overrides are kept across restarts (a node alone; a cluster keeps them in etcd). */
  readonly stateFile: string;
  /** `GET /metrics` needs a token. */
  readonly metricsAuth: boolean;
}

/** SHA-256 of `secret`, hex: what a token is compared by. */
export const tokenDigest = (secret: string | Buffer): string =>
  createHash('sha256').update(secret).digest('hex');

/** A token name: what logs and overrides show as who. */
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Parses a token file: one token a line, `SECRET` or `NAME SECRET`, blank lines and `#`
 * comments ignored. A secret has at least {@link MIN_TOKEN_BYTES} bytes; a token without a
 * name is named `line-N`. Problems name the file's line.
 */
export function parseTokenFile(
  text: string,
  file: string,
): { tokens: ApiToken[]; problems: Problem[] } {
  const tokens: ApiToken[] = [];
  const problems: Problem[] = [];
  const names = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/#.*$/, '').trim();
    if (content === '') return;
    const words = content.split(/\s+/);
    const reason = tokenLineProblem(words, line, names);
    if (reason !== undefined) {
      problems.push({ file, line, reason });
      return;
    }
    const [name, secret] =
      words.length === 2 ? [words[0]!, words[1]!] : [`line-${line}`, words[0]!];
    names.set(name, line);
    tokens.push({ name, digest: tokenDigest(secret) });
  });
  if (tokens.length === 0 && problems.length === 0)
    problems.push({ file, line: 0, reason: 'no token in the file' });
  return { tokens, problems };
}

/** What is wrong with the words of a token line, if anything. */
function tokenLineProblem(
  words: readonly string[],
  line: number,
  names: ReadonlyMap<string, number>,
): string | undefined {
  if (words.length > 2) return 'expected SECRET or NAME SECRET';
  const [name, secret] = words.length === 2 ? [words[0]!, words[1]!] : [`line-${line}`, words[0]!];
  if (!TOKEN_NAME.test(name))
    return `token name "${name}": 1-64 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit`;
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_TOKEN_BYTES)
    return `the secret of token "${name}" has ${bytes} bytes, at least ${MIN_TOKEN_BYTES} needed; make one with: openssl rand -hex 32`;
  const first = names.get(name);
  if (first !== undefined) return `token name "${name}" again (first at line ${first})`;
  return undefined;
}

/** Reads a file the configuration names; a problem at `path`'s line when it cannot. */
function readNamed(
  file: string,
  at: Where,
  path: readonly string[],
  problems: Problem[],
): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    problems.push({ ...at(path), reason: `${path.join('.')}: cannot read ${file} (${code})` });
    return undefined;
  }
}

function compileTokens(
  tokenFile: string | undefined,
  base: string,
  at: Where,
  problems: Problem[],
): ApiToken[] | undefined {
  if (tokenFile === undefined) return undefined;
  const file = resolve(base, tokenFile);
  const text = readNamed(file, at, ['api', 'tokenFile'], problems);
  if (text === undefined) return [];
  const parsed = parseTokenFile(text, file);
  problems.push(...parsed.problems);
  return parsed.tokens;
}

/** Checks the PEM files of `api.tls` now: a bad file is a configuration error, not a failed bind. */
function compileTls(
  tls: ApiConfig['tls'],
  base: string,
  at: Where,
  problems: Problem[],
): CompiledApi['tls'] {
  if (tls === undefined) return undefined;
  const cert = resolve(base, tls.cert);
  const key = resolve(base, tls.key);
  const certText = readNamed(cert, at, ['api', 'tls', 'cert'], problems);
  const keyText = readNamed(key, at, ['api', 'tls', 'key'], problems);
  const check = (path: string[], text: string | undefined, parse: (t: string) => unknown): void => {
    if (text === undefined) return;
    try {
      parse(text);
    } catch (error) {
      problems.push({
        ...at(path),
        reason: `${path.join('.')}: ${(error as Error).message}`,
      });
    }
  };
  check(['api', 'tls', 'cert'], certText, (t) => new X509Certificate(t));
  check(['api', 'tls', 'key'], keyText, (t) => createPrivateKey(t));
  return { cert, key };
}

/** `NAME.overrides.json` beside the configuration file `file` (`.yaml`/`.yml` dropped). */
export const defaultStateFile = (file: string): string =>
  join(dirname(file), `${basename(file).replace(/\.ya?ml$/, '')}.overrides.json`);

/** Compiles `api:`; files are relative to the configuration file `file`. */
export function compileApi(
  api: ApiConfig | undefined,
  file: string,
  at: Where,
  problems: Problem[],
): CompiledApi | undefined {
  if (api === undefined) return undefined;
  const base = dirname(file);
  const parsed = parseHostPort(api.listen);
  if (parsed?.port === undefined)
    problems.push({
      ...at(['api', 'listen']),
      reason: `api.listen: expected ADDR:PORT or [IPv6]:PORT, got "${api.listen}"`,
    });
  return {
    listen: { host: parsed?.host ?? '127.0.0.1', port: parsed?.port ?? 0 },
    tokens: compileTokens(api.tokenFile, base, at, problems),
    tls: compileTls(api.tls, base, at, problems),
    stateFile:
      api.stateFile === undefined ? defaultStateFile(resolve(file)) : resolve(base, api.stateFile),
    metricsAuth: api.metricsAuth ?? false,
  };
}
