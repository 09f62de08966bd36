import { explainOrError, type ExplainRequest } from '../../answer/explain.js';
import { hostPort } from '../../lib/ip.js';
import type { Logger } from '../../observability/log.js';
import { memberStatus, type MemberStatus } from '../../server/member-status.js';
import {
  StatusApiHolder,
  type DnsCounters,
  type ExplainOnLiveState,
  type ExplainOutcome,
  type StatusSections,
} from '../../server/status-api.js';
import type { ControlNode, NodeSnapshot } from '../node.js';
import { healthIndex, targetStates } from '../state-view.js';
import type { MetricsExposition } from '../../observability/metrics-exposition.js';

/** Every member of a snapshot with its live state, as `steerdns status` shows it. */
export function statusRows(snapshot: NodeSnapshot): MemberStatus[] {
  const { config, services, health, state } = snapshot;
  return memberStatus(services, healthIndex(config).targetOf, targetStates(config, health), state);
}

/**
 * Explains a query on the node's live state (health, agents, the services as they are
 * now). Nothing is written (no persistence entry); rotating policies keep their state in
 * the policy, so an explanation moves their rotation by one, as one more query would.
 */
export function explainOn(node: ControlNode): (request: ExplainRequest) => ExplainOutcome {
  return (request) => {
    const snapshot = node.snapshot();
    const deps = {
      names: snapshot.services.byKey,
      state: () => snapshot.state,
      random: Math.random,
      now: Date.now,
      // An operator's question must not pin the client it asks about to a member.
      dryRun: true,
    };
    return explainOrError(deps, snapshot.zones, request);
  };
}

/** The operator interface of a node, following `api.listen` across reloads. */
export interface StatusConsumer {
  /** Where it is bound, `host:port`; undefined when not served. */
  bound(): string | undefined;
  stop(): Promise<void>;
}

/**
 * Serves `GET /status` and `GET /explain` on `api.listen` while it is configured; `counters`
 * are this process's DNS counters, when it answers DNS itself. `GET /status` has the node's
 * cluster view (`snapshot.cluster`) when it is in a cluster; `GET /metrics` serves `metrics`
 * when given; `sections` adds top-level sections to `GET /status`.
 */
export async function startStatusConsumer(
  node: ControlNode,
  log: Logger,
  explain: ExplainOnLiveState | undefined = explainOn(node),
  counters?: DnsCounters,
  metrics?: MetricsExposition,
  sections?: StatusSections,
): Promise<StatusConsumer> {
  const rows = (): MemberStatus[] => statusRows(node.snapshot());
  const cluster = (): unknown => node.snapshot().cluster;
  const api = new StatusApiHolder(rows, log, explain, counters, cluster, metrics, sections);
  await api.follow(node.snapshot().config.api?.listen);
  let following = Promise.resolve();
  const unsubscribe = node.subscribe((snapshot, change) => {
    if (change.kind !== 'config') return undefined;
    const applied = following.then(() => api.follow(snapshot.config.api?.listen));
    following = applied.catch(() => undefined);
    return applied;
  });
  return {
    bound: () => {
      const bound = api.listen;
      return bound && hostPort(bound.host, bound.port);
    },
    async stop() {
      unsubscribe();
      await following;
      await api.close();
    },
  };
}
