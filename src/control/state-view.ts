import type { CompiledConfig } from '../config/compiled.js';
import type { TrackerSettings, TrackerState } from '../health/tracker.js';
import { healthStateView, type TargetStates } from '../health/view.js';
import type { LoadedServices } from '../server/load-services.js';
import { agentStateView } from '../server/agents.js';
import type { StateView } from '../steering/types.js';
import type { AgentSnapshot } from '../agent/registry.js';

/** Member key -> check id, and check id -> tracker settings, of a configuration. */
interface HealthIndex {
  readonly targetOf: ReadonlyMap<string, string>;
  readonly settings: ReadonlyMap<string, TrackerSettings>;
}

// A configuration is immutable: its index is worked out once, not once per health result.
const indexes = new WeakMap<CompiledConfig, HealthIndex>();

/** Which check each member depends on, and each check's state machine settings. */
export function healthIndex(config: CompiledConfig): HealthIndex {
  let index = indexes.get(config);
  if (index) return index;
  const targetOf = new Map<string, string>();
  for (const service of config.services)
    for (const pool of service.pools)
      for (const member of pool.members)
        if (member.check !== undefined) targetOf.set(member.key, member.check);
  const settings = new Map(config.health.checks.map((check) => [check.id, check.tracker]));
  index = { targetOf, settings };
  indexes.set(config, index);
  return index;
}

/** Target states read from a health layer. */
export function targetStates(
  config: CompiledConfig,
  health: ReadonlyMap<string, TrackerState>,
): TargetStates {
  const { settings } = healthIndex(config);
  return { state: (id) => health.get(id), settings: (id) => settings.get(id) };
}

/**
 * The state view of one snapshot: what the configuration says, then what agents
 * announce, then what health checks found (each layer wins over the one below).
 */
export function composeState(
  config: CompiledConfig,
  services: LoadedServices,
  health: ReadonlyMap<string, TrackerState>,
  agents: AgentSnapshot,
): StateView {
  const base = agentStateView(services.byKey.values(), agents, services.staticState);
  return healthStateView(healthIndex(config).targetOf, targetStates(config, health), base);
}
