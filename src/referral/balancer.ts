/**
 * The DNS-LB role's map protocol side (seed 002): registers "my address <-> the ISP
 * resolvers next to me" with every DNS-B at start, every interval, and at once when either
 * changes (a reload); takes the site lists the DNS-Bs forward and keeps them until the next.
 * Measuring and answering are the node's ordinary health checks and policies.
 */
import type { Logger } from '../observability/log.js';
import { encodeMapMessage, type Ranking, type Registration } from './message.js';
import { MapReceiver } from './receiver.js';
import { MessageClock } from './replay.js';
import type { NamedSiteList, ReferralLayer } from './state.js';
import { listenMap, sendMapMessage, type MapListener } from './transport.js';
import { listenMulticast, type MulticastGroup, type MulticastListener } from './multicast.js';

/** What a DNS-LB registers, and where (`referral.balancer`, compiled). */
export interface BalancerSettings {
  readonly label: string;
  readonly address: string;
  readonly resolvers: readonly string[];
  readonly backbones: readonly { readonly host: string; readonly port: number }[];
  readonly intervalMs: number;
  readonly listen: { readonly host: string; readonly port: number } | undefined;
  /** A multicast group it joins for site lists (beside `listen`, or instead of it). */
  readonly multicast: MulticastGroup | undefined;
  /** Balanced names it ranks for the DNS-Bs (the rankings variant); empty: it sends none. */
  readonly rank: readonly string[];
}

/** Options of a {@link Balancer}. */
export interface BalancerOptions {
  readonly key: Buffer;
  readonly maxSkewMs: number;
  readonly log: Logger;
  readonly publish: (layer: ReferralLayer) => void;
}

/** A running DNS-LB registrar and site-list receiver. */
export class Balancer {
  readonly receiver: MapReceiver;
  /** Registrations each DNS-B accepted, by `host:port`. */
  readonly accepted = new Map<string, number>();
  private settings: BalancerSettings;
  private readonly clock: MessageClock;
  private readonly siteLists = new Map<string, NamedSiteList>();
  private rankings: readonly Ranking[] | undefined;
  /** Messages go out one after another: the DNS-Bs must see the sequence in order. */
  private sending: Promise<void> = Promise.resolve();
  private listener: MapListener | undefined;
  private group: MulticastListener | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly options: BalancerOptions;

  constructor(settings: BalancerSettings, options: BalancerOptions) {
    this.settings = settings;
    this.options = options;
    this.clock = new MessageClock(settings.label);
    this.receiver = new MapReceiver(options.key, options.maxSkewMs, ['sites'], options.log);
  }

  /** Listens for site lists (if configured), registers, and keeps registering. */
  async start(): Promise<void> {
    const listen = this.settings.listen;
    if (listen)
      this.listener = await listenMap(
        listen.host,
        listen.port,
        (bytes, from) => this.takeSites(bytes, from),
        () => {
          this.receiver.framing();
        },
      );
    const multicast = this.settings.multicast;
    if (multicast)
      this.group = await listenMulticast(multicast, (bytes, from) => {
        this.takeSites(bytes, from);
      });
    this.schedule();
    await this.register();
  }

  /** The multicast group joined for site lists, if one is. */
  joined(): string | undefined {
    return this.group?.address;
  }

  /** Where site lists are taken, if they are. */
  bound(): string | undefined {
    return this.listener?.address;
  }

  /**
   * Follows a reload: new settings register at once when what a DNS-B keeps changed (the
   * address, the resolvers, the interval); the label and where site lists are taken cannot
   * change without a restart.
   */
  async update(settings: BalancerSettings): Promise<void> {
    const before = registered(this.settings);
    const { listen, multicast, label } = this.settings;
    this.settings = { ...settings, listen, multicast, label };
    this.schedule();
    if (registered(this.settings) !== before) await this.register();
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => {
      void this.register();
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  /**
   * The rankings now (computed by the caller from the node's own decisions): registers at
   * once when they differ from the last ones sent, so a DNS-B answering them directly
   * follows a change within one message.
   */
  async setRankings(rankings: readonly Ranking[]): Promise<void> {
    if (this.settings.rank.length === 0) return;
    if (JSON.stringify(rankings) === JSON.stringify(this.rankings)) return;
    this.rankings = rankings;
    await this.register();
  }

  /** Registers with every DNS-B once; resolves when each has answered (or failed). */
  register(): Promise<void> {
    const sent = this.sending.then(() => this.registerNow());
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  private async registerNow(): Promise<void> {
    const s = this.settings;
    const base: Registration = {
      kind: 'register',
      ...this.clock.next(),
      balancer: s.address,
      resolvers: s.resolvers,
      notify: this.listener?.address,
      intervalMs: s.intervalMs,
    };
    const message =
      s.rank.length > 0 && this.rankings ? { ...base, rankings: this.rankings } : base;
    const bytes = encodeMapMessage(message, this.options.key);
    await Promise.all(
      s.backbones.map(async ({ host, port }) => {
        const to = `${host}:${port}`;
        const ok = await sendMapMessage(host, port, bytes);
        const first = ok && !this.accepted.has(to);
        if (ok) this.accepted.set(to, (this.accepted.get(to) ?? 0) + 1);
        if (first) this.options.log.info({ backbone: to }, `registered with DNS-B ${to}`);
        if (!ok) this.options.log.warn({ backbone: to }, `registration not accepted by ${to}`);
      }),
    );
  }

  private takeSites(bytes: Buffer, from: string): boolean {
    const message = this.receiver.receive(bytes, from);
    if (message?.kind !== 'sites') return false;
    this.siteLists.set(message.name, {
      name: message.name,
      sites: message.sites,
      receivedAt: Date.now(),
    });
    this.options.log.info(
      { name: message.name, offline: message.sites.filter((x) => !x.online).map((x) => x.address) },
      `site list of ${message.name} received from ${message.sender}`,
    );
    this.options.publish({ balancers: [], siteLists: [...this.siteLists.values()] });
    return true;
  }

  /** Stops registering and listening. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.listener?.close();
    await this.group?.close();
  }
}

const registered = (s: BalancerSettings): string =>
  JSON.stringify([s.address, s.resolvers, s.intervalMs, s.backbones, s.rank]);
