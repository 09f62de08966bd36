/**
 * The identity of a member across the node: services answer it, health checks and agents
 * report on it, overrides and logs name it. One format, built in one place.
 */

/** `service pool/member`, e.g. `www.example.org. main/a`. */
export type MemberKey = string & { readonly memberKeyBrand: never };

/** The key of `member` in `pool` of `service` (the service name lower case, with its dot). */
export function memberKey(service: string, pool: string, member: string): MemberKey {
  return `${service} ${pool}/${member}` as MemberKey;
}

/** The parts of a member key; undefined for text that is not one. */
export function parseMemberKey(
  key: string,
): { service: string; pool: string; member: string } | undefined {
  const space = key.indexOf(' ');
  const slash = key.indexOf('/', space + 1);
  if (space <= 0 || slash < 0) return undefined;
  return {
    service: key.slice(0, space),
    pool: key.slice(space + 1, slash),
    member: key.slice(slash + 1),
  };
}

/** `pool/member`: how a member is named within its service (explain, persistence). */
export const memberId = (pool: string, member: string): string => `${pool}/${member}`;
