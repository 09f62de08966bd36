import type { Monitor, ProbeResult, Target } from './monitor.js';
import {
  initialState,
  record,
  type Health,
  type TrackerSettings,
  type TrackerState,
} from './tracker.js';

/** One check to run: a target, the monitor that checks it, and the state machine settings. */
export interface CheckSpec {
  /** Identical checks share one id (and one schedule), whichever services use them. */
  readonly id: string;
  readonly target: Target;
  /** Monitor type and its (schema-checked) settings. */
  readonly type: string;
  readonly settings: unknown;
  readonly tracker: TrackerSettings;
  /** Must be below the interval. */
  readonly timeoutMs: number;
}

/** A change of health, logged once with its reason. */
export interface Transition {
  readonly id: string;
  readonly from: Health;
  readonly to: Health;
  readonly reason: string;
  readonly at: number;
}

/** What the board needs from the outside world; injected so tests control time and chance. */
export interface BoardDeps {
  readonly now: () => number;
  readonly random: () => number;
  /** Called for every state change, at once (answers re-evaluate on the next query). */
  readonly onTransition: (transition: Transition) => void;
  /** Called after every result (for propagation to other processes). */
  readonly onResult?: (id: string, state: TrackerState) => void;
  /** Makes the monitor of a check (from the registry). */
  readonly createMonitor: (spec: CheckSpec) => Monitor;
}

interface Running {
  spec: CheckSpec;
  monitor: Monitor;
  state: TrackerState;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
  /** When the current check was planned to start (ms, the board's clock). */
  due: number;
}

/**
 * Runs health checks and keeps each target's state. Per target: the first check at a random
 * point of the first interval (so checks spread out), then one per interval, at most one in
 * flight, each cut off by its timeout. States are immutable values replaced on each result:
 * the answer path reads whatever is current, never waits.
 */
export class HealthBoard {
  private readonly running = new Map<string, Running>();
  private readonly deps: BoardDeps;

  constructor(deps: BoardDeps) {
    this.deps = deps;
  }

  /** The current state of a target, if it is checked. */
  state(id: string): TrackerState | undefined {
    return this.running.get(id)?.state;
  }

  /** The settings a target is checked with. */
  settings(id: string): TrackerSettings | undefined {
    return this.running.get(id)?.spec.tracker;
  }

  /** Every target and its state, for `steerdns status`. */
  entries(): { id: string; spec: CheckSpec; state: TrackerState }[] {
    return [...this.running.values()].map((r) => ({ id: r.spec.id, spec: r.spec, state: r.state }));
  }

  /** Starts new checks, stops removed ones, keeps the state of those that stay. */
  setChecks(specs: readonly CheckSpec[]): void {
    const wanted = new Map(specs.map((spec) => [spec.id, spec]));
    for (const [id, running] of this.running) {
      if (!wanted.has(id)) this.stopOne(id, running);
    }
    for (const spec of wanted.values()) {
      const existing = this.running.get(spec.id);
      // Same id = same target, type and settings: keep its state and its schedule.
      if (existing) continue;
      const running: Running = {
        spec,
        monitor: this.deps.createMonitor(spec),
        state: initialState(spec.tracker, this.deps.now()),
        timer: undefined,
        stopped: false,
        due: 0,
      };
      this.running.set(spec.id, running);
      this.schedule(running, this.deps.random() * spec.tracker.intervalMs);
    }
  }

  /** Resolves once every target has a first result, or after `graceMs`, whichever is first. */
  async firstRound(graceMs: number): Promise<void> {
    const deadline = this.deps.now() + graceMs;
    while (
      this.deps.now() < deadline &&
      [...this.running.values()].some((r) => r.state.checks === 0)
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops every check and releases the monitors. */
  async stop(): Promise<void> {
    const monitors = [...this.running.values()].map((r) => r.monitor);
    for (const [id, running] of this.running) this.stopOne(id, running);
    await Promise.all(monitors.map((m) => m.close()));
  }

  private stopOne(id: string, running: Running): void {
    running.stopped = true;
    clearTimeout(running.timer);
    this.running.delete(id);
    void running.monitor.close();
  }

  private schedule(running: Running, delayMs: number): void {
    running.due = this.deps.now() + Math.max(0, delayMs);
    running.timer = setTimeout(() => void this.check(running), Math.max(0, delayMs));
    running.timer.unref();
  }

  private async check(running: Running): Promise<void> {
    if (running.stopped) return;
    const { spec } = running;
    const started = this.deps.now();
    const abort = new AbortController();
    const timeout = setTimeout(() => {
      abort.abort();
    }, spec.timeoutMs);
    let result: ProbeResult;
    try {
      result = await running.monitor.check(spec.target, abort.signal);
    } catch (error) {
      result = {
        ok: false,
        latencyMs: this.deps.now() - started,
        reason: `monitor failed: ${String(error)}`,
      };
    } finally {
      clearTimeout(timeout);
    }
    // stop() may have run while the check was in flight.
    if (isStopped(running)) return;
    this.apply(running, result);
    // The next check is planned one interval after this one was planned, not after it
    // started: timer lateness must not add up into a longer period. A check that is a
    // whole interval late goes back to one interval after its start: no catch-up bursts.
    const now = this.deps.now();
    const next = running.due + spec.tracker.intervalMs;
    this.schedule(running, next >= now ? next - now : started + spec.tracker.intervalMs - now);
  }

  private apply(running: Running, result: ProbeResult): void {
    const before = running.state;
    running.state = record(before, result, this.deps.now(), running.spec.tracker);
    this.deps.onResult?.(running.spec.id, running.state);
    if (running.state.health !== before.health) {
      this.deps.onTransition({
        id: running.spec.id,
        from: before.health,
        to: running.state.health,
        reason: result.ok ? `${running.state.successes} checks ok` : (result.reason ?? 'failed'),
        at: this.deps.now(),
      });
    }
  }
}

function isStopped(running: Running): boolean {
  return running.stopped;
}
