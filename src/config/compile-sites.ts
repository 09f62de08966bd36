import { dirname, resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { readKeyFile } from '../agent/key-file.js';
import type { Problem } from '../lib/errors.js';
import { parseHostPort } from '../lib/ip.js';
import { compileDuration } from './compile-duration.js';
import type { distributedSitesSchema } from './schema-sites.js';
import type { ServiceConfig } from './schema.js';
import type { Where } from './yaml-source.js';

/** The `distributedSites:` section as written. */
export type DistributedSitesConfig = Static<ReturnType<typeof distributedSitesSchema>>;

/** Seed 003's tunables (docs/sites.md). */
export const SITES_DEFAULTS = {
  intervalMs: 60_000,
  minIntervalMs: 60_000,
  maxIntervalMs: 120 * 60_000,
  testMinIntervalMs: 100,
  ttlMs: 60_000,
  maxTtlMs: 255 * 60_000,
  maxSkewMs: 30_000,
  maxPeers: 8,
  weights: [6, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  keyId: '1',
} as const;

interface Address {
  readonly host: string;
  readonly port: number;
}

/** A peer site, compiled. */
export interface CompiledPeerSite {
  readonly name: string;
  readonly address: Address | undefined;
  readonly addressFile: string | undefined;
  /** null: periodic updates off. */
  readonly intervalMs: number | null;
}

/** The `distributedSites:` section (docs/sites.md). Keys are base64: it crosses processes. */
export interface CompiledDistributedSites {
  readonly site: string;
  /** Lower case, trailing dot: service names. */
  readonly names: readonly string[];
  readonly listen: Address;
  readonly keyId: string;
  readonly keys: readonly { readonly id: string; readonly key: string }[];
  readonly maxSkewMs: number;
  /** Answer TTL, seconds. */
  readonly ttl: number;
  readonly httpRedirect: { readonly listen: Address } | undefined;
  readonly useDnsRespond: boolean;
  readonly weights: readonly number[];
  readonly fewSitesByCapacity: boolean;
  readonly maxPeers: number;
  readonly peers: readonly CompiledPeerSite[];
}

interface At {
  readonly where: Where;
  readonly problems: Problem[];
  readonly file: string;
}

const problem = (at: At, path: readonly (string | number)[], reason: string): void => {
  at.problems.push({ ...at.where(path), reason: `${path.join('.')}: ${reason}` });
};

const PATH = 'distributedSites';

function hostPortAt(at: At, text: string, path: readonly (string | number)[]): Address {
  const parsed = parseHostPort(text);
  if (parsed?.port !== undefined) return { host: parsed.host, port: parsed.port };
  problem(at, path, `expected ADDR:PORT, got "${text}"`);
  return { host: '127.0.0.1', port: 0 };
}

function interval(
  at: At,
  value: string | number | undefined,
  fallback: number,
  short: boolean,
  path: readonly (string | number)[],
): number | null {
  if (value === 'off') return null;
  const min = short ? SITES_DEFAULTS.testMinIntervalMs : SITES_DEFAULTS.minIntervalMs;
  const ms = compileDuration(value, fallback, min, at.where, path, at.problems);
  if (ms > SITES_DEFAULTS.maxIntervalMs) problem(at, path, 'at most 120 minutes');
  return ms;
}

function readKey(at: At, file: string, id: string, path: readonly string[]) {
  try {
    return { id, key: readKeyFile(resolve(dirname(at.file), file)).toString('base64') };
  } catch (error) {
    problem(at, path, (error as Error).message);
    return undefined;
  }
}

const serviceName = (text: string): string => `${text.toLowerCase().replace(/\.$/, '')}.`;

/** Every named service exists and has a member of this site (its VIP there). */
function checkNames(at: At, s: DistributedSitesConfig, services: readonly ServiceConfig[]) {
  s.names.forEach((name, i) => {
    const service = services.find((c) => serviceName(c.name) === serviceName(name));
    if (!service) {
      problem(at, [PATH, 'names', i], `no service "${name}"`);
      return;
    }
    const members = (service.pools ?? []).flatMap((p) => p.members);
    if (!members.some((m) => m.site === s.site))
      problem(at, [PATH, 'names', i], `service "${name}" has no member with site: ${s.site}`);
  });
}

function compilePeers(at: At, s: DistributedSitesConfig, fallback: number): CompiledPeerSite[] {
  const short = s.shortIntervalsForTests === true;
  const seen = new Set([s.site]);
  return s.peers.map((p, i) => {
    const path = [PATH, 'peers', i];
    if (seen.has(p.name)) problem(at, [...path, 'name'], `site "${p.name}" is given twice`);
    seen.add(p.name);
    if ((p.address === undefined) === (p.addressFile === undefined))
      problem(at, path, 'give one of address and addressFile');
    return {
      name: p.name,
      address:
        p.address === undefined ? undefined : hostPortAt(at, p.address, [...path, 'address']),
      addressFile:
        p.addressFile === undefined ? undefined : resolve(dirname(at.file), p.addressFile),
      intervalMs: interval(at, p.interval, fallback, short, [...path, 'interval']),
    };
  });
}

/**
 * Compiles `distributedSites:`: keys read now (a missing key file is a problem at its line),
 * the seed's ranges checked (interval 1-120 minutes unless `shortIntervalsForTests`, TTL
 * 0-255 minutes, at most `maxPeers` peers), every name a service with a VIP of this site.
 */
export function compileDistributedSites(
  s: DistributedSitesConfig | undefined,
  file: string,
  services: readonly ServiceConfig[],
  where: Where,
  problems: Problem[],
): CompiledDistributedSites | undefined {
  if (s === undefined) return undefined;
  const at: At = { where, problems, file };
  const keyId = s.keyId ?? SITES_DEFAULTS.keyId;
  const keys = [readKey(at, s.keyFile, keyId, [PATH, 'keyFile'])];
  if (s.previousKeyFile !== undefined)
    keys.push(
      readKey(at, s.previousKeyFile, s.previousKeyId ?? 'previous', [PATH, 'previousKeyFile']),
    );
  const short = s.shortIntervalsForTests === true;
  const fallback = SITES_DEFAULTS.intervalMs;
  const intervalMs = interval(at, s.interval, fallback, short, [PATH, 'interval']) ?? fallback;
  const maxPeers = s.maxPeers ?? SITES_DEFAULTS.maxPeers;
  if (s.peers.length > maxPeers)
    problem(at, [PATH, 'peers'], `${s.peers.length} peers, more than maxPeers (${maxPeers})`);
  const ttlMs = compileDuration(s.ttl, SITES_DEFAULTS.ttlMs, 0, where, [PATH, 'ttl'], problems);
  if (ttlMs > SITES_DEFAULTS.maxTtlMs) problem(at, [PATH, 'ttl'], 'at most 255 minutes');
  checkNames(at, s, services);
  const redirect = s.httpRedirect;
  return {
    site: s.site,
    names: s.names.map(serviceName),
    listen: hostPortAt(at, s.listen ?? '127.0.0.1:0', [PATH, 'listen']),
    keyId,
    keys: keys.filter((k) => k !== undefined),
    maxSkewMs: compileDuration(
      s.maxSkew,
      SITES_DEFAULTS.maxSkewMs,
      0,
      where,
      [PATH, 'maxSkew'],
      problems,
    ),
    ttl: Math.round(ttlMs / 1000),
    httpRedirect:
      redirect && redirect.enabled !== false
        ? { listen: hostPortAt(at, redirect.listen, [PATH, 'httpRedirect', 'listen']) }
        : undefined,
    useDnsRespond: s.useDnsRespond ?? true,
    weights: s.weights ?? SITES_DEFAULTS.weights,
    fewSitesByCapacity: s.fewSitesByCapacity ?? false,
    maxPeers,
    peers: compilePeers(at, s, intervalMs),
  };
}
