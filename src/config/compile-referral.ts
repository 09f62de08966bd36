import { isIPv4 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { readKeyFile } from '../agent/key-file.js';
import { isMulticastGroup } from '../agent/multicast.js';
import type { Problem } from '../lib/errors.js';
import { canonicalAddress, parseHostPort } from '../lib/ip.js';
import { nameFromText } from '../dns/name.js';
import type {
  CompiledBackbone,
  CompiledBalancer,
  CompiledBalancerProxy,
  CompiledMulticastGroup,
  CompiledOwner,
  CompiledReferral,
  ListenAddress,
} from './compiled.js';
import { compileDuration } from './compile-duration.js';
import type { referralSchema } from './schema-referral.js';
import type { Static } from '@sinclair/typebox';
import type { Where } from './yaml-source.js';

/** The `referral:` section as written. */
export type ReferralConfig = Static<ReturnType<typeof referralSchema>>;

/** Seed 002's tiers and intervals (docs/client-centric.md). */
export const REFERRAL_DEFAULTS = {
  referralTtlMs: 3_600_000,
  directTtlMs: 300_000,
  intervalMs: 60_000,
  maxSkewMs: 30_000,
  nearestMinPrefix: 16,
  missedIntervals: 3,
  proxyTtlMs: 300_000,
  proxyCacheBytes: 64 * 1024 * 1024,
  proxyMaxBodyBytes: 16 * 1024 * 1024,
  proxyTimeoutMs: 10_000,
} as const;

/** What compiling one part needs: where each path was written, and the problems so far. */
interface At {
  readonly where: Where;
  readonly problems: Problem[];
}

const problem = (at: At, path: readonly (string | number)[], reason: string): void => {
  at.problems.push({ ...at.where(path), reason: `${path.join('.')}: ${reason}` });
};

function hostPorts(at: At, texts: readonly string[], path: readonly string[]): ListenAddress[] {
  const out: ListenAddress[] = [];
  texts.forEach((text, i) => {
    const parsed = parseHostPort(text);
    if (parsed?.port === undefined) problem(at, [...path, i], `expected ADDR:PORT, got "${text}"`);
    else out.push({ host: parsed.host, port: parsed.port });
  });
  return out;
}

function address(at: At, text: string, path: readonly (string | number)[]): string {
  const canonical = canonicalAddress(text);
  if (canonical === undefined) problem(at, path, `expected an IP address, got "${text}"`);
  return canonical ?? text;
}

/** A balanced name, lower case; `dot` adds the trailing dot. */
function balancedName(at: At, text: string, path: readonly (string | number)[], dot: boolean) {
  const bare = text.toLowerCase().replace(/\.$/, '');
  try {
    nameFromText(`${bare}.`);
  } catch (error) {
    problem(at, path, (error as Error).message);
  }
  return dot ? `${bare}.` : bare;
}

type MulticastConfig = NonNullable<NonNullable<ReferralConfig['balancer']>['multicast']>;

/** An IPv4 group and interface address (IPv6 groups would need a zone; not taken). */
function multicastGroup(
  at: At,
  m: MulticastConfig,
  path: readonly string[],
): CompiledMulticastGroup | undefined {
  const [group] = hostPorts(at, [m.group], [...path, 'group']);
  if (!group) return undefined;
  if (!isIPv4(group.host) || !isMulticastGroup(group.host))
    problem(
      at,
      [...path, 'group'],
      `expected an IPv4 multicast group (224.0.0.0/4), got "${m.group}"`,
    );
  if (m.interface !== undefined && !isIPv4(m.interface))
    problem(
      at,
      [...path, 'interface'],
      `expected the IPv4 address of an interface, got "${m.interface}"`,
    );
  return { host: group.host, port: group.port, interface: m.interface };
}

function compileBackbone(
  b: NonNullable<ReferralConfig['backbone']>,
  file: string,
  at: At,
): CompiledBackbone {
  const [listen] = hostPorts(at, [b.listen], ['referral', 'backbone', 'listen']);
  return {
    name: b.name ?? 'dnsb',
    listen: listen ?? { host: '127.0.0.1', port: 0 },
    names: b.names.map((n, i) => balancedName(at, n, ['referral', 'backbone', 'names', i], true)),
    referralTtl: Math.round(
      compileDuration(
        b.referralTtl,
        REFERRAL_DEFAULTS.referralTtlMs,
        0,
        at.where,
        ['referral', 'backbone', 'referralTtl'],
        at.problems,
      ) / 1000,
    ),
    unmapped: b.unmapped ?? 'nearest',
    nearestMinPrefix: b.nearestMinPrefix ?? REFERRAL_DEFAULTS.nearestMinPrefix,
    stateFile: b.stateFile === undefined ? undefined : resolve(dirname(file), b.stateFile),
    missedIntervals: b.missedIntervals ?? REFERRAL_DEFAULTS.missedIntervals,
    direct: b.direct ?? false,
    directTtl: Math.round(
      compileDuration(
        b.directTtl,
        REFERRAL_DEFAULTS.directTtlMs,
        0,
        at.where,
        ['referral', 'backbone', 'directTtl'],
        at.problems,
      ) / 1000,
    ),
    multicast: compileBackboneMulticast(b.multicast, at),
  };
}

function compileBackboneMulticast(
  m: NonNullable<ReferralConfig['backbone']>['multicast'],
  at: At,
): CompiledBackbone['multicast'] {
  const group = m && multicastGroup(at, m, ['referral', 'backbone', 'multicast']);
  return group && { group, ttl: m.ttl ?? 1 };
}

function compileBalancer(b: NonNullable<ReferralConfig['balancer']>, at: At): CompiledBalancer {
  const path = ['referral', 'balancer'];
  const [listen] = b.listen === undefined ? [] : hostPorts(at, [b.listen], [...path, 'listen']);
  return {
    label: b.label,
    address: address(at, b.address, [...path, 'address']),
    resolvers: b.resolvers.map((r, i) => address(at, r, [...path, 'resolvers', i])),
    backbones: hostPorts(at, b.backbones, [...path, 'backbones']),
    intervalMs: compileDuration(
      b.interval,
      REFERRAL_DEFAULTS.intervalMs,
      100,
      at.where,
      [...path, 'interval'],
      at.problems,
    ),
    listen,
    multicast: b.multicast && multicastGroup(at, b.multicast, [...path, 'multicast']),
    rank: (b.rank ?? []).map((n, i) => balancedName(at, n, [...path, 'rank', i], false)),
    proxy: b.proxy && compileProxy(b.proxy, b.address, at),
  };
}

type ProxyConfig = NonNullable<NonNullable<ReferralConfig['balancer']>['proxy']>;

function compileProxy(p: ProxyConfig, balancer: string, at: At): CompiledBalancerProxy {
  const path = ['referral', 'balancer', 'proxy'];
  const [listen] = hostPorts(at, [p.listen], [...path, 'listen']);
  const origins: Record<string, ListenAddress> = {};
  for (const [site, target] of Object.entries(p.origins ?? {})) {
    const to = parseHostPort(target);
    if (to?.port === undefined)
      problem(at, [...path, 'origins', site], `expected ADDR:PORT, got "${target}"`);
    else origins[address(at, site, [...path, 'origins', site])] = { host: to.host, port: to.port };
  }
  const duration = (value: string | number | undefined, fallback: number, key: string) =>
    compileDuration(value, fallback, 0, at.where, [...path, key], at.problems);
  return {
    listen: listen ?? { host: '127.0.0.1', port: 0 },
    names: p.names.map((n, i) => balancedName(at, n, [...path, 'names', i], false)),
    answer: address(at, p.answer ?? balancer, [...path, 'answer']),
    ttl: Math.round(duration(p.ttl, REFERRAL_DEFAULTS.proxyTtlMs, 'ttl') / 1000),
    origins,
    cacheBytes: p.cacheSize ?? REFERRAL_DEFAULTS.proxyCacheBytes,
    maxBodyBytes: p.maxBody ?? REFERRAL_DEFAULTS.proxyMaxBodyBytes,
    timeoutMs: duration(p.timeout, REFERRAL_DEFAULTS.proxyTimeoutMs, 'timeout'),
  };
}

function compileOwner(o: NonNullable<ReferralConfig['owner']>, at: At): CompiledOwner {
  const path = ['referral', 'owner'];
  return {
    name: o.name ?? 'dnsa',
    names: o.names.map((n, i) => balancedName(at, n, [...path, 'names', i], false)),
    service: balancedName(at, o.service, [...path, 'service'], true),
    backbones: hostPorts(at, o.backbones, [...path, 'backbones']),
    intervalMs: compileDuration(
      o.interval,
      REFERRAL_DEFAULTS.intervalMs,
      100,
      at.where,
      [...path, 'interval'],
      at.problems,
    ),
  };
}

/**
 * Compiles the `referral:` section: the key is read now (a missing or short key file is a
 * problem at its line), durations and addresses are checked, defaults applied.
 */
export function compileReferral(
  referral: ReferralConfig | undefined,
  file: string,
  where: Where,
  problems: Problem[],
): CompiledReferral | undefined {
  if (referral === undefined) return undefined;
  const at: At = { where, problems };
  let key = '';
  try {
    key = readKeyFile(resolve(dirname(file), referral.keyFile)).toString('base64');
  } catch (error) {
    problem(at, ['referral', 'keyFile'], (error as Error).message);
  }
  if (!referral.backbone && !referral.balancer && !referral.owner && !referral.measurements)
    problem(at, ['referral'], 'give at least one role: backbone, balancer, owner or measurements');
  const [measurements] =
    referral.measurements === undefined
      ? []
      : hostPorts(at, [referral.measurements.listen], ['referral', 'measurements', 'listen']);
  return {
    key,
    maxSkewMs: compileDuration(
      referral.maxSkew,
      REFERRAL_DEFAULTS.maxSkewMs,
      0,
      where,
      ['referral', 'maxSkew'],
      problems,
    ),
    backbone: referral.backbone && compileBackbone(referral.backbone, file, at),
    balancer: referral.balancer && compileBalancer(referral.balancer, at),
    owner: referral.owner && compileOwner(referral.owner, at),
    measurements: measurements && { listen: measurements },
  };
}
