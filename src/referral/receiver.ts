import type { Logger } from '../observability/log.js';
import { decodeMapMessage, type MapFailure, type MapMessage } from './message.js';
import { MapReplayGuard, type ReplayFailure } from './replay.js';

/** Why a map message was dropped, with the decoder's reasons and the guard's. */
export type DropReason = MapFailure | ReplayFailure | 'unexpected-kind' | 'framing';

/** Counters of one receiver: accepted messages and drops by reason. */
export interface ReceiverStats {
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
}

/**
 * Verifies map messages: MAC, fields, replay, the kinds this role takes. Counts every
 * drop and logs it with the counts so far, at most 20 lines a second, so a flood of
 * forgeries neither goes unseen nor floods the log.
 */
export class MapReceiver {
  readonly stats: ReceiverStats = { accepted: 0, dropped: {} };
  readonly guard: MapReplayGuard;
  private window = { start: 0, lines: 0 };
  private readonly key: Buffer;
  private readonly kinds: ReadonlySet<MapMessage['kind']>;
  private readonly log: Logger;

  constructor(
    key: Buffer,
    maxSkewMs: number,
    kinds: readonly MapMessage['kind'][],
    log: Logger,
    now: () => number = Date.now,
  ) {
    this.key = key;
    this.kinds = new Set(kinds);
    this.log = log;
    this.guard = new MapReplayGuard(maxSkewMs, now);
  }

  /** The message, if it is genuine, fresh and of a kind we take; else counted and undefined. */
  receive(bytes: Buffer, from: string): MapMessage | undefined {
    const decoded = decodeMapMessage(bytes, this.key);
    if (!decoded.ok) return this.drop(decoded.reason, from, decoded.detail);
    if (!this.kinds.has(decoded.message.kind)) return this.drop('unexpected-kind', from);
    const replay = this.guard.accept(decoded.message);
    if (replay !== undefined) return this.drop(replay, from);
    this.stats.accepted++;
    return decoded.message;
  }

  /** Counts a connection that sent no whole message. */
  framing(): void {
    this.drop('framing', '');
  }

  private drop(reason: DropReason, from: string, detail?: string): MapMessage | undefined {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    const now = Date.now();
    if (now - this.window.start >= 1000) this.window = { start: now, lines: 0 };
    if (this.window.lines++ < 20) {
      this.log.warn(
        { reason, from, detail, dropped: this.stats.dropped },
        `map message dropped: ${reason}`,
      );
    }
    return undefined;
  }
}
