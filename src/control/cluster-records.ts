/**
 * The keys and values the cluster shares through etcd besides membership and election:
 * operator overrides and the pushed configuration with each node's outcome. One module so
 * that the nodes (producers) and the command line (`steerdns cluster`) read and write one
 * format. Every key is under the cluster's prefix (`/steerdns/NAME/`).
 */
import type { AdminState } from '../steering/types.js';
import type { Problem } from '../lib/errors.js';
import type { Override } from './overrides.js';

/** `PREFIX overrides/`: one key per overridden member, `PREFIX overrides/<member key>`. */
export const overridesPrefix = (prefix: string): string => `${prefix}overrides/`;

/** `PREFIX config`: the pushed configuration (its version is the key's mod revision). */
export const configKey = (prefix: string): string => `${prefix}config`;

/** `PREFIX config-status/`: each node's outcome of the pushed configuration. */
export const configStatusPrefix = (prefix: string): string => `${prefix}config-status/`;

/** `PREFIX nodes/`: the registrations (written by the cluster producer). */
export const nodesPrefix = (prefix: string): string => `${prefix}nodes/`;

const ADMIN: ReadonlySet<string> = new Set<AdminState>(['enabled', 'disabled', 'draining']);
const HEALTH: ReadonlySet<string> = new Set(['up', 'down']);

/**
 * The override an etcd value holds (JSON `{ health?, admin?, until?, reason?, by?, at? }`),
 * or undefined when it is not one (a value written by something else is ignored, not
 * applied half).
 */
export function decodeOverride(value: string): Override | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  const health = o['health'];
  const admin = o['admin'];
  const until = o['until'];
  if (health !== undefined && !(typeof health === 'string' && HEALTH.has(health))) return undefined;
  if (admin !== undefined && !(typeof admin === 'string' && ADMIN.has(admin))) return undefined;
  if (health === undefined && admin === undefined) return undefined;
  if (until !== undefined && typeof until !== 'number') return undefined;
  const text = (key: string): string | undefined =>
    typeof o[key] === 'string' ? o[key] : undefined;
  const reason = text('reason');
  const by = text('by');
  return {
    ...(health !== undefined ? { health: health as 'up' | 'down' } : {}),
    ...(admin !== undefined ? { admin: admin as AdminState } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(by !== undefined ? { by } : {}),
  };
}

/** The configuration a `steerdns cluster config push` stored. */
export interface PushedConfig {
  /**
   * The pushed file's name as the operator gave it: problems in the YAML name it. Relative
   * paths in it are each node's: they start at the directory of the node's own file.
   */
  readonly name: string;
  /** The YAML text as it was pushed. */
  readonly text: string;
  /** When it was pushed (ms since the epoch, the pusher's clock) and by whom. */
  readonly pushedAt: number;
  readonly by: string;
}

/** The pushed configuration of an etcd value, or undefined when it is not one. */
export function decodePushedConfig(value: string): PushedConfig | undefined {
  try {
    const o = JSON.parse(value) as Record<string, unknown>;
    const { name, text, pushedAt, by } = o;
    if (typeof name !== 'string' || typeof text !== 'string') return undefined;
    return {
      name,
      text,
      pushedAt: typeof pushedAt === 'number' ? pushedAt : 0,
      by: typeof by === 'string' ? by : '',
    };
  } catch {
    return undefined;
  }
}

/** A node's outcome of one version of the pushed configuration. */
export interface ConfigStatus {
  readonly node: string;
  /** The mod revision of `PREFIX config` the node loaded (or tried to). */
  readonly version: number;
  readonly ok: boolean;
  /** Why it was rejected, `file:line: reason` each; empty when ok. */
  readonly problems: readonly Problem[];
  /** When the node decided (ms since the epoch, its clock). */
  readonly at: number;
}

/** The status of an etcd value, or undefined when it is not one. */
export function decodeConfigStatus(value: string): ConfigStatus | undefined {
  try {
    const o = JSON.parse(value) as Record<string, unknown>;
    const { node, version, ok, problems, at } = o;
    if (typeof node !== 'string' || typeof version !== 'number' || typeof ok !== 'boolean')
      return undefined;
    return {
      node,
      version,
      ok,
      problems: Array.isArray(problems) ? (problems as Problem[]) : [],
      at: typeof at === 'number' ? at : 0,
    };
  } catch {
    return undefined;
  }
}
