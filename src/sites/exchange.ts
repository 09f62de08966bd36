import { readFile } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { hostPort, parseHostPort } from '../lib/ip.js';
import { MessageClock } from '../lib/replay-window.js';
import type { Logger } from '../observability/log.js';
import type { StateView } from '../steering/types.js';
import { encodeFrame } from './frame.js';
import { constrained, measureName, reachableSites, type SteeredName } from './measure.js';
import { DsspReceiver, type ReceiverStats } from './receiver.js';
import type { EventReason, NameReport, SiteReport } from './report.js';
import { sendFrame, type SendOutcome } from './sender.js';
import { handoffTable, type HandoffTable, type PeerRow } from './table.js';
import type { SitesLayer } from './state-view.js';

/** A peer site as configured. */
export interface PeerSettings {
  readonly name: string;
  /** Its DSSP listener (management address), when written in the file. */
  readonly address: { readonly host: string; readonly port: number } | undefined;
  /** A file holding `ADDR:PORT`, read before each send (a peer bound on port 0). */
  readonly addressFile: string | undefined;
  /** Periodic updates to it, ms; null: off (triggered updates still go). */
  readonly intervalMs: number | null;
}

/** The exchange's settings: the compiled `distributedSites:` section. */
export interface ExchangeSettings {
  readonly site: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** The key id this site signs with; `keys` has it. */
  readonly keyId: string;
  /** Every key accepted, base64, by key id. */
  readonly keys: readonly { readonly id: string; readonly key: string }[];
  readonly maxSkewMs: number;
  readonly weights: readonly number[];
  /** Three or fewer sites: totals by remaining connections, when every site reports them. */
  readonly fewSitesByCapacity: boolean;
  readonly ttl: number;
  readonly useDnsRespond: boolean;
  readonly peers: readonly PeerSettings[];
}

/** The `sites` field of `GET /status` (docs/sites.md, Status). */
export interface SitesStatus {
  readonly site: string;
  readonly listen: string | undefined;
  readonly sent: { readonly updates: number; readonly events: number };
  readonly received: ReceiverStats;
  readonly peers: readonly {
    readonly name: string;
    readonly lastUpdate: string | undefined;
    readonly ageMs: number | undefined;
    readonly lastKind: 'update' | 'event' | undefined;
    readonly fresh: boolean;
    readonly lastSent: string | undefined;
    readonly lastOutcome: SendOutcome | undefined;
  }[];
  readonly tables: readonly HandoffTable[];
  readonly measured: readonly NameReport[];
}

/** What the exchange knows of one peer, for `GET /status`. */
interface PeerLink {
  readonly settings: PeerSettings;
  row: PeerRow | undefined;
  lastSentAt: number | undefined;
  lastOutcome: SendOutcome | undefined;
  timer: NodeJS.Timeout | undefined;
  /** A send that found no listener is tried again after {@link RETRY_MS}. */
  retry: NodeJS.Timeout | undefined;
  /** The next retry's delay: doubles up to the interval while the peer stays silent. */
  retryMs: number;
}

/** How soon a send that reached no peer is tried again (at most the peer's interval). */
export const RETRY_MS = 1000;
/** The longest wait between retries of a peer with periodic updates off. */
const MAX_RETRY_MS = 60_000;

/** The least time between two updates sent because our order changed. */
export const REORDER_SPACING_MS = 2000;

/** The orders of a report, as one string to compare. */
const orderKey = (names: readonly NameReport[]): string =>
  JSON.stringify(names.map((n) => [n.name, n.order]));

/** How many missed periodic updates make a peer's row stale. */
export const MISSED_UPDATES = 3;

/**
 * One site of seed 003: measures (through the health checks of the steered names' members),
 * reports to every peer over DSSP (periodic updates, and events at once when a peer becomes
 * unreachable or a local VIP is constrained), takes the peers' reports, and publishes the
 * hand-off tables every site computes alike.
 */
export class SiteExchange {
  private readonly settings: ExchangeSettings;
  private readonly log: Logger;
  private readonly publish: (layer: SitesLayer) => void;
  private readonly receiver: DsspReceiver;
  private readonly clock: MessageClock;
  private readonly key: Buffer;
  private readonly links = new Map<string, PeerLink>();
  private own: readonly NameReport[] = [];
  private tables: readonly HandoffTable[] = [];
  private published = '';
  private expiry: NodeJS.Timeout | undefined;
  private bound: string | undefined;
  private readonly sent = { updates: 0, events: 0 };
  private closed = false;
  private reorderTimer: NodeJS.Timeout | undefined;
  private lastReorderAt = 0;

  constructor(settings: ExchangeSettings, log: Logger, publish: (layer: SitesLayer) => void) {
    this.settings = settings;
    this.log = log;
    this.publish = publish;
    this.clock = new MessageClock(settings.site);
    const keys = new Map(settings.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')]));
    this.key = keys.get(settings.keyId) ?? Buffer.alloc(0);
    for (const peer of settings.peers)
      this.links.set(peer.name, {
        settings: peer,
        row: undefined,
        lastSentAt: undefined,
        lastOutcome: undefined,
        timer: undefined,
        retry: undefined,
        retryMs: RETRY_MS,
      });
    this.receiver = new DsspReceiver({
      keys,
      peers: new Set(this.links.keys()),
      maxSkewMs: settings.maxSkewMs,
      accept: (report) => {
        this.accepted(report);
      },
      dropped: (reason, from) => {
        this.log.warn({ reason, from }, 'DSSP frame dropped');
      },
    });
  }

  /** Binds the listener and starts the periodic updates. */
  async start(names: readonly SteeredName[], state: StateView): Promise<void> {
    const { host, port } = this.settings.listen;
    const address = await this.receiver.listen(host, port);
    this.bound = hostPort(host, address.port);
    this.own = names.map((n) => measureName(this.settings.site, n, state));
    this.recompute();
    for (const link of this.links.values()) this.schedule(link);
    this.expiry = setInterval(() => {
      this.recompute();
    }, 1000);
    this.expiry.unref();
    this.sendAll('update', undefined);
  }

  /** Where the DSSP listener is bound. */
  address(): string | undefined {
    return this.bound;
  }

  /** The receiver's counts. */
  stats(): ReceiverStats {
    return this.receiver.stats;
  }

  /** The live state moved: measure again; send an event at once if a trigger fired. */
  observe(names: readonly SteeredName[], state: StateView): void {
    const next = names.map((n) => measureName(this.settings.site, n, state));
    const reason = triggered(this.own, next);
    const reordered = orderKey(this.own) !== orderKey(next);
    this.own = next;
    this.recompute();
    if (reason) this.sendAll('event', reason);
    else if (reordered) this.reorderedUpdate();
  }

  /**
   * Our order changed (no site lost): an update soon, not at the next interval, so the
   * peers' tables follow within {@link REORDER_SPACING_MS}; orders that flap between close
   * times send at most one update per spacing.
   */
  private reorderedUpdate(): void {
    if (this.closed || this.reorderTimer !== undefined) return;
    const wait = Math.max(0, this.lastReorderAt + REORDER_SPACING_MS - Date.now());
    this.reorderTimer = setTimeout(() => {
      this.reorderTimer = undefined;
      this.lastReorderAt = Date.now();
      this.sendAll('update', undefined);
    }, wait);
    this.reorderTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reorderTimer);
    for (const link of this.links.values()) {
      clearTimeout(link.timer);
      clearTimeout(link.retry);
    }
    clearInterval(this.expiry);
    await this.receiver.close();
  }

  /** What `GET /status` shows of the exchange. */
  status(now = Date.now()): SitesStatus {
    return {
      site: this.settings.site,
      listen: this.bound,
      sent: this.sent,
      received: this.receiver.stats,
      peers: [...this.links.values()].map((link) => ({
        name: link.settings.name,
        lastUpdate: link.row && new Date(link.row.receivedAt).toISOString(),
        ageMs: link.row && now - link.row.receivedAt,
        lastKind: link.row?.report.kind,
        fresh: link.row !== undefined && link.row.expiresAt > now,
        lastSent:
          link.lastSentAt === undefined ? undefined : new Date(link.lastSentAt).toISOString(),
        lastOutcome: link.lastOutcome,
      })),
      tables: this.tables,
      measured: this.own,
    };
  }

  private accepted(report: SiteReport): void {
    const link = this.links.get(report.sender);
    if (!link) return;
    const now = Date.now();
    const expiresAt =
      report.intervalMs === null ? Infinity : now + MISSED_UPDATES * report.intervalMs;
    const first = link.row?.report.epoch !== report.epoch;
    link.row = { report, receivedAt: now, expiresAt };
    this.recompute();
    // A peer heard from for the first time (or restarted) gets our row at once, not at
    // our next interval: it has just started, and may have missed our last update.
    if (first) void this.send(link, 'update', undefined);
  }

  /** Rebuilds the tables; publishes them when they changed. */
  private recompute(): void {
    const now = Date.now();
    const rows = new Map<string, PeerRow>();
    for (const [name, link] of this.links) if (link.row) rows.set(name, link.row);
    const { site, weights } = this.settings;
    const byCapacity = this.settings.fewSitesByCapacity;
    this.tables = this.own.map((own) => handoffTable(site, own, rows, weights, now, byCapacity));
    const layer: SitesLayer = {
      site,
      ttl: this.settings.ttl,
      useDnsRespond: this.settings.useDnsRespond,
      tables: this.tables,
    };
    const text = JSON.stringify(layer);
    if (text === this.published) return;
    this.published = text;
    this.publish(layer);
  }

  private schedule(link: PeerLink): void {
    const every = link.settings.intervalMs;
    if (every === null || this.closed) return;
    link.timer = setTimeout(() => {
      void this.send(link, 'update', undefined).finally(() => {
        this.schedule(link);
      });
    }, every);
    link.timer.unref();
  }

  private sendAll(kind: 'update' | 'event', reason: EventReason | undefined): void {
    for (const link of this.links.values()) void this.send(link, kind, reason);
  }

  private async send(
    link: PeerLink,
    kind: 'update' | 'event',
    reason: EventReason | undefined,
  ): Promise<void> {
    const to = await peerAddress(link.settings);
    const report: SiteReport = {
      ...this.clock.next(),
      kind,
      ...(reason ? { reason } : {}),
      intervalMs: link.settings.intervalMs,
      names: [...this.own],
      memory: { freeBytes: freemem(), totalBytes: totalmem() },
    };
    if (kind === 'update') this.sent.updates += 1;
    else this.sent.events += 1;
    link.lastSentAt = Date.now();
    if (!to) {
      link.lastOutcome = 'unreachable';
      this.retryLater(link);
      return;
    }
    const frame = encodeFrame(this.settings.keyId, this.key, report);
    link.lastOutcome = await sendFrame(to.host, to.port, frame);
    if (link.lastOutcome === 'rejected')
      this.log.warn({ peer: link.settings.name }, 'DSSP peer rejected our report (key?)');
    if (link.lastOutcome === 'unreachable' || link.lastOutcome === 'timeout') this.retryLater(link);
    else link.retryMs = RETRY_MS;
  }

  /** One pending retry per peer, sooner than its interval; the retry carries fresh data. */
  private retryLater(link: PeerLink): void {
    if (this.closed || link.retry !== undefined) return;
    const after = Math.min(link.retryMs, link.settings.intervalMs ?? MAX_RETRY_MS);
    link.retryMs = Math.min(link.retryMs * 2, MAX_RETRY_MS);
    link.retry = setTimeout(() => {
      link.retry = undefined;
      void this.send(link, 'update', undefined);
    }, after);
    link.retry.unref();
  }
}

/** The peer's listener: as configured, or read from its address file now. */
async function peerAddress(
  peer: PeerSettings,
): Promise<{ readonly host: string; readonly port: number } | undefined> {
  if (peer.address) return peer.address;
  if (peer.addressFile === undefined) return undefined;
  try {
    const parsed = parseHostPort((await readFile(peer.addressFile, 'utf8')).trim());
    return parsed?.port === undefined ? undefined : { host: parsed.host, port: parsed.port };
  } catch {
    return undefined;
  }
}

/**
 * Why the move from `before` to `after` calls for an event at once (seed 003: a peer this
 * site can no longer reach, a local resource constraint), or for the recovery of either.
 */
export function triggered(
  before: readonly NameReport[],
  after: readonly NameReport[],
): EventReason | undefined {
  let reason: EventReason | undefined;
  for (const next of after) {
    const last = before.find((b) => b.name === next.name);
    if (!last) continue;
    const was = reachableSites(last);
    const now = reachableSites(next);
    if (!constrained(last) && constrained(next)) return 'local-constraint';
    if ([...was].some((site) => !now.has(site))) return 'peer-unreachable';
    if ([...now].some((site) => !was.has(site)) || (constrained(last) && !constrained(next)))
      reason = 'recovered';
  }
  return reason;
}
