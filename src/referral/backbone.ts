/**
 * The DNS-B role (seed 002): takes DNS-LB registrations and the owner's site lists over
 * the map protocol, keeps the table (saved to a state file when configured), forgets a
 * DNS-LB silent for `missedIntervals` of its intervals, and forwards each site list to
 * every DNS-LB that takes them (unicast, signed with its own header), or to a multicast
 * group all of them join.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../observability/log.js';
import {
  encodeMapMessage,
  type MapMessage,
  type Ranking,
  type Registration,
  type SiteList,
} from './message.js';
import { MapReceiver } from './receiver.js';
import { MessageClock, type SenderMark } from './replay.js';
import type { NamedSiteList, ReferralLayer } from './state.js';
import type { BalancerEntry } from './table.js';
import { listenMap, sendMapMessage, type MapListener } from './transport.js';
import { MulticastSender, type MulticastGroup } from './multicast.js';
import { canonicalAddress, hostPort, parseHostPort } from '../lib/ip.js';

/** What a DNS-B needs to run. */
export interface BackboneOptions {
  readonly name: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly missedIntervals: number;
  readonly stateFile: string | undefined;
  /** Site lists go to this group (one datagram each) instead of to each DNS-LB. */
  readonly multicast?: { readonly group: MulticastGroup; readonly ttl: number } | undefined;
  readonly key: Buffer;
  readonly maxSkewMs: number;
  readonly log: Logger;
  /** Gets the whole layer after every change. */
  readonly publish: (layer: ReferralLayer) => void;
  readonly now?: () => number;
}

/** The saved form of a DNS-B's state. */
interface SavedState {
  readonly balancers?: readonly BalancerEntry[];
  readonly siteLists?: readonly NamedSiteList[];
  readonly marks?: readonly (readonly [string, SenderMark])[];
}

/** A running DNS-B. */
export class Backbone {
  readonly receiver: MapReceiver;
  private readonly balancers = new Map<string, BalancerEntry>();
  private readonly siteLists = new Map<string, NamedSiteList>();
  private readonly clock: MessageClock;
  private readonly now: () => number;
  private listener: MapListener | undefined;
  private sender: MulticastSender | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly options: BackboneOptions;

  constructor(options: BackboneOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.receiver = new MapReceiver(
      options.key,
      options.maxSkewMs,
      ['register', 'sites'],
      options.log,
      this.now,
    );
    this.clock = new MessageClock(options.name, this.now);
  }

  /** Reads the state file (if any), then listens; resolves where. */
  async start(): Promise<string> {
    await this.restore();
    const multicast = this.options.multicast;
    if (multicast) this.sender = await MulticastSender.open(multicast.group, multicast.ttl);
    const { host, port } = this.options.listen;
    this.listener = await listenMap(
      host,
      port,
      (bytes, from) => this.handle(bytes, from),
      () => {
        this.receiver.framing();
      },
    );
    this.expiry = setInterval(() => {
      this.expire();
    }, 1000);
    this.expiry.unref();
    this.publish();
    return this.listener.address;
  }

  /** Where the map listener is bound. */
  bound(): string | undefined {
    return this.listener?.address;
  }

  /** The layer now. */
  layer(): ReferralLayer {
    return { balancers: [...this.balancers.values()], siteLists: [...this.siteLists.values()] };
  }

  private handle(bytes: Buffer, from: string): boolean {
    const message = this.receiver.receive(bytes, from);
    if (!message) return false;
    if (message.kind === 'register') this.register(message);
    else if (message.kind === 'sites') this.takeSites(message);
    this.changed();
    return true;
  }

  private register(m: Registration): void {
    const before = this.balancers.get(m.sender);
    // A resolver moves to the DNS-LB that registered it last: it leaves the others.
    for (const [label, entry] of this.balancers)
      if (label !== m.sender && entry.resolvers.some((r) => m.resolvers.includes(r)))
        this.balancers.set(label, {
          ...entry,
          resolvers: entry.resolvers.filter((r) => !m.resolvers.includes(r)),
        });
    const entry: BalancerEntry = {
      label: m.sender,
      balancer: m.balancer,
      resolvers: m.resolvers,
      notify: m.notify,
      intervalMs: m.intervalMs,
      heardAt: this.now(),
      ...(m.rankings === undefined ? {} : { rankings: m.rankings }),
    };
    this.balancers.set(m.sender, entry);
    const mapping = (e: BalancerEntry | undefined) =>
      e && JSON.stringify([e.balancer, e.resolvers, e.notify, e.intervalMs]);
    if (mapping(before) !== mapping(entry))
      this.options.log.info(
        { label: m.sender, balancer: m.balancer, resolvers: m.resolvers },
        `DNS-LB ${m.sender} registered`,
      );
    if (m.rankings && JSON.stringify(before?.rankings) !== JSON.stringify(m.rankings))
      this.options.log.info(
        { label: m.sender, rankings: m.rankings },
        `DNS-LB ${m.sender} sent its rankings`,
      );
    // A new (or returning) DNS-LB gets the site lists it has missed.
    if (!before) for (const list of this.siteLists.values()) this.forward(list, [entry]);
  }

  private takeSites(m: SiteList): void {
    const list: NamedSiteList = { name: m.name, sites: m.sites, receivedAt: this.now() };
    this.siteLists.set(m.name, list);
    this.options.log.info(
      { name: m.name, offline: m.sites.filter((s) => !s.online).map((s) => s.address) },
      `site list of ${m.name} received from ${m.sender}`,
    );
    this.forward(list, [...this.balancers.values()]);
  }

  /**
   * Sends a site list to DNS-LBs that take them; a failure waits for their next
   * registration. With a multicast group, one datagram to the group reaches them all (a new
   * DNS-LB's catch-up too: the others take the same list again, in a new message).
   */
  private forward(list: NamedSiteList, to: readonly BalancerEntry[]): void {
    if (this.sender) {
      this.multicast(this.sender, list);
      return;
    }
    for (const entry of to) {
      const at = entry.notify === undefined ? undefined : parseHostPort(entry.notify);
      if (at?.port === undefined) continue;
      const message: MapMessage = {
        kind: 'sites',
        ...this.clock.next(),
        name: list.name,
        sites: list.sites,
      };
      void sendMapMessage(at.host, at.port, encodeMapMessage(message, this.options.key)).then(
        (ok) => {
          if (!ok)
            this.options.log.warn(
              { label: entry.label, notify: entry.notify },
              `site list of ${list.name} not taken by DNS-LB ${entry.label}`,
            );
        },
      );
    }
  }

  private multicast(sender: MulticastSender, list: NamedSiteList): void {
    const message: MapMessage = {
      kind: 'sites',
      ...this.clock.next(),
      name: list.name,
      sites: list.sites,
    };
    const group = this.options.multicast!.group;
    void sender.send(encodeMapMessage(message, this.options.key)).then((ok) => {
      if (!ok)
        this.options.log.warn(
          { group: hostPort(group.host, group.port) },
          `site list of ${list.name} not sent to the multicast group`,
        );
    });
  }

  private expire(): void {
    const now = this.now();
    let removed = false;
    for (const [label, entry] of this.balancers) {
      if (now - entry.heardAt <= entry.intervalMs * this.options.missedIntervals) continue;
      this.balancers.delete(label);
      removed = true;
      this.options.log.warn({ label }, `DNS-LB ${label} silent: removed from the table`);
    }
    if (removed) this.changed();
  }

  private changed(): void {
    this.publish();
    this.save();
  }

  private publish(): void {
    this.options.publish(this.layer());
  }

  /** Saves the state (write a temporary file, then rename: a crash leaves the old one). */
  private save(): void {
    const file = this.options.stateFile;
    if (file === undefined) return;
    const state: SavedState = { ...this.layer(), marks: this.receiver.guard.saved() };
    this.saving = this.saving.then(async () => {
      try {
        await writeFile(`${file}.tmp`, JSON.stringify(state));
        await rename(`${file}.tmp`, file);
      } catch (error) {
        this.options.log.error({ file, error: String(error) }, 'referral state not saved');
      }
    });
  }

  private async restore(): Promise<void> {
    const file = this.options.stateFile;
    if (file === undefined) return;
    let state: SavedState;
    try {
      state = JSON.parse(await readFile(file, 'utf8')) as SavedState;
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing)
        this.options.log.warn(
          { file, error: String(error) },
          'referral state unreadable: starting empty',
        );
      return;
    }
    // A file edited by hand may hold anything: only entries the table can answer are kept.
    for (const entry of state.balancers ?? [])
      if (validEntry(entry)) this.balancers.set(entry.label, entry);
    for (const list of state.siteLists ?? [])
      if (typeof list.name === 'string' && Array.isArray(list.sites))
        this.siteLists.set(list.name, list);
    this.receiver.guard.restore(Array.isArray(state.marks) ? state.marks : []);
    this.options.log.info(
      { file, balancers: this.balancers.size },
      `referral table read from ${file}`,
    );
  }

  /** Stops listening; waits for the last save. */
  async close(): Promise<void> {
    if (this.expiry) clearInterval(this.expiry);
    await this.listener?.close();
    await this.sender?.close();
    await this.saving;
  }
}

const isAddress = (v: unknown): boolean => typeof v === 'string' && canonicalAddress(v) === v;

function validEntry(e: BalancerEntry): boolean {
  return (
    typeof e.label === 'string' &&
    isAddress(e.balancer) &&
    Array.isArray(e.resolvers) &&
    e.resolvers.every(isAddress) &&
    typeof e.intervalMs === 'number' &&
    typeof e.heardAt === 'number' &&
    (e.rankings === undefined || (Array.isArray(e.rankings) && e.rankings.every(validRanking)))
  );
}

const validRanking = (r: Ranking): boolean =>
  typeof r.name === 'string' && Array.isArray(r.sites) && r.sites.every(isAddress);
