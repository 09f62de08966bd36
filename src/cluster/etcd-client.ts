/**
 * A small client on etcd's v3 JSON gateway (`/v3/...`, etcd 3.4 and later) for the calls
 * steerdns needs: range, put, delete, txn, leases, watch and maintenance status. Keys and
 * values are UTF-8 strings; revisions are numbers (they stay below 2^53), lease IDs decimal
 * strings (they do not).
 */
import {
  booleanField,
  decodeKeyValue,
  encodeText,
  headerRevision,
  idField,
  isObject,
  numberField,
  objectsField,
  prefixEnd,
  stringField,
  type JsonObject,
  type KeyValue,
} from './etcd-codec.js';
import { EtcdTransport, type EtcdTransportOptions } from './etcd-transport.js';
import { EtcdWatch } from './etcd-watch.js';

export type { KeyValue } from './etcd-codec.js';
export { EtcdError, type EtcdErrorKind, type EtcdTlsOptions } from './etcd-transport.js';
export type { EtcdWatch, WatchEvent, WatchResponse } from './etcd-watch.js';

/** Options of {@link EtcdClient}. */
export type EtcdClientOptions = EtcdTransportOptions;

/** What a range selects and how it sorts. */
export interface RangeOptions {
  /** Every key starting with the given key. @default false */
  readonly prefix?: boolean;
  /** At most this many keys (0: no limit). @default 0 */
  readonly limit?: number;
  /** Sort by create revision (the election's order), modification revision or key. @default by key */
  readonly sort?: { readonly by: 'create' | 'mod' | 'key'; readonly order: 'ascend' | 'descend' };
  /** Read the store as it was at this revision. @default the newest */
  readonly revision?: number;
  /** Only keys created at or below this revision (0: no bound). */
  readonly maxCreateRevision?: number;
  /** Only the count, no keys. @default false */
  readonly countOnly?: boolean;
}

/** The answer of a range. */
export interface RangeResult {
  /** The store's revision the range read. */
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  /** How many keys matched (more than `kvs.length` with a limit). */
  readonly count: number;
  readonly more: boolean;
}

/** Options of a put. */
export interface PutOptions {
  /** Attach the key to this lease; it is deleted when the lease expires. */
  readonly lease?: string;
  /** Return the key as it was before. @default false */
  readonly prevKv?: boolean;
}

/** The answer of a put. */
export interface PutResult {
  readonly revision: number;
  readonly prevKv: KeyValue | undefined;
}

/** Options of a delete. */
export interface DeleteOptions {
  readonly prefix?: boolean;
  readonly prevKv?: boolean;
}

/** The answer of a delete. */
export interface DeleteResult {
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

/** A condition of a txn: `target(key) result value` (a missing key has revisions and version 0). */
export type Compare =
  | {
      readonly key: string;
      readonly target: 'createRevision' | 'modRevision' | 'version';
      readonly result: '==' | '!=' | '<' | '>';
      readonly value: number;
    }
  | {
      readonly key: string;
      readonly target: 'value';
      readonly result: '==' | '!=' | '<' | '>';
      readonly value: string;
    };

/** One operation of a txn. */
export type TxnOp =
  | ({ readonly op: 'put'; readonly key: string; readonly value: string } & PutOptions)
  | ({ readonly op: 'delete'; readonly key: string } & DeleteOptions)
  | ({ readonly op: 'range'; readonly key: string } & RangeOptions);

/** The answer of one txn operation, in the order of the ops. */
export type TxnOpResult =
  | { readonly op: 'put'; readonly result: PutResult }
  | { readonly op: 'delete'; readonly result: DeleteResult }
  | { readonly op: 'range'; readonly result: RangeResult };

/** A txn: `if (every compare holds) success else failure`. */
export interface Txn {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

/** The answer of a txn. */
export interface TxnResult {
  readonly revision: number;
  /** Whether every compare held (and so `success` ran). */
  readonly succeeded: boolean;
  readonly responses: readonly TxnOpResult[];
}

/** A lease: its ID and the TTL etcd granted or has left, in seconds. */
export interface LeaseGrant {
  readonly id: string;
  /** Seconds; after a keepalive, 0 means the lease is gone. */
  readonly ttl: number;
}

/** What etcd knows of a lease. */
export interface LeaseTimeToLive {
  readonly id: string;
  /** Seconds left; -1 when the lease is gone. */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: readonly string[];
}

/** A member's maintenance status. */
export interface MemberStatus {
  readonly version: string;
  readonly memberId: string;
  /** The member ID of the raft leader ('0': none known). */
  readonly leader: string;
  readonly revision: number;
  readonly raftTerm: number;
  readonly dbSize: number;
}

/** Options of a watch. */
export interface WatchOptions {
  readonly prefix?: boolean;
  /** Report changes from this revision on (a range's revision + 1). @default from now */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  /** Ask etcd to send empty progress messages when idle (every 10 min with etcd's defaults). */
  readonly progressNotify?: boolean;
  /**
   * Every this many ms the client checks the watch's member with a linearizable request;
   * a failure breaks the watch. @default the client's timeoutMs
   */
  readonly livenessMs?: number;
}

const SORT_TARGET = { key: 'KEY', create: 'CREATE', mod: 'MOD' } as const;
const COMPARE_TARGET = {
  createRevision: ['CREATE', 'create_revision'],
  modRevision: ['MOD', 'mod_revision'],
  version: ['VERSION', 'version'],
  value: ['VALUE', 'value'],
} as const;
const COMPARE_RESULT = { '==': 'EQUAL', '!=': 'NOT_EQUAL', '<': 'LESS', '>': 'GREATER' } as const;

/** A client of one etcd cluster; see {@link EtcdTransport} for endpoints and failover. */
export class EtcdClient {
  readonly #transport: EtcdTransport;

  constructor(options: EtcdClientOptions) {
    this.#transport = new EtcdTransport(options);
  }

  /** The endpoint calls go to now. */
  get currentEndpoint(): string {
    return this.#transport.currentEndpoint;
  }

  /** Reads `key` (or every key under it, with `prefix`). */
  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    return decodeRange(
      await this.#transport.call('kv/range', '/v3/kv/range', rangeBody(key, options)),
    );
  }

  /** Writes `key`. */
  async put(key: string, value: string, options: PutOptions = {}): Promise<PutResult> {
    return decodePut(
      await this.#transport.call('kv/put', '/v3/kv/put', putBody(key, value, options)),
    );
  }

  /** Deletes `key` (or every key under it, with `prefix`). */
  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const answer = await this.#transport.call(
      'kv/deleterange',
      '/v3/kv/deleterange',
      deleteBody(key, options),
    );
    return decodeDelete(answer);
  }

  /** Runs a transaction. */
  async txn(txn: Txn): Promise<TxnResult> {
    const body = {
      compare: txn.compare.map(compareBody),
      success: txn.success.map(opBody),
      failure: (txn.failure ?? []).map(opBody),
    };
    const answer = await this.#transport.call('kv/txn', '/v3/kv/txn', body);
    return {
      revision: headerRevision(answer),
      succeeded: booleanField(answer, 'succeeded'),
      responses: objectsField(answer, 'responses').map(decodeOpResult),
    };
  }

  /** Grants a lease; etcd may raise the TTL to its minimum (2 s with default timing). */
  async leaseGrant(ttlSeconds: number): Promise<LeaseGrant> {
    const answer = await this.#transport.call('lease/grant', '/v3/lease/grant', {
      TTL: ttlSeconds,
    });
    return { id: idField(answer, 'ID'), ttl: numberField(answer, 'TTL') };
  }

  /** Renews a lease once; resolves TTL 0 when the lease is gone. */
  async leaseKeepAlive(id: string): Promise<LeaseGrant> {
    const answer = await this.#transport.call('lease/keepalive', '/v3/lease/keepalive', { ID: id });
    return { id: idField(answer, 'ID'), ttl: numberField(answer, 'TTL') };
  }

  /** Revokes a lease: its keys are deleted at once. */
  async leaseRevoke(id: string): Promise<number> {
    return headerRevision(
      await this.#transport.call('lease/revoke', '/v3/lease/revoke', { ID: id }),
    );
  }

  /** What etcd knows of a lease (TTL -1: gone). */
  async leaseTimeToLive(id: string, keys = false): Promise<LeaseTimeToLive> {
    const answer = await this.#transport.call('lease/timetolive', '/v3/lease/timetolive', {
      ID: id,
      keys,
    });
    const raw = answer['keys'];
    return {
      id: idField(answer, 'ID'),
      ttl: numberField(answer, 'TTL'),
      grantedTtl: numberField(answer, 'grantedTTL'),
      keys: Array.isArray(raw)
        ? raw.map((key) => Buffer.from(String(key), 'base64').toString('utf8'))
        : [],
    };
  }

  /** The status of the member the client talks to (not linearizable: a cut-off member answers). */
  async status(): Promise<MemberStatus> {
    const answer = await this.#transport.call('maintenance/status', '/v3/maintenance/status', {});
    const header = isObject(answer['header']) ? answer['header'] : {};
    return {
      version: stringField(answer, 'version'),
      memberId: idField(header, 'member_id'),
      leader: idField(answer, 'leader'),
      revision: headerRevision(answer),
      raftTerm: numberField(answer, 'raftTerm'),
      dbSize: numberField(answer, 'dbSize'),
    };
  }

  /** Watches `key` (or the keys under it); read it with `for await`, end it with `close()`. */
  watch(key: string, options: WatchOptions = {}): EtcdWatch {
    const create: Record<string, unknown> = { key: encodeText(key) };
    if (options.prefix === true) create['range_end'] = prefixEnd(key);
    if (options.startRevision !== undefined)
      create['start_revision'] = String(options.startRevision);
    if (options.prevKv === true) create['prev_kv'] = true;
    if (options.progressNotify === true) create['progress_notify'] = true;
    const probeBody = rangeBody(key, { countOnly: true, limit: 1 });
    return new EtcdWatch(
      () => this.#transport.openStream('watch', '/v3/watch', { create_request: create }),
      async (endpoint) => {
        try {
          await this.#transport.callEndpoint(endpoint, 'watch', '/v3/kv/range', probeBody);
        } catch (error) {
          this.#transport.reportFailure(endpoint);
          throw error;
        }
      },
      options.livenessMs ?? this.#transport.timeoutMs,
      () => this.#transport.currentEndpoint,
    );
  }

  /** Closes idle connections; open watches are not touched (close them first). */
  close(): void {
    this.#transport.close();
  }
}

function rangeBody(key: string, options: RangeOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { key: encodeText(key) };
  if (options.prefix === true) body['range_end'] = prefixEnd(key);
  if (options.limit !== undefined && options.limit > 0) body['limit'] = String(options.limit);
  if (options.sort !== undefined) {
    body['sort_target'] = SORT_TARGET[options.sort.by];
    body['sort_order'] = options.sort.order === 'ascend' ? 'ASCEND' : 'DESCEND';
  }
  if (options.revision !== undefined) body['revision'] = String(options.revision);
  if (options.maxCreateRevision !== undefined && options.maxCreateRevision > 0)
    body['max_create_revision'] = String(options.maxCreateRevision);
  if (options.countOnly === true) body['count_only'] = true;
  return body;
}

function putBody(key: string, value: string, options: PutOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { key: encodeText(key), value: encodeText(value) };
  if (options.lease !== undefined && options.lease !== '0') body['lease'] = options.lease;
  if (options.prevKv === true) body['prev_kv'] = true;
  return body;
}

function deleteBody(key: string, options: DeleteOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { key: encodeText(key) };
  if (options.prefix === true) body['range_end'] = prefixEnd(key);
  if (options.prevKv === true) body['prev_kv'] = true;
  return body;
}

function compareBody(compare: Compare): Record<string, unknown> {
  const [target, field] = COMPARE_TARGET[compare.target];
  const value = compare.target === 'value' ? encodeText(compare.value) : String(compare.value);
  return {
    key: encodeText(compare.key),
    target,
    result: COMPARE_RESULT[compare.result],
    [field]: value,
  };
}

function opBody(op: TxnOp): Record<string, unknown> {
  switch (op.op) {
    case 'put':
      return { request_put: putBody(op.key, op.value, op) };
    case 'delete':
      return { request_delete_range: deleteBody(op.key, op) };
    case 'range':
      return { request_range: rangeBody(op.key, op) };
  }
}

function decodeRange(answer: JsonObject): RangeResult {
  return {
    revision: headerRevision(answer),
    kvs: objectsField(answer, 'kvs').map(decodeKeyValue),
    count: numberField(answer, 'count'),
    more: booleanField(answer, 'more'),
  };
}

function decodePut(answer: JsonObject): PutResult {
  const prev = answer['prev_kv'];
  return {
    revision: headerRevision(answer),
    prevKv: isObject(prev) ? decodeKeyValue(prev) : undefined,
  };
}

function decodeDelete(answer: JsonObject): DeleteResult {
  return {
    revision: headerRevision(answer),
    deleted: numberField(answer, 'deleted'),
    prevKvs: objectsField(answer, 'prev_kvs').map(decodeKeyValue),
  };
}

function decodeOpResult(source: JsonObject): TxnOpResult {
  const put = source['response_put'];
  if (isObject(put)) return { op: 'put', result: decodePut(put) };
  const deleted = source['response_delete_range'];
  if (isObject(deleted)) return { op: 'delete', result: decodeDelete(deleted) };
  const range = source['response_range'];
  return { op: 'range', result: decodeRange(isObject(range) ? range : {}) };
}
