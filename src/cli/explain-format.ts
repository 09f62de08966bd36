import type { QueryExplanation } from '../answer/explain.js';
import { formatExplanation } from '../steering/explain.js';

/** Which state an explanation was decided on. */
export type ExplainedState =
  | { readonly state: 'configuration'; readonly file: string }
  | { readonly state: 'live'; readonly server: string };

/** What `steerdns explain --json` prints: the explanation and the state it was decided on. */
export type ExplainOutput = QueryExplanation & {
  readonly state: ExplainedState['state'];
  /** Says, for people, what the state includes. */
  readonly stateNote: string;
  readonly server?: string;
  readonly file?: string;
};

/** What the state behind an explanation includes, in words. */
export function stateNote(source: ExplainedState): string {
  return source.state === 'configuration'
    ? `configuration state only (${source.file}): no health checks run, no agents, no ` +
        'overrides; explain --server ADDR:PORT asks a running server'
    : `live state of the server at ${source.server}: health, agent members and overrides`;
}

/** The explanation with the state it was decided on, for `--json`. */
export function explainOutput(e: QueryExplanation, source: ExplainedState): ExplainOutput {
  return { ...e, ...source, stateNote: stateNote(source) };
}

/**
 * Formats an explanation for people: the question, the state it was decided on, why the
 * answer came from where it did, each policy step, the answer.
 */
export function formatQueryExplanation(e: QueryExplanation, source: ExplainedState): string {
  const [question, ...rest] = formatExplanation(e).split('\n');
  const notes = e.notes.map((note) => `  ${note}`);
  return [question, `state: ${stateNote(source)}`, ...notes, ...rest].join('\n');
}
