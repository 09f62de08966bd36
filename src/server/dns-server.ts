import type { AddressInfo } from 'node:net';
import { Responder } from '../answer/responder.js';
import { Protection, sameProtection, type ProtectionStats } from '../answer/protection.js';
import type { CompiledConfig } from '../config/compiled.js';
import { ConnectionBudget, listenTcp, type TcpLimits, type TcpListener } from '../dns/tcp.js';
import type { Transport } from '../dns/transport.js';
import type { UdpEngine, UdpSocket } from '../dns/udp-engine.js';
import { BatchedSocket } from '../dns/udp-batched.js';
import { chooseUdpEngine } from '../dns/udp-engines.js';
import { SteerdnsError } from '../lib/errors.js';
import { boundAddress, listenPair } from '../dns/listen-pair.js';
import { nameFromText, wireKey } from '../dns/name.js';
import { hostPort } from '../lib/ip.js';
import { cidrContains, parseAddress, parseCidr, unmapAddress } from '../lib/ip.js';
import type { Logger } from '../observability/log.js';
import type { ZoneSet } from '../zone/zone-set.js';
import type { LoadedServices } from './load-services.js';
import type { StateView } from '../steering/types.js';
import type { ReferralHook } from '../answer/referral.js';
import type { QuestionSampler } from '../answer/question-sampler.js';
import { QueryCounters, type QueryTotals } from '../answer/query-counters.js';

/** Logs "all members down" once per service per minute, not once per query. */
function allDownLogger(log: Logger | undefined): (service: string, action: string) => void {
  const last = new Map<string, number>();
  return (service, action) => {
    const now = Date.now();
    if (now - (last.get(service) ?? 0) < 60_000) return;
    last.set(service, now);
    log?.warn(
      { service, action },
      `every member of ${service} is down or excluded; answering ${action}`,
    );
  };
}

/** Builds the responder for a configuration and its zones. */
export function createResponder(
  config: CompiledConfig,
  zones: ZoneSet,
  services: LoadedServices,
  log?: Logger,
  state: () => StateView = () => services.staticState,
  protection?: Protection,
  referral?: ReferralHook,
  sampler?: QuestionSampler,
  counters?: QueryCounters,
): Responder {
  const acl = new Map(
    config.zones.map((zone) => [
      wireKey(nameFromText(zone.origin)),
      zone.transfer.map((text) => parseCidr(text)!),
    ]),
  );
  return new Responder(zones, {
    udpPayloadMax: config.dns.udpPayloadMax,
    protection,
    referral,
    sampler,
    counters: config.metrics.enabled ? counters : undefined,
    steering: {
      names: services.byKey,
      state,
      random: Math.random,
      now: Date.now,
    },
    explainSample: config.log.explainSample,
    onExplain: (explanation) => log?.info({ explanation }, 'steering decision'),
    onAllDown: allDownLogger(log),
    transferAllowed: (zoneKey, address) => {
      const bytes = parseAddress(unmapAddress(address));
      const allowed = acl.get(zoneKey) ?? [];
      return bytes !== undefined && allowed.some((cidr) => cidrContains(cidr, bytes));
    },
  });
}

/** Where the DNS listeners of a process are bound: `host:port` or `[v6]:port`, one each. */
export interface BoundDns {
  readonly udp: readonly string[];
  readonly tcp: readonly string[];
}

/** The UDP and TCP listeners of one `listen` entry. */
interface Listeners {
  readonly udp: UdpSocket;
  readonly tcp: TcpListener;
}

const listenKey = (l: { host: string; port: number }): string => hostPort(l.host, l.port);

/**
 * The DNS service of one process: UDP and TCP listeners on every configured address,
 * answering from the current responder. {@link reload} swaps in a new snapshot atomically;
 * queries in flight finish on the old one. {@link relisten} follows a new `listen` list
 * and new TCP limits without a restart.
 */
export class DnsServer {
  private responder: Responder;
  private readonly listeners = new Map<string, Listeners>();
  private readonly log: Logger;
  private config: CompiledConfig;
  // tcpMaxConnections and tcpMaxPerSource are this process's caps, over all its listeners.
  private readonly budget = new ConnectionBudget();
  private readonly state: () => StateView;
  /** Cookies and rate limiting: kept across reloads that leave their settings alone. */
  private protection: Protection;
  /** Chosen by {@link start} from `dns.udpEngine`, for the life of the server. */
  private udpEngine: UdpEngine | undefined;
  /** A DNS-B's referral answers; reads the node's current table itself. */
  private readonly referral: ReferralHook | undefined;
  /** Takes questions for the decisions log, across reloads. */
  private readonly sampler: QuestionSampler | undefined;
  /** Query counters for the metrics: the server's, so that a reload never resets them. */
  private readonly counters = new QueryCounters();

  constructor(
    config: CompiledConfig,
    zones: ZoneSet,
    services: LoadedServices,
    log: Logger,
    state: () => StateView = () => services.staticState,
    referral?: ReferralHook,
    sampler?: QuestionSampler,
  ) {
    this.state = state;
    this.referral = referral;
    this.sampler = sampler;
    this.config = config;
    this.log = log;
    this.protection = new Protection(config.protection);
    this.responder = createResponder(
      config,
      zones,
      services,
      this.log,
      this.state,
      this.protection,
      this.referral,
      this.sampler,
      this.counters,
    );
  }

  /**
   * Binds every listener; rejects (after closing what was bound) if one cannot bind.
   * Resolves where they are bound. UDP and TCP of a listen address share one port (see
   * {@link listenPair}: port 0 means one the system chose for UDP). In a cluster worker,
   * every worker that binds UDP port 0 on an address gets the same shared socket (cluster
   * keys its handles by the port asked), and so the same port.
   */
  async start(): Promise<BoundDns> {
    const choice = chooseUdpEngine(this.config.dns.udpEngine, {
      workers: this.config.workers,
      ports: this.config.listen.map((l) => l.port),
    });
    this.udpEngine = choice.engine;
    this.log.info(
      { udpEngine: choice.engine.name, reason: choice.reason },
      `UDP engine: ${choice.engine.name}`,
    );
    try {
      for (const address of this.config.listen)
        this.listeners.set(listenKey(address), await this.bind(address));
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.bound();
  }

  /**
   * Follows the `listen` list and the TCP limits of `config`: new addresses are bound
   * before the ones no longer listed are closed, and addresses that stay keep their
   * sockets (and their connections). Rejects, with nothing changed, when a new address
   * cannot be bound.
   */
  async relisten(config: CompiledConfig): Promise<BoundDns> {
    const wanted = new Map(config.listen.map((l) => [listenKey(l), l]));
    const added = new Map<string, Listeners>();
    try {
      for (const [key, address] of wanted)
        if (!this.listeners.has(key)) added.set(key, await this.bind(address, config));
    } catch (error) {
      await Promise.all([...added.values()].map(closeListeners));
      throw error;
    }
    this.config = config;
    const limits = tcpLimits(config);
    for (const listeners of this.listeners.values()) listeners.tcp.setLimits(limits);
    const removed = [...this.listeners].filter(([key]) => !wanted.has(key));
    for (const [key, listeners] of added) this.listeners.set(key, listeners);
    for (const [key] of removed) this.listeners.delete(key);
    await Promise.all(removed.map(([, listeners]) => closeListeners(listeners)));
    return this.bound();
  }

  private bind(
    { host, port }: { host: string; port: number },
    config: CompiledConfig = this.config,
  ): Promise<Listeners> {
    const handler = (
      msg: Buffer,
      transport: Transport,
      address: string,
    ): Buffer | Iterable<Buffer> | undefined => this.responder.handle(msg, transport, address);
    const onError = (error: unknown, transport: Transport): void => {
      this.log.error({ err: error, transport }, 'query handler failed; answered SERVFAIL');
    };
    const tcpOptions = { handler, onError, ...tcpLimits(config), budget: this.budget };
    const engine = this.udpEngine!;
    // Each worker binds its own batched socket: with port 0 each would get its own port.
    const reusePort = engine.name === 'batched' && config.workers > 1;
    if (reusePort && port === 0)
      return Promise.reject(
        new SteerdnsError(
          'STEERDNS_ERR_UDP_ENGINE',
          `${hostPort(host, port)}: dns.udpEngine batched with workers > 1 needs a port other than 0`,
        ),
      );
    return listenPair({
      host,
      port,
      udp: (p) => engine.listen({ host, port: p, handler, onError, reusePort }),
      tcp: (p) => listenTcp({ ...tcpOptions, host, port: p }),
    });
  }

  /** Where the listeners are bound now (nothing before start and after close). */
  bound(): BoundDns {
    const all = [...this.listeners.values()];
    return {
      udp: all.map((l) => boundAddress(l.udp.address())),
      tcp: all.map((l) => boundAddress(l.tcp.server.address() as AddressInfo)),
    };
  }

  /** Answers from `zones` from now on. */
  reload(config: CompiledConfig, zones: ZoneSet, services: LoadedServices): void {
    // New settings start new buckets (a reload that keeps them keeps the buckets); the
    // counters go on.
    if (!sameProtection(this.protection.settings, config.protection))
      this.protection = new Protection(config.protection, this.protection.stats);
    this.responder = createResponder(
      config,
      zones,
      services,
      this.log,
      this.state,
      this.protection,
      this.referral,
      this.sampler,
      this.counters,
    );
  }

  /** Counters of the rate limiter and cookies since this process started. */
  get protectionStats(): Readonly<ProtectionStats> {
    return this.protection.stats;
  }

  /** The query counters since this process started (empty while metrics are off). */
  queryTotals(): QueryTotals {
    return this.counters.totals();
  }

  /** Queries counted since this process started: changes when {@link queryTotals} does. */
  get queriesCounted(): number {
    return this.counters.count;
  }

  /** Counters of the current responder. */
  get stats(): Responder['stats'] {
    return this.responder.stats;
  }

  /** Stops listening; open TCP connections are closed. */
  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    for (const { udp } of all)
      if (udp instanceof BatchedSocket)
        this.log.info(
          { udp: boundAddress(udp.address()), ...udp.stats() },
          'UDP batches received since start',
        );
    await Promise.all(all.map(closeListeners));
  }
}

const tcpLimits = (config: CompiledConfig): TcpLimits => ({
  idleTimeoutMs: config.dns.tcpIdleTimeoutMs,
  messageTimeoutMs: config.dns.tcpMessageTimeoutMs,
  maxConnections: config.dns.tcpMaxConnections,
  maxPerSource: config.dns.tcpMaxPerSource,
  outputLimit: config.dns.tcpOutputLimit,
});

async function closeListeners(listeners: Listeners): Promise<void> {
  listeners.udp.close();
  await listeners.tcp.close();
}
