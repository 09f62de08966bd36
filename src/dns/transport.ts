/** How a query arrived. */
export type Transport = 'udp' | 'tcp';

/**
 * Answers one packet: one reply, several (a zone transfer over TCP) or none. Must not
 * throw for bad input; a throw is a bug, which the transports count and survive. Several
 * replies come as an iterable that may make them lazily (AXFR streams its messages): the
 * TCP transport takes one at a time, as the client reads them.
 */
export type PacketHandler = (
  msg: Buffer,
  transport: Transport,
  address: string,
) => Buffer | Iterable<Buffer> | undefined;

/** Reports a handler bug once per occurrence, with the error. */
export type ErrorReporter = (error: unknown, transport: Transport) => void;

/** A SERVFAIL for a packet whose handler failed: header only, ID and opcode kept. */
export function servfailFor(msg: Buffer): Buffer | undefined {
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined;
  const out = Buffer.alloc(12);
  out.writeUInt16BE(msg.readUInt16BE(0), 0);
  out[2] = 0x80 | (msg[2]! & 0x79);
  out[3] = 2;
  return out;
}
