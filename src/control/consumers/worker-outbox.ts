import type { PrimaryMessage } from '../messages.js';

/**
 * The changes a primary sends its workers, with configuration changes given to one worker
 * at a time. A worker that applies a configuration loads its zones, which takes seconds
 * for a large zone and slows its answers; the others answer at full speed meanwhile. Each
 * worker still gets every change in the order it was made: a worker's later changes wait
 * behind a configuration change it has not been sent yet, or is applying.
 */

/** A `change` message. */
type ChangeMessage = PrimaryMessage & { type: 'change' };

/** The timers a turn's deadline uses (injected in tests). */
export interface OutboxTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** How an outbox reaches its workers. */
export interface OutboxOptions<W> {
  send(worker: W, message: ChangeMessage): void;
  /**
   * How long a worker may take to apply a configuration before the next one gets its
   * turn anyway (two then load at once: slower answers, never none). @default 120000
   */
  turnMs?: number;
  /** Told when a worker's turn ended at the deadline. */
  onLate?(worker: W, version: number): void;
  /** @default the global timers */
  timers?: OutboxTimers;
}

/** See the module comment. */
export interface WorkerOutbox<W> {
  /** A worker that listens now; it has the snapshot, so nothing earlier is queued for it. */
  add(worker: W): void;
  /** A worker that is gone; its turn, if it had one, ends. */
  remove(worker: W): void;
  /** Queues `message` for every worker and sends what may go now. */
  change(message: ChangeMessage): void;
  /** `worker` has applied (or rejected) configuration `version`: its turn ends. */
  done(worker: W, version: number): void;
  /** The worker applying a configuration now, if any. */
  turn(): W | undefined;
}

const isConfig = (message: ChangeMessage): boolean => message.change.kind === 'config';

/** Makes an outbox; see {@link WorkerOutbox}. */
export function workerOutbox<W>(options: OutboxOptions<W>): WorkerOutbox<W> {
  const turnMs = options.turnMs ?? 120_000;
  const timers: OutboxTimers = options.timers ?? {
    setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
    clearTimeout: (timer) => {
      clearTimeout(timer as NodeJS.Timeout);
    },
  };
  const queues = new Map<W, ChangeMessage[]>();
  let turn: { worker: W; version: number; timer: unknown } | undefined;

  const endTurn = (): void => {
    if (turn) timers.clearTimeout(turn.timer);
    turn = undefined;
  };
  const pump = (worker: W): void => {
    const queue = queues.get(worker);
    while (queue && queue.length > 0 && turn?.worker !== worker) {
      const next = queue[0]!;
      if (isConfig(next)) {
        if (turn) return;
        const version = next.version;
        const timer = timers.setTimeout(() => {
          if (turn?.worker !== worker || turn.version !== version) return;
          turn = undefined;
          options.onLate?.(worker, version);
          pumpAll();
        }, turnMs);
        turn = { worker, version, timer };
      }
      queue.shift();
      options.send(worker, next);
    }
  };
  const pumpAll = (): void => {
    for (const worker of queues.keys()) pump(worker);
  };
  return {
    add(worker) {
      if (!queues.has(worker)) queues.set(worker, []);
    },
    remove(worker) {
      queues.delete(worker);
      if (turn?.worker === worker) endTurn();
      pumpAll();
    },
    change(message) {
      for (const queue of queues.values()) queue.push(message);
      pumpAll();
    },
    done(worker, version) {
      if (turn?.worker !== worker || turn.version !== version) return;
      endTurn();
      pumpAll();
    },
    turn: () => turn?.worker,
  };
}
