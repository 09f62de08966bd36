import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcd, type EtcdCluster } from '../../test/helpers/etcd.js';
import { EtcdClient, EtcdError, type EtcdWatch, type WatchResponse } from './etcd-client.js';

/** The next message of a watch, within `ms`. */
async function nextMessage(
  iterator: AsyncIterator<WatchResponse>,
  ms = 3000,
): Promise<WatchResponse> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no watch message within ${ms} ms`));
    }, ms);
  });
  try {
    const next = await Promise.race([iterator.next(), timeout]);
    assert.equal(next.done, false, 'the watch ended');
    return next.value;
  } finally {
    clearTimeout(timer);
  }
}

/** The error the watch's loop ends with, within `ms`. */
async function watchFailure(watch: EtcdWatch, ms: number): Promise<EtcdError> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`the watch did not fail within ${ms} ms`));
    }, ms);
  });
  const loop = (async (): Promise<EtcdError> => {
    try {
      for await (const message of watch) assert.ok(message.revision > 0);
    } catch (error) {
      assert.ok(error instanceof EtcdError, String(error));
      return error;
    }
    throw new Error('the watch ended without an error');
  })();
  try {
    return await Promise.race([loop, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('EtcdClient on one real etcd', () => {
  let etcd: EtcdCluster;
  let client: EtcdClient;
  before(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
  });
  after(async () => {
    client.close();
    await etcd.remove();
  });

  it('puts, ranges a key and a prefix (limit, sort by create revision) and deletes a prefix', async () => {
    const first = await client.put('p/b', 'one');
    await client.put('p/a', 'two ü');
    await client.put('p/b', 'three');
    await client.put('q', 'outside');
    const one = await client.range('p/b');
    assert.equal(one.kvs.length, 1);
    assert.deepEqual(
      { ...one.kvs[0]!, modRevision: 0 },
      {
        key: 'p/b',
        value: 'three',
        createRevision: first.revision,
        modRevision: 0,
        version: 2,
        lease: '0',
      },
    );
    const cases = [
      { options: { prefix: true }, keys: ['p/a', 'p/b'] },
      { options: { prefix: true, sort: { by: 'create', order: 'ascend' } }, keys: ['p/b', 'p/a'] },
      {
        options: { prefix: true, sort: { by: 'create', order: 'descend' }, limit: 1 },
        keys: ['p/a'],
      },
    ] as const;
    for (const { options, keys } of cases) {
      const result = await client.range('p/', options);
      assert.deepEqual(
        result.kvs.map((kv) => kv.key),
        keys,
        JSON.stringify(options),
      );
      assert.equal(result.count, 2);
    }
    assert.equal((await client.range('p/a')).kvs[0]?.value, 'two ü');
    assert.equal((await client.range('nothing')).kvs.length, 0);
    const deleted = await client.delete('p/', { prefix: true, prevKv: true });
    assert.equal(deleted.deleted, 2);
    assert.deepEqual(deleted.prevKvs.map((kv) => kv.value).sort(), ['three', 'two ü']);
    assert.equal((await client.range('q')).kvs.length, 1, 'the delete stayed inside the prefix');
  });

  it('runs a txn on create revision, mod revision and value; success and failure branches', async () => {
    const create = {
      compare: [{ key: 't', target: 'createRevision', result: '==', value: 0 }],
      success: [{ op: 'put', key: 't', value: 'mine' }],
      failure: [{ op: 'range', key: 't' }],
    } as const;
    const won = await client.txn(create);
    assert.equal(won.succeeded, true);
    assert.equal(won.responses[0]?.op, 'put');
    const lost = await client.txn(create);
    assert.equal(lost.succeeded, false);
    const range = lost.responses[0];
    assert.ok(range?.op === 'range');
    assert.equal(range.result.kvs[0]?.createRevision, won.revision);
    const rows = [
      { target: 'createRevision', value: won.revision, succeeded: true },
      { target: 'createRevision', value: won.revision + 1, succeeded: false },
      { target: 'modRevision', value: won.revision, succeeded: true },
      { target: 'version', value: 1, succeeded: true },
      { target: 'version', value: 2, succeeded: false },
      { target: 'value', value: 'mine', succeeded: true },
      { target: 'value', value: 'theirs', succeeded: false },
    ] as const;
    for (const row of rows) {
      const compare = { key: 't', target: row.target, result: '==', value: row.value } as never;
      const result = await client.txn({ compare: [compare], success: [{ op: 'range', key: 't' }] });
      assert.equal(result.succeeded, row.succeeded, JSON.stringify(row));
    }
  });

  it('grants, renews, inspects and revokes a lease; keys on it go with it', async () => {
    const lease = await client.leaseGrant(1);
    assert.match(lease.id, /^\d+$/);
    assert.equal(lease.ttl, 2, 'etcd raises a TTL below its minimum (2 s with default timing)');
    await client.put('leased', 'x', { lease: lease.id });
    assert.equal((await client.range('leased')).kvs[0]?.lease, lease.id);
    const renewed = await client.leaseKeepAlive(lease.id);
    assert.deepEqual(renewed, { id: lease.id, ttl: 2 });
    const info = await client.leaseTimeToLive(lease.id, true);
    assert.equal(info.grantedTtl, 2);
    assert.ok(info.ttl > 0 && info.ttl <= 2, `ttl ${info.ttl}`);
    assert.deepEqual(info.keys, ['leased']);
    await client.leaseRevoke(lease.id);
    assert.equal((await client.range('leased')).kvs.length, 0);
    assert.equal(
      (await client.leaseKeepAlive(lease.id)).ttl,
      0,
      'a keepalive of a gone lease says TTL 0',
    );
    assert.equal((await client.leaseTimeToLive(lease.id)).ttl, -1);
    await assert.rejects(client.put('k', 'v', { lease: lease.id }), (error: unknown) => {
      assert.ok(error instanceof EtcdError);
      assert.equal(error.kind, 'rejected');
      assert.equal(error.grpcCode, 5);
      assert.match(
        error.message,
        /^etcd kv\/put at unix:\/\/\/.*: etcdserver: requested lease not found$/,
      );
      return true;
    });
  });

  it('watches a prefix from a revision: puts and deletes, with their revisions', async () => {
    const start = await client.put('w/x', '1');
    await client.delete('w/x');
    const watch = client.watch('w/', { prefix: true, startRevision: start.revision });
    const iterator = watch[Symbol.asyncIterator]();
    const created = await watch.created;
    assert.ok(created >= start.revision + 1);
    const history = await nextMessage(iterator);
    const put = await client.put('w/y', '2');
    await client.put('outside', '3');
    const live = history.events.length === 2 ? history : await nextMessage(iterator);
    assert.deepEqual(
      [...history.events, ...(live === history ? [] : live.events)].map((e) => [
        e.type,
        e.kv.key,
        e.kv.modRevision,
      ]),
      [
        ['put', 'w/x', start.revision],
        ['delete', 'w/x', start.revision + 1],
      ],
    );
    const next = await nextMessage(iterator);
    assert.deepEqual(
      next.events.map((e) => [e.type, e.kv.key, e.kv.value]),
      [['put', 'w/y', '2']],
    );
    assert.equal(next.revision, put.revision);
    watch.close();
    assert.equal((await iterator.next()).done, true, 'close ends the loop');
  });

  it('reports a watch from a compacted revision as compacted', async () => {
    const old = await client.put('c', '1');
    const now = await client.put('c', '2');
    // The gateway has no compaction helper in the client: the test compacts by hand.
    await fetchCompact(etcd.endpoints[0]!, now.revision);
    const watch = client.watch('c', { startRevision: old.revision });
    const error = await watchFailure(watch, 3000);
    assert.equal(error.kind, 'compacted');
    assert.equal(error.compactRevision, now.revision);
  });
});

describe('EtcdClient when etcd fails', () => {
  it('breaks a watch when its member dies, and a re-sync after the restart sees what changed', async (t) => {
    const etcd = await startEtcd();
    const client = new EtcdClient({ endpoints: etcd.endpoints });
    t.after(async () => {
      client.close();
      await etcd.remove();
    });
    const before = await client.put('r/1', 'a');
    const watch = client.watch('r/', { prefix: true, startRevision: before.revision + 1 });
    await watch.created;
    const failure = watchFailure(watch, 5000);
    await etcd.kill('a');
    const error = await failure;
    assert.equal(error.kind, 'broken');
    assert.match(error.message, /^etcd watch at unix:\/\//);
    await etcd.start('a');
    await client.put('r/2', 'b');
    const resync = await client.range('r/', { prefix: true });
    assert.deepEqual(
      resync.kvs.map((kv) => kv.key),
      ['r/1', 'r/2'],
    );
    const again = client.watch('r/', { prefix: true, startRevision: resync.revision + 1 });
    const iterator = again[Symbol.asyncIterator]();
    await again.created;
    await client.put('r/3', 'c');
    assert.deepEqual(
      (await nextMessage(iterator)).events.map((e) => e.kv.key),
      ['r/3'],
    );
    again.close();
  });

  it('breaks a watch whose member stops answering (paused), by its liveness probe', async (t) => {
    const etcd = await startEtcd();
    const client = new EtcdClient({ endpoints: etcd.endpoints, timeoutMs: 300 });
    t.after(async () => {
      client.close();
      await etcd.remove();
    });
    const watch = client.watch('z', { livenessMs: 200 });
    await watch.created;
    const started = Date.now();
    etcd.pause('a');
    const error = await watchFailure(watch, 3000);
    assert.equal(error.kind, 'broken');
    assert.ok(Date.now() - started < 1500, `broken after ${Date.now() - started} ms`);
    await assert.rejects(client.range('z'), (e: unknown) => {
      assert.ok(e instanceof EtcdError);
      assert.equal(e.kind, 'timeout');
      assert.match(
        e.message,
        /^etcd kv\/range at unix:\/\/\/.+localhost:12379: no answer within 300 ms$/,
      );
      return true;
    });
    etcd.resume('a');
  });

  it('authenticates with user and password, and again when etcd forgot the token (restart)', async (t) => {
    const etcd = await startEtcd();
    const endpoint = etcd.endpoints[0]!;
    const client = new EtcdClient({
      endpoints: etcd.endpoints,
      auth: { user: 'root', password: 'pw' },
    });
    const anonymous = new EtcdClient({ endpoints: etcd.endpoints });
    t.after(async () => {
      client.close();
      anonymous.close();
      await etcd.remove();
    });
    await post(endpoint, '/v3/auth/user/add', { name: 'root', password: 'pw' });
    await post(endpoint, '/v3/auth/role/add', { name: 'root' });
    await post(endpoint, '/v3/auth/user/grant', { user: 'root', role: 'root' });
    await post(endpoint, '/v3/auth/enable', {});
    await assert.rejects(
      anonymous.put('a', '1'),
      /etcd kv\/put at .*: etcdserver: user name is empty/,
    );
    await client.put('a', '1');
    assert.equal((await client.range('a')).kvs[0]?.value, '1');
    await etcd.stop('a');
    await etcd.start('a'); // simple tokens live in memory: the old one is now invalid
    assert.equal((await client.range('a')).kvs[0]?.value, '1');
    const wrong = new EtcdClient({
      endpoints: etcd.endpoints,
      auth: { user: 'root', password: 'no' },
    });
    t.after(() => {
      wrong.close();
    });
    await assert.rejects(
      wrong.range('a'),
      /etcd auth\/authenticate at .*: etcdserver: authentication failed/,
    );
  });

  it('fails over to the next endpoint when the first member is down or paused (3 members)', async (t) => {
    const etcd = await startEtcd({ size: 3 });
    t.after(() => etcd.remove()); // first: whatever fails below, the cluster goes
    // The two followers first: stopping or pausing them starts no etcd election, whose
    // second without a leader would fail calls on every member.
    const leaderOf = await Promise.all(
      etcd.names.map(async (name) => {
        const probe = new EtcdClient({ endpoints: [etcd.endpoint(name)] });
        const status = await probe.status();
        probe.close();
        return { name, leader: status.leader === status.memberId };
      }),
    );
    const order = [...leaderOf.filter((m) => !m.leader), ...leaderOf.filter((m) => m.leader)].map(
      (m) => m.name,
    );
    assert.equal(order.length, 3);
    const [first, second, third] = order as [string, string, string];
    const client = new EtcdClient({
      endpoints: order.map((name) => etcd.endpoint(name)),
      timeoutMs: 500,
    });
    t.after(() => {
      client.close();
    });
    await client.put('f', '1');
    assert.equal(client.currentEndpoint, etcd.endpoint(first));
    await etcd.stop(first);
    await client.put('f', '2');
    assert.equal((await client.range('f')).kvs[0]?.value, '2');
    assert.equal(client.currentEndpoint, etcd.endpoint(second), 'a stopped member: the next one');
    await etcd.start(first); // two of three down would leave no quorum
    etcd.pause(second);
    assert.equal(
      (await client.range('f')).kvs[0]?.value,
      '2',
      'a paused member times out, the next answers',
    );
    assert.equal(client.currentEndpoint, etcd.endpoint(third));
    etcd.resume(second);
  });
});

/** One raw gateway call (test-only: compaction, auth setup), with node:http. */
async function post(endpoint: string, path: string, body: object, token?: string): Promise<string> {
  const { request } = await import('node:http');
  return new Promise<string>((resolve, reject) => {
    const headers: Record<string, string> = token === undefined ? {} : { authorization: token };
    const req = request(
      { socketPath: endpoint.slice('unix://'.length), method: 'POST', path, headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`${path}: HTTP ${res.statusCode} ${text}`));
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Compacts the store up to `revision`. */
async function fetchCompact(endpoint: string, revision: number): Promise<void> {
  await post(endpoint, '/v3/kv/compaction', { revision: String(revision), physical: true });
}
