import { explainOrError, type ExplainRequest } from '../../answer/explain.js';
import { memberStatus, type MemberStatus } from '../../server/member-status.js';
import type { ExplainOutcome } from '../../server/status-api.js';
import type { ControlNode, NodeSnapshot } from '../node.js';
import { healthIndex, targetStates } from '../state-view.js';

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
