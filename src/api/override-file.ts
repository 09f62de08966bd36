import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { decodeOverride } from '../control/cluster-records.js';
import type { ControlNode } from '../control/node.js';
import { holds, type Override } from '../control/overrides.js';
import type { Logger } from '../observability/log.js';
import { ApiError } from './errors.js';
import type { OverrideStore } from './override-store.js';

/** The state file: `{ "version": 1, "overrides": { "<member key>": { health?, admin?, until?, reason?, by?, at? } } }`. */
interface StateFile {
  readonly version: 1;
  readonly overrides: Readonly<Record<string, Override>>;
}

/** The overrides of a state file's text that still hold at `now`; problems are logged. */
export function parseStateFile(
  text: string,
  now: number,
): { overrides: Map<string, Override>; dropped: string[]; problem?: string } {
  const overrides = new Map<string, Override>();
  const dropped: string[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { overrides, dropped, problem: `not JSON: ${(error as Error).message}` };
  }
  const entries: unknown = (parsed as { overrides?: unknown } | null)?.overrides;
  if (typeof entries !== 'object' || entries === null)
    return { overrides, dropped, problem: 'no "overrides" object' };
  for (const [key, value] of Object.entries(entries)) {
    const override = decodeOverride(JSON.stringify(value));
    if (override === undefined) dropped.push(`${key}: not an override`);
    else if (!holds(override, now)) dropped.push(`${key}: expired`);
    else overrides.set(key, override);
  }
  return { overrides, dropped };
}

/** Writes `text` to `file` atomically: a temporary file beside it, then a rename. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

/**
 * The overrides of a node alone, kept in a state file (`api.stateFile`): read at start
 * (expired ones dropped), written atomically on every change, and published to the node
 * as its overrides layer. When the earliest override expires, the layer is published again
 * without it (and the file rewritten), so status and answers move on from a fresh snapshot.
 */
export async function startFileOverrides(
  node: ControlNode,
  file: () => string,
  log: Logger,
  now: () => number = Date.now,
): Promise<OverrideStore> {
  const overrides = new Map<string, Override>();
  const at = file();
  try {
    const read = parseStateFile(await readFile(at, 'utf8'), now());
    if (read.problem !== undefined)
      log.error(
        { code: 'STEERDNS_ERR_API_STATE_FILE', file: at },
        `override state file ${at}: ${read.problem}; starting without overrides (the next change rewrites it)`,
      );
    for (const [key, override] of read.overrides) overrides.set(key, override);
    if (read.dropped.length > 0)
      log.info({ file: at, dropped: read.dropped }, 'overrides dropped at start');
    if (overrides.size > 0)
      log.info({ file: at, overrides: [...overrides.keys()] }, 'overrides restored');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      log.error(
        { code: 'STEERDNS_ERR_API_STATE_FILE', file: at, err: error },
        `override state file ${at} cannot be read; starting without overrides`,
      );
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const publish = (): Promise<unknown> =>
    node.publish({ kind: 'overrides', overrides: [...overrides] });
  const save = async (): Promise<void> => {
    const document: StateFile = { version: 1, overrides: Object.fromEntries(overrides) };
    await writeAtomically(file(), `${JSON.stringify(document, null, 2)}\n`);
  };
  const prune = (): boolean => {
    let changed = false;
    for (const [key, override] of overrides)
      if (!holds(override, now())) {
        overrides.delete(key);
        changed = true;
        log.info({ member: key }, 'override expired');
      }
    return changed;
  };
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const schedule = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const untils = [...overrides.values()].flatMap((o) => (o.until === undefined ? [] : [o.until]));
    if (stopped || untils.length === 0) return;
    // One millisecond past the earliest end: `holds` is true up to and including `until`.
    const delay = Math.max(0, Math.min(...untils) - now() + 1);
    timer = setTimeout(
      () => {
        void serial(async () => {
          if (!prune()) return;
          await publish();
          await save().catch((error: unknown) => {
            log.error({ err: error, file: file() }, 'override state file not written');
          });
        }).finally(schedule);
      },
      Math.min(delay, 2 ** 31 - 1),
    );
    timer.unref();
  };
  if (overrides.size > 0) await publish();
  schedule();
  return {
    set: (key, override) =>
      serial(async () => {
        const before = overrides.get(key);
        if (override === undefined) overrides.delete(key);
        else overrides.set(key, override);
        prune();
        try {
          await save();
        } catch (error) {
          if (before === undefined) overrides.delete(key);
          else overrides.set(key, before);
          throw new ApiError(
            'STEERDNS_ERR_API_OVERRIDE_STORE',
            `the override cannot be kept: ${file()}: ${(error as Error).message}`,
          );
        }
        await publish();
        schedule();
      }),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
