import type dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { Responder } from '../answer/responder.js';
import type { ServerConfig } from '../config/load.js';
import { listenTcp, type TcpListener } from '../dns/tcp.js';
import type { Transport } from '../dns/transport.js';
import { listenUdp } from '../dns/udp.js';
import { boundAddress, listenPair } from '../dns/listen-pair.js';
import { wireKey } from '../dns/name.js';
import { cidrContains, parseAddress, unmapAddress } from '../lib/ip.js';
import type { Logger } from '../observability/log.js';
import type { ZoneSet } from '../zone/zone-set.js';
import type { LoadedServices } from './load-services.js';
import type { StateView } from '../steering/types.js';

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
  config: ServerConfig,
  zones: ZoneSet,
  services: LoadedServices,
  log?: Logger,
  state: () => StateView = () => services.staticState,
): Responder {
  const acl = new Map(config.zones.map((zone) => [wireKey(zone.origin), zone.transfer]));
  return new Responder(zones, {
    udpPayloadMax: config.udpPayloadMax,
    steering: {
      names: services.byKey,
      state,
      random: Math.random,
      now: Date.now,
    },
    explainSample: config.explainSample,
    onExplain: (explanation) => log?.info({ explanation }, 'steering decision'),
    onAllDown: allDownLogger(log),
    transferAllowed: (zoneKey, address) => {
      const bytes = parseAddress(unmapAddress(address));
      const allowed = acl.get(zoneKey) ?? [];
      return bytes !== undefined && allowed.some((cidr) => cidrContains(cidr, bytes));
    },
  });
}

/** Where the DNS listeners of a process are bound: `host:port`, `[v6]:port`, one per listen address. */
export interface BoundDns {
  readonly udp: readonly string[];
  readonly tcp: readonly string[];
}

/**
 * The DNS service of one process: UDP and TCP listeners on every configured address,
 * answering from the current responder. {@link reload} swaps in a new snapshot atomically;
 * queries in flight finish on the old one.
 */
export class DnsServer {
  private responder: Responder;
  private readonly sockets: dgram.Socket[] = [];
  private readonly servers: TcpListener[] = [];
  private readonly log: Logger;
  private readonly config: ServerConfig;

  private readonly state: () => StateView;

  constructor(
    config: ServerConfig,
    zones: ZoneSet,
    services: LoadedServices,
    log: Logger,
    state: () => StateView = () => services.staticState,
  ) {
    this.state = state;
    this.config = config;
    this.log = log;
    this.responder = createResponder(config, zones, services, this.log, this.state);
  }

  /**
   * Binds every listener; rejects (after closing what was bound) if one cannot bind.
   * Resolves where they are bound. UDP and TCP of a listen address share one port (see
   * {@link listenPair}: port 0 means one the system chose for UDP). In a cluster worker, every worker
   * that binds UDP port 0 on an address gets the same shared socket (cluster keys its
   * handles by the port asked), so every worker ends up on the same port.
   */
  async start(): Promise<BoundDns> {
    const handler = (
      msg: Buffer,
      transport: Transport,
      address: string,
    ): Buffer | Buffer[] | undefined => this.responder.handle(msg, transport, address);
    const onError = (error: unknown, transport: Transport): void => {
      this.log.error({ err: error, transport }, 'query handler failed; answered SERVFAIL');
    };
    // tcpMaxConnections is this process's cap, over all its listeners.
    const budget = { open: 0 };
    const tcpOptions = {
      handler,
      onError,
      idleTimeoutMs: this.config.tcpIdleTimeoutMs,
      maxConnections: this.config.tcpMaxConnections,
      budget,
    };
    try {
      for (const { host, port } of this.config.listen) {
        const pair = await listenPair({
          host,
          port,
          udp: (p) => listenUdp({ host, port: p, handler, onError }),
          tcp: (p) => listenTcp({ ...tcpOptions, host, port: p }),
        });
        this.sockets.push(pair.udp);
        this.servers.push(pair.tcp);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    return this.bound();
  }

  /** Where the listeners are bound now (nothing before start and after close). */
  bound(): BoundDns {
    return {
      udp: this.sockets.map((socket) => boundAddress(socket.address())),
      tcp: this.servers.map((listener) => boundAddress(listener.server.address() as AddressInfo)),
    };
  }

  /** Answers from `zones` from now on. */
  reload(config: ServerConfig, zones: ZoneSet, services: LoadedServices): void {
    this.responder = createResponder(config, zones, services, this.log, this.state);
  }

  /** Counters of the current responder. */
  get stats(): Responder['stats'] {
    return this.responder.stats;
  }

  /** Stops listening; open TCP connections are closed. */
  async close(): Promise<void> {
    for (const socket of this.sockets.splice(0)) socket.close();
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
  }
}
