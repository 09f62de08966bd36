// Turns a run.sh results directory into Markdown tables (stdout).
// Usage: node bench/summarize.mjs RESULTS_DIR
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: node summarize.mjs RESULTS_DIR\n');
  process.exit(2);
}
const out = [];
const say = (line = '') => out.push(line);

function readTsv(name) {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const head = lines.shift().split('\t');
  return lines.map((l) => Object.fromEntries(l.split('\t').map((v, i) => [head[i], v])));
}
const rows = readTsv('results.tsv');
const lat = readTsv('latency.tsv');
const scale = readTsv('scale.tsv');

const num = (v) => (v === undefined || v === 'NA' || v === '' ? NaN : Number(v));
const clean = (xs) => xs.filter((x) => !Number.isNaN(x));
const median = (xs) => {
  const a = clean(xs).sort((p, q) => p - q);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
};
const min = (xs) => (clean(xs).length ? Math.min(...clean(xs)) : NaN);
const max = (xs) => (clean(xs).length ? Math.max(...clean(xs)) : NaN);
const fmt = (x, digits = 0) =>
  Number.isNaN(x)
    ? 'n/a'
    : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtMs = (s) => fmt(s * 1000, 3);
const mib = (kb) => fmt(kb / 1024, 1);
const mb = (kb) => fmt((kb * 1024) / 1e6, 1);
const range = (xs, digits = 0) =>
  clean(xs).length > 1 ? ` (${fmt(min(xs), digits)}–${fmt(max(xs), digits)})` : '';
const medRange = (xs, digits = 0) => fmt(median(xs), digits) + range(xs, digits);

const order = [];
for (const r of rows) if (!order.includes(r.variant)) order.push(r.variant);
for (const r of lat) if (!order.includes(r.variant)) order.push(r.variant);
const closed = (v, mode, qset) =>
  rows.filter(
    (r) => r.variant === v && r.mode === mode && r.qset === qset && r.offered_qps === '0',
  );

const env = fs.existsSync(path.join(dir, 'env.txt'))
  ? fs.readFileSync(path.join(dir, 'env.txt'), 'utf8')
  : '';
const param = (key) => new RegExp(`${key}=(\\S+)`).exec(env)?.[1];

// ---------------------------------------------------------------- throughput
const flags = new Set();
function throughput(mode, title) {
  const vs = order.filter((v) => rows.some((r) => r.variant === v && r.mode === mode));
  if (!vs.length) return;
  const qsets = [
    ...new Set(rows.filter((r) => r.mode === mode && r.offered_qps === '0').map((r) => r.qset)),
  ];
  say(`### ${title}`);
  say();
  const h = ['Variant'];
  for (const q of qsets)
    h.push(`${q}: QPS median (min–max)`, `${q}: CPU µs/query`, `${q}: avg latency ms`);
  h.push(
    'lost',
    'server CPU % (www)',
    'CPU0 / CPU1 busy % (www)',
    'RSS after load MiB',
    'peak RSS MiB',
    'runs',
  );
  say(`| ${h.join(' | ')} |`);
  say(`|${h.map(() => '---').join('|')}|`);
  for (const v of vs) {
    const first = closed(v, mode, qsets[0]);
    const all = qsets.flatMap((q) => closed(v, mode, q));
    if (!all.length) continue;
    let mark = '';
    if (mode === 'pinned' && median(first.map((r) => num(r.cpu1_busy))) < 90) {
      mark += ' †';
      flags.add('†');
    }
    // CPU time on the two cores that neither the server nor dnsperf accounts for
    const other = max(all.map((r) => num(r.other_pct)));
    if (other > 15) {
      mark += ' §';
      flags.add('§');
    }
    const cells = [v + mark];
    for (const q of qsets) {
      const rs = closed(v, mode, q);
      cells.push(
        medRange(rs.map((r) => num(r.qps))),
        medRange(
          rs.map((r) => num(r.srv_cpu_us_per_q)),
          1,
        ),
        fmtMs(median(rs.map((r) => num(r.avg_lat_s)))),
      );
    }
    cells.push(
      fmt(all.reduce((s, r) => s + (num(r.lost) || 0), 0)),
      fmt(median(first.map((r) => num(r.srv_cpu_pct)))),
      `${fmt(median(first.map((r) => num(r.cpu0_busy))))} / ${fmt(median(first.map((r) => num(r.cpu1_busy))))}`,
      mib(num(all[all.length - 1].rss_kb)),
      mib(max(all.map((r) => num(r.hwm_kb)))),
      qsets.map((q) => closed(v, mode, q).length).join('+'),
    );
    say(`| ${cells.join(' | ')} |`);
  }
  say();
}
throughput(
  'pinned',
  'Pinned: server on CPU 1 (1 worker), dnsperf on CPU 0 — closed loop, median of runs',
);
throughput('unpinned', 'Unpinned: nothing pinned, 2 workers per server — closed loop');
if (flags.has('†'))
  say(
    '† the server core was idle part of the time while the dnsperf core was saturated: QPS is bounded by the load generator (a lower bound for the server). Compare CPU µs/query instead.',
  );
if (flags.has('§'))
  say(
    '§ during at least one of these runs more than 15% of a core went to neither the server nor the client (other processes on the machine): treat with care.',
  );
if (flags.size) say();

// CPU per query, one row
const pinnedVs = order.filter((v) => closed(v, 'pinned', 'www').length);
if (pinnedVs.length) {
  say('### Server CPU time per query answered (pinned, median of runs)');
  say();
  say(`| query set | ${pinnedVs.join(' | ')} |`);
  say(`|---|${pinnedVs.map(() => '---').join('|')}|`);
  for (const q of [
    ...new Set(rows.filter((r) => r.mode === 'pinned' && r.offered_qps === '0').map((r) => r.qset)),
  ]) {
    say(
      `| ${q} | ${pinnedVs.map((v) => `${fmt(median(closed(v, 'pinned', q).map((r) => num(r.srv_cpu_us_per_q))), 1)} µs`).join(' | ')} |`,
    );
  }
  say();
}

// ---------------------------------------------------------------- latency
const latVs = order.filter((v) => lat.some((r) => r.variant === v));
const latOf = (v) => {
  const probe = lat.filter((r) => r.variant === v && r.tool === 'probe');
  const dp = lat.find((r) => r.variant === v && r.tool === 'dnsperf-v');
  const pick = (k) => probe.map((r) => num(r[k]));
  return { probe, dp, pick };
};
if (latVs.length) {
  const offered = lat[0].offered_qps;
  say(
    `### Latency at a fixed ${fmt(num(offered))} qps offered (pinned, www, open loop): latency-probe.mjs, median over ${param('LAT_REPS') ?? '?'} runs of ${param('LAT_DURATION') ?? '?'} s`,
  );
  say();
  say(
    '| Variant | achieved qps | p50 ms | p90 ms | p99 ms (each run) | p99.9 ms | max ms (worst run) | lost / sent | server CPU % | dnsperf -Q -v: p50 / p99 / max ms |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|');
  for (const v of latVs) {
    const { dp, pick } = latOf(v);
    const each = pick('p99_ms').map((x) => fmt(x, 3));
    const sent = pick('sent').reduce((a, b) => a + b, 0);
    const lost = pick('lost').reduce((a, b) => a + b, 0);
    let short = median(pick('achieved_qps')) < 0.98 * num(offered) ? ' ‡' : '';
    if (short) flags.add('‡');
    if (max(pick('other_pct')) > 15) {
      short += ' §';
      flags.add('§lat');
    }
    say(
      `| ${v}${short} | ${fmt(median(pick('achieved_qps')))} | ${fmt(median(pick('p50_ms')), 3)} | ${fmt(median(pick('p90_ms')), 3)} | ${fmt(median(pick('p99_ms')), 3)} (${each.join(', ')}) | ${fmt(median(pick('p999_ms')), 3)} | ${fmt(max(pick('max_ms')), 3)} | ${fmt(lost)} / ${fmt(sent)} | ${fmt(median(pick('srv_cpu_pct')))} | ${dp ? `${fmt(num(dp.p50_ms), 3)} / ${fmt(num(dp.p99_ms), 3)} / ${fmt(num(dp.max_ms), 3)}` : 'n/a'} |`,
    );
  }
  say();
  if (flags.has('‡')) say('‡ the probe could not send at the offered rate.\n');
  if (flags.has('§lat'))
    say(
      '§ during at least one probe run more than 15% of a core went to neither the server nor the probe (other processes on the machine): treat with care.\n',
    );
}

// ---------------------------------------------------------------- scale
if (scale.length) {
  const servers = [...new Set(scale.map((r) => r.server))];
  const recs = [...new Set(scale.map((r) => r.records))];
  say('### Large zones (server pinned to CPU 1, one process)');
  say();
  say(
    '| server | records | start → first SOA answer, s: median (min–max) | server CPU s until then | RSS after load MiB (MB) | RSS after dnsperf MiB (MB) | RSS after idle MiB (MB) | peak RSS MiB (MB) | dnsperf over random names: QPS, CPU µs/query | runs |',
  );
  say('|---|---|---|---|---|---|---|---|---|---|');
  const memCell = (kb) => (Number.isNaN(kb) ? '—' : `${mib(kb)} (${mb(kb)})`);
  for (const s of servers)
    for (const n of recs) {
      const of = (phase) =>
        scale.filter((r) => r.server === s && r.records === n && r.phase === phase);
      const loaded = of('loaded');
      if (!loaded.length) continue;
      const [after] = of('after-dnsperf');
      const [idle] = of('idle');
      const all = [...loaded, ...of('after-dnsperf'), ...of('idle')];
      const cells = [
        s,
        fmt(num(n)),
        medRange(
          loaded.map((r) => num(r.load_s)),
          2,
        ),
        fmt(median(loaded.map((r) => num(r.load_cpu_s))), 2),
        memCell(median(loaded.map((r) => num(r.rss_kb)))),
        memCell(num(after?.rss_kb)),
        memCell(num(idle?.rss_kb)),
        memCell(max(all.map((r) => num(r.hwm_kb)))),
        after ? `${fmt(num(after.qps))}, ${fmt(num(after.srv_cpu_us_per_q), 1)}` : '—',
        String(loaded.length),
      ];
      say(`| ${cells.join(' | ')} |`);
    }
  say();
}

// ---------------------------------------------------------------- targets
const T = 'steerdns-static';
const checks = [];
const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? 'met' : '**missed**');
if (closed(T, 'pinned', 'www').length) {
  const www = median(closed(T, 'pinned', 'www').map((r) => num(r.srv_cpu_us_per_q)));
  const mix = median(closed(T, 'pinned', 'mix').map((r) => num(r.srv_cpu_us_per_q)));
  const raw = median(closed('node-raw', 'pinned', 'www').map((r) => num(r.srv_cpu_us_per_q)));
  checks.push([
    'server CPU per query, pinned, www',
    '≤ 10.5 µs',
    `${fmt(www, 1)} µs (mix: ${fmt(mix, 1)} µs; node-raw www: ${fmt(raw, 1)} µs)`,
    verdict(www <= 10.5),
  ]);
}
if (lat.some((r) => r.variant === T && r.tool === 'probe')) {
  const { pick, dp } = latOf(T);
  const p99 = median(pick('p99_ms'));
  checks.push([
    `p99 latency at ${fmt(num(lat[0].offered_qps))} qps`,
    '< 1 ms',
    `${fmt(p99, 3)} ms (probe, median of runs; worst run ${fmt(max(pick('p99_ms')), 3)} ms; dnsperf -v ${dp ? fmt(num(dp.p99_ms), 3) : 'n/a'} ms)`,
    verdict(p99 < 1),
  ]);
}
const sc = (n, phase) =>
  scale.filter((r) => r.server === 'steerdns' && r.records === String(n) && r.phase === phase);
const bigRss = sc(param('SCALE_RECORDS') ?? 100000, 'loaded').concat(
  sc(param('SCALE_RECORDS') ?? 100000, 'after-dnsperf'),
);
if (bigRss.length) {
  const worst = max(bigRss.map((r) => num(r.rss_kb)));
  checks.push([
    `RSS with ${fmt(num(param('SCALE_RECORDS') ?? 100000))} records (after load and after dnsperf, larger of the two)`,
    '< 120 MB',
    `${mb(worst)} MB (${mib(worst)} MiB)`,
    verdict((worst * 1024) / 1e6 < 120),
  ]);
}
const loads = sc(param('LOAD_RECORDS') ?? 1000000, 'loaded');
if (loads.length) {
  const t = median(loads.map((r) => num(r.load_s)));
  checks.push([
    `load of ${fmt(num(param('LOAD_RECORDS') ?? 1000000))} records (start → first SOA answer)`,
    '< 10 s',
    `${fmt(t, 2)} s (median of ${loads.length}; max ${fmt(max(loads.map((r) => num(r.load_s))), 2)} s)`,
    verdict(t < 10),
  ]);
}
if (checks.length) {
  say(`### Targets for ${T}`);
  say();
  say('| what | target | measured | verdict |');
  say('|---|---|---|---|');
  for (const c of checks) say(`| ${c.join(' | ')} |`);
  say();
}

process.stdout.write(`${out.join('\n')}\n`);
