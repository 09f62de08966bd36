import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { runSubprocess } from '../lib/subprocess.js';

/** A notify FIFO being read. */
export interface FifoReader {
  close(): void;
}

/**
 * Creates the FIFO (anew) and reads it line by line. It is opened read-write, so that the
 * open does not wait for a writer and the reader never sees an end of file when keepalived
 * restarts; non-blocking, as a socket on the event loop (no thread-pool thread waits on it).
 */
export async function readFifo(path: string, onLine: (line: string) => void): Promise<FifoReader> {
  await runSubprocess(['rm', '-f', path], { maxOutputBytes: 0 });
  const made = await runSubprocess(['mkfifo', '-m', '0600', path], {
    maxOutputBytes: 1024,
    stderr: 'output',
  });
  if (made.failure !== undefined) throw new Error(`mkfifo ${path}: ${made.output.trim()}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  const socket = new Socket({ fd, readable: true, writable: false });
  const lines = createInterface({ input: socket });
  lines.on('line', onLine);
  return {
    close() {
      lines.close();
      socket.destroy();
    },
  };
}
