import type { PolicyDefinition } from '../types.js';
import { admin } from './admin.js';
import { capacity } from './capacity.js';
import { consistentHash } from './consistent-hash.js';
import { cost } from './cost.js';
import { first } from './first.js';
import { handoff } from './handoff.js';
import { leastConnections, leastLoad } from './least.js';
import { measured } from './measured.js';
import { overload } from './overload.js';
import { persistence } from './persistence.js';
import { proximity } from './proximity.js';
import { topology } from './topology.js';
import { geo } from './geo.js';
import { randomWeighted } from './random-weighted.js';
import { responseTime } from './response-time.js';
import { roundRobin } from './round-robin.js';
import { stripe } from './stripe.js';
import { up } from './up.js';
import { weighted } from './weighted.js';

/** Every policy, by the name used in configuration. The one place policies are registered. */
export const policies: ReadonlyMap<string, PolicyDefinition> = new Map(
  (
    [
      up,
      admin,
      overload,
      capacity,
      roundRobin,
      weighted,
      randomWeighted,
      leastLoad,
      leastConnections,
      stripe,
      consistentHash,
      handoff,
      responseTime,
      first,
      persistence,
      topology,
      geo,
      proximity,
      cost,
      measured,
    ] as PolicyDefinition[]
  ).map((definition) => [definition.name, definition]),
);
