/**
 * What the master writes under `PREFIX/master` once it holds the service addresses: who it
 * is, its epoch and what it holds. Written only through an epoch-guarded transaction (etcd
 * refuses it once the writer's election key is gone), and read by every node, which keeps the
 * record of the highest epoch seen and drops (and counts) one of an older epoch.
 */
export interface MasterRecord {
  readonly node: string;
  readonly epoch: number;
  readonly addresses: readonly string[];
  /** When it became master (ms since the epoch, its clock). */
  readonly since: number;
}

/** A record as JSON, or undefined when the text is not one. */
export function parseMasterRecord(text: string): MasterRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<MasterRecord>;
    const { node, epoch, addresses, since } = value;
    if (typeof node !== 'string' || typeof epoch !== 'number' || typeof since !== 'number')
      return undefined;
    if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string'))
      return undefined;
    return { node, epoch, addresses, since };
  } catch {
    return undefined;
  }
}

/** The record to keep: `incoming` unless it is of an older epoch than `current`. */
export function newerRecord(
  current: MasterRecord | undefined,
  incoming: MasterRecord,
): { readonly record: MasterRecord | undefined; readonly stale: boolean } {
  if (current !== undefined && incoming.epoch < current.epoch)
    return { record: current, stale: true };
  return { record: incoming, stale: false };
}
