import { Type } from '@sinclair/typebox';
import { runSubprocess } from '../../lib/subprocess.js';
import { defineMonitor, type Target } from '../monitor.js';
import { runProbe } from './probe.js';

/**
 * Runs a command (argv, no shell) with the target in its environment; up when it exits 0.
 * The command runs in its own process group, killed with SIGKILL (group and all) when it
 * exits and when the check is aborted ({@link runSubprocess}); what it prints goes to
 * /dev/null. Reasons: 'exit 3', 'signal SIGKILL', 'timeout', 'spawn ENOENT' (or another spawn
 * error code).
 */
export const script = defineMonitor({
  type: 'script',
  config: Type.Object(
    {
      command: Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'program and arguments, run without a shell',
      }),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    type: 'script',
    check: (target, signal) =>
      runProbe(signal, (finish) => {
        const stop = new AbortController();
        void runSubprocess(config.command, {
          env: scriptEnv(target, process.env),
          maxOutputBytes: 0, // nothing reads it
          signal: stop.signal,
        }).then(({ failure }) => {
          finish(failure === undefined, failure);
        });
        return () => {
          stop.abort();
        };
      }),
    close: () => Promise.resolve(),
  }),
});

/** The environment of a check: the monitor's own, plus the target. */
export function scriptEnv(target: Target, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    STEERDNS_TARGET_ADDRESS: target.address,
    STEERDNS_TARGET_ID: target.id,
  };
  if (target.port === undefined) delete env['STEERDNS_TARGET_PORT'];
  else env['STEERDNS_TARGET_PORT'] = String(target.port);
  return env;
}
