/**
 * The proxy-cache variant's DNS side (seed 002): a DNS-LB whose proxy is on answers its own
 * address for `<label>.<name>`, so clients come to its HTTP proxy, which fetches from the
 * best site. Built once per configuration; a query costs one map lookup.
 */
import { nameFromText, wireKey } from '../dns/name.js';
import { parseAddress } from '../lib/ip.js';
import type { Ranked } from './table.js';

/** What the DNS-LB answers for the names it proxies (`referral.balancer.proxy`). */
export interface ProxiedSettings {
  readonly label: string;
  /** Balanced names, lower case, no dot. */
  readonly names: readonly string[];
  /** The address answered, canonical text. */
  readonly answer: string;
  /** Seconds. */
  readonly ttl: number;
}

const A = 1;
const AAAA = 28;

/** The proxied names' answers, by wire key. */
export class ProxiedNames {
  private readonly byKey = new Map<string, { readonly a: Ranked; readonly aaaa: Ranked }>();

  constructor(settings: ProxiedSettings) {
    const bytes = parseAddress(settings.answer)!;
    const own: Ranked = { ranked: [bytes], ttl: settings.ttl };
    // The other family is an empty answer: no site address may leak past the proxy.
    const none: Ranked = { ranked: [], ttl: settings.ttl };
    const answers = bytes.length === 4 ? { a: own, aaaa: none } : { a: none, aaaa: own };
    for (const name of settings.names)
      this.byKey.set(wireKey(nameFromText(`${settings.label}.${name}.`)), answers);
  }

  /** The answer of an A or AAAA question for a proxied name; undefined for anything else. */
  answer(key: string, qtype: number): Ranked | undefined {
    if (qtype !== A && qtype !== AAAA) return undefined;
    const found = this.byKey.get(key);
    return found && (qtype === A ? found.a : found.aaaa);
  }
}
