import { parseListen } from '../config/load.js';
import { hostPort } from '../lib/ip.js';
import { UsageError } from './args.js';

/** A running server's operator interface could not be asked, or did not answer as one. */
export class OperatorError extends Error {
  readonly code = 'STEERDNS_ERR_OPERATOR';
}

/** What the operator interface answered. */
export interface OperatorReply {
  readonly url: string;
  readonly status: number;
  /** The JSON body; undefined when the answer is not JSON. */
  readonly body: unknown;
}

/**
 * Sends `GET path` to the operator interface (`api.listen`) of the server at `server`
 * (`ADDR:PORT` or `[IPv6]:PORT`) and parses its JSON answer, whatever the status.
 * Throws UsageError for a bad address, OperatorError when nothing answers in `timeoutMs`
 * or the answer says it is JSON and is not.
 * @default timeoutMs 5000
 */
export async function askServer(
  server: string,
  path: string,
  timeoutMs = 5000,
): Promise<OperatorReply> {
  const address = parseListen(server);
  if (!address) throw new UsageError(`--server expects ADDR:PORT or [IPv6]:PORT, got "${server}"`);
  const url = `http://${hostPort(address.host, address.port)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new OperatorError(`cannot reach ${url}: ${String((error as Error).cause ?? error)}`);
  }
  const text = await response.text();
  const json = /^application\/json\b/.test(response.headers.get('content-type') ?? '');
  try {
    return { url, status: response.status, body: json ? JSON.parse(text) : undefined };
  } catch {
    throw new OperatorError(`${url} answered ${response.status} with broken JSON`);
  }
}
