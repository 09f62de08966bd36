import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { parseDigOutput } from '../helpers/dig.js';
import { query } from '../helpers/dns-client.js';
import {
  REPO_ROOT,
  startServer,
  tmpdirWith,
  type ServerProcess,
} from '../helpers/server-process.js';

// Announcements to a multicast group (issue 4: "a list of unicast addresses, or a multicast
// group") and load read from a URL, with real `steerdns serve` and `steerdns agent`
// processes. Traffic stays on this host's loopback interface, or inside two network
// namespaces this test makes and deletes (joined by a veth pair, 10.53.0.0/24).

const KEY_FILE = resolve(REPO_ROOT, 'examples/agent.key');
const INTERVAL_MS = 300;

/** examples/agents.yaml with the `agents` section replaced (`lines`, indented by 2). */
async function exampleWith(agents: readonly string[], listen?: string): Promise<string> {
  const example = await readFile(join(REPO_ROOT, 'examples/agents.yaml'), 'utf8');
  const section = /^agents:\n(?: {2}.*\n)+/m;
  assert.match(example, section);
  const text = example.replace(section, `agents:\n${agents.map((l) => `  ${l}\n`).join('')}`);
  return listen === undefined
    ? text
    : text.replace('listen: [127.0.0.1:5353]', `listen: [${listen}]`);
}

function agentArgs(extra: readonly string[]): string[] {
  return [
    '--import',
    'tsx',
    'src/main.ts',
    'agent',
    '--key-file',
    KEY_FILE,
    '--service',
    'app.example.org',
    '--interval',
    `${INTERVAL_MS}ms`,
    ...extra,
  ];
}

/** A child process with its output lines. */
interface Child {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const children = new Set<Child>();

function track(child: ChildProcess): Child {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        for (const waiter of waiters) waiter();
      });
  }
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      done();
    }),
  );
  const tracked: Child = {
    child,
    lines,
    waitFor: (pattern, ms = 10_000) =>
      new Promise((done, fail) => {
        const check = (): void => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined) return;
          finish();
          done(line);
        };
        const timer = setTimeout(() => {
          finish();
          fail(
            new Error(`no line matching ${pattern} in ${ms} ms:\n${lines.slice(-20).join('\n')}`),
          );
        }, ms);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    stop: async (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      children.delete(tracked);
    },
  };
  children.add(tracked);
  return tracked;
}

after(async () => {
  await Promise.all([...children].map((c) => c.stop()));
});

async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < ms) {
    if (await condition()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`condition not met within ${ms} ms`);
}

const same = (seen: ReadonlySet<string>, ...expected: string[]): boolean =>
  seen.size === expected.length && expected.every((a) => seen.has(a));

/** Undefined when a datagram to `group`, sent and joined on 127.0.0.1, arrives; else why not. */
async function loopbackMulticast(group: string): Promise<string | undefined> {
  const inbox = createSocket({ type: 'udp4', reuseAddr: true });
  const out = createSocket('udp4');
  try {
    await new Promise<void>((done) => inbox.bind(0, group, done));
    inbox.addMembership(group, '127.0.0.1');
    await new Promise<void>((done) => out.bind(0, '127.0.0.1', done));
    out.setMulticastInterface('127.0.0.1');
    const arrived = new Promise<boolean>((done) => {
      inbox.once('message', () => {
        done(true);
      });
      setTimeout(() => {
        done(false);
      }, 1000).unref();
    });
    out.send('probe', inbox.address().port, group);
    return (await arrived) ? undefined : 'no multicast delivery on the loopback interface here';
  } catch (error) {
    return `no multicast on the loopback interface here: ${(error as Error).message}`;
  } finally {
    inbox.close();
    out.close();
  }
}

describe('agents.listen: multicast groups in the configuration', () => {
  const config = async (lines: readonly string[]) =>
    parseConfig(await exampleWith([...lines, `keyFile: ${KEY_FILE}`]), '/etc/steerdns.yaml');
  const problems = async (lines: readonly string[]): Promise<string> => {
    try {
      await config(lines);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    return assert.fail('accepted');
  };

  test('groups, IPv6 ones with their interface as zone, and the IPv4 interface', async () => {
    const agents = (
      await config([
        'listen: [192.0.2.53:5380, 239.255.53.1:5380, "[ff02::5380%eth0]:5380", "[ff15::5380]:5380"]',
        'multicastInterface: 10.0.0.53',
      ])
    ).agents!;
    assert.deepEqual(agents.listen, [
      { host: '192.0.2.53', port: 5380 },
      { host: '239.255.53.1', port: 5380 },
      { host: 'ff02::5380%eth0', port: 5380 },
      { host: 'ff15::5380', port: 5380 },
    ]);
    assert.equal(agents.multicastInterface, '10.0.0.53');
    const unicast = (await config(['listen: [127.0.0.1:5380]'])).agents!;
    assert.equal(unicast.multicastInterface, undefined);
  });

  test('mistakes are named with their line', async () => {
    assert.match(
      await problems(['listen: ["[ff02::5380]:5380"]']),
      /steerdns.yaml:\d+: agents.listen: the link-local group ff02::5380 needs its interface: \[ff02::5380%eth0\]/,
    );
    assert.match(
      await problems(['listen: ["[fe80::1%eth0]:5380"]']),
      /agents.listen: a %interface is only for an IPv6 multicast group, not fe80::1/,
    );
    assert.match(
      await problems(['listen: [239.255.53.1:5380]', 'multicastInterface: eth0']),
      /agents.multicastInterface: expected the IPv4 address of a local interface, got "eth0"/,
    );
    assert.match(
      await problems(['listen: [127.0.0.1:5380]', 'multicastInterface: 127.0.0.1']),
      /agents.multicastInterface: no IPv4 multicast group in agents.listen/,
    );
    assert.match(
      await problems(['listen: ["[ff15::1]:5380"]', 'multicastInterface: 127.0.0.1']),
      /no IPv4 multicast group/,
    );
  });
});

test(
  'a group the server cannot join stops it at start, naming the entry',
  { timeout: 20_000 },
  async () => {
    const dir = await tmpdirWith({
      'steerdns.yaml': await exampleWith(
        ['listen: [239.255.53.92:0]', 'multicastInterface: 192.0.2.1', `keyFile: ${KEY_FILE}`],
        '127.0.0.1:0',
      ),
    });
    const server = track(
      spawn(
        process.execPath,
        ['--import', 'tsx', 'src/main.ts', 'serve', '--config', join(dir, 'steerdns.yaml')],
        {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    const code = await new Promise((done) => server.child.once('exit', done));
    assert.equal(code, 1);
    await server.waitFor(
      new RegExp(
        '^steerdns: cannot listen: agents.listen 239.255.53.92:0: cannot join the group on 192.0.2.1: addMembership (ENODEV|EADDRNOTAVAIL)$',
      ),
      1000,
    );
  },
);

/** An HTTP server on 127.0.0.1 answering GET /NODE with that node's load figure. */
async function loadServer(): Promise<{ url: string; loads: Map<string, string>; server: Server }> {
  const loads = new Map<string, string>();
  const server = createServer((request, response) => {
    const body = loads.get((request.url ?? '/').slice(1));
    response.statusCode = body === undefined ? 404 : 200;
    response.end(body ?? 'unknown node');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, loads, server };
}

const GROUP = '239.255.53.91';
const loopbackSkip = await loopbackMulticast(GROUP);

describe('on this host: load read from URLs, announcements to a group on loopback', () => {
  let server: ServerProcess;
  let loads: Awaited<ReturnType<typeof loadServer>>;
  // Where the server receives announcements: unicast, and the group's port (port 0 each).
  let unicast: string;
  let group: string;

  before(async () => {
    loads = await loadServer();
    // Unicast always; the group only where loopback multicast works (else that test skips).
    const listen = ['127.0.0.1:0', ...(loopbackSkip ? [] : [`${GROUP}:0`])];
    const dir = await tmpdirWith({
      'steerdns.yaml': await exampleWith([
        `listen: [${listen.join(', ')}]`,
        ...(loopbackSkip ? [] : ['multicastInterface: 127.0.0.1']),
        `keyFile: ${KEY_FILE}`,
        'missed: 3',
      ]),
    });
    server = await startServer([
      'serve',
      '--config',
      join(dir, 'steerdns.yaml'),
      '--listen',
      '127.0.0.1:0',
    ]);
    await server.waitForLog((_e, line) => line.includes('receiving agent announcements'), 5000);
    const agents = server.bound.agents;
    assert.equal(agents.length, listen.length, `agents: ${agents.join(', ')}`);
    unicast = agents.find((a) => a.startsWith('127.0.0.1:'))!;
    group = agents.find((a) => a.startsWith(`${GROUP}:`)) ?? '';
  });
  after(async () => {
    await server.stop();
    loads.server.closeAllConnections();
    await new Promise((done) => loads.server.close(done));
  });

  const answers = async (rounds = 4): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < rounds; i++) {
      const reply = await query(server.address, { name: 'app.example.org', type: 'A' });
      for (const a of reply.answers) if (a.type === 'A') seen.add(a.data);
    }
    return seen;
  };
  const agent = (node: string, address: string, extra: readonly string[]): Child =>
    track(
      spawn(
        process.execPath,
        agentArgs([
          '--node',
          node,
          '--address',
          address,
          '--load-url',
          `${loads.url}/${node}`,
          ...extra,
        ]),
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );

  test(
    '--load-url: the figure each node serves steers least-load',
    { timeout: 30_000 },
    async () => {
      loads.loads.set('url1', 'load 40');
      loads.loads.set('url2', '{"load": 10.5}');
      const one = agent('url1', '127.0.0.51', ['--to', unicast]);
      const two = agent('url2', '127.0.0.52', ['--to', unicast]);
      await within(10_000, async () => same(await answers(), '127.0.0.52'));
      // The figures change at their source: the answers follow at the next announcements.
      loads.loads.set('url1', '5');
      await within(3000, async () => same(await answers(), '127.0.0.51'));
      // A URL that fails: that node's load is left out (logged once); the other is still known.
      loads.loads.delete('url1');
      await one.waitFor(/load: HTTP 404/, 3000);
      loads.loads.set('url1', '5');
      await one.waitFor(/load: working again/, 3000);
      assert.equal(one.lines.filter((l) => l.includes('load: HTTP 404')).length, 1, 'logged once');
      await Promise.all([one.stop(), two.stop()]);
    },
  );

  test(
    'a group on loopback: announcements sent to it join the node',
    { timeout: 30_000, skip: loopbackSkip },
    async () => {
      loads.loads.set('mc1', '1');
      const node = agent('mc1', '127.0.0.53', [
        '--to',
        group,
        '--multicast-interface',
        '127.0.0.1',
      ]);
      await within(10_000, async () => same(await answers(), '127.0.0.53'));
      await server.waitForLog((_e, line) => line.includes('agent mc1') && line.includes('joined'));
      // Silent over multicast: removed like any other node.
      await node.stop();
      await within(5000, async () => !(await answers()).has('127.0.0.53'));
    },
  );
});

// Two network namespaces: the server in one, agents in the other, joined by a veth pair.
const NS_SERVER = `sdmc-${process.pid}-srv`;
const NS_AGENTS = `sdmc-${process.pid}-agt`;
const VETH_SERVER = `sdmcs${process.pid % 1_000_000}`;
const VETH_AGENTS = `sdmca${process.pid % 1_000_000}`;
const V4_GROUP = '239.255.53.1';
const V6_GROUP = 'ff12::5380';

const run = (args: readonly string[]): string =>
  execFileSync(args[0]!, args.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10_000,
  }).toString();

/** Why namespaces cannot be used here, or undefined. */
function netnsProblem(): string | undefined {
  const probe = `sdmc-${process.pid}-probe`;
  try {
    run(['ip', 'netns', 'add', probe]);
  } catch (error) {
    return `needs network namespaces (root, iproute2's ip netns): ${(error as Error).message.split('\n')[0]!}`;
  }
  try {
    run(['ip', 'netns', 'del', probe]);
    run(['dig', '-v']);
  } catch (error) {
    return `needs ip and dig: ${(error as Error).message.split('\n')[0]!}`;
  }
  return undefined;
}

const netnsSkip = netnsProblem();

function deleteNamespaces(): void {
  for (const ns of [NS_SERVER, NS_AGENTS]) {
    try {
      run(['ip', 'netns', 'del', ns]);
    } catch {
      // Not there (never made, or gone already).
    }
  }
}

describe('between two network namespaces over a veth pair', { skip: netnsSkip }, () => {
  let server: Child;
  let ipv6 = true;

  before(async () => {
    const inNs = (ns: string, ...args: string[]): string =>
      run(['ip', 'netns', 'exec', ns, ...args]);
    for (const ns of [NS_SERVER, NS_AGENTS]) {
      run(['ip', 'netns', 'add', ns]);
      try {
        // Link-local addresses usable at once (no duplicate address detection to wait for).
        inNs(ns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad');
      } catch {
        ipv6 = false;
      }
    }
    run([
      'ip',
      'link',
      'add',
      VETH_SERVER,
      'netns',
      NS_SERVER,
      'type',
      'veth',
      'peer',
      'name',
      VETH_AGENTS,
      'netns',
      NS_AGENTS,
    ]);
    run(['ip', '-n', NS_SERVER, 'addr', 'add', '10.53.0.1/24', 'dev', VETH_SERVER]);
    run(['ip', '-n', NS_AGENTS, 'addr', 'add', '10.53.0.2/24', 'dev', VETH_AGENTS]);
    for (const [ns, veth] of [
      [NS_SERVER, VETH_SERVER],
      [NS_AGENTS, VETH_AGENTS],
    ] as const) {
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      run(['ip', '-n', ns, 'link', 'set', veth, 'up']);
    }
    if (ipv6) {
      // Wait for the link-local addresses (the source of IPv6 multicast datagrams).
      ipv6 = await within(3000, () =>
        Promise.resolve(
          [
            [NS_SERVER, VETH_SERVER],
            [NS_AGENTS, VETH_AGENTS],
          ].every(([ns, veth]) =>
            /inet6 fe80::\S+ scope link(?! tentative)/.test(
              run(['ip', '-n', ns!, '-6', 'addr', 'show', 'dev', veth!]),
            ),
          ),
        ),
      ).then(
        () => true,
        () => false,
      );
    }
    const dir = await tmpdirWith({
      'steerdns.yaml': await exampleWith([
        'listen:',
        `  - ${V4_GROUP}:5380`,
        ...(ipv6 ? [`  - "[${V6_GROUP}%${VETH_SERVER}]:5380"`] : []),
        'multicastInterface: 10.53.0.1',
        `keyFile: ${KEY_FILE}`,
        'missed: 3',
      ]),
    });
    server = track(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          NS_SERVER,
          process.execPath,
          '--import',
          'tsx',
          'src/main.ts',
          'serve',
          '--config',
          join(dir, 'steerdns.yaml'),
          '--listen',
          '127.0.0.1:5353',
        ],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    await server.waitFor(/receiving agent announcements/, 15_000);
    await within(10_000, async () => (await dig('example.org', 'SOA')).status === 'NOERROR');
  });
  after(async () => {
    await Promise.all([...children].map((c) => c.stop()));
    deleteNamespaces();
  });

  /** dig in the server's namespace, against the server. */
  const dig = (name: string, type: string) =>
    new Promise<ReturnType<typeof parseDigOutput>>((done, fail) => {
      execFile(
        'ip',
        [
          'netns',
          'exec',
          NS_SERVER,
          'dig',
          '@127.0.0.1',
          '-p',
          '5353',
          '+time=1',
          '+tries=1',
          name,
          type,
        ],
        { timeout: 5000 },
        (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number')
            fail(new Error(`dig: ${error.message}`, { cause: error }));
          else done(parseDigOutput(stdout, stderr, error ? Number(error.code) : 0));
        },
      );
    });
  const answers = async (rounds = 3): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < rounds; i++) {
      const reply = await dig('app.example.org', 'A');
      assert.equal(reply.status, 'NOERROR');
      for (const line of reply.answer) seen.add(line.split(' ').at(-1)!);
    }
    return seen;
  };
  const agent = (args: readonly string[]): Child =>
    track(
      spawn('ip', ['netns', 'exec', NS_AGENTS, process.execPath, ...agentArgs(args)], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );

  test(
    'an IPv4 group: the agent sends from the interface given, the server joined on its own',
    { timeout: 30_000 },
    async () => {
      const node = agent([
        '--to',
        `${V4_GROUP}:5380`,
        '--multicast-interface',
        '10.53.0.2',
        '--node',
        'mc4',
        '--address',
        '192.0.2.41',
        '--load-command',
        'echo 20',
      ]);
      await within(10_000, async () => same(await answers(), '192.0.2.41'));
      await server.waitFor(/agent mc4 \(app\.example\.org\.?\) joined with 192\.0\.2\.41/);
      assert.equal(
        node.lines.filter((l) => /"level":(40|50)/.test(l)).length,
        0,
        node.lines.join('\n'),
      );
    },
  );

  test('an IPv6 link-local group, the interface given as zone', { timeout: 30_000 }, async (t) => {
    if (!ipv6) {
      t.skip('no IPv6 link-local addresses in the namespaces');
      return;
    }
    const node = agent([
      '--to',
      `[${V6_GROUP}%${VETH_AGENTS}]:5380`,
      '--node',
      'mc6',
      '--address',
      '192.0.2.42',
      '--load-command',
      'echo 10',
    ]);
    // Less loaded than mc4: it takes the answers once heard.
    await within(10_000, async () => same(await answers(), '192.0.2.42'));
    await node.stop();
    const gone = await within(5000, async () => same(await answers(), '192.0.2.41'));
    assert.ok(gone <= 3 * INTERVAL_MS + 500, `out after ${gone.toFixed(0)} ms`);
  });

  test(
    "--multicast-ttl 0 keeps announcements on the agent's host: never heard",
    { timeout: 30_000 },
    async () => {
      // A listener beside the agent, joined on the agent's interface: it hears them.
      const local = track(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            NS_AGENTS,
            process.execPath,
            '-e',
            `const s = require('node:dgram').createSocket({ type: 'udp4', reuseAddr: true });
           s.bind(5380, '${V4_GROUP}', () => { s.addMembership('${V4_GROUP}', '10.53.0.2'); console.log('joined'); });
           s.on('message', (m) => { if (m.includes('"ttl0"')) console.log('heard ttl0'); });`,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      await local.waitFor(/^joined$/);
      const node = agent([
        '--to',
        `${V4_GROUP}:5380`,
        '--multicast-interface',
        '10.53.0.2',
        '--multicast-ttl',
        '0',
        '--node',
        'ttl0',
        '--address',
        '192.0.2.43',
        '--load-command',
        'echo 0',
      ]);
      await local.waitFor(/^heard ttl0$/);
      await new Promise((r) => setTimeout(r, 4 * INTERVAL_MS));
      // The least loaded node, yet never answered: nothing crossed the link.
      assert.ok(!(await answers(5)).has('192.0.2.43'));
      assert.ok(!server.lines.some((l) => l.includes('agent ttl0')));
      await Promise.all([node.stop(), local.stop()]);
    },
  );
});
