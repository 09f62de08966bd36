import type { EtcdClient } from '../../cluster/etcd-client.js';
import { Election } from '../../cluster/election.js';
import { Membership, type Member } from '../../cluster/membership.js';
import type { Role } from '../../cluster/roles.js';
import type { LeaseSession } from '../../cluster/session.js';
import type { CompiledCluster } from '../../config/compile-cluster.js';
import type { Logger } from '../../observability/log.js';
import { PrefixView } from '../../cluster/prefix-view.js';
import type { ClusterNodeView } from '../cluster-view.js';
import { parseMasterRecord, type MasterRecord } from '../master-record.js';

/** What this node publishes about itself under `nodes/NAME`. */
export interface Registration {
  readonly role: Role;
  readonly epoch: number;
  /** Its DNS listeners. */
  readonly dns: readonly string[];
  /** Its replication listener, when it shares persistence entries. */
  readonly replication?: string | undefined;
}

/** Options of {@link startCampaign}. */
export interface CampaignOptions {
  readonly client: EtcdClient;
  readonly session: LeaseSession;
  readonly cluster: CompiledCluster;
  readonly log: Logger;
  readonly registration: () => Registration;
  /** This node is master from now on, with `epoch` (its election key's create revision). */
  readonly onLeader: (epoch: number) => void;
  /** Another node (or none) is master. */
  readonly onFollower: (master: string | undefined, epoch: number) => void;
  /** The registered nodes changed. */
  readonly onNodes: (nodes: readonly ClusterNodeView[]) => void;
  /** A master record was written (by this node or another; the receiver checks its epoch). */
  readonly onMasterRecord: (record: MasterRecord) => void;
}

/** A node's candidacy and registration. */
export interface Campaign {
  /** Stands for master (with every lease the session gets, until {@link withdraw}). */
  stand(): void;
  /** Stands down: deletes this node's election key, so the next candidate is master at once. */
  withdraw(): void;
  /** Writes the registration again when the role, epoch or listeners changed. */
  refresh(): void;
  /**
   * Writes `record` under `master`, guarded by this node's epoch: etcd refuses it once the
   * node no longer leads. Resolves whether it was written.
   */
  announceMaster(record: MasterRecord): Promise<boolean>;
  /** Withdraws, deletes the registration and stops watching. */
  stop(): Promise<void>;
}

const ROLES: ReadonlySet<string> = new Set(['initial', 'active', 'standby', 'inop']);

const nodeView = (member: Member): ClusterNodeView => ({
  name: member.name,
  role: ROLES.has(member.role) ? (member.role as Role) : 'initial',
  epoch: member.epoch ?? 0,
  updatedAt: Date.parse(member.updatedAt) || 0,
  dns: member.addresses,
  ...(member.replication === undefined ? {} : { replication: member.replication }),
});

/**
 * The node's election (src/cluster/election.ts: lowest create revision under `election/`
 * leads, that revision is the epoch) and its registration under `nodes/`
 * (src/cluster/membership.ts), both under the session's lease.
 */
export function startCampaign(options: CampaignOptions): Campaign {
  const { client, session, cluster, log } = options;
  const election = new Election(session, {
    client,
    prefix: `${cluster.prefix}election/`,
    logger: log,
  });
  election.on('leader', (epoch) => {
    options.onLeader(epoch);
  });
  election.on('follower', (master, epoch) => {
    options.onFollower(master, epoch ?? 0);
  });
  const membership = new Membership({
    client,
    session,
    prefix: `${cluster.prefix}nodes/`,
    name: cluster.node,
    logger: log,
    onChange: (members) => {
      options.onNodes(members.map(nodeView));
    },
  });
  const status = () => {
    const { role, epoch, dns, replication } = options.registration();
    return { role, epoch, addresses: dns, ...(replication === undefined ? {} : { replication }) };
  };
  const masterKey = `${cluster.prefix}master`;
  const masterView = new PrefixView({
    client,
    prefix: masterKey,
    logger: log,
    onChange: (kvs) => {
      const kv = kvs.find((entry) => entry.key === masterKey);
      const record = kv && parseMasterRecord(kv.value);
      if (record) options.onMasterRecord(record);
    },
  });
  void masterView.start();
  let written = JSON.stringify(status());
  void membership.start(status()).catch((error: unknown) => {
    log.warn({ err: error }, 'cannot read the cluster members yet; retrying');
  });
  let standing = false;
  return {
    stand() {
      if (standing) return;
      standing = true;
      election.campaign(cluster.node);
    },
    withdraw() {
      if (!standing) return;
      standing = false;
      election.resign().catch((error: unknown) => {
        log.warn({ err: error }, 'cannot resign; the election key goes with the lease');
      });
    },
    refresh() {
      const next = status();
      const text = JSON.stringify(next);
      if (text === written) return;
      written = text;
      membership.update(next).catch((error: unknown) => {
        log.debug({ err: error }, 'cannot write the registration; the next change retries');
      });
    },
    async announceMaster(record) {
      try {
        const result = await election.guardedTxn({
          success: [{ op: 'put', key: masterKey, value: JSON.stringify(record) }],
        });
        return result.succeeded;
      } catch (error) {
        log.debug({ err: error }, 'cannot write the master record (not the leader any more?)');
        return false;
      }
    },
    async stop() {
      standing = false;
      masterView.close();
      await election.close();
      await membership.close();
    },
  };
}
