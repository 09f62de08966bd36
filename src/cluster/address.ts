import { isIPv6 } from 'node:net';
import { runSubprocess, type SubprocessOutcome } from '../lib/subprocess.js';

/** A service address the active node holds: an IP, its prefix length, the interface. */
export interface ServiceAddress {
  readonly address: string;
  readonly prefixLength: number;
  readonly interface: string;
}

/** `192.0.2.53/24 on eth0`, for logs and hook environments. */
export const formatServiceAddress = (a: ServiceAddress): string =>
  `${a.address}/${a.prefixLength} on ${a.interface}`;

/** Adds and deletes service addresses on this host's interfaces. */
export interface AddressHolder {
  /** Adds each address (one already there is fine), then announces it to the neighbours. */
  add(addresses: readonly ServiceAddress[]): Promise<void>;
  /** Deletes each address (one already gone is fine). */
  remove(addresses: readonly ServiceAddress[]): Promise<void>;
}

/** Runs a command; the holder's commands are short, so a stuck one is killed. */
export type CommandRunner = (argv: readonly string[]) => Promise<SubprocessOutcome>;

const defaultRunner: CommandRunner = (argv) =>
  runSubprocess(argv, { maxOutputBytes: 4096, stderr: 'output', timeoutMs: 2000 });

/**
 * The holder on Linux: `ip addr add|del`, then for IPv4 a gratuitous ARP (iputils `arping -U`,
 * two of them, so that one lost frame does not leave a neighbour on the old holder). For IPv6
 * the address is added with `nodad` (it belongs to whoever holds the role, not to a DAD race)
 * and the kernel's unsolicited neighbour advertisement is asked for with `ndisc_notify`.
 */
export function linuxAddressHolder(run: CommandRunner = defaultRunner): AddressHolder {
  return {
    async add(addresses) {
      for (const a of addresses) {
        const v6 = isIPv6(a.address);
        const argv = ['ip', 'addr', 'add', `${a.address}/${a.prefixLength}`, 'dev', a.interface];
        const added = await run(v6 ? [...argv, 'nodad'] : argv);
        if (added.failure !== undefined && !/File exists|already assigned/.test(added.output)) {
          throw new Error(`cannot add ${formatServiceAddress(a)}: ${reason(added)}`);
        }
        await announce(run, a, v6);
      }
    },
    async remove(addresses) {
      const failures: string[] = [];
      for (const a of addresses) {
        const argv = ['ip', 'addr', 'del', `${a.address}/${a.prefixLength}`, 'dev', a.interface];
        const removed = await run(argv);
        if (
          removed.failure !== undefined &&
          !/Cannot assign requested address|Address not found/.test(removed.output)
        ) {
          failures.push(`cannot delete ${formatServiceAddress(a)}: ${reason(removed)}`);
        }
      }
      if (failures.length > 0) throw new Error(failures.join('; '));
    },
  };
}

async function announce(run: CommandRunner, a: ServiceAddress, v6: boolean): Promise<void> {
  if (v6) {
    await run(['sysctl', '-q', '-w', `net.ipv6.conf.${a.interface}.ndisc_notify=1`]);
    return;
  }
  const arping = await run(['arping', '-U', '-c', '2', '-w', '1', '-I', a.interface, a.address]);
  // arping exits 1 when nobody answers an unsolicited ARP, which is the normal case.
  if (arping.failure !== undefined && arping.failure !== 'exit 1') {
    throw new Error(`gratuitous ARP for ${formatServiceAddress(a)} failed: ${reason(arping)}`);
  }
}

const reason = (outcome: SubprocessOutcome): string =>
  `${outcome.failure ?? 'failed'}${outcome.output.trim() === '' ? '' : `: ${outcome.output.trim()}`}`;

/**
 * A holder for addresses another program adds and deletes (keepalived, for `steerdns lb`):
 * the role keeper still names them to the hooks, but leaves them alone.
 */
export const externallyHeldAddresses = (): AddressHolder => ({
  add: () => Promise.resolve(),
  remove: () => Promise.resolve(),
});
