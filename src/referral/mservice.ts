/**
 * `steerdns agent --measure` (seed 002 MService): a measurement agent near a POP. Every
 * interval (default 5 minutes) it downloads a page from every site with the `http` monitor
 * (`download`), and sends the round, signed and sequenced as every map message is, to each
 * server that takes measurements (`referral.measurements`). A server steers each client
 * to the site the agent nearest to it measured best (the `measured` policy).
 */
import { Value } from '@sinclair/typebox/value';
import { http } from '../health/monitors/http.js';
import type { Monitor } from '../health/monitor.js';
import { encodeMapMessage, type Measurements, type SiteMeasurement } from './message.js';
import { MessageClock } from './replay.js';
import { sendMapMessage } from './transport.js';

/** A site to measure: the address answered for it, and where the probe goes. */
export interface MeasuredSite {
  readonly address: string;
  readonly probe: { readonly host: string; readonly port: number };
}

/** Options of {@link startMeasuringAgent}. */
export interface MeasuringAgentOptions {
  /** Its name (a DNS label): the sender of its rounds. */
  readonly name: string;
  /** Its own address: servers match clients against its prefix. */
  readonly address: string;
  readonly sites: readonly MeasuredSite[];
  /** The servers' measurement listeners. */
  readonly to: readonly { readonly host: string; readonly port: number }[];
  readonly key: Buffer;
  readonly intervalMs: number;
  /** Each probe is given up after this long (a failure). */
  readonly timeoutMs: number;
  /** The page downloaded. @default '/' */
  readonly path?: string;
  readonly log: (level: 'info' | 'warn', message: string, fields?: object) => void;
}

/** A running measurement agent. */
export interface MeasuringAgent {
  /** Measures every site once and sends the round; resolves when every server answered. */
  round(): Promise<void>;
  stop(): Promise<void>;
}

interface Tally {
  resets: number;
  abnormal: number;
  ms: number | undefined;
}

/** Starts measuring: a first round at once, then one every interval. */
export function startMeasuringAgent(options: MeasuringAgentOptions): MeasuringAgent {
  const monitor: Monitor = http.create(
    Value.Default(http.config, { download: true, path: options.path ?? '/' }) as never,
  );
  const clock = new MessageClock(options.name);
  const tallies = new Map<string, Tally>(
    options.sites.map((s) => [s.address, { resets: 0, abnormal: 0, ms: undefined }]),
  );
  const accepted = new Map<string, boolean>();

  const probe = async (site: MeasuredSite): Promise<SiteMeasurement> => {
    const target = { id: site.address, address: site.probe.host, port: site.probe.port };
    const result = await monitor.check(target, AbortSignal.timeout(options.timeoutMs));
    const tally = tallies.get(site.address)!;
    if (result.fault === 'reset') tally.resets++;
    if (result.fault === 'abnormal') tally.abnormal++;
    if (result.ok) tally.ms = Math.round(result.latencyMs * 10) / 10;
    const base = {
      address: site.address,
      ok: result.ok,
      resets: tally.resets,
      abnormal: tally.abnormal,
    };
    return tally.ms === undefined ? base : { ...base, ms: tally.ms };
  };

  const round = async (): Promise<void> => {
    const sites = await Promise.all(options.sites.map(probe));
    const message: Measurements = {
      kind: 'measure',
      ...clock.next(),
      address: options.address,
      intervalMs: options.intervalMs,
      sites,
    };
    const bytes = encodeMapMessage(message, options.key);
    await Promise.all(
      options.to.map(async ({ host, port }) => {
        const to = `${host}:${port}`;
        const ok = await sendMapMessage(host, port, bytes);
        if (ok !== accepted.get(to))
          options.log(
            ok ? 'info' : 'warn',
            ok ? `measurements taken by ${to}` : `measurements not taken by ${to}`,
            { to },
          );
        accepted.set(to, ok);
      }),
    );
    options.log('info', 'measured', {
      sites: sites.map((s) => ({ address: s.address, ok: s.ok, ms: s.ms })),
    });
  };

  // Rounds run one after another; a failed one (not expected: the fields were checked at
  // start) is logged and the next one comes.
  let running = Promise.resolve();
  const next = (): Promise<void> =>
    (running = running.then(round).catch((error: unknown) => {
      options.log('warn', `measurement round failed: ${String(error)}`);
    }));
  void next();
  const timer = setInterval(() => void next(), options.intervalMs);
  return {
    round: next,
    async stop() {
      clearInterval(timer);
      await running;
      await monitor.close();
    },
  };
}
