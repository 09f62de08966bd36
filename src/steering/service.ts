import type { Member, Policy } from './types.js';

/** What to answer when every pool is empty after the chain (seed 001, gdnsd). */
export type AllDownAction =
  /** Answer every member of the first pool, as if all were up (the default). */
  | { readonly action: 'fail-open' }
  /** Answer these addresses or this CNAME target instead. */
  | {
      readonly action: 'fallback';
      readonly ipv4: readonly string[];
      readonly ipv6: readonly string[];
      readonly cname: string | undefined;
    }
  | { readonly action: 'nodata' }
  | { readonly action: 'servfail' }
  /** Answer this rcode, with the SOA TTL capped at `ttl`. */
  | { readonly action: 'rcode'; readonly rcode: number; readonly ttl: number };

/** A pool: members tried together, in the service's pool order. */
export interface Pool {
  readonly name: string;
  readonly members: readonly Member[];
  /** Members with an IPv4 address, and with an IPv6 address (precomputed for A and AAAA). */
  readonly ipv4Members: readonly Member[];
  readonly ipv6Members: readonly Member[];
}

/** The kind of data a service answers. */
export type ServiceType = 'address' | 'cname';

/** A steered name: built once per configuration load, then only read. */
export interface Service {
  /** The name with a trailing dot, as configured. */
  readonly name: string;
  readonly type: ServiceType;
  /** Answer TTL in seconds before policies lower it. */
  readonly ttl: number;
  /** How many members to answer, in preference order. */
  readonly answers: number;
  readonly pools: readonly Pool[];
  readonly chain: readonly Policy[];
  readonly allDown: AllDownAction;
}
