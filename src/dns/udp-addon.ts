import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An open socket of the addon: an object it wraps. */
export type AddonHandle = object;

/** The functions of native/udp/udp.c (see the contract at the top of that file). */
export interface UdpAddon {
  open(
    host: string,
    port: number,
    batch: number,
    slot: number,
    receiveBuffer: number,
    reusePort: number,
    memory: readonly [Buffer, Uint32Array, Uint8Array],
    onBatch: (count: number) => void,
    handle: AddonHandle,
  ): AddonHandle;
  sendBatch(
    handle: AddonHandle,
    replies: readonly Buffer[],
    slots: Uint32Array,
    count: number,
  ): number;
  port(handle: AddonHandle): number;
  /** Batches, datagrams, datagrams dropped as too long, replies that could not be sent. */
  stats(handle: AddonHandle): [number, number, number, number];
  close(handle: AddonHandle): void;
}

/** Where `npm run build` (scripts/build-native.mjs) writes the addon, below the package root. */
const ADDON_PATH = join('native', 'udp', 'build', 'udp.node');

/**
 * The environment variable that names another addon file to load instead of the one built
 * beside the package: a build with sanitizers for a test, or one built elsewhere.
 */
export const UDP_ADDON_ENV = 'STEERDNS_UDP_ADDON';

/**
 * The addon file: the one {@link UDP_ADDON_ENV} names, else looked for from this module's
 * directory upwards, since this module runs from src/dns (tsx) and from dist/ (the bundle).
 */
function findAddon(): string | undefined {
  const named = process.env[UDP_ADDON_ENV];
  if (named !== undefined && named !== '') return existsSync(named) ? named : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    const path = join(dir, ADDON_PATH);
    if (existsSync(path)) return path;
    dir = dirname(dir);
  }
  return undefined;
}

let loaded: { readonly addon?: UdpAddon; readonly reason?: string } | undefined;

/**
 * Loads the UDP addon once: the addon, or why it cannot run here (not Linux, not built,
 * or built for another Node).
 */
export function loadUdpAddon(): { readonly addon?: UdpAddon; readonly reason?: string } {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') return (loaded = { reason: `not Linux (${process.platform})` });
  const path = findAddon();
  if (path === undefined) {
    const named = process.env[UDP_ADDON_ENV];
    const reason = named
      ? `${named} (${UDP_ADDON_ENV}) does not exist`
      : `${ADDON_PATH} is not built (npm run build builds it)`;
    return (loaded = { reason });
  }
  try {
    const require = createRequire(import.meta.url);
    return (loaded = { addon: require(path) as UdpAddon });
  } catch (error) {
    return (loaded = { reason: `${path} does not load: ${(error as Error).message}` });
  }
}
