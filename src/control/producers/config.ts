import { ConfigError, type Problem } from '../../lib/errors.js';
import { collectLoadGarbage } from '../../lib/heap.js';
import type { Logger } from '../../observability/log.js';
import type { ZoneSet } from '../../zone/zone-set.js';
import { loadAll, logLoadFailure, type ConfigSource, type Loaded } from '../load.js';
import type { ControlNode } from '../node.js';

/** Re-reads the configuration on request and publishes it into the node. */
export interface ConfigReloader {
  /**
   * Loads and checks everything, then publishes it; keeps the running configuration if
   * anything is wrong, and says why. Resolves true once applied everywhere in the process
   * (listeners rebound included).
   */
  reload(): Promise<boolean>;
  /** {@link reload}, resolving why a rejected configuration was rejected (`POST /api/v1/reload`). */
  reloadOutcome(): Promise<ReloadOutcome>;
  /**
   * Loads from `source` as {@link reload} does; once it applies, `source` is what later
   * reloads read (a SIGHUP after `steerdns cluster config push` re-reads the pushed file).
   * Resolves the problems that rejected it, `file:line: reason` each.
   */
  reloadFrom(source: ConfigSource): Promise<ReloadOutcome>;
}

/** Whether a reload applied, and if not, why. */
export interface ReloadOutcome {
  readonly ok: boolean;
  /** Empty when ok; an error that names no line is a problem at line 0 of the file. */
  readonly problems: readonly Problem[];
}

/** The problems of a rejected load. */
function problemsOf(error: unknown, file: string): Problem[] {
  if (error instanceof ConfigError) return [...error.problems];
  return [{ file, line: 0, reason: error instanceof Error ? error.message : String(error) }];
}

/**
 * The configuration producer. `keep` says which zones this process keeps of a load: all of
 * them to answer, an outline (apexes and service names) in a primary that only validates.
 */
export function configReloader(
  node: ControlNode,
  source: ConfigSource,
  log: Logger,
  keep: (loaded: Loaded) => ZoneSet = (loaded) => loaded.loaded.zones,
  // What says it is done: `reloaded` where this process answers; a primary's workers each
  // say it once they have loaded the zones themselves.
  done = 'reloaded',
): ConfigReloader {
  let current = source;
  let reloading: Promise<unknown> = Promise.resolve();
  const once = async (from: ConfigSource): Promise<ReloadOutcome> => {
    let file = node.snapshot().config.file ?? 'configuration';
    try {
      const loaded = await loadAll(from, node.persistence);
      file = loaded.config.file ?? file;
      for (const warning of loaded.loaded.warnings)
        log.warn(`${warning.file}:${warning.line}: ${warning.reason}`);
      const previous = node.snapshot();
      const errors = await node.publish({
        kind: 'config',
        config: loaded.config,
        zones: keep(loaded),
      });
      if (errors.length > 0) {
        // A listener that cannot move (the new address is taken, say): all of it goes back.
        for (const error of errors)
          log.error(
            { err: error },
            `reload rejected, still serving the previous configuration: ${error.message}`,
          );
        await node.publish({ kind: 'config', config: previous.config, zones: previous.zones });
        return { ok: false, problems: errors.flatMap((error) => problemsOf(error, file)) };
      }
      const serials = [...loaded.loaded.zones.zones.values()].map((zone) => zone.serial);
      log.info({ zones: loaded.loaded.zones.zones.size, serials }, done);
      current = from;
      return { ok: true, problems: [] };
    } catch (error) {
      logLoadFailure(log, error, 'reload rejected, still serving the previous configuration');
      return { ok: false, problems: problemsOf(error, file) };
    } finally {
      // The old snapshot, or the rejected load, is garbage now either way.
      setImmediate(collectLoadGarbage);
    }
  };
  const reloadFrom = (next: () => ConfigSource): Promise<ReloadOutcome> => {
    // One reload at a time: a second SIGHUP waits for the first.
    const run = (): Promise<ReloadOutcome> => once(next());
    const outcome = reloading.then(run, run);
    reloading = outcome;
    return outcome;
  };
  return {
    async reload() {
      return (await reloadFrom(() => current)).ok;
    },
    reloadOutcome: () => reloadFrom(() => current),
    reloadFrom: (source) => reloadFrom(() => source),
  };
}
