import {
  booleanField,
  decodeKeyValue,
  headerRevision,
  isObject,
  numberField,
  objectField,
  objectsField,
  stringField,
  type JsonObject,
  type KeyValue,
} from './etcd-codec.js';
import { EtcdError, rejection, type EtcdStream } from './etcd-transport.js';

/** One change a watch reports. */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** After a put: the key as written; after a delete: the key with only `key` and `modRevision` (the delete's). */
  readonly kv: KeyValue;
  /** The key before the change, when the watch asked for `prevKv`. */
  readonly prevKv: KeyValue | undefined;
}

/** One message of a watch: the events of one or more revisions, or none (a progress report). */
export interface WatchResponse {
  /** The store's revision when etcd sent it: every change up to it was reported. */
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

/**
 * An open watch, read with `for await`. The loop ends normally only after {@link close};
 * otherwise it throws an {@link EtcdError}: `broken` (the stream ended, failed, or its member
 * stopped answering the liveness probe), `compacted` (its start revision is gone:
 * `compactRevision`) or `canceled`. Either way the caller re-syncs: a range, then a new watch
 * from the range's revision + 1.
 */
export class EtcdWatch implements AsyncIterable<WatchResponse> {
  /** Resolves the revision when etcd confirmed the watch; rejects like the loop would. */
  readonly created: Promise<number>;
  readonly #queue: WatchResponse[] = [];
  #waiter: (() => void) | undefined;
  #failure: EtcdError | undefined;
  #closed = false;
  #stream: EtcdStream | undefined;
  #buffer = '';
  #confirm!: (revision: number) => void;
  #refuse!: (error: EtcdError) => void;
  #probeTimer: ReturnType<typeof setInterval> | undefined;
  readonly #endpoint: () => string;

  /**
   * @param open opens the stream (the transport's `openStream`).
   * @param probe a linearizable request to the same member, sent every `livenessMs` while
   *   the stream is open; its failure breaks the watch (a paused or cut-off member sends nothing).
   */
  constructor(
    open: () => Promise<EtcdStream>,
    probe: (endpoint: string) => Promise<unknown>,
    livenessMs: number,
    endpoint: () => string,
  ) {
    this.#endpoint = endpoint;
    this.created = new Promise<number>((resolve, reject) => {
      this.#confirm = resolve;
      this.#refuse = reject;
    });
    this.created.catch(() => undefined); // also reported by the loop
    open().then(
      (stream) => {
        this.#attach(stream, probe, livenessMs);
      },
      (error: unknown) => {
        this.#fail(toEtcdError(error, endpoint()));
      },
    );
  }

  /** Ends the watch: the loop finishes, the stream is closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    this.#refuse(new EtcdError('closed', 'watch', this.#endpoint(), 'closed'));
    this.#wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      if (this.#failure !== undefined) throw this.#failure;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  #attach(
    stream: EtcdStream,
    probe: (endpoint: string) => Promise<unknown>,
    livenessMs: number,
  ): void {
    if (this.#closed) {
      stream.request.destroy();
      return;
    }
    this.#stream = stream;
    const { response, endpoint } = stream;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      this.#receive(chunk, endpoint);
    });
    const broken = (reason: string) => (): void => {
      this.#fail(new EtcdError('broken', 'watch', endpoint, reason));
    };
    response.once('end', broken('the stream ended'));
    response.once('close', broken('the stream closed'));
    response.once('error', broken('the stream failed'));
    let probing = false;
    this.#probeTimer = setInterval(() => {
      if (probing) return;
      probing = true;
      probe(endpoint).then(
        () => (probing = false),
        (error: unknown) => {
          this.#fail(
            new EtcdError('broken', 'watch', endpoint, 'the member stopped answering', {
              cause: error,
            }),
          );
        },
      );
    }, livenessMs);
  }

  #receive(chunk: string, endpoint: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf('\n'); end >= 0; end = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, end).trim();
      this.#buffer = this.#buffer.slice(end + 1);
      if (line !== '') this.#message(line, endpoint);
    }
  }

  #message(line: string, endpoint: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.#fail(new EtcdError('protocol', 'watch', endpoint, `not JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (!isObject(parsed)) return;
    if (parsed['error'] !== undefined) {
      const error = rejection(parsed, 200, endpoint, 'watch');
      this.#fail(new EtcdError('broken', 'watch', endpoint, error.message, { cause: error }));
      return;
    }
    const result = objectField(parsed, 'result');
    const revision = headerRevision(result);
    const compactRevision = numberField(result, 'compact_revision');
    if (booleanField(result, 'canceled')) {
      const reason = stringField(result, 'cancel_reason') || 'canceled by etcd';
      this.#fail(
        compactRevision > 0
          ? new EtcdError(
              'compacted',
              'watch',
              endpoint,
              `revision compacted (oldest ${compactRevision})`,
              {
                compactRevision,
              },
            )
          : new EtcdError('canceled', 'watch', endpoint, reason),
      );
      return;
    }
    if (booleanField(result, 'created')) {
      this.#confirm(revision);
      return;
    }
    this.#queue.push({ revision, events: objectsField(result, 'events').map(decodeEvent) });
    this.#wake();
  }

  #fail(error: EtcdError): void {
    if (this.#closed || this.#failure !== undefined) return;
    this.#failure = error;
    this.#stop();
    this.#refuse(error);
    this.#wake();
  }

  #stop(): void {
    clearInterval(this.#probeTimer);
    this.#stream?.request.destroy();
    this.#stream?.response.destroy();
  }

  #wake(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }
}

function decodeEvent(source: JsonObject): WatchEvent {
  const prev = source['prev_kv'];
  return {
    type: stringField(source, 'type') === 'DELETE' ? 'delete' : 'put',
    kv: decodeKeyValue(objectField(source, 'kv')),
    prevKv: isObject(prev) ? decodeKeyValue(prev) : undefined,
  };
}

function toEtcdError(error: unknown, endpoint: string): EtcdError {
  if (error instanceof EtcdError) return error;
  return new EtcdError('broken', 'watch', endpoint, String(error), { cause: error });
}
