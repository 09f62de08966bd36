import { connect } from 'node:net';
import { Ack } from './frame.js';

/** How long one send may take: connect, write, the one-byte answer. */
const SEND_TIMEOUT_MS = 5000;

/** The outcome of one send: the peer's answer, or why there was none. */
export type SendOutcome = 'accepted' | 'rejected' | 'unreachable' | 'timeout';

/** Sends one DSSP frame on a new connection and waits for the one-byte answer. */
export function sendFrame(host: string, port: number, frame: Buffer): Promise<SendOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const settle = (outcome: SendOutcome): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(SEND_TIMEOUT_MS, () => {
      settle('timeout');
    });
    socket.once('connect', () => socket.write(frame));
    socket.once('data', (chunk: Buffer) => {
      settle(chunk[0] === Ack.ACCEPTED ? 'accepted' : 'rejected');
    });
    socket.once('error', () => {
      settle('unreachable');
    });
    socket.once('close', () => {
      settle('unreachable');
    });
  });
}
