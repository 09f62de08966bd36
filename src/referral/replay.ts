import { randomBytes } from 'node:crypto';
import type { MapHeader, MapMessage } from './message.js';

/** Why a verified message was still dropped. */
export type ReplayFailure = 'stale' | 'future' | 'replay';

/** The last accepted message of one sender (and kind): what the guard remembers. */
export interface SenderMark {
  readonly epoch: string;
  readonly sequence: number;
  readonly timestamp: number;
}

/**
 * Drops replayed and out-of-date map messages, per sender and kind, by the rules of the
 * announcements' guard (src/agent/replay-guard.ts): a timestamp within `maxSkewMs` of
 * now; in one epoch a higher sequence; a new epoch only with a later timestamp. Give it
 * only messages whose MAC verified. Its marks can be saved and restored (the DNS-B's
 * state file), so a restart does not reopen the window to a captured message.
 */
export class MapReplayGuard {
  private readonly marks = new Map<string, SenderMark>();
  private readonly maxSkewMs: number;
  private readonly now: () => number;

  constructor(maxSkewMs: number, now: () => number = Date.now) {
    this.maxSkewMs = maxSkewMs;
    this.now = now;
  }

  /** Accepts `m` (and remembers it) or says why not. */
  accept(m: MapMessage): ReplayFailure | undefined {
    const now = this.now();
    if (m.timestamp < now - this.maxSkewMs) return 'stale';
    if (m.timestamp > now + this.maxSkewMs) return 'future';
    const key = `${m.kind} ${m.sender}`;
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
  next(): MapHeader {
    return {
      sender: this.sender,
      epoch: this.epoch,
      sequence: ++this.sequence,
      timestamp: this.now(),
    };
  }
}
