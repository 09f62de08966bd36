import { isAlias, isNode, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { Problem } from '../lib/errors.js';

/** A parsed YAML file that can say on which line a value sits. */
export interface YamlSource {
  readonly file: string;
  readonly value: unknown;
  /** Line (1-based) of the value at `path`, or of its nearest ancestor that exists. */
  lineOf(path: readonly (string | number)[]): number;
}

/** Most aliases a file may expand (yaml's default, 100): a few anchors can otherwise expand to gigabytes. */
const MAX_ALIAS_COUNT = 100;

/** The line of the first alias (`*name`): where an expansion that was refused starts. */
function aliasLine(doc: Document, lineCounter: LineCounter): number {
  let line = 1;
  visit(doc, {
    Alias(_key, node) {
      if (isAlias(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
      return visit.BREAK;
    },
  });
  return line;
}

/** Parses YAML text; syntax errors come back as problems with their lines. */
export function parseYaml(
  text: string,
  file: string,
): { source?: YamlSource; problems: Problem[] } {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((error) => ({
    file,
    line: lineCounter.linePos(error.pos[0]).line,
    reason: error.message.split('\n')[0]!,
  }));
  if (problems.length > 0) return { problems };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml refuses an alias bomb here ("Excessive alias count"), without a position.
    return {
      problems: [{ file, line: aliasLine(doc, lineCounter), reason: (error as Error).message }],
    };
  }
  const lineOf = (path: readonly (string | number)[]): number => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  return { source: { file, value, lineOf }, problems };
}

/** Says where a value of the file is: the path from the document root to its line. */
export type Where = (path: readonly (string | number)[]) => { file: string; line: number };
