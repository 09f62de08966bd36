// Health-check scale: one node checking many targets with the real HealthBoard and the real
// `tcp` monitor, against real TCP listeners on loopback. Everything stays on 127.0.0.1.
//
//   node --import tsx bench/health-scale.ts [--targets 10000] [--interval 1000]
//        [--duration 30] [--warmup 3] [--listeners 100] [--timeout 500] [--json FILE]
//
// The listeners run in a child process that this script forks and stops by its PID, so the
// CPU and memory reported for this process are the board's alone (the child's CPU is
// reported separately). Targets are spread over the listeners round robin; each target has
// its own id, hence its own schedule and state, as distinct members would.
//
// Reported, over the measured window (after the warm-up, which covers the first interval in
// which the board spreads the first checks):
// - checks started and completed per second, against targets / interval;
// - scheduling lag: the board plans each check one interval after the start of the
//   previous one (board.ts `schedule(started + interval - now)`), so the lag of a check is
//   (its start - the previous start of the same target) - interval. Start times are taken
//   by a thin wrapper around the monitor, the moment the board calls check();
// - check latency (the tcp monitor's own latencyMs) and outcomes by reason;
// - CPU of this process (process.cpuUsage) as % of one core, event-loop utilisation and
//   delay, RSS (sampled each second; peak and end), and the CPU that went to neither this
//   process nor the listener child (/proc/stat), i.e. disturbance from other work.
// Bounded: it stops after warm-up + duration, and exits with an error if it is still
// running 60 s after that.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HealthBoard, type CheckSpec } from '../src/health/board.js';
import type { Monitor } from '../src/health/monitor.js';
import { monitors } from '../src/health/monitors/index.js';

// ---------------------------------------------------------------- listener child
if (process.argv[2] === '--listener-child') {
  const count = Number(process.argv[3]);
  const servers: Server[] = [];
  let accepted = 0;
  const listening = Array.from(
    { length: count },
    () =>
      new Promise<number>((resolve, reject) => {
        const server = createServer((socket) => {
          accepted++;
          socket.on('error', () => undefined);
          socket.destroy();
        });
        server.on('error', reject);
        server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
          const address = server.address();
          resolve(typeof address === 'object' && address ? address.port : 0);
        });
        servers.push(server);
      }),
  );
  const ports = await Promise.all(listening);
  process.send?.({ type: 'ports', ports });
  // the parent gone (killed, crashed): do not outlive it
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: string }) => {
    const cpu = process.cpuUsage();
    const report = { accepted, cpuUs: cpu.user + cpu.system };
    if (message.type === 'mark') process.send?.({ type: 'marked', ...report });
    if (message.type !== 'stop') return;
    process.send?.({ type: 'stopped', ...report }, () => {
      for (const server of servers) server.close();
      process.exit(0);
    });
  });
} else {
  await main();
}

// ---------------------------------------------------------------- the benchmark
interface ChildReport {
  type: 'marked' | 'stopped';
  accepted: number;
  cpuUs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Busy and total jiffies of all CPUs together, from /proc/stat (Linux). */
function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

function round(x: number, digits = 1): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      targets: { type: 'string', default: '10000' },
      interval: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      listeners: { type: 'string', default: '100' },
      timeout: { type: 'string', default: '500' },
      json: { type: 'string' },
    },
  });
  const targets = Number(values.targets);
  const intervalMs = Number(values.interval);
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  const listenerCount = Number(values.listeners);
  const timeoutMs = Number(values.timeout);
  for (const [name, v] of Object.entries({ targets, intervalMs, durationS, listenerCount })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  }
  if (!(timeoutMs > 0 && timeoutMs < intervalMs))
    throw new Error('--timeout must be below --interval');
  const hardStop = setTimeout(
    () => {
      process.stderr.write('health-scale: still running 60 s after its end, giving up\n');
      process.exit(2);
    },
    (warmupS + durationS + 60) * 1000,
  );
  hardStop.unref();

  // The listeners, in a child process stopped by its PID at the end (and on any exit).
  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    ['--listener-child', String(listenerCount)],
    {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const killChild = (): void => {
    if (child.exitCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killChild);
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('message', (message: { type: string; ports?: number[] }) => {
      if (message.type === 'ports' && message.ports) resolve(message.ports);
    });
    child.once('exit', (code) => {
      reject(new Error(`listener child exited (${String(code)}) before listening`));
    });
  });

  // Per target: the start time of its latest check (the lag needs only the previous one).
  const lastStart = new Float64Array(targets).fill(NaN);
  const lagSamples: number[] = [];
  const latencySamples: number[] = [];
  const reasons = new Map<string, number>();
  let measuring = false;
  let started = 0;
  let completed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const indexOf = new Map<string, number>();

  // The real tcp monitor, wrapped to note when the board starts each check.
  const tcpDefinition = monitors.get('tcp');
  if (!tcpDefinition) throw new Error('no tcp monitor registered');
  const createMonitor = (spec: CheckSpec): Monitor => {
    const inner = tcpDefinition.create(spec.settings);
    const index = indexOf.get(spec.id)!;
    return {
      type: inner.type,
      close: () => inner.close(),
      async check(target, signal) {
        const now = performance.now();
        const previous = lastStart[index]!;
        lastStart[index] = now;
        if (measuring) {
          started++;
          if (!Number.isNaN(previous)) lagSamples.push(now - previous - intervalMs);
        }
        inFlight++;
        if (inFlight > maxInFlight) maxInFlight = inFlight;
        const result = await inner.check(target, signal);
        inFlight--;
        if (measuring) {
          completed++;
          latencySamples.push(result.latencyMs);
          const key = result.ok ? 'ok' : (result.reason ?? 'failed');
          reasons.set(key, (reasons.get(key) ?? 0) + 1);
        }
        return result;
      },
    };
  };

  let transitions = 0;
  const board = new HealthBoard({
    now: Date.now,
    random: Math.random,
    createMonitor,
    onTransition: () => {
      transitions++;
    },
  });
  const tcpSettings: unknown = {};
  const specs: CheckSpec[] = Array.from({ length: targets }, (_, i) => {
    const port = ports[i % ports.length]!;
    const id = `tcp:127.0.0.1:${port}:t${i}`;
    indexOf.set(id, i);
    return {
      id,
      target: { id, address: '127.0.0.1', port },
      type: 'tcp',
      settings: tcpSettings,
      tracker: { rise: 2, fall: 3, intervalMs, initial: 'unknown' },
      timeoutMs,
    };
  });

  // Event-loop delay: the histogram records the time between samples, so the resolution
  // is subtracted below (what is reported is how late the sampling timer ran).
  const eldResolutionMs = 10;
  const eld = monitorEventLoopDelay({ resolution: eldResolutionMs });
  const askChild = (type: 'mark' | 'stop'): Promise<ChildReport> =>
    new Promise((resolve) => {
      const onMessage = (message: ChildReport): void => {
        if (message.type !== (type === 'mark' ? 'marked' : 'stopped')) return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  board.setChecks(specs);
  const setChecksMs = performance.now() - t0;
  process.stderr.write(
    `health-scale: ${targets} tcp targets every ${intervalMs} ms on ${ports.length} listeners (127.0.0.1), ` +
      `setChecks ${setChecksMs.toFixed(0)} ms; warm-up ${warmupS} s, measuring ${durationS} s\n`,
  );
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      setTimeout(resolve, ms);
    });
  await sleep(warmupS * 1000);

  // Measured window.
  const child0 = await askChild('mark');
  measuring = true;
  eld.enable();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const sys0 = cpuTimes();
  const w0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const perSecond: number[] = [];
  let lastCompleted = 0;
  for (let s = 0; s < durationS; s++) {
    await sleep(Math.max(0, w0 + (s + 1) * 1000 - performance.now()));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    perSecond.push(completed - lastCompleted);
    lastCompleted = completed;
  }
  const wallS = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const sys1 = cpuTimes();
  measuring = false;
  eld.disable();
  const child1 = await askChild('mark');
  const memory = process.memoryUsage();
  const states = board.entries();
  const health = { up: 0, down: 0, unknown: 0 };
  for (const e of states) health[e.state.health]++;
  await board.stop();

  const exited = new Promise((resolve) => child.once('exit', resolve));
  await askChild('stop');
  await exited;

  const lags = Float64Array.from(lagSamples).sort();
  const latencies = Float64Array.from(latencySamples).sort();
  const selfCpuPct = ((cpu.user + cpu.system) / 1e6 / wallS) * 100;
  const clk = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux
  // (the child's two marks are one IPC round trip outside the window: close enough)
  const childCpuPct = ((child1.cpuUs - child0.cpuUs) / 1e6 / wallS) * 100;
  const otherPct =
    sys0 && sys1 ? ((sys1.busy - sys0.busy) / clk / wallS) * 100 - selfCpuPct - childCpuPct : NaN;
  const expected = targets / (intervalMs / 1000);
  const report = {
    targets,
    interval_ms: intervalMs,
    listeners: ports.length,
    timeout_ms: timeoutMs,
    warmup_s: warmupS,
    duration_s: round(wallS, 2),
    expected_checks_per_s: expected,
    checks_started_per_s: round(started / wallS),
    checks_completed_per_s: round(completed / wallS),
    completed_vs_expected_pct: round((completed / wallS / expected) * 100, 2),
    completed_per_s_min: Math.min(...perSecond),
    completed_per_s_max: Math.max(...perSecond),
    outcomes: Object.fromEntries(reasons),
    lag_samples: lags.length,
    lag_ms_p50: round(percentile(lags, 50), 2),
    lag_ms_p90: round(percentile(lags, 90), 2),
    lag_ms_p99: round(percentile(lags, 99), 2),
    lag_ms_max: round(lags.length ? lags[lags.length - 1]! : NaN, 2),
    lag_ms_min: round(lags.length ? lags[0]! : NaN, 2),
    check_latency_ms_p50: round(percentile(latencies, 50), 3),
    check_latency_ms_p99: round(percentile(latencies, 99), 3),
    check_latency_ms_max: round(latencies.length ? latencies[latencies.length - 1]! : NaN, 3),
    max_in_flight: maxInFlight,
    health_at_end: health,
    transitions,
    cpu_pct_of_one_core: round(selfCpuPct),
    cpu_user_s: round(cpu.user / 1e6, 2),
    cpu_system_s: round(cpu.system / 1e6, 2),
    cpu_us_per_check: round((cpu.user + cpu.system) / Math.max(1, completed), 1),
    event_loop_utilization_pct: round(elu.utilization * 100),
    event_loop_delay_ms_p50: round(Math.max(0, eld.percentile(50) / 1e6 - eldResolutionMs), 2),
    event_loop_delay_ms_p99: round(Math.max(0, eld.percentile(99) / 1e6 - eldResolutionMs), 2),
    event_loop_delay_ms_max: round(Math.max(0, eld.max / 1e6 - eldResolutionMs), 2),
    rss_mib_before_set_checks: round(rssBefore / 2 ** 20),
    rss_mib_end: round(memory.rss / 2 ** 20),
    rss_mib_peak_sampled: round(peakRss / 2 ** 20),
    heap_used_mib_end: round(memory.heapUsed / 2 ** 20),
    set_checks_ms: round(setChecksMs),
    listener_child_connections_in_window: child1.accepted - child0.accepted,
    listener_child_cpu_pct: round(childCpuPct),
    other_cpu_pct: round(otherPct),
    node: process.version,
    execArgv: process.execArgv.join(' '),
    date_utc: new Date().toISOString(),
  };
  const text = JSON.stringify(report, null, 2);
  process.stdout.write(`${text}\n`);
  if (values.json !== undefined) writeFileSync(values.json, `${text}\n`);
  clearTimeout(hardStop);
}
