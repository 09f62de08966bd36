import { readFileSync } from 'node:fs';
import { SteerdnsError } from '../lib/errors.js';

/** Least key material accepted, in bytes (128 bits). */
export const MIN_KEY_BYTES = 16;

/** A key file that cannot be read or holds too little key material. */
export class KeyFileError extends SteerdnsError {
  constructor(message: string, options?: ErrorOptions) {
    super('STEERDNS_ERR_AGENT_KEY', message, options);
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(content: Buffer): string | undefined {
  try {
    return utf8.decode(content);
  } catch {
    return undefined;
  }
}

/**
 * Turns the content of a key file into key bytes. Content that is not UTF-8 text is
 * used as is (`head -c 32 /dev/urandom`). Text has leading and trailing white space
 * dropped, then the first rule that matches wins:
 * 1. hex digits, an even number of them: hex (`openssl rand -hex 32`);
 * 2. base64 with correct padding: base64 (`openssl rand -base64 32`);
 * 3. anything else: the UTF-8 bytes of the text, as a passphrase.
 * Throws {@link KeyFileError} when fewer than {@link MIN_KEY_BYTES} bytes result.
 */
export function parseKey(content: Buffer | string, where = 'key'): Buffer {
  const text = typeof content === 'string' ? content : decodeText(content);
  const trimmed = text?.trim() ?? '';
  let key: Buffer;
  let form: string;
  if (text === undefined) [key, form] = [Buffer.from(content), 'raw bytes'];
  else if (HEX.test(trimmed)) [key, form] = [Buffer.from(trimmed, 'hex'), 'hex'];
  else if (trimmed.length > 0 && BASE64.test(trimmed)) {
    [key, form] = [Buffer.from(trimmed, 'base64'), 'base64'];
  } else [key, form] = [Buffer.from(trimmed, 'utf8'), 'text'];
  if (key.length < MIN_KEY_BYTES) {
    throw new KeyFileError(
      `${where}: ${key.length} bytes of key material (read as ${form}), at least ${MIN_KEY_BYTES} needed; ` +
        'make one with: openssl rand -hex 32',
    );
  }
  return key;
}

/**
 * Reads a shared key from a file: hex, base64 or a passphrase (see {@link parseKey}).
 * Every agent and server of a cluster uses the same key. Throws {@link KeyFileError}
 * naming the file when it cannot be read or is too short.
 */
export function readKeyFile(path: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new KeyFileError(`key file ${path}: cannot read it (${code})`, { cause: error });
  }
  return parseKey(content, `key file ${path}`);
}
