/**
 * The packet path of the balancer, behind a plain interface: the nftables implementation
 * (nftables.ts) is the one this kernel allows; an IPVS direct-routing one can implement the
 * same interface later. Either way the destination address is never changed: a packet for
 * the cluster address goes to the chosen server's MAC address, and the server, which holds
 * the cluster address on a loopback alias, replies to the client directly.
 */

/** A server as the data plane knows it: the mark (and routing table) of its flows. */
export interface DataPlaneServer {
  readonly name: string;
  readonly address: string;
  readonly mark: number;
}

/** How many of the slots (out of {@link SLOT_COUNT}) each server's mark gets. */
export type Slots = ReadonlyMap<number, number>;

/** New connections are spread over this many slots; every server in the map has at least one. */
export const SLOT_COUNT = 1000;

/** Per server mark: open flows and new connections counted so far. */
export interface FlowCounts {
  readonly open: ReadonlyMap<number, number>;
  /** New connections since the data plane was installed (a counter: rates are differences). */
  readonly started: ReadonlyMap<number, number>;
}

export interface DataPlane {
  /** Sets the host up (forwarding, routes of each server, rules): no server gets new flows yet. */
  install(servers: readonly DataPlaneServer[]): Promise<void>;
  /** Replaces the map of new connections at once; an empty map refuses new connections. */
  setSlots(slots: Slots): Promise<void>;
  /** Open flows and new connections per server. */
  counts(): Promise<FlowCounts>;
  /** Deletes everything {@link install} added. Idempotent. */
  remove(): Promise<void>;
}
