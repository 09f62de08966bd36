import { connect } from 'node:net';
import { Type } from '@sinclair/typebox';
import { defineMonitor } from '../monitor.js';
import { endpoint, errorReason, runProbe } from './probe.js';

/**
 * Opens a TCP connection to the target and closes it at once (the seed 003 "TCP
 * OPEN/CLOSE" check). Up when the connection opens. Reasons: 'refused', 'timeout',
 * 'unreachable', 'no port', 'bad address', 'bad port', other error codes lower-cased.
 */
export const tcp = defineMonitor({
  type: 'tcp',
  config: Type.Object(
    {
      port: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 65535, description: "default: the target's port" }),
      ),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    type: 'tcp',
    check: (target, signal) =>
      runProbe(signal, (finish) => {
        const to = endpoint(target, config.port);
        if (typeof to === 'string') {
          finish(false, to);
          return () => undefined;
        }
        const socket = connect({ host: to.address, port: to.port });
        socket.once('connect', () => {
          finish(true);
        });
        socket.on('error', (error) => {
          finish(false, errorReason(error));
        });
        // An open check connection is reset, not closed: no FIN exchange and no TIME_WAIT
        // left behind per check, which is most of a check's cost at thousands per second.
        return () => {
          if (socket.readyState === 'open') socket.resetAndDestroy();
          else socket.destroy();
        };
      }),
    close: () => Promise.resolve(),
  }),
});
