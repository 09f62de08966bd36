import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { hostPort, parseHostPort } from '../lib/ip.js';
import { UsageError } from './args.js';

/** The largest answer read (a member view is a few hundred bytes). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * The REST API of a running server could not be asked (unreachable, unreadable token file,
 * broken answer) or refused (4xx/5xx, with its code).
 */
export class ApiClientError extends Error {
  readonly code = 'STEERDNS_ERR_API_CLIENT';
}

/** Where and how to reach a server's REST API. */
export interface ApiTarget {
  /** `ADDR:PORT` or `[IPv6]:PORT`: the server's `api.listen`. */
  readonly server: string;
  /** The secret sent as `X-API-Key`. */
  readonly token: string | undefined;
  /** HTTPS (`api.tls`); `ca`: a PEM file to trust besides the system's. */
  readonly tls: boolean;
  readonly ca: string | undefined;
  readonly timeoutMs?: number;
}

/**
 * The secret of a token file: its first token, whether the file is the server's
 * `api.tokenFile` (`NAME SECRET` or `SECRET` a line, `#` comments) or holds the secret alone.
 */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ApiClientError(`token file ${file}: cannot read it (${code})`);
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*$/, '').trim().split(/\s+/);
    if (words[0] === '') continue;
    if (words.length > 2)
      throw new ApiClientError(`token file ${file}: expected SECRET or NAME SECRET`);
    return words[words.length - 1]!;
  }
  throw new ApiClientError(`token file ${file}: no token in it`);
}

/** What the API answered. */
export interface ApiAnswer {
  readonly url: string;
  readonly status: number;
  readonly body: unknown;
}

/**
 * Sends one request to the REST API of `target` with a JSON body (or none) and resolves its
 * JSON answer, whatever the status. Throws UsageError for a bad address, ApiClientError when
 * nothing answers in time or the answer is no JSON.
 */
export async function callApi(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const address = parseHostPort(target.server);
  if (address?.port === undefined)
    throw new UsageError(`--server expects ADDR:PORT or [IPv6]:PORT, got "${target.server}"`);
  const url = `${target.tls ? 'https' : 'http'}://${hostPort(address.host, address.port)}${path}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token !== undefined) headers['x-api-key'] = target.token;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  let ca: string | undefined;
  if (target.ca !== undefined) {
    try {
      ca = readFileSync(target.ca, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new ApiClientError(`--ca ${target.ca}: cannot read it (${code})`);
    }
  }
  const timeoutMs = target.timeoutMs ?? 10_000;
  const options = {
    host: address.host,
    port: address.port,
    path,
    method,
    headers,
    agent: false as const,
    ...(ca !== undefined ? { ca } : {}),
  };
  const response = await new Promise<{ status: number; type: string; text: string }>(
    (resolve, reject) => {
      const req = (target.tls ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) req.destroy(new Error(`more than ${MAX_BODY_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'] ?? '',
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    },
  ).catch((error: unknown) => {
    throw new ApiClientError(`cannot reach ${url}: ${(error as Error).message}`);
  });
  if (!response.type.startsWith('application/json'))
    throw new ApiClientError(`${url} answered ${response.status} without JSON`);
  try {
    return { url, status: response.status, body: JSON.parse(response.text) as unknown };
  } catch {
    throw new ApiClientError(`${url} answered ${response.status} with broken JSON`);
  }
}

/** The `code: message` of an error answer, for stderr. */
export function refusal(answer: ApiAnswer): string {
  const error = (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)
    ?.error;
  const code = typeof error?.code === 'string' ? error.code : `HTTP ${answer.status}`;
  const message = typeof error?.message === 'string' ? error.message : '';
  return `${answer.url}: ${answer.status} ${code}${message ? `: ${message}` : ''}`;
}
