import { ReplayWindow, type ReplayFailure, type SenderMark } from '../lib/replay-window.js';
import type { MapMessage } from './message.js';

export { MessageClock, type ReplayFailure, type SenderMark } from '../lib/replay-window.js';

/**
 * Drops replayed and out-of-date map messages, per sender and kind, by the rules of the
 * announcements' guard (src/agent/replay-guard.ts), with the shared window of src/lib. Give
 * it only messages whose MAC verified. Its marks can be saved and restored (the DNS-B's
 * state file), so a restart does not reopen the window to a captured message.
 */
export class MapReplayGuard {
  private readonly window: ReplayWindow;

  constructor(maxSkewMs: number, now: () => number = Date.now) {
    this.window = new ReplayWindow(maxSkewMs, now);
  }

  /** Accepts `m` (and remembers it) or says why not. */
  accept(m: MapMessage): ReplayFailure | undefined {
    return this.window.accept(`${m.kind} ${m.sender}`, m);
  }

  /** The marks, to save. */
  saved(): [string, SenderMark][] {
    return this.window.saved();
  }

  /** Marks saved before a restart; older than the skew they stop nothing and are left out. */
  restore(marks: readonly (readonly [string, SenderMark])[]): void {
    this.window.restore(marks);
  }
}
