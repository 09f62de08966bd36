import type { Logger } from '../observability/log.js';
import { EtcdError, type EtcdClient, type KeyValue } from './etcd-client.js';

/** Options of {@link PrefixView}. */
export interface PrefixViewOptions {
  readonly client: Pick<EtcdClient, 'range' | 'watch'>;
  /** Every key starting with this, e.g. `/steerdns/prod/nodes/`. */
  readonly prefix: string;
  /** Called with every new snapshot (and the revision it shows), after the first sync too. */
  readonly onChange?: (kvs: readonly KeyValue[], revision: number) => void;
  /** Called when the view starts (true) or stops (false) following etcd. */
  readonly onSynced?: (synced: boolean) => void;
  /** The watch's liveness probe interval. @default the client's timeout */
  readonly livenessMs?: number;
  /** Re-sync backoff: first wait, doubling up to `retryMaxMs`. @default 100 */
  readonly retryInitialMs?: number;
  /** @default 2000 */
  readonly retryMaxMs?: number;
  readonly logger?: Logger;
}

/**
 * A live, consistent view of the keys under a prefix: a range at revision R, then a watch
 * from R + 1, applied in order; a broken or compacted watch makes it range and watch again
 * (after a backoff), so the view converges to etcd's after any failure. Snapshots are frozen
 * arrays sorted by create revision (the election's order). When etcd is unreachable the last
 * snapshot stays (and `synced` is false).
 */
export class PrefixView {
  readonly #options: PrefixViewOptions;
  #keys = new Map<string, KeyValue>();
  #snapshot: readonly KeyValue[] = Object.freeze([]);
  #revision = 0;
  #synced = false;
  #closed = false;
  #watch: { close(): void } | undefined;
  #sleep: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;
  #started = false;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  constructor(options: PrefixViewOptions) {
    this.#options = options;
    this.#firstSync = new Promise((resolve) => (this.#resolveFirstSync = resolve));
  }

  /** The keys as of {@link revision}, sorted by create revision. */
  get snapshot(): readonly KeyValue[] {
    return this.#snapshot;
  }

  /** The store revision the snapshot shows (0 before the first sync). */
  get revision(): number {
    return this.#revision;
  }

  /** Whether the view follows etcd right now (its watch is open). */
  get synced(): boolean {
    return this.#synced;
  }

  /** Starts following; resolves after the first sync (waits as long as etcd is unreachable). */
  start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      void this.#run();
    }
    return this.#firstSync;
  }

  /** Stops following; the snapshot stays as it was. */
  close(): void {
    this.#closed = true;
    this.#watch?.close();
    if (this.#sleep !== undefined) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
  }

  async #run(): Promise<void> {
    const { client, prefix, logger } = this.#options;
    let retryMs = this.#options.retryInitialMs ?? 100;
    let failures = 0;
    while (!this.#isClosed()) {
      try {
        const range = await client.range(prefix, { prefix: true });
        if (this.#isClosed()) return;
        this.#keys = new Map(range.kvs.map((kv) => [kv.key, kv]));
        this.#publish(range.revision);
        const watch = client.watch(prefix, {
          prefix: true,
          startRevision: range.revision + 1,
          ...(this.#options.livenessMs === undefined
            ? {}
            : { livenessMs: this.#options.livenessMs }),
        });
        this.#watch = watch;
        await watch.created;
        this.#setSynced(true);
        this.#resolveFirstSync();
        retryMs = this.#options.retryInitialMs ?? 100;
        failures = 0;
        for await (const message of watch) {
          for (const event of message.events) {
            if (event.type === 'put') this.#keys.set(event.kv.key, event.kv);
            else this.#keys.delete(event.kv.key);
          }
          if (message.events.length > 0 || message.revision > this.#revision)
            this.#publish(message.revision);
        }
      } catch (error) {
        if (this.#isClosed()) return;
        this.#setSynced(false);
        failures++;
        const level =
          failures === 1 && !(error instanceof EtcdError && error.kind === 'compacted')
            ? 'warn'
            : 'debug';
        logger?.[level]({ err: error, prefix }, 'prefix view: re-syncing');
        await this.#wait(retryMs);
        retryMs = Math.min(retryMs * 2, this.#options.retryMaxMs ?? 2000);
      }
    }
  }

  /** A method, not the field: it changes across awaits. */
  #isClosed(): boolean {
    return this.#closed;
  }

  #publish(revision: number): void {
    const next = Object.freeze(
      [...this.#keys.values()].sort((a, b) => a.createRevision - b.createRevision),
    );
    const changed =
      next.length !== this.#snapshot.length ||
      next.some(
        (kv, i) =>
          kv.key !== this.#snapshot[i]?.key || kv.modRevision !== this.#snapshot[i].modRevision,
      );
    this.#revision = Math.max(this.#revision, revision);
    if (!changed && this.#synced) return;
    this.#snapshot = next;
    this.#options.onChange?.(next, this.#revision);
  }

  #setSynced(synced: boolean): void {
    if (this.#synced === synced) return;
    this.#synced = synced;
    this.#options.onSynced?.(synced);
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: setTimeout(done, ms), wake: done };
    });
  }
}
