/**
 * Seed 002 MService, the server side: takes measurement agents' rounds over the map
 * protocol (authenticated, replay-guarded, drops counted), keeps each agent's last one,
 * and builds the view policies read: the agent whose address shares the longest prefix
 * with a client, and its figures.
 */
import type { Logger } from '../observability/log.js';
import { parseAddress } from '../lib/ip.js';
import type { AgentFigures, MeasuredView } from '../steering/types.js';
import type { Measurements, SiteMeasurement } from './message.js';
import { MapReceiver } from './receiver.js';
import { commonPrefix } from './table.js';
import { listenMap, type MapListener } from './transport.js';

/** One agent's last round as a server keeps it: plain data (it crosses to the workers). */
export interface AgentMeasurement {
  readonly agent: string;
  readonly address: string;
  readonly intervalMs: number;
  /** When it arrived, ms since the epoch. */
  readonly receivedAt: number;
  readonly sites: readonly SiteMeasurement[];
}

interface IndexedAgent {
  readonly entry: AgentMeasurement;
  readonly bytes: Uint8Array;
  /** Site address -> ms of its last successful probe, for the sites whose last probe succeeded. */
  readonly figures: ReadonlyMap<string, number>;
}

/** The view policies read; undefined when no agent was heard. */
export function measuredView(agents: readonly AgentMeasurement[]): MeasuredView | undefined {
  if (agents.length === 0) return undefined;
  const indexed: IndexedAgent[] = agents.flatMap((entry) => {
    const bytes = parseAddress(entry.address);
    if (!bytes) return [];
    const figures = new Map<string, number>();
    for (const s of entry.sites) if (s.ok && s.ms !== undefined) figures.set(s.address, s.ms);
    return [{ entry, bytes, figures }];
  });
  const figuresOf = (agent: IndexedAgent, bits: number, now: number): AgentFigures => ({
    agent: agent.entry.agent,
    address: agent.entry.address,
    commonBits: bits,
    ageMs: Math.max(0, now - agent.entry.receivedAt),
    figure: (address) => agent.figures.get(address),
  });
  return {
    nearest(location, now): AgentFigures | undefined {
      let best: IndexedAgent | undefined;
      let bestBits = -1;
      for (const agent of indexed) {
        const bits = commonPrefix(agent.bytes, location);
        // Equal prefixes: the agent heard last.
        if (bits > bestBits || (bits === bestBits && bits >= 0 && newer(agent, best)))
          [best, bestBits] = [agent, bits];
      }
      return best && figuresOf(best, bestBits, now);
    },
    named(name, location, now): AgentFigures | undefined {
      const agent = indexed.find((a) => a.entry.agent === name);
      return agent && figuresOf(agent, Math.max(0, commonPrefix(agent.bytes, location)), now);
    },
  };
}

const newer = (a: IndexedAgent, b: IndexedAgent | undefined): boolean =>
  b === undefined || a.entry.receivedAt > b.entry.receivedAt;

/** Options of a {@link MeasurementListener}. */
export interface MeasurementOptions {
  readonly listen: { readonly host: string; readonly port: number };
  readonly key: Buffer;
  readonly maxSkewMs: number;
  readonly log: Logger;
  /** Gets every agent's last round after each one arrives. */
  readonly publish: (agents: readonly AgentMeasurement[]) => void;
}

/** A running receiver of measurement rounds. */
export class MeasurementListener {
  readonly receiver: MapReceiver;
  private readonly agents = new Map<string, AgentMeasurement>();
  private listener: MapListener | undefined;
  private readonly options: MeasurementOptions;

  constructor(options: MeasurementOptions) {
    this.options = options;
    this.receiver = new MapReceiver(options.key, options.maxSkewMs, ['measure'], options.log);
  }

  /** Listens; resolves where. */
  async start(): Promise<string> {
    const { host, port } = this.options.listen;
    this.listener = await listenMap(
      host,
      port,
      (bytes, from) => this.take(bytes, from),
      () => {
        this.receiver.framing();
      },
    );
    return this.listener.address;
  }

  bound(): string | undefined {
    return this.listener?.address;
  }

  private take(bytes: Buffer, from: string): boolean {
    const message = this.receiver.receive(bytes, from);
    if (message?.kind !== 'measure') return false;
    this.keep(message);
    return true;
  }

  private keep(m: Measurements): void {
    const first = !this.agents.has(m.sender);
    this.agents.set(m.sender, {
      agent: m.sender,
      address: m.address,
      intervalMs: m.intervalMs,
      receivedAt: Date.now(),
      sites: m.sites,
    });
    const best = [...m.sites]
      .filter((s) => s.ok && s.ms !== undefined)
      .sort((a, b) => a.ms! - b.ms!)
      .map((s) => s.address);
    this.options.log.info(
      { agent: m.sender, address: m.address, fastest: best },
      first ? `measurement agent ${m.sender} heard` : `measurements from ${m.sender}`,
    );
    this.options.publish([...this.agents.values()]);
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }
}
