/** One resource record with its data in uncompressed wire form. */
export interface ResourceRecord {
  /** Owner name, uncompressed wire form, case as written. */
  readonly name: Buffer;
  readonly type: number;
  readonly class: number;
  /** Seconds, 0 to 2^31-1 (RFC 2181 8). */
  readonly ttl: number;
  /** RDATA, uncompressed wire form (names inside it are never compressed here). */
  readonly rdata: Buffer;
}

/** Where a record was defined, for `file:line: reason` messages. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
}
