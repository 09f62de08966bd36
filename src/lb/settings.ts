import type { RoleHooks } from '../cluster/hooks.js';
import type { CheckSpec } from '../health/board.js';

/**
 * The compiled `lb:` section (config/compile-lb.ts builds it): everything `steerdns lb`
 * needs, every default applied. It lives here, with the balancer, so that the balancer
 * does not depend on the configuration folder.
 */

/** One real server behind the cluster address. */
export interface LbServer {
  readonly name: string;
  /** Its own (real) address: the next hop of its connections. */
  readonly address: string;
  /** The configured weight (> 0). */
  readonly weight: number;
  /** No new connections; those open continue. */
  readonly drain: boolean;
  /** Its health check; undefined: always up. */
  readonly check: CheckSpec | undefined;
}

/** How the shares are computed (weights.ts). */
export interface LbBalance {
  /** `weighted`: the configured weights only; `adaptive`: weights, load and response time. */
  readonly mode: 'weighted' | 'adaptive';
  /** Load-driven weights are pushed to the data plane at most this often. */
  readonly intervalMs: number;
  /** The worst server keeps at least this fraction of its configured share (0..1). */
  readonly floor: number;
}

/** The `lb:` section, every default applied. */
export interface LbSettings {
  readonly node: string;
  /** The interface facing the router, the peer and the servers. */
  readonly interface: string;
  /** The private floating (NLBS) address the active balancer holds, and its prefix length. */
  readonly floating: { readonly address: string; readonly prefixLength: number };
  /** The public cluster address the servers hold on loopback. */
  readonly clusterAddress: string;
  /** The TCP ports balanced. */
  readonly ports: readonly number[];
  readonly vrrp: {
    readonly routerId: number;
    readonly priority: number;
    readonly advertMs: number;
    readonly preempt: boolean;
    /** Unicast peers; empty: multicast (224.0.0.18). */
    readonly peers: readonly string[];
  };
  /** conntrackd between the pair; undefined: no connection sync. */
  readonly sync:
    { readonly address: string; readonly peer: string; readonly port: number } | undefined;
  readonly servers: readonly LbServer[];
  readonly balance: LbBalance;
  /** The seed's four state scripts, each list run in order. */
  readonly scripts: RoleHooks;
  readonly scriptTimeoutMs: number;
  /** The node's own reachability checks (seed: e.g. the gateway routers); one down: inop. */
  readonly checks: readonly (CheckSpec & { readonly name: string })[];
  /** Where the engines' configuration, pid files, FIFO and the status file go. */
  readonly runDirectory: string;
  /** Marks and routing tables of the servers: base + 1, base + 2, ... */
  readonly markBase: number;
}
