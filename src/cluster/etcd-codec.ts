/**
 * Decoding of etcd's v3 JSON gateway messages: int64 fields come as JSON strings, bytes as
 * base64, and fields equal to zero, false or empty are left out.
 */

/** One key of etcd, as steerdns reads it. */
export interface KeyValue {
  /** The key, UTF-8. */
  readonly key: string;
  /** The value, UTF-8. */
  readonly value: string;
  /** The revision that created the key (0 never: a key that exists was created). */
  readonly createRevision: number;
  /** The revision of its last change. */
  readonly modRevision: number;
  /** How many times it was written since it was created (1 after the first put). */
  readonly version: number;
  /** The lease it is attached to, as a decimal string ('0': none); lease IDs exceed 2^53. */
  readonly lease: string;
}

/** A JSON object as read; every field is checked before use. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object under `name`, or an empty one when absent or not an object. */
export function objectField(source: JsonObject, name: string): JsonObject {
  const value = source[name];
  return isObject(value) ? value : {};
}

/** The objects of the array under `name` (absent: none). */
export function objectsField(source: JsonObject, name: string): JsonObject[] {
  const value = source[name];
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** An int64 field (a JSON string or number; absent: 0) as a number. */
export function numberField(source: JsonObject, name: string): number {
  const value = source[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') return Number(value);
  return 0;
}

/** An int64 ID field (absent: '0') as its decimal string, exactly. */
export function idField(source: JsonObject, name: string): string {
  const value = source[name];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return '0';
}

/** A string field (absent: ''). */
export function stringField(source: JsonObject, name: string): string {
  const value = source[name];
  return typeof value === 'string' ? value : '';
}

/** A boolean field (absent: false). */
export function booleanField(source: JsonObject, name: string): boolean {
  return source[name] === true;
}

/** A bytes field (base64; absent: empty) as UTF-8 text. */
export function textField(source: JsonObject, name: string): string {
  return Buffer.from(stringField(source, name), 'base64').toString('utf8');
}

/** UTF-8 text as base64, the way the gateway takes bytes. */
export function encodeText(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * The range end that selects every key starting with `prefix` (base64): the prefix with its
 * last byte below 0xff incremented and what follows it dropped; "\0" (every key) for '' or a
 * prefix of 0xff bytes only.
 */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = bytes[i]! + 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

/** A `mvccpb.KeyValue` as a {@link KeyValue}. */
export function decodeKeyValue(source: JsonObject): KeyValue {
  return {
    key: textField(source, 'key'),
    value: textField(source, 'value'),
    createRevision: numberField(source, 'create_revision'),
    modRevision: numberField(source, 'mod_revision'),
    version: numberField(source, 'version'),
    lease: idField(source, 'lease'),
  };
}

/** The revision in a response's `header` (0 when absent). */
export function headerRevision(source: JsonObject): number {
  return numberField(objectField(source, 'header'), 'revision');
}
