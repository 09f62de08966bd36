import { execFile, execFileSync } from 'node:child_process';

/**
 * A small network of Linux network namespaces for cluster tests (root only): every host is a
 * namespace with one interface `eth0` on a bridge that lives in a namespace of its own, so
 * nothing is added to the namespace the tests run in and nothing has a route out. Addresses
 * come from the documentation ranges. Namespace names carry the test process's PID and a
 * counter, so that two test files never share one; {@link Lab.remove} deletes them all, and
 * so does the process's exit if a test forgot.
 */

/** One host of a lab. */
export interface NetHost {
  readonly name: string;
  /** The namespace's name, for `ip netns exec`. */
  readonly ns: string;
  /** Its IPv4 address (no prefix length). */
  readonly ipv4: string;
  /** Its IPv6 address, if it has one. */
  readonly ipv6: string | undefined;
  /** The command prefix that runs a program inside it (exec keeps the PID). */
  readonly prefix: readonly string[];
  /** Runs `argv` inside the namespace; rejects with its output if it exits non-zero. */
  readonly run: (argv: readonly string[], timeoutMs?: number) => Promise<string>;
}

/** What a lab is made of. */
export interface LabSpec {
  readonly hosts: readonly { name: string; ipv4: string; ipv6?: string }[];
  /** @default 24 */
  readonly prefixLength?: number;
}

/** A lab of hosts on one bridge. */
export interface Lab {
  readonly hosts: Readonly<Record<string, NetHost>>;
  /** The namespace of the bridge. */
  readonly switchNs: string;
  /** Deletes every namespace of the lab (and with them their interfaces). Idempotent. */
  readonly remove: () => Promise<void>;
}

let labCounter = 0;
const liveNamespaces = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const ns of liveNamespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Already gone.
      }
    }
  });
}

/** Runs a command, resolving its stdout; rejects with the command and its stderr. */
export function run(argv: readonly string[], timeoutMs = 10_000): Promise<string> {
  const [file = '', ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`netns: "${argv.join(' ')}" failed: ${stderr.trim() || error.message}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** True when this process may create network namespaces (root, with `ip`). */
export function canCreateNamespaces(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds the lab: a bridge namespace and one namespace per host, all links up. */
export async function createLab(spec: LabSpec): Promise<Lab> {
  installExitHook();
  const tag = `sd${process.pid.toString(36)}x${(labCounter++).toString(36)}`;
  const switchNs = `${tag}-sw`;
  const created: string[] = [];
  const addNs = async (ns: string): Promise<void> => {
    await run(['ip', 'netns', 'add', ns]);
    created.push(ns);
    liveNamespaces.add(ns);
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  };
  const remove = async (): Promise<void> => {
    for (const ns of created.splice(0).reverse()) {
      liveNamespaces.delete(ns);
      await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    }
  };
  try {
    await addNs(switchNs);
    await run(['ip', '-n', switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'forward_delay', '0']);
    await run(['ip', '-n', switchNs, 'link', 'set', 'br0', 'up']);
    const hosts: Record<string, NetHost> = {};
    let index = 0;
    for (const host of spec.hosts) {
      const ns = `${tag}-${host.name}`;
      await addNs(ns);
      await plugIn(switchNs, ns, `p${index++}`);
      await configure(ns, host, spec.prefixLength ?? 24);
      const prefix = ['ip', 'netns', 'exec', ns];
      hosts[host.name] = {
        name: host.name,
        ns,
        ipv4: host.ipv4,
        ipv6: host.ipv6,
        prefix,
        run: (argv, timeoutMs) => run([...prefix, ...argv], timeoutMs),
      };
    }
    return { hosts, switchNs, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** A veth pair: `port` on the bridge in `switchNs`, `eth0` in `ns`. */
async function plugIn(switchNs: string, ns: string, port: string): Promise<void> {
  await run(['ip', '-n', switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0']);
  await run(['ip', '-n', switchNs, 'link', 'set', 'eth0', 'netns', ns]);
  await run(['ip', '-n', switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
}

async function configure(
  ns: string,
  host: { ipv4: string; ipv6?: string },
  prefixLength: number,
): Promise<void> {
  await run(['ip', '-n', ns, 'addr', 'add', `${host.ipv4}/${prefixLength}`, 'dev', 'eth0']);
  if (host.ipv6 !== undefined) {
    await run(['ip', '-n', ns, 'addr', 'add', `${host.ipv6}/64`, 'dev', 'eth0', 'nodad']);
  }
  await run(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** The addresses configured on `dev` in a namespace (`ip -o addr`), without prefix lengths. */
export async function addressesOf(host: NetHost, dev = 'eth0'): Promise<string[]> {
  const out = await host.run(['ip', '-o', 'addr', 'show', 'dev', dev, 'scope', 'global']);
  return [...out.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!);
}
