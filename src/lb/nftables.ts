import { writeFile } from 'node:fs/promises';
import { runSubprocess, type SubprocessOutcome } from '../lib/subprocess.js';
import type { DataPlane, DataPlaneServer, FlowCounts, Slots } from './data-plane.js';

/** The nftables table of the balancer. */
export const TABLE = 'steerdns_lb';

/** What the nftables data plane balances. */
export interface NftablesOptions {
  readonly interface: string;
  readonly clusterAddress: string;
  readonly ports: readonly number[];
  /** Where the rules are written for `nft -f` (in the run directory). */
  readonly rulesFile: string;
}

const run = (argv: readonly string[]): Promise<SubprocessOutcome> =>
  runSubprocess(argv, { maxOutputBytes: 1 << 22, stderr: 'output', timeoutMs: 10_000 });

async function must(argv: readonly string[]): Promise<string> {
  const outcome = await run(argv);
  if (outcome.failure !== undefined) {
    throw new Error(`${argv.join(' ')}: ${outcome.failure}: ${outcome.output.trim()}`);
  }
  return outcome.output;
}

/**
 * The data plane on nftables, conntrack and policy routing (direct routing without IPVS).
 *
 * In direct routing the balancer sees only the client's half of each flow, so conntrack
 * would call every packet after the SYN invalid (SYN_SENT + ACK) and lose the flow's mark.
 * So the SYN is not tracked: it picks a server from the slot map (`numgen inc`, in turn over
 * the slots: exact shares), and the choice waits in the `pending` map for the flow's first
 * ACK, which conntrack picks up as an established flow (`nf_conntrack_tcp_loose`) and which
 * takes the choice as its ct mark. Every later packet gets the ct mark as its packet mark,
 * and `ip rule fwmark M table M` routes it to the server. conntrackd syncs the flows, marks
 * included, so the standby routes them the same way. A packet of a flow nobody knows is
 * dropped (not sent back to the router).
 */
export function nftablesDataPlane(options: NftablesOptions): DataPlane {
  let servers: readonly DataPlaneServer[] = [];
  const match = `ip daddr ${options.clusterAddress} tcp dport { ${options.ports.join(', ')} }`;
  const syn = 'tcp flags & (syn | ack) == syn';

  const selectRule = (slots: Slots): string => {
    const order = interleave(slots);
    if (order.length === 0) return 'reject with tcp reset';
    const entries: string[] = [];
    for (let start = 0; start < order.length;) {
      let end = start;
      while (end + 1 < order.length && order[end + 1] === order[start]) end++;
      entries.push(`${start === end ? start : `${start}-${end}`} : ${order[start]!}`);
      start = end + 1;
    }
    return `meta mark set numgen inc mod ${order.length} map { ${entries.join(', ')} }`;
  };

  const ruleset = (): string => {
    const counters = servers.map((s) => `    counter new_${s.mark} { }`).join('\n');
    const counterMap = servers.map((s) => `${s.mark} : "new_${s.mark}"`).join(', ');
    return `table ip ${TABLE} {
    map pending { type ipv4_addr . inet_service : mark; flags dynamic,timeout; timeout 10s; }
${counters}
    counter unknown_flow { }
    chain select {
        reject with tcp reset
    }
    chain syn {
        meta mark set ip saddr . tcp sport map @pending
        meta mark != 0 accept
        jump select
        update @pending { ip saddr . tcp sport : meta mark }
${counterMap === '' ? '' : `        counter name meta mark map { ${counterMap} }\n`}        accept
    }
    chain raw {
        type filter hook prerouting priority raw; policy accept;
        ${match} ${syn} notrack
    }
    chain pre {
        type filter hook prerouting priority mangle; policy accept;
        ${match} ${syn} jump syn
        ${match} ct state new ct mark 0 ct mark set ip saddr . tcp sport map @pending
        ${match} ct mark 0 counter name unknown_flow drop
        ${match} meta mark set ct mark
    }
}`;
  };

  const load = async (text: string): Promise<void> => {
    await writeFile(options.rulesFile, `${text}\n`);
    await must(['nft', '-f', options.rulesFile]);
  };

  return {
    async install(list) {
      servers = list;
      await this.remove();
      const iface = options.interface;
      await must([
        'sysctl',
        '-q',
        '-w',
        'net.ipv4.ip_forward=1',
        // The balancer forwards out of the interface it received on: a redirect would tell
        // the router to skip it.
        'net.ipv4.conf.all.send_redirects=0',
        `net.ipv4.conf.${iface}.send_redirects=0`,
        'net.netfilter.nf_conntrack_tcp_loose=1',
        // Only half of each flow is seen: windows cannot be tracked.
        'net.netfilter.nf_conntrack_tcp_be_liberal=1',
      ]);
      for (const s of servers) {
        await must([
          'ip',
          'route',
          'replace',
          'default',
          'via',
          s.address,
          'dev',
          iface,
          'table',
          String(s.mark),
        ]);
        await must([
          'ip',
          'rule',
          'add',
          'fwmark',
          String(s.mark),
          'table',
          String(s.mark),
          'priority',
          String(s.mark),
        ]);
      }
      await load(ruleset());
    },
    async setSlots(slots) {
      await load(
        `flush chain ip ${TABLE} select\nadd rule ip ${TABLE} select ${selectRule(slots)}`,
      );
    },
    async counts(): Promise<FlowCounts> {
      const open = new Map<number, number>();
      const listed = await run([
        'conntrack',
        '-L',
        '-p',
        'tcp',
        '--orig-dst',
        options.clusterAddress,
      ]);
      for (const line of listed.output.split('\n')) {
        if (!line.includes(' ESTABLISHED ')) continue;
        const mark = /\bmark=(\d+)/.exec(line);
        if (mark !== null) open.set(Number(mark[1]), (open.get(Number(mark[1])) ?? 0) + 1);
      }
      const started = new Map<number, number>();
      const json = await run(['nft', '-j', 'list', 'counters', 'table', 'ip', TABLE]);
      if (json.failure === undefined) {
        const parsed = JSON.parse(json.output) as {
          nftables?: { counter?: { name: string; packets: number } }[];
        };
        for (const item of parsed.nftables ?? []) {
          const m = /^new_(\d+)$/.exec(item.counter?.name ?? '');
          if (m !== null) started.set(Number(m[1]), item.counter!.packets);
        }
      }
      return { open, started };
    },
    async remove() {
      await run(['nft', 'delete', 'table', 'ip', TABLE]);
      for (const s of servers) {
        await run([
          'ip',
          'rule',
          'del',
          'fwmark',
          String(s.mark),
          'table',
          String(s.mark),
          'priority',
          String(s.mark),
        ]);
        await run(['ip', 'route', 'flush', 'table', String(s.mark)]);
      }
    },
  };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The slots in the order `numgen inc` walks them: smooth weighted round robin (nginx's), so
 * that consecutive connections spread over the servers instead of filling one server's run
 * of slots first. The counts are divided by their greatest common divisor (1:2:3 is a cycle
 * of six).
 */
export function interleave(slots: Slots): number[] {
  const entries = [...slots].filter(([, count]) => count > 0);
  const divisor = entries.reduce((g, [, count]) => gcd(g, count), 0);
  if (divisor === 0) return [];
  const weights = entries.map(([mark, count]) => ({ mark, weight: count / divisor, current: 0 }));
  const total = weights.reduce((sum, w) => sum + w.weight, 0);
  const order: number[] = [];
  for (let i = 0; i < total; i++) {
    let best = weights[0]!;
    for (const w of weights) {
      w.current += w.weight;
      if (w.current > best.current) best = w;
    }
    best.current -= total;
    order.push(best.mark);
  }
  return order;
}
