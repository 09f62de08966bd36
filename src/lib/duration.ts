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

/** Durations in the configuration: milliseconds, units `ms s m h d`, fractions allowed. */
const CONFIG_DURATION: DurationSyntax = {
  units: { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 },
  fractions: true,
};

/**
 * Parses a duration: a number of milliseconds, or text such as `500ms`, `10s`, `1m30s`,
 * `1.5h`, `2h` (spaces around it are ignored). Returns undefined when the value is not a
 * duration.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  return parseDurationText(value.trim(), CONFIG_DURATION);
}
