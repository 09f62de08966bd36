import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { externallyHeldAddresses, linuxAddressHolder } from '../cluster/address.js';
import { RoleKeeper, type Role } from '../cluster/roles.js';
import { HealthBoard, type CheckSpec } from '../health/board.js';
import { monitors } from '../health/monitors/index.js';
import { runSubprocess } from '../lib/subprocess.js';
import type { Health } from '../health/tracker.js';
import type { Logger } from '../observability/log.js';
import { conntrackdArgv, conntrackdConfig, type ConntrackdPaths } from './conntrackd.js';
import type { DataPlane, DataPlaneServer, FlowCounts } from './data-plane.js';
import { EngineProcess } from './engine-process.js';
import { readFifo, type FifoReader } from './fifo.js';
import {
  INSTANCE,
  keepalivedArgv,
  keepalivedConfig,
  parseFifoLine,
  roleOfVrrpState,
  type KeepalivedPaths,
} from './keepalived.js';
import { nftablesDataPlane } from './nftables.js';
import type { LbServer, LbSettings } from './settings.js';
import { computeSlots, type ServerLoad } from './weights.js';

/** A failed state script keeps the node inop (keepalived FAULT) this long. */
const SCRIPT_FAULT_HOLD_MS = 10_000;

/** One server as `steerdns status` shows it. */
export interface LbServerStatus {
  readonly name: string;
  readonly address: string;
  readonly weight: number;
  readonly drain: boolean;
  readonly health: Health;
  readonly reason: string | undefined;
  readonly responseMs: number | undefined;
  readonly open: number;
  /** Its share of new connections now (0..1). */
  readonly share: number;
}

/** The balancer as `steerdns status` shows it (also written to status.json). */
export interface LbStatus {
  readonly node: string;
  readonly role: Role;
  readonly vrrp: string | undefined;
  readonly floating: string;
  readonly clusterAddress: string;
  readonly faults: readonly string[];
  readonly servers: readonly LbServerStatus[];
  readonly updatedAt: string;
}

/** A running balancer. */
export interface Balancer {
  status(): LbStatus;
  /** Takes new weights, drains and checks of the same servers (a new set: restart). */
  reload(settings: LbSettings): Promise<void>;
  /** Hands over (keepalived first, so the peer takes over at once), then removes everything. */
  stop(): Promise<void>;
  /** The PIDs of the engines (tests kill them). */
  enginePids(): { keepalived: number | undefined; conntrackd: number | undefined };
}

/**
 * `steerdns lb` (seed 004): keepalived holds the floating address and elects the active
 * balancer; its notify FIFO drives the cluster's role keeper (the same roles and state
 * scripts as an etcd-elected node); conntrackd syncs the flows; the data plane forwards new
 * connections by the shares of weights.ts, following the health checks of the servers.
 */
export async function startBalancer(initial: LbSettings, log: Logger): Promise<Balancer> {
  let settings = initial;
  const dir = settings.runDirectory;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const kaPaths: KeepalivedPaths = {
    config: join(dir, 'keepalived.conf'),
    fifo: join(dir, 'notify.fifo'),
    pid: join(dir, 'keepalived.pid'),
    vrrpPid: join(dir, 'vrrp.pid'),
    checkersPid: join(dir, 'checkers.pid'),
    trackFile: join(dir, 'node.track'),
  };
  const ctPaths: ConntrackdPaths = {
    config: join(dir, 'conntrackd.conf'),
    lock: join(dir, 'conntrackd.lock'),
    socket: join(dir, 'conntrackd.sock'),
    log: join(dir, 'conntrackd.log'),
  };
  const marks = new Map(settings.servers.map((s, i) => [s.name, settings.markBase + i + 1]));
  const planeServers: DataPlaneServer[] = settings.servers.map((s) => ({
    name: s.name,
    address: s.address,
    mark: marks.get(s.name)!,
  }));
  const plane: DataPlane = nftablesDataPlane({
    interface: settings.interface,
    clusterAddress: settings.clusterAddress,
    ports: settings.ports,
    rulesFile: join(dir, 'rules.nft'),
  });

  let vrrpState: string | undefined;
  const faults = new Map<string, string>();
  let shares = new Map<number, number>();
  let lastCounts: FlowCounts = { open: new Map(), started: new Map() };
  let previousStarted: { at: number; started: ReadonlyMap<number, number> } | undefined;
  let pushedKey = '';
  const rates = new Map<number, number>();
  let stopping = false;

  const floating = `${settings.floating.address}/${settings.floating.prefixLength}`;
  const floatingAddress = {
    address: settings.floating.address,
    prefixLength: settings.floating.prefixLength,
    interface: settings.interface,
  };
  const keeper = new RoleKeeper({
    node: settings.node,
    addresses: [floatingAddress],
    holder: externallyHeldAddresses(),
    hooks: settings.scripts,
    hookTimeoutMs: settings.scriptTimeoutMs,
    log,
    onChange: () => void writeStatus(),
    onHookFailure: () => {
      setFault('script', 'a state script failed');
      setTimeout(() => {
        setFault('script', undefined);
      }, SCRIPT_FAULT_HOLD_MS).unref();
    },
  });

  const specOf = (s: LbServer): CheckSpec | undefined => s.check;
  const board = new HealthBoard({
    now: Date.now,
    random: () => 0,
    onTransition: (t) => {
      const own = settings.checks.find((c) => c.id === t.id);
      const fields = { check: own?.name ?? t.id, from: t.from, to: t.to, reason: t.reason };
      if (t.to === 'down') log.warn(fields, `${own ? 'own check' : 'server check'} down`);
      else log.info(fields, `${own ? 'own check' : 'server check'} ${t.to}`);
      if (own) updateOwnChecks();
      // A server going down or up changes the map at once, not at the next interval.
      else void queuePush();
    },
    createMonitor: (spec) => monitors.get(spec.type)!.create(spec.settings),
  });
  const setChecks = (): void => {
    board.setChecks([
      ...settings.servers.flatMap((s) => {
        const spec = specOf(s);
        return spec ? [spec] : [];
      }),
      ...settings.checks,
    ]);
  };

  function updateOwnChecks(): void {
    const down = settings.checks.filter((c) => board.state(c.id)?.health === 'down');
    setFault(
      'checks',
      down.length === 0 ? undefined : `own checks down: ${down.map((c) => c.name).join(', ')}`,
    );
  }

  function setFault(key: string, reason: string | undefined): void {
    if (reason === undefined) faults.delete(key);
    else faults.set(key, reason);
    void writeFile(kaPaths.trackFile, faults.size === 0 ? '0\n' : '1\n').catch((error: unknown) => {
      log.error({ err: error }, 'cannot write the track file');
    });
    void writeStatus();
  }

  const healthOf = (s: LbServer): Health =>
    s.check === undefined ? 'up' : (board.state(s.check.id)?.health ?? 'unknown');

  /** Pushes one at a time, in order (an interval's and a health change's never interleave). */
  let pushing = Promise.resolve();
  function queuePush(): Promise<void> {
    pushing = pushing.then(push).catch((error: unknown) => {
      log.error({ err: error }, 'cannot push the shares to the data plane');
    });
    return pushing;
  }

  /**
   * Each interval: reads the flow counts (outside the push queue, so that a health change
   * queued meanwhile is not held up by conntrack), then pushes. At most one read at a time.
   */
  let measuring = false;
  async function measureAndPush(): Promise<void> {
    if (measuring || stopping) return;
    measuring = true;
    try {
      const at = Date.now();
      lastCounts = await plane.counts();
      const elapsedS = previousStarted === undefined ? 0 : (at - previousStarted.at) / 1000;
      for (const [mark, started] of lastCounts.started) {
        const before = previousStarted?.started.get(mark) ?? started;
        rates.set(mark, elapsedS > 0 ? Math.max(0, started - before) / elapsedS : 0);
      }
      previousStarted = { at, started: lastCounts.started };
    } catch (error) {
      log.warn({ err: error }, 'cannot read the flow counts');
    } finally {
      measuring = false;
    }
    await queuePush();
  }

  /**
   * Computes the shares from the last flow counts and the current health and settings, and
   * pushes them when they changed: a server going down is out of the map at once.
   */
  async function push(): Promise<void> {
    if (stopping) return;
    const loads: ServerLoad[] = settings.servers.map((s) => {
      const mark = marks.get(s.name)!;
      return {
        mark,
        weight: s.weight,
        eligible: !s.drain && healthOf(s) === 'up',
        open: lastCounts.open.get(mark) ?? 0,
        rate: rates.get(mark) ?? 0,
        responseMs: s.check === undefined ? undefined : board.state(s.check.id)?.averageMs,
      };
    });
    const slots = computeSlots(loads, settings.balance);
    const key = JSON.stringify([...slots]);
    if (key !== pushedKey) {
      await plane.setSlots(slots);
      pushedKey = key;
      const named = Object.fromEntries([...slots].map(([m, c]) => [nameOf(m), c]));
      log.info({ slots: named }, 'shares pushed');
    }
    shares = slots;
    await writeStatus();
  }

  const nameOf = (mark: number): string =>
    settings.servers.find((s) => marks.get(s.name) === mark)?.name ?? String(mark);

  function status(): LbStatus {
    const total = [...shares.values()].reduce((sum, c) => sum + c, 0);
    return {
      node: settings.node,
      role: keeper.role,
      vrrp: vrrpState,
      floating,
      clusterAddress: settings.clusterAddress,
      faults: [...faults.values()],
      servers: settings.servers.map((s) => {
        const mark = marks.get(s.name)!;
        const state = s.check === undefined ? undefined : board.state(s.check.id);
        return {
          name: s.name,
          address: s.address,
          weight: s.weight,
          drain: s.drain,
          health: healthOf(s),
          reason: state?.last?.ok === false ? state.last.reason : undefined,
          responseMs:
            state?.averageMs === undefined ? undefined : Math.round(state.averageMs * 10) / 10,
          open: lastCounts.open.get(mark) ?? 0,
          share: total === 0 ? 0 : (shares.get(mark) ?? 0) / total,
        };
      }),
      updatedAt: new Date().toISOString(),
    };
  }

  async function writeStatus(): Promise<void> {
    await writeFile(join(dir, 'status.json'), `${JSON.stringify(status())}\n`).catch(
      () => undefined,
    );
  }

  // Start-up: the initial scripts, the data plane, the checks, then the engines.
  await writeFile(kaPaths.trackFile, '0\n');
  // keepalived adds and deletes the floating address; one left by a run killed with SIGKILL
  // is deleted here, before keepalived starts (it would answer ARP for it as a backup).
  await linuxAddressHolder().remove([floatingAddress]);
  await keeper.start();
  await plane.install(planeServers);
  await plane.setSlots(new Map());
  setChecks();
  const fifo: FifoReader = await readFifo(kaPaths.fifo, (line) => {
    const change = parseFifoLine(line);
    if (change?.instance !== INSTANCE) return;
    vrrpState = change.state;
    const { role, reason } = roleOfVrrpState(change.state);
    log.info({ vrrp: change.state, priority: change.priority }, `keepalived: ${change.state}`);
    void keeper.set(role, 0, reason);
  });
  const sync = settings.sync;
  const conntrackd =
    sync === undefined
      ? undefined
      : new EngineProcess(
          {
            name: 'conntrackd',
            argv: conntrackdArgv(ctPaths.config),
            pidFiles: [join(dir, 'conntrackd.pid')],
            beforeStart: async () => {
              await writeFile(ctPaths.config, conntrackdConfig(settings, sync, ctPaths));
              await runRm([ctPaths.lock, ctPaths.socket]);
            },
          },
          log,
        );
  const keepalived = new EngineProcess(
    {
      name: 'keepalived',
      argv: keepalivedArgv(kaPaths),
      pidFiles: [kaPaths.pid, kaPaths.vrrpPid, kaPaths.checkersPid],
      beforeStart: () => writeFile(kaPaths.config, keepalivedConfig(settings, kaPaths)),
    },
    log,
  );
  await conntrackd?.start();
  if (conntrackd?.pid !== undefined) {
    await writeFile(join(dir, 'conntrackd.pid'), `${conntrackd.pid}\n`);
    // A balancer that (re)starts asks its peer for every flow it knows (FTFW resync), so
    // that it can take over flows that began while it was away.
    void requestResync(ctPaths, log);
  }
  await keepalived.start();
  await measureAndPush();
  const timer = setInterval(() => void measureAndPush(), settings.balance.intervalMs);
  log.info(
    {
      node: settings.node,
      floating,
      cluster: settings.clusterAddress,
      servers: settings.servers.length,
    },
    'balancer started',
  );

  return {
    status,
    enginePids: () => ({ keepalived: keepalived.pid, conntrackd: conntrackd?.pid }),
    async reload(next) {
      settings = next;
      setChecks();
      await queuePush();
      log.info('balancer settings reloaded');
    },
    async stop() {
      stopping = true;
      clearInterval(timer);
      await keepalived.stop();
      await keeper.set('inop', 0, 'stopping');
      fifo.close();
      await conntrackd?.stop();
      await board.stop();
      await plane.remove();
      await writeStatus();
      log.info('balancer stopped');
    },
  };
}

/** `conntrackd -n` once its control socket is there (within 5 s). */
async function requestResync(paths: ConntrackdPaths, log: Logger): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (
      await access(paths.socket).then(
        () => true,
        () => false,
      )
    ) {
      const outcome = await runSubprocess(['conntrackd', '-C', paths.config, '-n'], {
        maxOutputBytes: 4096,
        stderr: 'output',
        timeoutMs: 5000,
      });
      if (outcome.failure === undefined) log.info('asked the peer for its flows (resync)');
      else
        log.warn({ failure: outcome.failure, output: outcome.output }, 'conntrackd resync failed');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  log.warn('conntrackd control socket did not appear; no resync');
}

async function runRm(paths: readonly string[]): Promise<void> {
  for (const path of paths) await rm(path, { force: true });
}
