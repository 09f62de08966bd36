/**
 * The referral layer of a node's state: the DNS-LBs a DNS-B heard (its table), and the
 * site lists the owner sent (through a DNS-B, to a DNS-LB). Plain data crosses processes
 * and is saved; the built form is what answers read.
 */
import type { MeasuredView, MemberState, StateView } from '../steering/types.js';
import { measuredView, type AgentMeasurement } from './measurements.js';
import type { SiteEntry } from './message.js';
import { ProxiedNames, type ProxiedSettings } from './proxied.js';
import {
  ReferralTable,
  type BackboneSettings,
  type BalancerEntry,
  type LocateAddress,
} from './table.js';

/** The site list of one balanced name, as last received. */
export interface NamedSiteList {
  /** Lower case, no trailing dot. */
  readonly name: string;
  readonly sites: readonly SiteEntry[];
  readonly receivedAt: number;
}

/** The layer as a producer publishes it: plain data. */
export interface ReferralLayer {
  readonly balancers: readonly BalancerEntry[];
  readonly siteLists: readonly NamedSiteList[];
  /** Measurement agents' last rounds (seed 002 MService), on a node that takes them. */
  readonly measurements?: readonly AgentMeasurement[];
}

/** Nothing heard. */
export const NO_REFERRAL: ReferralLayer = { balancers: [], siteLists: [] };

/** The layer built for answering. */
export interface ReferralState {
  readonly layer: ReferralLayer;
  /** The DNS-B's table; undefined when this node is no DNS-B. */
  readonly table: ReferralTable | undefined;
  /** Keys of the members whose address the owner has offline. */
  readonly offline: ReadonlySet<string>;
  /** The offline addresses themselves (explain, status). */
  readonly offlineAddresses: ReadonlySet<string>;
  /** The measurement agents' figures; undefined when none was heard. */
  readonly measured: MeasuredView | undefined;
  /** A DNS-LB's proxied names (the proxy-cache variant); undefined: its proxy is off. */
  readonly proxied: ProxiedNames | undefined;
}

/** A member as far as site lists go: its key and addresses (canonical text). */
export interface AddressedMember {
  readonly key: string;
  readonly addresses: readonly string[];
}

/** Builds the layer for a node: its DNS-B settings (if any) and its services' members. */
export function referralState(
  backbone: BackboneSettings | undefined,
  members: Iterable<AddressedMember>,
  layer: ReferralLayer,
  proxied?: ProxiedSettings,
  locate?: LocateAddress,
): ReferralState {
  const offlineAddresses = new Set<string>();
  for (const list of layer.siteLists)
    for (const site of list.sites) if (!site.online) offlineAddresses.add(site.address);
  const offline = new Set<string>();
  if (offlineAddresses.size > 0)
    for (const member of members)
      if (member.addresses.some((a) => offlineAddresses.has(a))) offline.add(member.key);
  const table = backbone && new ReferralTable(backbone, layer.balancers, offlineAddresses, locate);
  const measured = measuredView(layer.measurements ?? []);
  return {
    layer,
    table,
    offline,
    offlineAddresses,
    measured,
    proxied: proxied && new ProxiedNames(proxied),
  };
}

/** The state view carrying the measurement agents' figures; none: the view itself. */
export function measuredStateView(measured: MeasuredView | undefined, base: StateView): StateView {
  if (!measured) return base;
  const view: StateView = { member: (key) => base.member(key), measured };
  // The outermost view: what the views inside it carry (a site's hand-off table) stays.
  const handoff = base.handoff?.bind(base);
  return handoff ? { ...view, handoff } : view;
}

/**
 * The state view with the owner's offline sites down (seed 002 claims 4, 5: the DNS-A
 * says which site addresses are offline). Nothing offline: the view itself.
 */
export function offlineStateView(offline: ReadonlySet<string>, base: StateView): StateView {
  if (offline.size === 0) return base;
  return {
    member(key): MemberState {
      const underlying = base.member(key);
      return offline.has(key) ? { ...underlying, up: false } : underlying;
    },
  };
}
