/**
 * The rankings variant (seed 002 [0016], [0046]): a DNS-LB tells the DNS-Bs its sites best
 * first, as its own policy chain orders them from where it stands, so a DNS-B can answer
 * them directly. The ranking is the DNS-LB's decision for one of its resolvers, taken on
 * the live state (measured response times, health, the owner's offline sites), without
 * side effects.
 */
import { decide } from '../steering/chain.js';
import type { Service } from '../steering/service.js';
import type { SelectionContext, StateView } from '../steering/types.js';
import { parseAddress } from '../lib/ip.js';

/**
 * The addresses `service` answers now for a client at `resolver`, best first, as many as
 * the service answers (`answers: 1`: the best only; more: the list best to worst).
 * Empty when nothing is up and the all-down behaviour answers nothing.
 */
export function rankingOf(
  service: Service,
  state: StateView,
  resolver: string,
  now: number,
): string[] {
  const bytes = parseAddress(resolver) ?? new Uint8Array(4);
  const ctx: SelectionContext = {
    service: service.name,
    client: {
      resolver: bytes,
      location: bytes,
      locationPrefix: bytes.length * 8,
      fromEcs: false,
      resolverText: resolver,
    },
    state,
    random: Math.random,
    now,
    explain: false,
    // Ranking is not a query: no persistence entry is written for the resolver.
    dryRun: true,
  };
  const decision = decide(service, ctx, 0);
  return [...new Set(decision.members.flatMap((m) => [...m.ipv4, ...m.ipv6]))];
}
