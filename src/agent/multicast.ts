/**
 * Multicast groups as announcement destinations (agent) and listen addresses (server).
 *
 * IPv4 groups (224.0.0.0/4) go with an interface given by one of its IPv4 addresses
 * (`--multicast-interface`, `agents.multicastInterface`). IPv6 groups (ff00::/8) carry
 * their interface as a zone, the usual notation for scoped addresses:
 * `[ff02::5380%eth0]:5380`; an interface-local or link-local group (scope 1 or 2) needs
 * one, as it means nothing without an interface.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseAddress } from '../lib/ip.js';

/** The IPv6 zone (interface name) in `[ADDR%ZONE]:PORT`: 1-15 characters, as Linux allows. */
const ZONED = /^\[([0-9A-Fa-f:.]+)%([A-Za-z0-9_.-]{1,15})\]:(\d{1,5})$/;

/** `[ADDR%ZONE]:PORT` split into `[ADDR]:PORT` (for the usual parser) and the zone. */
export function splitZone(text: string): { readonly text: string; readonly zone?: string } {
  const match = ZONED.exec(text);
  if (!match) return { text };
  return { text: `[${match[1]!}]:${match[3]!}`, zone: match[2]! };
}

/** The address without its `%zone`, and the zone. */
export function addressAndZone(host: string): { readonly address: string; readonly zone?: string } {
  const at = host.indexOf('%');
  return at < 0 ? { address: host } : { address: host.slice(0, at), zone: host.slice(at + 1) };
}

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast group, with or without a zone. */
export function isMulticastGroup(host: string): boolean {
  const { address } = addressAndZone(host);
  const bytes = parseAddress(address);
  if (!bytes) return false;
  return bytes.length === 4 ? (bytes[0]! & 0xf0) === 0xe0 : bytes[0] === 0xff;
}

/** 4 or 6 for an address with or without a zone; 0 for anything else. */
export function familyOf(host: string): 0 | 4 | 6 {
  const { address } = addressAndZone(host);
  return isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
}

/**
 * What is wrong with `host` (maybe with a `%zone`) as a destination or listen address, as
 * far as multicast goes: a zone on anything but an IPv6 group, or an IPv6 group of
 * interface- or link-local scope without one. Undefined when nothing is.
 */
export function multicastProblem(host: string): string | undefined {
  const { address, zone } = addressAndZone(host);
  const group = isMulticastGroup(address);
  if (zone !== undefined && !(group && isIPv6(address))) {
    return `a %interface is only for an IPv6 multicast group, not ${address}`;
  }
  if (group && isIPv6(address) && zone === undefined) {
    const scope = parseAddress(address)![1]! & 0x0f;
    if (scope === 1 || scope === 2) {
      return `the link-local group ${address} needs its interface: [${address}%eth0]`;
    }
  }
  return undefined;
}

/**
 * The interface argument Node's `addMembership` and `setMulticastInterface` take for a
 * group: the IPv4 interface address given for IPv4 groups, `::%ZONE` for IPv6 ones;
 * undefined lets the kernel choose (by its routing table).
 */
export function interfaceFor(group: string, ipv4Interface: string | undefined): string | undefined {
  const { zone } = addressAndZone(group);
  if (familyOf(group) === 6) return zone === undefined ? undefined : `::%${zone}`;
  return ipv4Interface;
}

/**
 * Undefined when the zone of `host` (if any) names an interface of this host (with an
 * address; as `os.networkInterfaces` lists them), else what is wrong. Checked before use:
 * the kernel would take an unknown name for "any interface" and pick one by its routes.
 */
export function zoneProblem(
  host: string,
  interfaces: () => readonly string[] = () => Object.keys(networkInterfaces()),
): string | undefined {
  const { zone } = addressAndZone(host);
  if (zone === undefined || interfaces().includes(zone)) return undefined;
  return `no interface ${zone} on this host`;
}
