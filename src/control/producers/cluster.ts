import { readFileSync } from 'node:fs';
import { linuxAddressHolder } from '../../cluster/address.js';
import {
  EtcdClient,
  type EtcdClientOptions,
  type EtcdTlsOptions,
} from '../../cluster/etcd-client.js';
import { LeaseSession, type SessionLease } from '../../cluster/session.js';
import { RoleKeeper, roleFor, type Role, type RoleInputs } from '../../cluster/roles.js';
import type { CompiledCluster } from '../../config/compile-cluster.js';
import type { Logger } from '../../observability/log.js';
import type { BoundDns } from '../../server/dns-server.js';
import type { ClusterNodeView, ClusterView } from '../cluster-view.js';
import { newerRecord, type MasterRecord } from '../master-record.js';
import type { ControlNode } from '../node.js';
import { selfQueryCheck, startNodeChecks } from './node-checks.js';
import { startCampaign, type Campaign } from './cluster-campaign.js';

/** The cluster side of a node: its lease, its candidacy, its role and the service address. */
export interface ClusterProducer {
  /** The etcd client: the other cluster features keep their keys under `cluster.prefix`. */
  readonly client: EtcdClient;
  /** This node's lease session (keys that must go with the node live under its lease). */
  readonly session: LeaseSession;
  /** The registered nodes now (this one included). */
  nodes(): readonly ClusterNodeView[];
  /** The replication lag from each peer (ms), shown in the cluster view. */
  setReplicationLag(lag: ReadonlyMap<string, number>): void;
  /** Who owns which health check, shown in the cluster view; `publish` shows it now. */
  setHealthOwners(owners: ReadonlyMap<string, string>): void;
  /** Calls `listener` whenever the registered nodes change; returns the unsubscribe. */
  onNodes(listener: (nodes: readonly ClusterNodeView[]) => void): () => void;
  /**
   * Leaves the cluster: deletes the service addresses, resigns (another node is elected at
   * once, not after the lease), revokes the lease, runs the inop hooks.
   */
  stop(): Promise<void>;
}

/** The etcd client options of the `cluster.etcd` section (files read now). */
export function etcdOptions(cluster: CompiledCluster): EtcdClientOptions {
  const { etcd } = cluster;
  const tls: { -readonly [K in keyof EtcdTlsOptions]: EtcdTlsOptions[K] } = {};
  if (etcd.ca !== undefined) tls.ca = readFileSync(etcd.ca);
  if (etcd.cert !== undefined) tls.cert = readFileSync(etcd.cert);
  if (etcd.key !== undefined) tls.key = readFileSync(etcd.key);
  const password =
    etcd.passwordFile === undefined ? undefined : readFileSync(etcd.passwordFile, 'utf8').trim();
  return {
    endpoints: etcd.endpoints,
    timeoutMs: etcd.timeoutMs,
    tls,
    ...(etcd.username !== undefined && password !== undefined
      ? { auth: { user: etcd.username, password } }
      : {}),
  };
}

/**
 * Joins the cluster of `cluster:` (nothing without it): keeps a lease, registers the node,
 * runs its own checks, campaigns for master while they pass, and keeps the role (seed 004)
 * and the service addresses in step. The lease's local deadline, not etcd's expiry, decides:
 * past its margin the addresses are deleted at once, so a new master never shares them.
 */
export async function startClusterProducer(
  node: ControlNode,
  log: Logger,
  dns: () => BoundDns,
  /** This node's replication listener, registered for the others (peer-replication.ts). */
  replication?: string,
): Promise<ClusterProducer | undefined> {
  const { config } = node.snapshot();
  if (config.cluster === undefined) return undefined;
  // A const of the narrowed type: the functions below see it as defined.
  const cluster: CompiledCluster = config.cluster;
  const held = cluster.addresses.map((a) => `${a.address}/${a.prefixLength}`);
  const clusterLog = log.child({ cluster: cluster.name, node: cluster.node });
  const client = new EtcdClient(etcdOptions(cluster));
  const session = new LeaseSession({
    client,
    ttlSeconds: cluster.leaseTtlSeconds,
    marginMs: cluster.marginMs,
    logger: clusterLog,
  });
  const state = new ClusterState();
  const keeper = new RoleKeeper({
    node: cluster.node,
    addresses: cluster.addresses,
    holder: linuxAddressHolder(),
    hooks: cluster.hooks,
    hookTimeoutMs: cluster.hookTimeoutMs,
    log: clusterLog,
    onChange: (role, epoch) => {
      if (role === 'active') announce(epoch);
      publish();
    },
    onHookFailure: () => {
      state.hookFailedUntil = Date.now() + cluster.inopHoldMs;
      setTimeout(evaluate, cluster.inopHoldMs + 1).unref();
    },
  });
  const origin = config.zones[0]?.origin;
  const listener = dns().udp[0];
  const selfQuery =
    cluster.selfQuery && origin !== undefined && listener !== undefined
      ? selfQueryCheck(origin, listener)
      : undefined;
  const checks = startNodeChecks(
    [...(selfQuery ? [selfQuery] : []), ...cluster.checks],
    clusterLog,
    () => {
      evaluate();
    },
  );
  const nodeListeners = new Set<(nodes: readonly ClusterNodeView[]) => void>();
  const campaign: Campaign = startCampaign({
    client,
    session,
    cluster,
    log: clusterLog,
    registration: () => ({ role: keeper.role, epoch: state.epoch, dns: dns().udp, replication }),
    onLeader: (epoch) => {
      state.masterEpoch = epoch;
      state.epoch = epoch;
      evaluate();
    },
    onFollower: (master, epoch) => {
      state.masterEpoch = undefined;
      state.master = master;
      state.epoch = epoch;
      evaluate();
    },
    onMasterRecord: (record) => {
      const { record: kept, stale } = newerRecord(state.masterRecord, record);
      if (stale) {
        state.staleMasterRecords++;
        clusterLog.warn(
          { node: record.node, epoch: record.epoch, current: kept?.epoch },
          'dropped a master record of an older epoch',
        );
      }
      state.masterRecord = kept;
      publish();
    },
    onNodes: (nodes) => {
      state.nodes = nodes;
      publish();
      for (const listener of nodeListeners) listener(nodes);
    },
  });

  /** Once active: the master record, guarded by the epoch it was elected with. */
  function announce(epoch: number): void {
    const record: MasterRecord = {
      node: cluster.node,
      epoch,
      addresses: held,
      since: Date.now(),
    };
    void campaign.announceMaster(record).then((written) => {
      if (!written) clusterLog.warn({ epoch }, 'the master record was refused: no longer master');
    });
  }

  function evaluate(): void {
    const inputs: RoleInputs = {
      masterEpoch: state.masterEpoch,
      followedEpoch: state.epoch,
      sessionOk: state.session === 'joining' ? undefined : state.session === 'ok',
      checksOk: checks.states().length === 0 ? true : checks.ok(),
      hookFailed: Date.now() < state.hookFailedUntil,
      stopping: state.stopping,
    };
    const { role, reason } = roleFor(inputs);
    // A node stands for master while it could serve as one: were it elected, it would be
    // active (lease renewed, checks up, no hook failed), whether or not it knows the outcome.
    const eligible =
      session.lease !== undefined && roleFor({ ...inputs, masterEpoch: 1 }).role === 'active';
    if (!eligible) state.masterEpoch = undefined;
    if (eligible) campaign.stand();
    else campaign.withdraw();
    void keeper.set(role, role === 'active' ? (state.masterEpoch ?? 0) : state.epoch, reason);
    publish();
  }

  function publish(): void {
    const view: ClusterView = {
      cluster: cluster.name,
      node: cluster.node,
      role: keeper.role,
      epoch: state.epoch,
      master: state.masterEpoch !== undefined ? cluster.node : state.master,
      holding: keeper.holding,
      addresses: held,
      session: state.session,
      renewedAt: state.renewedAt,
      etcdEndpoint: client.currentEndpoint,
      nodes: withLag(withTargets(state.nodes, state.healthOwners), state.replicationLag),
      checks: checks.states(),
      ...(state.masterRecord ? { masterRecord: state.masterRecord } : {}),
      staleMasterRecords: state.staleMasterRecords,
      ...(state.healthOwners.size > 0
        ? { healthOwners: Object.fromEntries(state.healthOwners) }
        : {}),
    };
    void node.publish({ kind: 'cluster', cluster: view });
    campaign.refresh();
  }

  const renewed = (lease: SessionLease): void => {
    state.renewedAt = Date.now();
    if (state.session !== 'ok') {
      if (state.session === 'lost') clusterLog.info({ lease: lease.id }, 'etcd session restored');
      state.session = 'ok';
      evaluate();
    }
  };
  session.on('granted', (lease) => {
    state.renewedAt = Date.now();
    state.session = 'ok';
    clusterLog.info({ lease: lease.id, ttl: lease.grantedTtl }, 'etcd session started');
    evaluate();
  });
  session.on('renewed', renewed);
  session.on('at-risk', () => {
    state.session = 'at-risk';
    state.masterEpoch = undefined;
    void keeper.release('the lease was not renewed in time');
    evaluate();
  });
  session.on('lost', (_lease, reason) => {
    if (state.session !== 'lost') clusterLog.error({ reason }, 'etcd session lost; retrying');
    state.session = 'lost';
    state.masterEpoch = undefined;
    void keeper.release('the lease is lost');
    evaluate();
  });

  await keeper.start();
  session.start();
  evaluate();

  return {
    client,
    session,
    nodes: () => state.nodes,
    setReplicationLag(lag) {
      const rounded = new Map([...lag].map(([peer, ms]) => [peer, Math.round(ms)]));
      const same =
        rounded.size === state.replicationLag.size &&
        [...rounded].every(([peer, ms]) => state.replicationLag.get(peer) === ms);
      if (same) return;
      state.replicationLag = rounded;
      publish();
    },
    setHealthOwners(owners) {
      state.healthOwners = owners;
      publish();
    },
    onNodes(listener) {
      nodeListeners.add(listener);
      return () => nodeListeners.delete(listener);
    },
    async stop() {
      state.stopping = true;
      await keeper.release('stopping');
      await campaign.stop();
      evaluate();
      await keeper.set('inop', state.epoch, 'stopping');
      await checks.stop();
      await session.close();
    },
  };
}

/** What the producer knows, changed by its event handlers. */
class ClusterState {
  session: 'joining' | 'ok' | 'at-risk' | 'lost' = 'joining';
  masterEpoch: number | undefined;
  master: string | undefined;
  epoch = 0;
  renewedAt: number | undefined;
  hookFailedUntil = 0;
  stopping = false;
  nodes: readonly ClusterNodeView[] = [];
  healthOwners: ReadonlyMap<string, string> = new Map();
  replicationLag: ReadonlyMap<string, number> = new Map();
  masterRecord: MasterRecord | undefined;
  staleMasterRecords = 0;
}

/** The nodes, each with the replication lag from it (when persistence is shared). */
function withLag(
  nodes: readonly ClusterNodeView[],
  lag: ReadonlyMap<string, number>,
): readonly ClusterNodeView[] {
  if (lag.size === 0) return nodes;
  return nodes.map((n) => {
    const ms = lag.get(n.name);
    return ms === undefined ? n : { ...n, replicationLagMs: ms };
  });
}

/** The nodes, each with how many checks it owns (when checks are shared). */
function withTargets(
  nodes: readonly ClusterNodeView[],
  owners: ReadonlyMap<string, string>,
): readonly ClusterNodeView[] {
  if (owners.size === 0) return nodes;
  const counts = new Map<string, number>();
  for (const owner of owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return nodes.map((n) => ({ ...n, targets: counts.get(n.name) ?? 0 }));
}

export type { Role };
