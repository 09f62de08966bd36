import { Type } from '@sinclair/typebox';
import { defineMonitor } from '../monitor.js';
import { probeResult } from './probe.js';

/**
 * Reports a fixed state without touching the network: for targets that are not checked
 * from here, and for tests. Reason when down: 'static down'.
 */
export const staticMonitor = defineMonitor({
  type: 'static',
  config: Type.Object(
    {
      state: Type.Union([Type.Literal('up'), Type.Literal('down')], {
        default: 'up',
        description: 'the state every check reports',
      }),
      latencyMs: Type.Number({
        minimum: 0,
        default: 0,
        description: 'the response time every check reports, ms',
      }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    type: 'static',
    check: (_target, signal) =>
      Promise.resolve(
        signal.aborted
          ? probeResult(false, 0, 'timeout')
          : config.state === 'up'
            ? probeResult(true, config.latencyMs)
            : probeResult(false, config.latencyMs, 'static down'),
      ),
    close: () => Promise.resolve(),
  }),
});
