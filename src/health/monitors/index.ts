import type { MonitorDefinition } from '../monitor.js';
import { banner } from './banner.js';
import { dns } from './dns.js';
import { http, https } from './http.js';
import { script } from './script.js';
import { staticMonitor } from './static.js';
import { tcp } from './tcp.js';

/** Every monitor, by the type used in configuration. The one place monitors are registered. */
export const monitors: ReadonlyMap<string, MonitorDefinition> = new Map(
  ([tcp, http, https, dns, script, staticMonitor, banner] as const).map((definition) => [
    definition.type,
    definition,
  ]),
);
