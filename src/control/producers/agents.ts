import type { CompiledConfig } from '../../config/compiled.js';
import type { Logger } from '../../observability/log.js';
import {
  classifierFor,
  NO_AGENTS,
  startAgentListener,
  type AgentListener,
  type AgentSnapshot,
} from '../../server/agents.js';
import { logLoadFailure } from '../load.js';
import type { ControlNode } from '../node.js';

/** Node status announcements received by this process, published into the node. */
export interface AgentsProducer {
  /** Where the sockets are bound now (none without an `agents` section). */
  bound(): readonly string[];
  stop(): Promise<void>;
}

/**
 * Receives announcements while the configuration has an `agents` section, following
 * reloads (new keys, moved sockets, the section added or removed), and publishes every
 * new snapshot of the nodes heard.
 */
export async function startAgentsProducer(node: ControlNode, log: Logger): Promise<AgentsProducer> {
  let listener: AgentListener | undefined;
  const publish = (agents: AgentSnapshot): void => {
    try {
      void node.publish({ kind: 'agents', agents });
    } catch (error) {
      logLoadFailure(log, error, 'announced members not applied');
    }
  };
  const follow = async (config: CompiledConfig): Promise<void> => {
    const wanted = config.agents;
    const classify = classifierFor(config.services);
    if (wanted && listener) {
      await listener.update(wanted);
      listener.setClassify(classify);
    } else if (wanted) {
      listener = await startAgentListener(wanted, log, publish, { classify });
    } else if (listener) {
      const closing = listener;
      listener = undefined;
      await closing.close();
      publish(NO_AGENTS);
    }
  };
  await follow(node.snapshot().config);
  // Reloads are applied one after the other; a failure is the reloader's to report.
  let following = Promise.resolve();
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind !== 'config') return undefined;
    const applied = following.then(() => follow(snapshot.config));
    following = applied.catch(() => undefined);
    return applied;
  });
  return {
    bound: () => listener?.bound() ?? [],
    async stop() {
      unsubscribe();
      await following;
      await listener?.close();
    },
  };
}
