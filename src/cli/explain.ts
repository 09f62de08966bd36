import { parseArgs } from 'node:util';
import { loadAll } from '../app.js';
import { ExplainError, explainQuery } from '../answer/explain.js';
import { readConfig } from '../config/load.js';
import { formatExplanation } from '../steering/explain.js';
import { UsageError } from './args.js';

/** `steerdns explain`: what the server would answer for a steered name, and why. */
export async function runExplain(args: readonly string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      type: { type: 'string', default: 'A' },
      client: { type: 'string', default: '127.0.0.1' },
      ecs: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  const [name] = positionals;
  if (values.config === undefined || name === undefined || positionals.length !== 1) {
    throw new UsageError('explain needs --config FILE and one NAME');
  }
  const configFile = values.config;
  const { loaded, services } = await loadAll(() => readConfig(configFile));
  const deps = {
    names: services.byKey,
    state: () => services.staticState,
    random: Math.random,
    now: Date.now,
  };
  try {
    const request = {
      name,
      type: values.type,
      client: values.client,
      ...(values.ecs === undefined ? {} : { ecs: values.ecs }),
    };
    const explanation = explainQuery(deps, loaded.zones, request);
    return values.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation);
  } catch (error) {
    if (error instanceof ExplainError) throw new UsageError(error.message);
    throw error;
  }
}
