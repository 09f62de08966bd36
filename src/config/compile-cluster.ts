import { accessSync, constants, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isIP } from 'node:net';
import type { Problem } from '../lib/errors.js';
import { parseHostPort } from '../lib/ip.js';
import { readKeyFile } from '../agent/key-file.js';
import type {
  CompiledCluster,
  CompiledNodeCheck,
  CompiledReplication,
  CompiledServiceAddress,
} from './compiled.js';
import { compileDuration } from './compile-duration.js';
import { compileCheck } from './compile-health.js';
import type { ClusterConfig } from './schema.js';
import type { Where } from './yaml-source.js';

export type {
  CompiledCluster,
  CompiledNodeCheck,
  CompiledReplication,
  CompiledServiceAddress,
} from './compiled.js';

type Path = readonly (string | number)[];

const hookPaths = (
  cluster: ClusterConfig,
  role: 'initial' | 'active' | 'standby' | 'inop',
  base: string,
): string[] => (cluster.hooks?.[role] ?? []).map((script) => resolve(base, script));

/** Compiles `cluster:`; problems at their lines. Undefined without the section. */
export function compileCluster(
  cluster: ClusterConfig | undefined,
  file: string,
  at: Where,
  problems: Problem[],
): CompiledCluster | undefined {
  if (cluster === undefined) return undefined;
  const base = dirname(file);
  const path = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : resolve(base, p);
  const duration = (
    value: string | number | undefined,
    fallback: number,
    min: number,
    key: string,
  ) => compileDuration(value, fallback, min, at, ['cluster', key], problems);
  const leaseMs = duration(cluster.leaseTtl, 2000, 1000, 'leaseTtl');
  const leaseTtlSeconds = Math.ceil(leaseMs / 1000);
  const marginMs = duration(cluster.margin, 500, 0, 'margin');
  if (marginMs * 2 > leaseTtlSeconds * 1000)
    problems.push({
      ...at(['cluster', 'margin']),
      reason: `cluster.margin (${marginMs} ms) must be at most half the lease (${leaseTtlSeconds} s)`,
    });
  const etcd = cluster.etcd;
  for (const field of ['ca', 'cert', 'key', 'passwordFile'] as const)
    readable(path(etcd[field]), at(['cluster', 'etcd', field]), `cluster.etcd.${field}`, problems);
  if ((etcd.cert === undefined) !== (etcd.key === undefined))
    problems.push({
      ...at(['cluster', 'etcd']),
      reason: 'cluster.etcd: cert and key go together',
    });
  if ((etcd.username === undefined) !== (etcd.passwordFile === undefined))
    problems.push({
      ...at(['cluster', 'etcd']),
      reason: 'cluster.etcd: username and passwordFile go together',
    });
  const name = cluster.name ?? 'default';
  return {
    node: cluster.node,
    name,
    prefix: `/steerdns/${name}/`,
    etcd: {
      endpoints: etcd.endpoints,
      ca: path(etcd.ca),
      cert: path(etcd.cert),
      key: path(etcd.key),
      username: etcd.username,
      passwordFile: path(etcd.passwordFile),
      timeoutMs: duration(etcd.timeout, 1000, 10, 'etcd'),
    },
    leaseTtlSeconds,
    marginMs,
    addresses: (cluster.addresses ?? []).flatMap((a, i) =>
      serviceAddress(a, at(['cluster', 'addresses', i]), problems),
    ),
    hooks: {
      initial: hookPaths(cluster, 'initial', base),
      active: hookPaths(cluster, 'active', base),
      standby: hookPaths(cluster, 'standby', base),
      inop: hookPaths(cluster, 'inop', base),
    },
    hookTimeoutMs: duration(cluster.hookTimeout, 10_000, 10, 'hookTimeout'),
    inopHoldMs: duration(cluster.inopHold, 10_000, 0, 'inopHold'),
    selfQuery: cluster.selfQuery ?? true,
    checks: (cluster.checks ?? []).flatMap((check, i) =>
      nodeCheck(check, ['cluster', 'checks', i], at, problems),
    ),
    replication: compileReplication(cluster.replication, base, at, problems),
  };
}

function compileReplication(
  replication: ClusterConfig['replication'],
  base: string,
  at: Where,
  problems: Problem[],
): CompiledReplication | undefined {
  if (replication === undefined) return undefined;
  const where = (key: string) => at(['cluster', 'replication', key]);
  const listen = parseHostPort(replication.listen);
  if (listen === undefined)
    problems.push({
      ...where('listen'),
      reason: `cluster.replication.listen: expected ADDR:PORT or [IPv6]:PORT, got "${replication.listen}"`,
    });
  const keyFile = resolve(base, replication.keyFile);
  let key = '';
  try {
    key = readKeyFile(keyFile).toString('base64');
  } catch (error) {
    problems.push({
      ...where('keyFile'),
      reason: `cluster.replication.keyFile: ${(error as Error).message}`,
    });
  }
  const maxSkewMs = compileDuration(
    replication.maxSkew,
    2000,
    1,
    at,
    ['cluster', 'replication', 'maxSkew'],
    problems,
  );
  return { host: listen?.host ?? '', port: listen?.port ?? 0, keyFile, key, maxSkewMs };
}

/** The default node name: the host name up to its first dot. */
export const defaultNodeName = (): string => hostname().split('.')[0] ?? 'steerdns';

function serviceAddress(
  a: NonNullable<ClusterConfig['addresses']>[number],
  where: { file: string; line: number },
  problems: Problem[],
): CompiledServiceAddress[] {
  const family = isIP(a.address);
  if (family === 0) {
    problems.push({ ...where, reason: `cluster.addresses: "${a.address}" is not an IP address` });
    return [];
  }
  const prefixLength = a.prefix ?? (family === 4 ? 32 : 128);
  if (prefixLength > (family === 4 ? 32 : 128)) {
    problems.push({ ...where, reason: `cluster.addresses: prefix ${prefixLength} is too long` });
    return [];
  }
  return [{ address: a.address, prefixLength, interface: a.interface }];
}

function nodeCheck(
  check: NonNullable<ClusterConfig['checks']>[number],
  path: Path,
  at: Where,
  problems: Problem[],
): CompiledNodeCheck[] {
  const { name, target, ...health } = check as typeof check & { name: string; target: string };
  const parsed = parseHostPort(target, { portOptional: true });
  if (parsed === undefined) {
    problems.push({
      ...at([...path, 'target']),
      reason: `cluster.checks: target: expected ADDR or ADDR:PORT, got "${target}"`,
    });
    return [];
  }
  const compiled = compileCheck(
    health as Parameters<typeof compileCheck>[0],
    { host: parsed.host, port: parsed.port },
    at,
    path,
    problems,
  );
  return compiled === undefined ? [] : [{ ...compiled, name }];
}

function readable(
  file: string | undefined,
  where: { file: string; line: number },
  field: string,
  problems: Problem[],
): void {
  if (file === undefined) return;
  try {
    accessSync(file, constants.R_OK);
    if (field.endsWith('passwordFile') && readFileSync(file, 'utf8').trim() === '')
      problems.push({ ...where, reason: `${field}: ${file} is empty` });
  } catch (error) {
    problems.push({
      ...where,
      reason: `${field}: cannot read ${file}: ${(error as Error).message}`,
    });
  }
}
