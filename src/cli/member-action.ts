import { parseArgs } from 'node:util';
import { parseMemberKey } from '../config/member-key.js';
import { parseDuration } from '../lib/duration.js';
import { UsageError, USAGE } from './args.js';
import { ApiClientError, callApi, readTokenFile, refusal, type ApiTarget } from './api-client.js';
import { ClusterCommandError } from './cluster-etcd.js';
import { memberOf } from './cluster-override.js';
import { ExitCode, failed, type CommandOutcome } from './outcome.js';

/** The commands that change a member through a running server's REST API. */
export type MemberCommand = 'drain' | 'enable' | 'disable' | 'override';

/** A member as the API answers it (the fields printed). */
interface MemberAnswer {
  key: string;
  health: { state: string };
  admin: string;
  override: {
    health: string | null;
    admin: string | null;
    until: string | null;
    reason: string | null;
    by: string | null;
  } | null;
  effective: { up: boolean | null; admin: string };
}

/** One line for a member: its key, what is forced and by whom, beside the real state. */
export function describeMember(member: MemberAnswer): string {
  const o = member.override;
  const real = `real: health ${member.health.state}, admin ${member.admin}`;
  if (o === null) return `${member.key}: no override (${real})`;
  const what = [
    ...(o.admin !== null ? [`admin ${o.admin}`] : []),
    ...(o.health !== null ? [`health ${o.health}`] : []),
  ].join(', ');
  const until = o.until === null ? '' : ` until ${o.until}`;
  const who = o.by === null ? '' : ` by ${o.by}`;
  const why = o.reason === null ? '' : `: ${o.reason}`;
  return `${member.key}: ${what}${until}${who}${why} (${real})`;
}

const OPTIONS = {
  server: { type: 'string', short: 's' },
  'token-file': { type: 'string' },
  tls: { type: 'boolean', default: false },
  ca: { type: 'string' },
  reason: { type: 'string' },
  for: { type: 'string' },
  health: { type: 'string' },
  admin: { type: 'string' },
  clear: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

/** The request a command sends: method, the path below the member, and the body. */
function requestOf(
  command: MemberCommand,
  values: Values,
): { method: string; action: string; body: Record<string, unknown> | undefined } {
  const reason = values.reason === undefined ? {} : { reason: values.reason };
  const forMs = values.for === undefined ? undefined : parseDuration(values.for);
  if (values.for !== undefined && (forMs === undefined || forMs <= 0))
    throw new UsageError(`--for expects a duration such as 30s, 10m, 2h, got "${values.for}"`);
  const expires = values.for === undefined ? {} : { expiresIn: values.for };
  if (command !== 'override') {
    if (values.health !== undefined || values.admin !== undefined || values.clear)
      throw new UsageError(`--health, --admin and --clear go with steerdns override`);
    return { method: 'POST', action: command, body: { ...reason, ...expires } };
  }
  if (values.clear) {
    if (values.health !== undefined || values.for !== undefined || values.reason !== undefined)
      throw new UsageError('override --clear takes no --health, --for or --reason');
    return { method: 'DELETE', action: 'override', body: undefined };
  }
  if (values.health !== 'up' && values.health !== 'down')
    throw new UsageError(
      `override needs --health up|down (or --clear), got "${values.health ?? ''}"`,
    );
  const ADMIN: Readonly<Record<string, string>> = {
    drain: 'draining',
    disable: 'disabled',
    enable: 'enabled',
  };
  const admin = values.admin === undefined ? undefined : (ADMIN[values.admin] ?? values.admin);
  return {
    method: 'POST',
    action: 'override',
    body: {
      health: values.health,
      ...(admin === undefined ? {} : { admin }),
      ...reason,
      ...expires,
    },
  };
}

async function run(command: MemberCommand, args: readonly string[]): Promise<CommandOutcome> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: OPTIONS,
    allowPositionals: true,
  });
  if (values.server === undefined) throw new UsageError(`${command} needs --server ADDR:PORT`);
  if (values['token-file'] === undefined)
    throw new UsageError(`${command} needs --token-file FILE`);
  const parts = parseMemberKey(memberOf(positionals))!;
  const { method, action, body } = requestOf(command, values);
  const target: ApiTarget = {
    server: values.server,
    token: readTokenFile(values['token-file']),
    tls: values.tls || values.ca !== undefined,
    ca: values.ca,
  };
  const path = [
    '/api/v1/services',
    encodeURIComponent(parts.service),
    'members',
    encodeURIComponent(parts.pool),
    encodeURIComponent(parts.member),
    action,
  ].join('/');
  const answer = await callApi(target, method, path, body);
  if (answer.status !== 200)
    return failed(ExitCode.failed, `steerdns ${command}: ${refusal(answer)}`);
  const member = (answer.body as { member?: MemberAnswer }).member;
  if (member === undefined)
    return failed(
      ExitCode.failed,
      `steerdns ${command}: ${answer.url}: not a member in the answer`,
    );
  return {
    out: [values.json ? JSON.stringify(member, null, 2) : describeMember(member)],
    errors: [],
    exitCode: ExitCode.ok,
  };
}

/**
 * `steerdns drain|enable|disable SERVICE POOL/MEMBER` and `steerdns override SERVICE
 * POOL/MEMBER --health up|down [--for D] | --clear`, through a running server's REST API
 * (`--server` its api.listen, `--token-file` a token). Exit 0 done (the member's state is
 * printed), 1 the server could not be asked or refused, 2 a usage mistake.
 */
export async function memberCommand(
  command: MemberCommand,
  args: readonly string[],
): Promise<CommandOutcome> {
  try {
    return await run(command, args);
  } catch (error) {
    const code = (error as { code?: string } | undefined)?.code;
    if (error instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS_') === true)
      return failed(ExitCode.usage, `steerdns ${command}: ${(error as Error).message}`, USAGE);
    if (error instanceof ClusterCommandError)
      return failed(error.exitCode, ...error.lines.map((l) => `steerdns ${command}: ${l}`), USAGE);
    if (error instanceof ApiClientError)
      return failed(ExitCode.failed, `steerdns ${command}: ${error.message}`);
    throw error;
  }
}
