import type { CompiledConfig } from '../config/compiled.js';
import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../observability/log.js';
import { loadServices, serviceNames, type LoadedServices } from '../server/load-services.js';
import { loadZones, type LoadedZones } from '../server/load-zones.js';
import type { PersistenceStores } from '../steering/persistence-store.js';
import type { AnnouncedNode } from '../agent/registry.js';

/** Produces a compiled configuration: from a file, or from command-line flags. */
export type ConfigSource = () => Promise<CompiledConfig>;

/** A configuration with its zones loaded and its services built on them, all checked. */
export interface Loaded {
  readonly config: CompiledConfig;
  readonly loaded: LoadedZones;
  readonly services: LoadedServices;
}

/**
 * Compiles the configuration, loads its zones and builds its services on them; throws
 * {@link ConfigError} listing every problem, and returns nothing unless all is good.
 */
export async function loadAll(
  source: ConfigSource | CompiledConfig,
  stores?: PersistenceStores,
  announced: readonly AnnouncedNode[] = [],
): Promise<Loaded> {
  const config = typeof source === 'function' ? await source() : source;
  const loaded = await loadZones(config.zones, serviceNames(config));
  const { services, problems } = loadServices(config, loaded.zones, stores, announced);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, loaded, services };
}

/** Logs a failed load once, one line per problem. */
export function logLoadFailure(log: Logger, error: unknown, what: string): void {
  if (error instanceof ConfigError) {
    for (const problem of error.problems)
      log.error({ problem }, `${what}: ${problem.file}:${problem.line}: ${problem.reason}`);
  } else {
    log.error({ err: error }, `${what}: ${String(error)}`);
  }
}
