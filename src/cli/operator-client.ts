import { readFileSync } from 'node:fs';
import { httpGet, HttpGetError, type HttpGetResponse } from '../lib/http-get.js';
import { hostPort, parseHostPort } from '../lib/ip.js';
import { UsageError } from './args.js';

/** The largest answer read: a status table of some 10,000 members. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A running server's operator interface could not be asked, or did not answer as one. */
export class OperatorError extends Error {
  readonly code = 'STEERDNS_ERR_OPERATOR';
}

/** How to reach an interface that speaks HTTPS (`api.tls`): `--tls`, `--ca FILE`. */
export interface OperatorTls {
  readonly tls?: boolean | undefined;
  /** A PEM certificate to trust besides the system's; implies tls. */
  readonly ca?: string | undefined;
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
  secure: OperatorTls = {},
): Promise<OperatorReply> {
  const address = parseHostPort(server);
  if (address?.port === undefined)
    throw new UsageError(`--server expects ADDR:PORT or [IPv6]:PORT, got "${server}"`);
  const tls = secure.tls === true || secure.ca !== undefined;
  const url = `${tls ? 'https' : 'http'}://${hostPort(address.host, address.port)}${path}`;
  let ca: string | undefined;
  if (secure.ca !== undefined) {
    try {
      ca = readFileSync(secure.ca, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new OperatorError(`--ca ${secure.ca}: cannot read it (${code})`);
    }
  }
  let response: HttpGetResponse;
  try {
    response = await httpGet(
      {
        host: address.host,
        port: address.port,
        path,
        headers: { accept: 'application/json' },
        ...(ca !== undefined ? { ca } : {}),
      },
      { tls, maxBodyBytes: MAX_BODY_BYTES, timeoutMs },
    );
  } catch (error) {
    const why =
      error instanceof HttpGetError && error.kind === 'timeout'
        ? `no answer in ${timeoutMs} ms`
        : String(error);
    throw new OperatorError(`cannot reach ${url}: ${why}`);
  }
  if (response.body.length >= MAX_BODY_BYTES)
    throw new OperatorError(`${url} answered more than ${MAX_BODY_BYTES} bytes`);
  const json = /^application\/json\b/.test(response.headers['content-type'] ?? '');
  try {
    const body: unknown = json ? JSON.parse(response.body.toString('utf8')) : undefined;
    return { url, status: response.status, body };
  } catch {
    throw new OperatorError(`${url} answered ${response.status} with broken JSON`);
  }
}
