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
  let reloading = Promise.resolve(true);
  const once = async (): Promise<boolean> => {
    try {
      const loaded = await loadAll(source, node.persistence);
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
        return false;
      }
      const serials = [...loaded.loaded.zones.zones.values()].map((zone) => zone.serial);
      log.info({ zones: loaded.loaded.zones.zones.size, serials }, done);
      return true;
    } catch (error) {
      logLoadFailure(log, error, 'reload rejected, still serving the previous configuration');
      return false;
    } finally {
      // The old snapshot, or the rejected load, is garbage now either way.
      setImmediate(collectLoadGarbage);
    }
  };
  return {
    reload() {
      // One reload at a time: a second SIGHUP waits for the first.
      reloading = reloading.then(once, once);
      return reloading;
    },
  };
}
