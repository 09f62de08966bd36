/**
 * How a duration is written: which units there are and what else is allowed. The
 * configuration's durations (milliseconds, `500ms`, `1.5s`) and master-file TTLs (seconds,
 * BIND units `1h30m`, `2D`, `1W`) are two of these.
 */
export interface DurationSyntax {
  /** Each unit and its size in the result's unit: `{ s: 1000 }` for a result in ms. */
  readonly units: Readonly<Record<string, number>>;
  /** Units may be written in upper case (`1H30M`); `units` then lists them in lower case. */
  readonly ignoreCase?: boolean;
  /** A number before a unit may have a fraction (`1.5h`); the result is rounded. */
  readonly fractions?: boolean;
  /** Largest result, and largest number within it; above it the text is no duration. @default Infinity */
  readonly max?: number;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isLetter = (c: number): boolean => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

/**
 * Parses a duration in `syntax`: a bare whole number (in the result's unit), or numbers each
 * followed by a unit, added up (`1h30m`; a unit may come again: `1h1h`). No sign, spaces or
 * exponent. Returns undefined when the text is not a duration.
 * @example parseDurationText('1h30m', { units: { m: 60, h: 3600 } }) // 5400
 */
export function parseDurationText(text: string, syntax: DurationSyntax): number | undefined {
  const max = syntax.max ?? Infinity;
  const end = text.length;
  if (end === 0) return undefined;
  let total = 0;
  let i = 0;
  while (i < end) {
    const start = i;
    let value = 0;
    // Digit by digit (no allocation: master files call this once per record)...
    for (; i < end && isDigit(text.charCodeAt(i)); i++) {
      value = value * 10 + text.charCodeAt(i) - 0x30;
      if (value > max) return undefined;
    }
    if (i === start) return undefined;
    let fraction = false;
    if (syntax.fractions === true) {
      if (text.charCodeAt(i) === 0x2e) {
        const dot = ++i;
        while (i < end && isDigit(text.charCodeAt(i))) i++;
        if (i === dot) return undefined;
        fraction = true;
      }
      // ...or, where fractions are allowed, as JavaScript reads the number.
      value = Number(text.slice(start, i));
    }
    const unitStart = i;
    while (i < end && isLetter(text.charCodeAt(i))) i++;
    if (i === unitStart) {
      // No unit: a whole number standing alone.
      return start === 0 && i === end && !fraction && value <= max ? value : undefined;
    }
    const unit = unitSize(text, unitStart, i, syntax);
    if (unit === undefined) return undefined;
    total += value * unit;
    if (total > max) return undefined;
  }
  return syntax.fractions === true ? Math.round(total) : total;
}

function unitSize(
  text: string,
  start: number,
  end: number,
  syntax: DurationSyntax,
): number | undefined {
  const written = end - start === 1 ? text.charAt(start) : text.slice(start, end);
  const name = syntax.ignoreCase === true ? written.toLowerCase() : written;
  return Object.hasOwn(syntax.units, name) ? syntax.units[name] : undefined;
}

/**
 * Longest configuration duration, 2^31-1 ms (about 24.8 days): a Node timer set longer fires
 * at once, with a warning.
 */
export const MAX_DURATION_MS = 0x7fffffff;

/**
 * Durations in the configuration: milliseconds, units `ms s m h d`, fractions allowed. The
 * grammar of {@link DURATION_PATTERN}; the range is {@link checkDuration}'s.
 */
export const CONFIG_DURATION: DurationSyntax = {
  units: { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 },
  fractions: true,
};

/**
 * The texts {@link CONFIG_DURATION} reads, as a JSON Schema pattern (the schema's `Duration`):
 * a whole number of milliseconds alone, or numbers (with a fraction or not) each followed by
 * a unit. The same texts as the parser, no more: a test runs both over the same lists.
 */
export const DURATION_PATTERN = '^(?:\\d+|(?:\\d+(?:\\.\\d+)?(?:ms|s|m|h|d))+)$';

/**
 * Parses a configuration duration: a whole number of milliseconds, or text such as `500ms`,
 * `10s`, `1m30s`, `1.5h`, `2h` (no spaces), from 0 to {@link MAX_DURATION_MS}. Returns
 * undefined when the value is not such a duration.
 */
export function parseDuration(value: string | number): number | undefined {
  const ms =
    typeof value === 'number'
      ? Number.isInteger(value)
        ? value
        : undefined
      : parseDurationText(value, CONFIG_DURATION);
  return ms !== undefined && ms >= 0 && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** A duration read from the configuration, or why it is not one. */
export type DurationCheck = { readonly ms: number } | { readonly problem: string };

const shown = (value: string | number): string =>
  typeof value === 'number' ? String(value) : JSON.stringify(value);

/**
 * Reads a configuration duration that must be at least `min` ms: `{ ms }`, or a `problem`
 * saying what is wrong (not a duration, too short, too long), for a `file:line: reason`.
 * @example checkDuration('0', { min: 100 }) // { problem: 'expected at least 100ms, got 0' }
 */
export function checkDuration(value: string | number, limits: { min: number }): DurationCheck {
  const ms = parseDuration(value);
  if (ms === undefined) {
    const read =
      typeof value === 'number' ? value : (parseDurationText(value, CONFIG_DURATION) ?? NaN);
    if (read > MAX_DURATION_MS)
      return {
        problem: `expected at most ${MAX_DURATION_MS}ms (about 24.8 days, the longest timer), got ${shown(value)}`,
      };
    return {
      problem: `expected a duration (whole milliseconds, or text such as 500ms, 10s, 1m30s, 1.5h), got ${shown(value)}`,
    };
  }
  if (ms < limits.min) return { problem: `expected at least ${limits.min}ms, got ${shown(value)}` };
  return { ms };
}
