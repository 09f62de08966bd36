import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ReplayWindow, type ReplayFailure } from '../lib/replay-window.js';
import { Ack, decodeFrame, FrameCollector, type FrameFailure } from './frame.js';
import { asReport, type SiteReport } from './report.js';

/** Why a DSSP frame was dropped (stable strings: counted in `GET /status`). */
export type DropReason = FrameFailure | ReplayFailure | 'unknown-sender' | 'timeout';

/** Counts of what the listener took and dropped. */
export interface ReceiverStats {
  accepted: number;
  dropped: Partial<Record<DropReason, number>>;
}

/** What the listener needs. */
export interface ReceiverOptions {
  readonly keys: ReadonlyMap<string, Buffer>;
  /** The peer sites a report may come from. */
  readonly peers: ReadonlySet<string>;
  readonly maxSkewMs: number;
  /** An accepted report. */
  readonly accept: (report: SiteReport) => void;
  /** A dropped frame, with the connection's remote address (for the log). */
  readonly dropped: (reason: DropReason, from: string) => void;
  readonly now?: () => number;
}

/** How long a connection may take to deliver its one frame. */
const FRAME_TIMEOUT_MS = 5000;

/**
 * The DSSP listener: one frame per connection, checked (MAC, then the report's shape, then
 * the sender, then the replay window) before anything of it is applied; answered with one
 * byte. Forged, replayed, stale, truncated and malformed frames are dropped and counted.
 */
export class DsspReceiver {
  readonly stats: ReceiverStats = { accepted: 0, dropped: {} };
  private readonly server: Server;
  private readonly window: ReplayWindow;
  private readonly options: ReceiverOptions;

  constructor(options: ReceiverOptions) {
    this.options = options;
    this.window = new ReplayWindow(options.maxSkewMs, options.now);
    this.server = createServer((socket) => {
      this.serve(socket);
    });
  }

  /** Binds; resolves the bound address. */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  /** Checks one whole frame; returns why it was dropped, or undefined when applied. */
  receive(frame: Buffer): DropReason | undefined {
    const decoded = decodeFrame(frame, this.options.keys);
    if (!decoded.ok) return decoded.reason;
    const report = asReport(decoded.body);
    if (!report) return 'malformed';
    if (!this.options.peers.has(report.sender)) return 'unknown-sender';
    const replay = this.window.accept(report.sender, report);
    if (replay) return replay;
    this.options.accept(report);
    return undefined;
  }

  private serve(socket: Socket): void {
    const from = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const collector = new FrameCollector();
    let done = false;
    const finish = (reason: DropReason | undefined): void => {
      if (done) return;
      done = true;
      if (reason === undefined) this.stats.accepted += 1;
      else {
        this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
        this.options.dropped(reason, from);
      }
      socket.end(Buffer.from([reason === undefined ? Ack.ACCEPTED : Ack.REJECTED]));
    };
    socket.setTimeout(FRAME_TIMEOUT_MS, () => {
      finish('timeout');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      const frame = collector.push(chunk);
      if (frame === 'oversize') finish('oversize');
      else if (frame) finish(this.receive(frame));
    });
    // A peer that closes before a whole frame came sent a truncated one.
    socket.on('end', () => {
      finish('truncated');
    });
    socket.on('error', () => socket.destroy());
  }
}
