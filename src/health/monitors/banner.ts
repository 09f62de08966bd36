import { connect } from 'node:net';
import { Type } from '@sinclair/typebox';
import { defineMonitor } from '../monitor.js';
import { endpoint, errorReason, runProbe } from './probe.js';

/** What each protocol's server says first when it is ready, and its well-known port. */
export const BANNERS = {
  smtp: { port: 25, ready: /^220[ -]/ },
  pop3: { port: 110, ready: /^\+OK/ },
  ftp: { port: 21, ready: /^220[ -]/ },
  // 200: posting allowed, 201: no posting; either is a ready server.
  nntp: { port: 119, ready: /^20[01][ -]/ },
} as const;

export type BannerProtocol = keyof typeof BANNERS;

/** A greeting line longer than this is not one (RFC 5321 allows 512 octets a line). */
export const MAX_BANNER_BYTES = 512;

/** How long a socket that said QUIT waits for the server to close before it is destroyed. */
const QUIT_WAIT_MS = 1000;

/** The first line of `bytes`, or undefined while no line ending came. */
function firstLine(bytes: Buffer): string | undefined {
  const end = bytes.indexOf('\n');
  return end < 0 ? undefined : bytes.subarray(0, end).toString('latin1').replace(/\r$/, '');
}

/** The reason a greeting fails: `banner "<first 3 characters>"`, as a stable short string. */
const mismatch = (line: string): string => `banner "${line.slice(0, 3)}"`;

/**
 * Connects and reads the server's greeting (seed 003's content checks of SMTP, POP3, FTP
 * and NNTP): up when the first line is the protocol's ready reply (`220`, `+OK`, `220`,
 * `200`/`201`), then sends `QUIT` and closes. One implementation, a table of protocols.
 * Reasons: those of `tcp`, `banner "XYZ"` (another reply), `closed` (no line before the
 * server closed), `banner too long`.
 */
export const banner = defineMonitor({
  type: 'banner',
  config: Type.Object(
    {
      protocol: Type.Union(
        (Object.keys(BANNERS) as BannerProtocol[]).map((p) => Type.Literal(p)),
        { description: 'smtp, pop3, ftp or nntp' },
      ),
      port: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 65535,
          description: "default: the target's port, else the protocol's (25, 110, 21, 119)",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  create: (config) => ({
    type: 'banner',
    check: (target, signal) =>
      runProbe(signal, (finish) => {
        const { port: wellKnown, ready } = BANNERS[config.protocol];
        const to = endpoint(target, config.port, wellKnown);
        if (typeof to === 'string') {
          finish(false, to);
          return () => undefined;
        }
        const socket = connect({ host: to.address, port: to.port });
        let received = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          const line = firstLine(received);
          if (line === undefined) {
            if (received.length > MAX_BANNER_BYTES) finish(false, 'banner too long');
            return;
          }
          const ok = ready.test(line);
          // A polite goodbye: QUIT and our FIN; the server's close (or a second) ends it.
          if (ok) {
            socket.end('QUIT\r\n');
            socket.setTimeout(QUIT_WAIT_MS, () => socket.destroy());
          }
          finish(ok, ok ? undefined : mismatch(line));
        });
        socket.on('end', () => {
          finish(false, 'closed');
        });
        socket.on('error', (error) => {
          finish(false, errorReason(error));
        });
        return () => {
          if (!socket.writableEnded) socket.destroy();
        };
      }),
    close: () => Promise.resolve(),
  }),
});
