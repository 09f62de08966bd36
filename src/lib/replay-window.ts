import { randomBytes } from 'node:crypto';

/** What every replay-guarded message carries (map messages, DSSP reports). */
export interface SequencedHeader {
  /** Who sends it. */
  readonly sender: string;
  /** Random id of the sender's run, 16 lower-case hex digits. */
  readonly epoch: string;
  /** Counts messages within one epoch; each is higher than the last. */
  readonly sequence: number;
  /** When it was sent, ms since the epoch. */
  readonly timestamp: number;
}

/** Why a verified message was still dropped. */
export type ReplayFailure = 'stale' | 'future' | 'replay';

/** The last accepted message of one sender (and kind): what the window remembers. */
export interface SenderMark {
  readonly epoch: string;
  readonly sequence: number;
  readonly timestamp: number;
}

/**
 * Drops replayed and out-of-date messages per key (a sender, or a sender and a kind): a
 * timestamp within `maxSkewMs` of now; in one epoch a higher sequence; a new epoch only with
 * a later timestamp. Give it only messages whose MAC verified. Its marks can be saved and
 * restored, so a restart does not reopen the window to a captured message.
 */
export class ReplayWindow {
  private readonly marks = new Map<string, SenderMark>();
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(maxSkewMs: number, now: () => number = Date.now) {
    this.maxSkewMs = maxSkewMs;
    this.now = now;
  }

  /** Accepts `m` under `key` (and remembers it) or says why not. */
  accept(key: string, m: SequencedHeader): ReplayFailure | undefined {
    const now = this.now();
    if (m.timestamp < now - this.maxSkewMs) return 'stale';
    if (m.timestamp > now + this.maxSkewMs) return 'future';
    const last = this.marks.get(key);
    if (last !== undefined) {
      if (m.epoch === last.epoch ? m.sequence <= last.sequence : m.timestamp <= last.timestamp)
        return 'replay';
    }
    this.marks.set(key, { epoch: m.epoch, sequence: m.sequence, timestamp: m.timestamp });
    return undefined;
  }

  /** The marks, to save. */
  saved(): [string, SenderMark][] {
    return [...this.marks];
  }

  /** Marks saved before a restart; older than the skew they stop nothing and are left out. */
  restore(marks: readonly (readonly [string, SenderMark])[]): void {
    const horizon = this.now() - this.maxSkewMs;
    for (const [key, mark] of marks) if (mark.timestamp >= horizon) this.marks.set(key, mark);
  }
}

/** Numbers a sender's messages: one random epoch per run, a sequence counting up. */
export class MessageClock {
  private readonly epoch = randomBytes(8).toString('hex');
  private sequence = 0;
  private readonly sender: string;
  private readonly now: () => number;

  constructor(sender: string, now: () => number = Date.now) {
    this.sender = sender;
    this.now = now;
  }

  /** The header of the next message. */
  next(): SequencedHeader {
    return {
      sender: this.sender,
      epoch: this.epoch,
      sequence: ++this.sequence,
      timestamp: this.now(),
    };
  }
}
