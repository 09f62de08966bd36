import { SteerdnsError } from '../lib/errors.js';
import { batchedEngine } from './udp-batched.js';
import type { UdpEngine, UdpEngineName } from './udp-engine.js';
import { dgramEngine } from './udp.js';

/** Every UDP engine, by name: `dns.udpEngine` chooses one (or `auto`). */
export const UDP_ENGINES = [dgramEngine, batchedEngine] as const satisfies readonly UdpEngine[];

/** `dns.udpEngine`: an engine's name, or `auto`. */
export type UdpEngineSetting = UdpEngineName | 'auto';

/** What a process runs, and why (for the one log line that says it). */
export interface UdpEngineChoice {
  readonly engine: UdpEngine;
  readonly reason: string;
}

/** What {@link chooseUdpEngine} needs to know of the process. */
export interface UdpEngineContext {
  /** Workers of the node: with more than one, each binds its own socket (SO_REUSEPORT). */
  readonly workers: number;
  /** The ports of the listen addresses. */
  readonly ports: readonly number[];
}

const byName = (name: UdpEngineName): UdpEngine => UDP_ENGINES.find((e) => e.name === name)!;

/**
 * The engine for `setting`. `auto` runs `batched` when the addon loads and every worker can
 * bind its own socket on the same port, else `dgram`. `batched` throws when it cannot run:
 * the addon does not load, or `workers > 1` with a listen port 0 (each worker would get its
 * own port; Node's cluster shares one dgram socket instead, which the addon cannot).
 */
export function chooseUdpEngine(
  setting: UdpEngineSetting,
  context: UdpEngineContext,
): UdpEngineChoice {
  if (setting === 'dgram') return { engine: dgramEngine, reason: 'dns.udpEngine: dgram' };
  const reason = batchedEngine.unavailable();
  const portZero =
    context.workers > 1 && context.ports.includes(0)
      ? `workers: ${context.workers} with a listen port 0 (each worker binds its own socket, so the port must be given)`
      : undefined;
  const blocked = reason ?? portZero;
  if (setting === 'batched') {
    if (blocked !== undefined)
      throw new SteerdnsError(
        'STEERDNS_ERR_UDP_ENGINE',
        `dns.udpEngine: batched cannot run: ${blocked}`,
      );
    return { engine: batchedEngine, reason: 'dns.udpEngine: batched' };
  }
  if (blocked !== undefined) return { engine: byName('dgram'), reason: `auto: ${blocked}` };
  return { engine: byName('batched'), reason: 'auto: the UDP addon loaded' };
}
