import { Type } from '@sinclair/typebox';

/**
 * `dns.udpEngine`: how UDP queries are received and answered. Referenced from
 * `DnsConfigSchema` in schema.ts; the engines are in src/dns/udp-engines.ts.
 */
export const UdpEngineSchema = Type.Union(
  [Type.Literal('auto'), Type.Literal('dgram'), Type.Literal('batched')],
  {
    default: 'dgram',
    description:
      'UDP engine: dgram (node:dgram, everywhere), batched (experimental: the Linux addon, recvmmsg/sendmmsg, replies from the address asked; with workers > 1 every listen port must be given), or auto (batched when the addon is built and can run, else dgram)',
  },
);

/** The engine when `dns.udpEngine` is not given. */
export const DEFAULT_UDP_ENGINE = 'dgram';
