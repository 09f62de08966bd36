import type { CompiledCheck, CompiledConfig } from '../../config/compiled.js';
import { HealthBoard, type CheckSpec } from '../../health/board.js';
import { monitors } from '../../health/monitors/index.js';
import type { TrackerState } from '../../health/tracker.js';
import type { ProbeResult } from '../../health/monitor.js';
import type { Logger } from '../../observability/log.js';
import { healthTransitionLog, membersOfCheck } from '../../server/health-log.js';
import type { ControlNode } from '../node.js';
import { healthIndex } from '../state-view.js';

/** How long results are gathered before they are published; transitions go at once. */
const BATCH_MS = 50;

/** The health checks of a node, publishing their results into it. */
export interface HealthProducer {
  /** Resolves once every check has a first result, or after `graceMs` (default: the start-up grace). */
  firstRound(graceMs?: number): Promise<void>;
  /**
   * Runs only the checks `owns` says this node owns (in a cluster, each check has one
   * owner; the others' results arrive from it); undefined: every check. A check that
   * stays keeps its state and schedule.
   */
  setOwnership(owns: ((checkId: string) => boolean) | undefined): void;
  stop(): Promise<void>;
}

/** What the board runs for a compiled check. */
export function checkSpec(check: CompiledCheck): CheckSpec {
  return {
    id: check.id,
    target: { id: check.id, address: check.address, port: check.port },
    type: check.type,
    settings: check.settings,
    tracker: check.tracker,
    timeoutMs: check.timeoutMs,
  };
}

const specsOf = (config: CompiledConfig, owns: (checkId: string) => boolean): CheckSpec[] =>
  config.health.checks.filter((check) => owns(check.id)).map(checkSpec);

const everyCheck = (): boolean => true;

/**
 * Runs the checks of the node's configuration (following reloads: a check that stays
 * keeps its state and schedule) and publishes results in batches: a change of health at
 * once (on the next turn of the event loop), other results at most every 50 ms.
 */
export function startHealthProducer(
  node: ControlNode,
  log: Logger,
  clock: { now: () => number; random: () => number } = { now: Date.now, random: Math.random },
  /** Told every result of a check this node runs (the metrics count them). */
  onCheck?: (id: string, result: ProbeResult) => void,
): HealthProducer {
  const pending = new Map<string, TrackerState>();
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = immediate = undefined;
    if (pending.size === 0) return;
    const states = [...pending];
    pending.clear();
    void node.publish({ kind: 'health', states });
  };
  const board: HealthBoard = new HealthBoard({
    now: clock.now,
    random: clock.random,
    createMonitor: (spec) => monitors.get(spec.type)!.create(spec.settings),
    onTransition: healthTransitionLog(log, (id) =>
      membersOfCheck(healthIndex(node.snapshot().config).targetOf, id),
    ),
    onResult: (id, state) => {
      if (state.last) onCheck?.(id, state.last);
      const before = pending.get(id) ?? node.snapshot().health.get(id);
      pending.set(id, state);
      if (before?.health !== state.health) immediate ??= setImmediate(flush);
      else timer ??= setTimeout(flush, BATCH_MS);
    },
  });
  let owns: (checkId: string) => boolean = everyCheck;
  // A new check starts in its configured initial state, before any result.
  const follow = (config: CompiledConfig): void => {
    board.setChecks(specsOf(config, owns));
    const known = node.snapshot().health;
    for (const entry of board.entries())
      if (!known.has(entry.id) && !pending.has(entry.id)) pending.set(entry.id, entry.state);
    flush();
  };
  follow(node.snapshot().config);
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind === 'config') follow(snapshot.config);
  });
  return {
    async firstRound(graceMs = node.snapshot().config.health.startupGraceMs) {
      await board.firstRound(graceMs);
      flush();
    },
    setOwnership(next) {
      owns = next ?? everyCheck;
      follow(node.snapshot().config);
    },
    async stop() {
      unsubscribe();
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      await board.stop();
    },
  };
}
