import type { CompiledConfig } from '../../config/compiled.js';
import type { Logger } from '../../observability/log.js';
import { loadZones } from '../../server/load-zones.js';
import { serviceNames } from '../../server/load-services.js';
import type { ZoneSet } from '../../zone/zone-set.js';
import { collectLoadGarbage } from '../../lib/heap.js';
import type { PrimaryMessage, SharedSnapshot, WorkerMessage } from '../messages.js';
import { ControlNode } from '../node.js';
import { explainOn } from '../consumers/status.js';
import type { Replicator } from '../replication.js';

/** What a worker's link to its primary delivers. */
export interface PrimaryLink {
  /** Resolves the worker's node, built from the primary's first snapshot. */
  readonly node: Promise<ControlNode>;
  /** The replicator of the node's tables, once the node exists. */
  replicator(): Replicator | undefined;
  /** Resolves when the primary says stop. */
  readonly stopped: Promise<void>;
}

/** The channel to the primary: `process` in a cluster worker. */
export interface Channel {
  on(event: 'message', listener: (message: PrimaryMessage) => void): void;
  send(message: WorkerMessage): void;
}

async function zonesOf(config: CompiledConfig): Promise<ZoneSet> {
  const { zones } = await loadZones(config.zones, serviceNames(config));
  collectLoadGarbage();
  return zones;
}

async function nodeFrom(snapshot: SharedSnapshot): Promise<ControlNode> {
  const node = new ControlNode(snapshot.config, await zonesOf(snapshot.config), {
    agents: snapshot.agents,
  });
  if (snapshot.health.length > 0) void node.publish({ kind: 'health', states: snapshot.health });
  if (snapshot.overrides.length > 0)
    void node.publish({ kind: 'overrides', overrides: snapshot.overrides });
  if (snapshot.referral) void node.publish({ kind: 'referral', referral: snapshot.referral });
  if (snapshot.sites) void node.publish({ kind: 'sites', sites: snapshot.sites });
  return node;
}

/**
 * The producer of a worker: the primary's snapshot and changes, applied to the worker's
 * node in the order they were sent. A configuration change loads its zones here first
 * (in slices: the worker answers meanwhile), then says `reloaded`; if they do not load,
 * the worker keeps the previous configuration and says `rejected`. The primary sends the
 * next worker its change only then (`consumers/workers.ts`).
 * Replicated rows go to the replicator `replicate` makes for the node when it exists.
 */
export function linkToPrimary(
  channel: Channel,
  log: Logger,
  replicate: (node: ControlNode) => Replicator,
): PrimaryLink {
  let resolveNode!: (node: ControlNode) => void;
  let rejectNode!: (error: unknown) => void;
  const nodePromise = new Promise<ControlNode>((resolve, reject) => {
    resolveNode = resolve;
    rejectNode = reject;
  });
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let queue = Promise.resolve();
  let node: ControlNode | undefined;
  let replicator: Replicator | undefined;
  const handle = async (message: PrimaryMessage): Promise<void> => {
    if (message.type === 'stop') {
      resolveStopped();
      return;
    }
    // Answered by the worker's own listener (app.ts), not queued behind a reload.
    if (message.type === 'report') return;
    if (message.type === 'snapshot') {
      node = await nodeFrom(message.snapshot);
      replicator = replicate(node);
      resolveNode(node);
      return;
    }
    if (!node) return;
    if (message.type === 'replicate') {
      replicator?.receive(message.batch);
      return;
    }
    if (message.type === 'explain') {
      const outcome = explainOn(node)(message.request);
      channel.send(
        outcome instanceof Error
          ? { type: 'explained', id: message.id, error: { message: outcome.message } }
          : { type: 'explained', id: message.id, explanation: outcome },
      );
      return;
    }
    const { change } = message;
    if (change.kind !== 'config') {
      void node.publish(change);
      return;
    }
    try {
      const zones = await zonesOf(change.config);
      const errors = await node.publish({ kind: 'config', config: change.config, zones });
      for (const error of errors)
        log.error({ err: error }, `configuration ${message.version}: ${error.message}`);
      const serials = [...zones.zones.values()].map((zone) => zone.serial);
      if (errors.length === 0) log.info({ zones: zones.zones.size, serials }, 'reloaded');
      channel.send({ type: 'reloaded', version: message.version });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      channel.send({ type: 'rejected', version: message.version, reason });
    }
  };
  channel.on('message', (message) => {
    queue = queue
      .then(() => handle(message))
      .catch((error: unknown) => {
        if (!node) rejectNode(error);
        log.error({ err: error }, `message from the primary failed: ${String(error)}`);
      });
  });
  return { node: nodePromise, stopped, replicator: () => replicator };
}
