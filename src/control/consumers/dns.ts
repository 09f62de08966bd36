import type { Logger } from '../../observability/log.js';
import type { ProtectionStats } from '../../answer/protection.js';
import type { QueryTotals } from '../../answer/query-counters.js';
import { DnsServer, type BoundDns } from '../../server/dns-server.js';
import type { ControlNode } from '../node.js';
import { QuestionSampler } from '../../answer/question-sampler.js';
import { startDecisionSampling, type SampledDecision } from '../decisions.js';
import { explainOn } from './status.js';

/** The DNS server of a process, answering from the node's current snapshot. */
export interface DnsConsumer {
  bound(): BoundDns;
  /** Counters of rate limiting and cookies in this process. */
  protectionStats(): Readonly<ProtectionStats>;
  /** The query counters of this process (metrics); they change when `queriesCounted` does. */
  queryTotals(): QueryTotals;
  queriesCounted(): number;
  stop(): Promise<void>;
}

/**
 * Starts answering on the configured addresses. Every query reads the state of the
 * snapshot current when it arrives; a new configuration or a change of the announced
 * members swaps in a new responder, and a new `listen` list or TCP limits are applied
 * (the subscriber's promise says whether the new addresses could be bound). A few real
 * steered queries a second are explained on the node and given to `onDecision` (the
 * decisions log, see decisions.ts).
 */
export async function startDnsConsumer(
  node: ControlNode,
  log: Logger,
  onDecision?: (decision: SampledDecision) => void,
): Promise<DnsConsumer> {
  const first = node.snapshot();
  const sampler = onDecision && new QuestionSampler();
  const server = new DnsServer(
    first.config,
    first.zones,
    first.services,
    log,
    () => node.snapshot().state,
    // Only a DNS-B has a table (referral.backbone), only a proxying DNS-LB proxied names;
    // a reload may make this node either.
    (key, qtype, address) => {
      const referral = node.snapshot().referral;
      return referral.table?.refer(key, qtype, address) ?? referral.proxied?.answer(key, qtype);
    },
    sampler,
  );
  await server.start();
  const sampling = sampler && startDecisionSampling(sampler, explainOn(node), onDecision);
  let served = first;
  let relistening = Promise.resolve();
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (snapshot.services === served.services && snapshot.zones === served.zones) return undefined;
    const configChanged = snapshot.config !== served.config;
    served = snapshot;
    server.reload(snapshot.config, snapshot.zones, snapshot.services);
    if (!configChanged || change.kind !== 'config') return undefined;
    const applied = relistening.then(async () => {
      await server.relisten(snapshot.config);
    });
    relistening = applied.catch(() => undefined);
    return applied;
  });
  return {
    bound: () => server.bound(),
    protectionStats: () => server.protectionStats,
    queryTotals: () => server.queryTotals(),
    queriesCounted: () => server.queriesCounted,
    async stop() {
      sampling?.stop();
      unsubscribe();
      await relistening;
      await server.close();
    },
  };
}
