import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Problem } from '../lib/errors.js';
import { parseCidr } from '../lib/ip.js';
import type { CompiledConfig } from './compiled.js';
import type { ConfigFile } from './schema.js';
import type { Where } from './yaml-source.js';
import { DEFAULT_RATE_LIMIT_EXEMPT, type CookiesConfig } from './schema-protection.js';

/** The defaults of `dns.rateLimit` (see schema-protection.ts for why these values). */
export const RATE_LIMIT_DEFAULTS = {
  responsesPerSecond: 100,
  windowSeconds: 2,
  slip: 2,
  ipv4Prefix: 24,
  ipv6Prefix: 56,
  exempt: DEFAULT_RATE_LIMIT_EXEMPT,
  tableSize: 65_536,
} as const;

/**
 * The cookie secret of this process when the configuration names none: made once, so
 * that a reload keeps the cookies clients hold; workers receive it with the configuration.
 */
let generatedSecret: string | undefined;
const processSecret = (): string => (generatedSecret ??= randomBytes(16).toString('hex'));

/** Reads a cookie secret file: 32 hex digits (16 bytes), white space around them allowed. */
function readSecret(
  path: string,
  field: 'secretFile' | 'previousSecretFile',
  at: Where,
  problems: Problem[],
): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    problems.push({
      ...at(['dns', 'cookies', field]),
      reason: `dns.cookies.${field}: cannot read ${path}: ${reason}`,
    });
    return '';
  }
  if (/^[0-9a-fA-F]{32}$/.test(text)) return text.toLowerCase();
  problems.push({
    ...at(['dns', 'cookies', field]),
    reason: `dns.cookies.${field}: ${path} must hold 16 bytes as 32 hex digits (openssl rand -hex 16)`,
  });
  return '';
}

function compileCookies(
  cookies: CookiesConfig | undefined,
  file: string,
  at: Where,
  problems: Problem[],
): CompiledConfig['protection']['cookies'] {
  if (cookies?.enabled === false) return undefined;
  const near = (name: string): string => resolve(dirname(file), name);
  return {
    secret:
      cookies?.secretFile === undefined
        ? processSecret()
        : readSecret(near(cookies.secretFile), 'secretFile', at, problems),
    previousSecret:
      cookies?.previousSecretFile === undefined
        ? undefined
        : readSecret(near(cookies.previousSecretFile), 'previousSecretFile', at, problems),
    requireValid: cookies?.requireValid ?? false,
  };
}

/**
 * Compiles `dns.rateLimit` and `dns.cookies` (schema-checked already), collecting problems.
 * The node's own listen addresses are never limited: its self-query (cluster) comes from
 * them, and must not be dropped because clients of the same prefix are.
 */
export function compileProtection(
  dns: ConfigFile['dns'],
  file: string,
  at: Where,
  problems: Problem[],
  ownAddresses: readonly string[] = [],
): CompiledConfig['protection'] {
  const limit = dns?.rateLimit;
  const exempt = limit?.exempt ?? [...RATE_LIMIT_DEFAULTS.exempt];
  exempt.forEach((text, i) => {
    if (!parseCidr(text))
      problems.push({
        ...at(['dns', 'rateLimit', 'exempt', i]),
        reason: `dns.rateLimit.exempt: not an address or CIDR: "${text}"`,
      });
  });
  const D = RATE_LIMIT_DEFAULTS;
  return {
    rateLimit:
      limit?.enabled === false
        ? undefined
        : {
            responsesPerSecond: limit?.responsesPerSecond ?? D.responsesPerSecond,
            windowSeconds: limit?.window ?? D.windowSeconds,
            slip: limit?.slip ?? D.slip,
            ipv4Prefix: limit?.ipv4Prefix ?? D.ipv4Prefix,
            ipv6Prefix: limit?.ipv6Prefix ?? D.ipv6Prefix,
            exempt: [...exempt, ...ownExemptions(ownAddresses)],
            tableSize: limit?.tableSize ?? D.tableSize,
          },
    cookies: compileCookies(dns?.cookies, file, at, problems),
  };
}

/** `ADDR/32` (or `/128`) for every listen address that is not a wildcard. */
function ownExemptions(addresses: readonly string[]): string[] {
  return addresses
    .filter((host) => host !== '0.0.0.0' && host !== '::')
    .map((host) => `${host}/${host.includes(':') ? 128 : 32}`);
}

/** The protections with every default (`serve --zone`). */
export const defaultProtection = (): CompiledConfig['protection'] =>
  compileProtection(undefined, '.', () => ({ file: '', line: 0 }), []);
