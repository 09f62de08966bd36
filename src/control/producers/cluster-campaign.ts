import type { EtcdClient, KeyValue } from '../../cluster/etcd-client.js';
import type { SessionLease } from '../../cluster/session.js';
import type { Role } from '../../cluster/roles.js';
import type { CompiledCluster } from '../../config/compile-cluster.js';
import type { Logger } from '../../observability/log.js';
import type { ClusterNodeView } from '../cluster-view.js';

/** What a node writes under `nodes/NAME` (with its lease: it is gone when the lease is). */
export interface Registration {
  readonly name: string;
  readonly role: Role;
  readonly epoch: number;
  readonly updatedAt: number;
  readonly dns: readonly string[];
}

/** Options of {@link startCampaign}. */
export interface CampaignOptions {
  readonly client: EtcdClient;
  readonly cluster: CompiledCluster;
  readonly log: Logger;
  readonly registration: () => Registration;
  /** This node is master from now on, with `epoch` (its election key's create revision). */
  readonly onLeader: (epoch: number) => void;
  /** Another node (or none) is master. */
  readonly onFollower: (master: string | undefined, epoch: number) => void;
  /** The registered nodes changed. */
  readonly onNodes: (nodes: readonly ClusterNodeView[]) => void;
}

/** A node's candidacy and registration. */
export interface Campaign {
  /** Stands for master with `lease` (again, with a new lease: the old key went with the old one). */
  stand(lease: SessionLease): void;
  /** Stands down: deletes this node's election key, so the next candidate is master at once. */
  withdraw(): void;
  /** Writes the registration again (role or epoch changed); at most one write in flight. */
  refresh(): void;
  stop(): Promise<void>;
}

/**
 * etcd's election recipe (as its concurrency package does it): each candidate puts
 * `election/<lease>` under its lease only if the key does not exist; the key with the lowest
 * create revision is the master and its create revision is the epoch. Every node watches the
 * whole election prefix (a handful of keys) and re-reads who is first after each change,
 * which is also how followers learn the master. Registrations live under `nodes/`.
 */
export function startCampaign(options: CampaignOptions): Campaign {
  const { client, cluster, log } = options;
  const electionPrefix = `${cluster.prefix}election/`;
  const nodesPrefix = `${cluster.prefix}nodes/`;
  let lease: SessionLease | undefined;
  let myKey: string | undefined;
  let myRevision: number | undefined;
  let standing = false;
  let stopped = false;
  let candidates: readonly KeyValue[] = [];
  let writing: Promise<void> | undefined;
  let writeAgain = false;
  let lastLeader: string | undefined;

  const decide = (): void => {
    const first = [...candidates].sort((a, b) => a.createRevision - b.createRevision)[0];
    const leaderKey = first?.key;
    const signature = `${leaderKey ?? ''}@${first?.createRevision ?? 0}:${myRevision ?? 0}`;
    if (signature === lastLeader) return;
    lastLeader = signature;
    if (first !== undefined && standing && first.key === myKey && myRevision !== undefined) {
      options.onLeader(myRevision);
    } else {
      options.onFollower(first?.value, first?.createRevision ?? 0);
    }
  };

  const campaign = async (held: SessionLease): Promise<void> => {
    const key = `${electionPrefix}${BigInt(held.id).toString(16)}`;
    const answer = await client.txn({
      compare: [{ key, target: 'createRevision', result: '==', value: 0 }],
      success: [{ op: 'put', key, value: cluster.node, lease: held.id }],
      failure: [{ op: 'range', key }],
    });
    if (lease !== held || !standing) return;
    const existing = answer.responses[0];
    myKey = key;
    myRevision =
      answer.succeeded || existing?.op !== 'range'
        ? answer.revision
        : (existing.result.kvs[0]?.createRevision ?? answer.revision);
    candidates = [
      ...candidates.filter((kv) => kv.key !== key),
      {
        key,
        value: cluster.node,
        createRevision: myRevision,
        modRevision: myRevision,
        version: 1,
        lease: held.id,
      },
    ];
    lastLeader = undefined;
    decide();
  };

  // What was last written, under which lease: a registration is written again only when
  // the role, epoch or listeners change, or with a new lease (the old key went with it).
  let written = '';
  const register = async (): Promise<void> => {
    const held = lease;
    if (held === undefined || stopped) return;
    const registration = options.registration();
    const content = [registration.role, registration.epoch, registration.dns];
    const signature = `${held.id} ${JSON.stringify(content)}`;
    if (signature === written) return;
    await client.put(`${nodesPrefix}${cluster.node}`, JSON.stringify(registration), {
      lease: held.id,
    });
    written = signature;
  };

  const refresh = (): void => {
    if (writing !== undefined) {
      writeAgain = true;
      return;
    }
    writing = register()
      .catch((error: unknown) => {
        log.debug({ err: error }, 'cannot write the registration; the next change retries');
      })
      .finally(() => {
        writing = undefined;
        if (writeAgain && !stopped) {
          writeAgain = false;
          refresh();
        }
      });
  };

  const watchers = [
    followPrefix(client, electionPrefix, log, (kvs) => {
      candidates = kvs;
      decide();
    }),
    followPrefix(client, nodesPrefix, log, (kvs) => {
      options.onNodes(kvs.flatMap(nodeView));
    }),
  ];

  return {
    stand(held) {
      if (stopped || (standing && lease === held)) return;
      const renewedOnly = lease?.id === held.id;
      lease = held;
      standing = true;
      if (renewedOnly && myKey !== undefined) return;
      myKey = undefined;
      myRevision = undefined;
      refresh();
      campaign(held).catch((error: unknown) => {
        log.warn({ err: error }, 'cannot stand for master; the next change retries');
        if (lease === held) standing = false;
      });
    },
    withdraw() {
      if (!standing) return;
      standing = false;
      const key = myKey;
      myKey = undefined;
      myRevision = undefined;
      lastLeader = undefined;
      decide();
      if (key !== undefined)
        client.delete(key).catch((error: unknown) => {
          log.warn({ err: error }, 'cannot resign; the election key goes with the lease');
        });
    },
    refresh,
    async stop() {
      const key = myKey;
      standing = false;
      stopped = true;
      myKey = undefined;
      for (const watcher of watchers) watcher.stop();
      if (key !== undefined) await client.delete(key).catch(() => undefined);
      await writing;
    },
  };
}

function nodeView(kv: KeyValue): ClusterNodeView[] {
  try {
    const value = JSON.parse(kv.value) as Partial<Registration>;
    if (typeof value.name !== 'string') return [];
    return [
      {
        name: value.name,
        role: value.role ?? 'initial',
        epoch: typeof value.epoch === 'number' ? value.epoch : 0,
        updatedAt: typeof value.updatedAt === 'number' ? value.updatedAt : 0,
        dns: Array.isArray(value.dns) ? value.dns.filter((d) => typeof d === 'string') : [],
      },
    ];
  } catch {
    return [];
  }
}

/**
 * Keeps `onChange` told of every key under `prefix`: a range, then a watch from the next
 * revision; a broken watch (etcd unreachable, compacted) starts over after a short wait.
 */
function followPrefix(
  client: EtcdClient,
  prefix: string,
  log: Logger,
  onChange: (kvs: readonly KeyValue[]) => void,
): { stop(): void } {
  const flags = { stopped: false };
  // Read through a call: stop() changes it while the loop awaits.
  const isStopped = (): boolean => flags.stopped;
  let current: { close(): void } | undefined;
  const loop = async (): Promise<void> => {
    while (!isStopped()) {
      try {
        const range = await client.range(prefix, { prefix: true });
        const kvs = new Map(range.kvs.map((kv) => [kv.key, kv]));
        onChange([...kvs.values()]);
        const watch = client.watch(prefix, { prefix: true, startRevision: range.revision + 1 });
        current = watch;
        if (isStopped()) watch.close();
        for await (const response of watch) {
          for (const event of response.events) {
            if (event.type === 'put') kvs.set(event.kv.key, event.kv);
            else kvs.delete(event.kv.key);
          }
          if (response.events.length > 0) onChange([...kvs.values()]);
        }
      } catch (error) {
        if (isStopped()) return;
        log.debug({ err: error, prefix }, 'watch broken; reading again');
      }
      if (!isStopped()) await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  void loop();
  return {
    stop() {
      flags.stopped = true;
      current?.close();
    },
  };
}
