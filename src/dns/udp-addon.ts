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
 * The addon file: looked for from this module's directory upwards, since this module runs
 * from src/dns (tsx) and from dist/ (the bundle).
 */
function findAddon(): string | undefined {
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
  if (path === undefined)
    return (loaded = { reason: `${ADDON_PATH} is not built (npm run build builds it)` });
  try {
    const require = createRequire(import.meta.url);
    return (loaded = { addon: require(path) as UdpAddon });
  } catch (error) {
    return (loaded = { reason: `${path} does not load: ${(error as Error).message}` });
  }
}
