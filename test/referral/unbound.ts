/**
 * An unbound resolver for tests: its own configuration in a temporary directory, started
 * in the foreground and stopped by PID. Unbound cannot listen on port 0 (it would not say
 * which port it got), so each instance listens on port 53 of an address of its own in
 * 127.0.0.0/8, chosen at random per test run by {@link runPrefix}: one of 65,000 /24s,
 * not probed. A taken address makes unbound exit, and the test fails saying so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `127.X.Y`: the /24 of loopback addresses this test run uses. */
export function runPrefix(): string {
  return `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
}

/** A running unbound. */
export interface Unbound {
  readonly pid: number;
  readonly address: string;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** Options: where it listens, the source address it queries from, the stub zones. */
export interface UnboundOptions {
  readonly dir: string;
  readonly name: string;
  readonly listen: string;
  readonly outgoing: string;
  /** zone -> `ADDR@PORT` */
  readonly stubs: Readonly<Record<string, string>>;
  /** More `server:` lines, e.g. `cache-max-ttl: 1` (a resolver that asks again every second). */
  readonly server?: readonly string[];
}

/** Starts unbound and resolves once it logs "start of service" (10 s deadline). */
export async function startUnbound(o: UnboundOptions): Promise<Unbound> {
  const conf = join(o.dir, `${o.name}.conf`);
  const stubs = Object.entries(o.stubs)
    .map(([zone, addr]) => `stub-zone:\n  name: "${zone}"\n  stub-addr: ${addr}\n`)
    .join('');
  await writeFile(
    conf,
    `server:
  interface: ${o.listen}
  port: 53
  outgoing-interface: ${o.outgoing}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${o.dir}"
  pidfile: "${join(o.dir, `${o.name}.pid`)}"
  use-syslog: no
  verbosity: 1
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: no
  prefetch: no
  minimal-responses: no
  do-ip6: no
${(o.server ?? []).map((line) => `  ${line}\n`).join('')}remote-control:
  control-enable: no
${stubs}`,
  );
  const child: ChildProcess = spawn('/usr/sbin/unbound', ['-d', '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      reject(new Error(`unbound ${o.name}: no "start of service" within 10 s\n${err}`));
    }, 10_000);
    const check = (): void => {
      if (err.includes('start of service')) {
        clearTimeout(deadline);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    void exited.then(() => {
      clearTimeout(deadline);
      reject(new Error(`unbound ${o.name} exited before serving (${o.listen} taken?)\n${err}`));
    });
  });
  return {
    pid: child.pid!,
    address: o.listen,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
}
