// The extra resolution time of seed 002's referral chain through unbound (issue 10), on
// loopback: with examples/client-centric/run.sh running (it needs root), starts a fresh
// unbound per sample and times, with kdig, a cold and then a warm query for
//   www.example.com   (DNS-A delegation -> DNS-B CNAME + referral -> DNS-LB address), and
//   sites.example.com (answered by the DNS-A itself: the baseline without the chain).
//
//   examples/client-centric/run.sh &   # then
//   node --import tsx bench/referral-resolution.ts [--samples 20]
//
// Each unbound listens on 127.0.53.(120+i):53 and queries from 127.0.53.(160+i) (the DNS-B
// maps it to a DNS-LB by the nearest registered resolver). Every instance is stopped by PID.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { startUnbound } from '../test/referral/unbound.js';

/** kdig's own figure for one query, ms ("Received N B from ... in X ms"). */
function queryMs(server: string, name: string): number {
  const out = execFileSync('kdig', [`@${server}`, '+time=5', '+retry=0', name, 'A'], {
    encoding: 'utf8',
  });
  const match = /in ([\d.]+) ms/.exec(out);
  if (!match || !out.includes('status: NOERROR')) throw new Error(`kdig ${name}: ${out}`);
  return Number(match[1]);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const samples = Number(process.argv[process.argv.indexOf('--samples') + 1] ?? 20) || 20;
const dir = mkdtempSync(join(tmpdir(), 'steerdns-resolution-'));
const times: Record<string, number[]> = {
  chainCold: [],
  chainWarm: [],
  baseCold: [],
  baseWarm: [],
};
try {
  for (let i = 0; i < samples; i++) {
    for (const [kind, name] of [
      ['chain', 'www.example.com'],
      ['base', 'sites.example.com'],
    ] as const) {
      const n = 2 * i + (kind === 'chain' ? 0 : 1);
      const resolver = await startUnbound({
        dir,
        name: `r${n}`,
        listen: `127.0.53.${120 + (n % 40)}`,
        outgoing: `127.0.53.${160 + (n % 40)}`,
        stubs: { 'example.com': '127.0.53.1@5300' },
      });
      try {
        times[`${kind}Cold`]!.push(queryMs(resolver.address, name));
        times[`${kind}Warm`]!.push(queryMs(resolver.address, name));
      } finally {
        await resolver.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const result = Object.fromEntries(
  Object.entries(times).map(([k, xs]) => [
    k,
    { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) },
  ]),
);
console.log(JSON.stringify({ samples, ...result }));
