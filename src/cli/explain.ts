import { parseArgs } from 'node:util';
import { loadAll } from '../app.js';
import {
  ExplainError,
  explainOrError,
  type ExplainRequest,
  type QueryExplanation,
} from '../answer/explain.js';
import { readConfig } from '../config/load.js';
import { ConfigError, formatProblem } from '../lib/errors.js';
import { UsageError, USAGE } from './args.js';
import { explainOutput, formatQueryExplanation, type ExplainedState } from './explain-format.js';
import { askServer, OperatorError, type OperatorTls } from './operator-client.js';
import { ExitCode, failed, printed, type CommandOutcome } from './outcome.js';

/** Explains on the configuration alone: no checks run, no agents. */
async function explainOnConfiguration(
  file: string,
  request: ExplainRequest,
): Promise<QueryExplanation | ExplainError> {
  const { loaded, services } = await loadAll(() => readConfig(file));
  const deps = {
    names: services.byKey,
    state: () => services.staticState,
    random: Math.random,
    now: Date.now,
  };
  return explainOrError(deps, loaded.zones, request);
}

/** Asks a running server's operator interface, `GET /explain`. */
async function explainOnServer(
  server: string,
  request: ExplainRequest,
  secure: OperatorTls,
): Promise<QueryExplanation | ExplainError> {
  const query = new URLSearchParams(Object.entries(request) as [string, string][]);
  const reply = await askServer(server, `/explain?${query.toString()}`, 5000, secure);
  const body = reply.body as
    { explanation?: QueryExplanation; error?: { code?: string; message?: string } } | undefined;
  if (reply.status === 200 && body?.explanation) return body.explanation;
  if (reply.status === 400 && typeof body?.error?.message === 'string')
    return new ExplainError(body.error.message);
  const why =
    reply.status === 404 ? ' (a server without GET /explain?)' : (body?.error?.message ?? '');
  throw new OperatorError(`${reply.url} answered ${reply.status}${why ? ` ${why}` : ''}`.trim());
}

function parse(args: readonly string[]): {
  source: ExplainedState;
  request: ExplainRequest;
  json: boolean;
  secure: OperatorTls;
} {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      server: { type: 'string', short: 's' },
      type: { type: 'string', default: 'A' },
      client: { type: 'string', default: '127.0.0.1' },
      ecs: { type: 'string' },
      json: { type: 'boolean', default: false },
      tls: { type: 'boolean', default: false },
      ca: { type: 'string' },
    },
    allowPositionals: true,
  });
  const [name] = positionals;
  if (name === undefined || positionals.length !== 1)
    throw new UsageError('explain needs one NAME');
  if ((values.config === undefined) === (values.server === undefined))
    throw new UsageError('explain needs either --config FILE or --server ADDR:PORT');
  const source: ExplainedState =
    values.server === undefined
      ? { state: 'configuration', file: values.config! }
      : { state: 'live', server: values.server };
  const request: ExplainRequest = {
    name,
    type: values.type,
    client: values.client,
    ...(values.ecs === undefined ? {} : { ecs: values.ecs }),
  };
  return { source, request, json: values.json, secure: { tls: values.tls, ca: values.ca } };
}

/** Explains and formats; throws UsageError, ConfigError, OperatorError or ExplainError. */
async function explainText(args: readonly string[]): Promise<string> {
  const { source, request, json, secure } = parse(args);
  const outcome =
    source.state === 'live'
      ? await explainOnServer(source.server, request, secure)
      : await explainOnConfiguration(source.file, request);
  if (outcome instanceof ExplainError) throw outcome;
  return json
    ? JSON.stringify(explainOutput(outcome, source), null, 2)
    : formatQueryExplanation(outcome, source);
}

const isUsageError = (error: unknown): boolean =>
  error instanceof UsageError ||
  (error as { code?: string } | undefined)?.code?.startsWith('ERR_PARSE_ARGS_') === true;

/**
 * `steerdns explain NAME`: what the server would answer and why. `--config FILE` decides on
 * the configuration alone (no health checks run, no agents, and the output says so);
 * `--server ADDR:PORT` asks a running server's operator interface, on its live state.
 * Exit 0 explained; 1 the configuration is bad or the server cannot be asked; 2 a usage
 * mistake or a question that cannot be explained (a bad name, type, client or ECS).
 */
export async function explainCommand(args: readonly string[]): Promise<CommandOutcome> {
  try {
    return printed(await explainText(args));
  } catch (error) {
    if (isUsageError(error))
      return failed(ExitCode.usage, `steerdns explain: ${(error as Error).message}`, USAGE);
    if (error instanceof ExplainError)
      return failed(ExitCode.usage, `steerdns explain: ${error.message}`);
    if (error instanceof ConfigError)
      return failed(ExitCode.failed, ...error.problems.map(formatProblem));
    if (error instanceof OperatorError)
      return failed(ExitCode.failed, `steerdns explain: ${error.message}`);
    throw error;
  }
}
