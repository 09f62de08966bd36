/**
 * The DNS-A role's map protocol side (seed 002 claims 4, 5, 10, 16): tells every DNS-B
 * which site addresses are online and which offline, at once when one changes and again
 * every interval (a DNS-B that restarted, or missed one, catches up).
 */
import type { Logger } from '../observability/log.js';
import { encodeMapMessage, type SiteEntry } from './message.js';
import { MessageClock } from './replay.js';
import { sendMapMessage } from './transport.js';

/** `referral.owner`, compiled. */
export interface OwnerSettings {
  readonly name: string;
  readonly names: readonly string[];
  readonly backbones: readonly { readonly host: string; readonly port: number }[];
  readonly intervalMs: number;
}

/** A running owner notifier. */
export class Owner {
  private readonly clock: MessageClock;
  private sites: readonly SiteEntry[] = [];
  private sent = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly settings: OwnerSettings;
  private readonly key: Buffer;
  private readonly log: Logger;
  /** Lists each DNS-B accepted, by `host:port`. */
  readonly accepted = new Map<string, number>();

  constructor(settings: OwnerSettings, key: Buffer, log: Logger) {
    this.settings = settings;
    this.key = key;
    this.log = log;
    this.clock = new MessageClock(settings.name);
  }

  /** Starts resending every interval. */
  start(): void {
    this.timer = setInterval(() => {
      void this.send();
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  /** The sites now; sends at once when the list differs from the last one sent. */
  async update(sites: readonly SiteEntry[]): Promise<void> {
    this.sites = sites;
    if (JSON.stringify(sites) === this.sent) return;
    await this.send();
  }

  /** Sends the current list of every balanced name to every DNS-B. */
  async send(): Promise<void> {
    this.sent = JSON.stringify(this.sites);
    const offline = this.sites.filter((s) => !s.online).map((s) => s.address);
    this.log.info({ offline, sites: this.sites.length }, 'site list sent to the DNS-Bs');
    const sends = this.settings.names.flatMap((name) =>
      this.settings.backbones.map(async ({ host, port }) => {
        const message = { kind: 'sites' as const, ...this.clock.next(), name, sites: this.sites };
        const to = `${host}:${port}`;
        const ok = await sendMapMessage(host, port, encodeMapMessage(message, this.key));
        if (ok) this.accepted.set(to, (this.accepted.get(to) ?? 0) + 1);
        else this.log.warn({ backbone: to }, `site list not accepted by ${to}`);
      }),
    );
    await Promise.all(sends);
  }

  /** Stops resending. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
