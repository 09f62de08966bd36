import { isIPv4 } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { CheckSpec } from '../health/board.js';
import type { Problem } from '../lib/errors.js';
import { parseHostPort } from '../lib/ip.js';
import type { LbServer, LbSettings } from '../lb/settings.js';
import type { CompiledCheck } from './compiled.js';
import { compileDuration } from './compile-duration.js';
import { compileCheck } from './compile-health.js';
import type { lbSchema } from './schema-lb.js';
import type { Where } from './yaml-source.js';

export type { LbSettings } from '../lb/settings.js';

/** The `lb:` section as written. */
export type LbConfig = Static<ReturnType<typeof lbSchema>>;

type Path = readonly (string | number)[];
type HealthInput = Parameters<typeof compileCheck>[0];

const specOf = (check: CompiledCheck): CheckSpec => ({
  id: check.id,
  target: { id: check.id, address: check.address, port: check.port },
  type: check.type,
  settings: check.settings,
  tracker: check.tracker,
  timeoutMs: check.timeoutMs,
});

/**
 * Compiles `lb:` (docs/local-lb.md); problems at their lines. The data plane is IPv4 only
 * (nftables `ip` family, conntrackd IPv4 sync), so every address must be IPv4.
 */
export function compileLb(
  lb: LbConfig | undefined,
  file: string,
  at: Where,
  problems: Problem[],
): LbSettings | undefined {
  if (lb === undefined) return undefined;
  const base = dirname(file);
  const problem = (path: Path, reason: string): void => {
    problems.push({ ...at(['lb', ...path]), reason: `lb.${path.join('.')}: ${reason}` });
  };
  const ipv4 = (text: string, path: Path): string => {
    if (!isIPv4(text)) problem(path, `expected an IPv4 address, got "${text}"`);
    return text;
  };
  const duration = (
    value: string | number | undefined,
    fallback: number,
    min: number,
    path: Path,
  ) => compileDuration(value, fallback, min, at, ['lb', ...path], problems);
  const [floatingAddress = '', prefixText = '32'] = lb.floating.split('/');
  ipv4(floatingAddress, ['floating']);
  const prefixLength = Number(prefixText);
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32)
    problem(['floating'], `bad prefix length "${prefixText}"`);
  const advertMs = duration(lb.vrrp.advert, 100, 10, ['vrrp', 'advert']);
  if (advertMs % 10 !== 0 || advertMs > 40_950)
    problem(['vrrp', 'advert'], 'VRRP v3 adverts are 10ms steps up to 40.95s');
  const names = new Set<string>();
  const servers: LbServer[] = lb.servers.map((s, i) => {
    if (names.has(s.name)) problem(['servers', i, 'name'], `"${s.name}" appears twice`);
    names.add(s.name);
    const path = ['lb', 'servers', i, 'health'];
    const check =
      s.health === undefined
        ? undefined
        : compileCheck(
            s.health as HealthInput,
            { host: s.address, port: undefined },
            at,
            path,
            problems,
          );
    return {
      name: s.name,
      address: ipv4(s.address, ['servers', i, 'address']),
      weight: s.weight ?? 1,
      drain: s.drain ?? false,
      check: check === undefined ? undefined : specOf(check),
    };
  });
  const checks = (lb.checks ?? []).flatMap((c, i) => {
    const { name, target, ...health } = c as typeof c & { name: string; target: string };
    const parsed = parseHostPort(target, { portOptional: true });
    if (parsed === undefined) {
      problem(['checks', i, 'target'], `expected ADDR or ADDR:PORT, got "${target}"`);
      return [];
    }
    const compiled = compileCheck(
      health as HealthInput,
      { host: parsed.host, port: parsed.port },
      at,
      ['lb', 'checks', i],
      problems,
    );
    return compiled === undefined ? [] : [{ ...specOf(compiled), name }];
  });
  const scripts = (state: 'initial' | 'active' | 'standby' | 'inop'): string[] =>
    (lb.scripts?.[state] ?? []).map((script) => resolve(base, script));
  return {
    node: lb.node,
    interface: lb.interface,
    floating: { address: floatingAddress, prefixLength },
    clusterAddress: ipv4(lb.cluster, ['cluster']),
    ports: lb.ports,
    vrrp: {
      routerId: lb.vrrp.id,
      priority: lb.vrrp.priority,
      advertMs,
      preempt: lb.vrrp.preempt ?? true,
      peers: (lb.vrrp.peers ?? []).map((p, i) => ipv4(p, ['vrrp', 'peers', i])),
    },
    sync:
      lb.sync === undefined
        ? undefined
        : {
            address: ipv4(lb.sync.address, ['sync', 'address']),
            peer: ipv4(lb.sync.peer, ['sync', 'peer']),
            port: lb.sync.port ?? 3780,
          },
    servers,
    balance: {
      mode: lb.balance?.mode ?? 'adaptive',
      intervalMs: duration(lb.balance?.interval, 1000, 50, ['balance', 'interval']),
      floor: lb.balance?.floor ?? 0.25,
    },
    scripts: {
      initial: scripts('initial'),
      active: scripts('active'),
      standby: scripts('standby'),
      inop: scripts('inop'),
    },
    scriptTimeoutMs: duration(lb.scriptTimeout, 10_000, 10, ['scriptTimeout']),
    checks,
    runDirectory: resolve(base, lb.runDirectory ?? `/run/steerdns-lb-${lb.node}`),
    markBase: lb.markBase ?? 5300,
  };
}
