/**
 * A strict parser of the Prometheus text exposition (format 0.0.4), for tests: every line is
 * a `# HELP`, a `# TYPE` or a sample of the family declared last, names and labels are
 * checked against the format's grammar, and a family is declared once. Throws on anything
 * else, naming the line.
 */

/** One sample line: the series name, its labels, its value. */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its type, help and samples. */
export interface ParsedFamily {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** The series names a family of each type may have. */
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** Parses `{a="x",b="y"}` (the braces excluded) into labels; escapes \\ \" \n. */
function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0 || text[eq + 1] !== '"') throw new Error(`bad labels: ${line}`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name) || name in labels) throw new Error(`bad label name "${name}": ${line}`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`bad escape in label ${name}: ${line}`);
      } else value += text.charAt(j);
    }
    if (j >= text.length) throw new Error(`unterminated label ${name}: ${line}`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ',') throw new Error(`bad label separator: ${line}`);
      i++;
    }
  }
  return labels;
}

/** A sample value: a float as Go's ParseFloat reads it (Prometheus does; prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf$/i.test(text)) return Infinity;
  if (/^-inf$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value: ${line}`);
  return Number(text);
}

/** Parses an exposition; see the module comment. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  let help: { name: string; text: string } | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad metric name: ${line}`);
      if (kind === 'HELP') {
        help = { name, text: rest };
        continue;
      }
      if (!TYPES.has(rest)) throw new Error(`bad type: ${line}`);
      if (families.has(name)) throw new Error(`family declared twice: ${line}`);
      current = { name, type: rest, help: help?.name === name ? help.text : '', samples: [] };
      families.set(name, current);
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment: ${line}`);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!sample) throw new Error(`bad sample line: ${line}`);
    const [, name = '', labels = '', value = ''] = sample;
    if (!current) throw new Error(`sample before any TYPE: ${line}`);
    const suffixes = SUFFIXES[current.type] ?? [''];
    if (!suffixes.some((suffix) => name === current!.name + suffix))
      throw new Error(`sample ${name} outside its family ${current.name}: ${line}`);
    current.samples.push({
      name,
      labels: parseLabels(labels, line),
      value: parseValue(value, line),
    });
  }
  return families;
}

/** The sum of the samples of `family` (series `name`, default the family's) whose labels include `match`. */
export function sumOf(
  families: Map<string, ParsedFamily>,
  family: string,
  match: Readonly<Record<string, string>> = {},
  name = family,
): number {
  const samples = families.get(family)?.samples ?? [];
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
