import { parseArgs } from 'node:util';
import { canonicalName } from '../config/compile-services.js';
import type { CompiledConfig } from '../config/compiled.js';
import { memberKey, parseMemberKey } from '../config/member-key.js';
import { decodeOverride, overridesPrefix } from '../control/cluster-records.js';
import { holds, type Override } from '../control/overrides.js';
import { parseDuration } from '../lib/duration.js';
import type { AdminState } from '../steering/types.js';
import {
  ClusterCommandError,
  operatorName,
  runningConfig,
  withCluster,
  type ClusterContext,
} from './cluster-etcd.js';
import { ExitCode, type CommandOutcome } from './outcome.js';

const ADMIN: Readonly<Record<string, AdminState>> = {
  drain: 'draining',
  draining: 'draining',
  disable: 'disabled',
  disabled: 'disabled',
  enable: 'enabled',
  enabled: 'enabled',
};

const usage = (message: string): ClusterCommandError =>
  new ClusterCommandError([message], ExitCode.usage);

/**
 * The member key of the command line: `"SERVICE POOL/MEMBER"` as one word or two. The
 * service may be written without its final dot and in any case.
 */
export function memberOf(words: readonly string[]): string {
  const text = words.join(' ').trim();
  const parts = parseMemberKey(text.replace(/\s+/, ' '));
  if (words.length === 0 || words.length > 2 || parts === undefined)
    throw usage(
      `give the member as "SERVICE POOL/MEMBER", e.g. "www.example.org main/a"; got "${text}"`,
    );
  let service: string;
  try {
    service = canonicalName(parts.service);
  } catch {
    throw usage(`"${parts.service}" is not a domain name`);
  }
  return memberKey(service, parts.pool, parts.member);
}

/** Throws unless `key` is a member of `config` (or of a service whose members announce). */
export function checkMember(config: CompiledConfig, key: string): void {
  const parts = parseMemberKey(key)!;
  const service = config.services.find((s) => s.name === parts.service);
  const known = service?.pools.some((p) => p.members.some((m) => m.key === key)) ?? false;
  const announced = service?.dynamic?.pool === parts.pool;
  if (known || announced) return;
  const members = config.services.flatMap((s) =>
    s.pools.flatMap((p) => p.members.map((m) => m.key)),
  );
  const shown = members.slice(0, 10).map((m) => `  ${m}`);
  throw new ClusterCommandError(
    [
      service === undefined
        ? `no service ${parts.service} in the configuration`
        : `no member ${parts.pool}/${parts.member} in service ${parts.service}`,
      ...(shown.length > 0 ? ['members:', ...shown] : []),
      ...(members.length > shown.length ? [`  (and ${members.length - shown.length} more)`] : []),
    ],
    ExitCode.usage,
    false,
  );
}

/** What `set` writes: the override, and how long the key lives in etcd (seconds). */
function overrideOf(
  values: { admin?: string; health?: string; for?: string; reason?: string },
  now: number,
): { override: Override & { at: number }; ttlSeconds: number | undefined } {
  if ((values.admin === undefined) === (values.health === undefined))
    throw usage('override set needs one of --admin drain|disable|enable or --health up|down');
  const admin = values.admin === undefined ? undefined : ADMIN[values.admin];
  if (values.admin !== undefined && admin === undefined)
    throw usage(`--admin expects drain, disable or enable, got "${values.admin}"`);
  if (values.health !== undefined && values.health !== 'up' && values.health !== 'down')
    throw usage(`--health expects up or down, got "${values.health}"`);
  const ms = values.for === undefined ? undefined : parseDuration(values.for);
  if (values.for !== undefined && (ms === undefined || ms <= 0))
    throw usage(`--for expects a duration such as 30s, 10m, 2h, got "${values.for}"`);
  const health: Override['health'] =
    values.health === undefined ? undefined : values.health === 'up' ? 'up' : 'down';
  const override = {
    ...(admin !== undefined ? { admin } : {}),
    ...(health !== undefined ? { health } : {}),
    ...(ms !== undefined ? { until: now + ms } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    by: operatorName(),
    at: now,
  };
  // The key outlives `until` by a second: nodes stop applying it at `until` by their clocks.
  return { override, ttlSeconds: ms === undefined ? undefined : Math.ceil(ms / 1000) + 1 };
}

const describe = (o: Override, now: number): string => {
  const what = [
    ...(o.admin !== undefined ? [`admin ${o.admin}`] : []),
    ...(o.health !== undefined ? [`health ${o.health}`] : []),
  ].join(', ');
  const until =
    o.until === undefined
      ? ''
      : holds(o, now)
        ? ` until ${new Date(o.until).toISOString()}`
        : ` (expired ${new Date(o.until).toISOString()})`;
  const who = o.by === undefined ? '' : ` by ${o.by}`;
  const why = o.reason === undefined ? '' : `: ${o.reason}`;
  return `${what}${until}${who}${why}`;
};

async function set(
  context: ClusterContext,
  words: string[],
  values: Record<string, string | undefined>,
): Promise<CommandOutcome> {
  const key = memberOf(words);
  checkMember(await runningConfig(context), key);
  const now = Date.now();
  const { override, ttlSeconds } = overrideOf(values, now);
  const { client, cluster } = context;
  const lease = ttlSeconds === undefined ? undefined : (await client.leaseGrant(ttlSeconds)).id;
  await client.put(`${overridesPrefix(cluster.prefix)}${key}`, JSON.stringify(override), {
    ...(lease !== undefined ? { lease } : {}),
  });
  return { out: [`${key}: ${describe(override, now)}`], errors: [], exitCode: ExitCode.ok };
}

async function clear(context: ClusterContext, words: string[]): Promise<CommandOutcome> {
  const key = memberOf(words);
  const { deleted } = await context.client.delete(
    `${overridesPrefix(context.cluster.prefix)}${key}`,
  );
  return {
    out: [deleted > 0 ? `${key}: override cleared` : `${key}: no override was set`],
    errors: [],
    exitCode: ExitCode.ok,
  };
}

async function list(context: ClusterContext, json: boolean): Promise<CommandOutcome> {
  const prefix = overridesPrefix(context.cluster.prefix);
  const { kvs } = await context.client.range(prefix, { prefix: true });
  const now = Date.now();
  const rows = kvs.flatMap((kv) => {
    const override = decodeOverride(kv.value);
    return override ? [{ member: kv.key.slice(prefix.length), ...override }] : [];
  });
  if (json) return { out: [JSON.stringify(rows, null, 2)], errors: [], exitCode: ExitCode.ok };
  const out =
    rows.length === 0 ? ['no overrides'] : rows.map((r) => `${r.member}: ${describe(r, now)}`);
  return { out, errors: [], exitCode: ExitCode.ok };
}

/** `steerdns cluster override set|clear|list ...`. */
export async function overrideCommand(args: readonly string[]): Promise<CommandOutcome> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      admin: { type: 'string' },
      health: { type: 'string' },
      for: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const [action, ...words] = positionals;
  const { config, json, ...rest } = values;
  if (action !== 'set' && action !== 'clear' && action !== 'list')
    throw usage(`override expects set, clear or list, got "${action ?? ''}"`);
  if (action !== 'set' && (rest.admin ?? rest.health ?? rest.for ?? rest.reason) !== undefined)
    throw usage(`--admin, --health, --for and --reason go with override set`);
  return withCluster(config, (context) => {
    if (action === 'set') return set(context, words, rest);
    if (action === 'clear') return clear(context, words);
    if (words.length > 0) throw usage('override list takes no member');
    return list(context, json);
  });
}
