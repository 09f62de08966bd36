import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkDuration,
  MAX_DURATION_MS,
  parseDuration,
  parseDurationText,
  type DurationSyntax,
} from './duration.js';

test('parseDuration: configuration durations in milliseconds', () => {
  const cases: [string | number, number | undefined][] = [
    [0, 0],
    [1500, 1500],
    [0.5, undefined],
    [2147483647, 2147483647],
    [2147483648, undefined],
    [-1, undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    ['0', 0],
    ['250', 250],
    ['99999999999999999999', undefined],
    ['2147483647', 2147483647],
    ['2147483648', undefined],
    ['24d20h31m23s647ms', 2147483647],
    ['24d20h31m23s648ms', undefined],
    ['30d', undefined],
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['0.1s0.2s', 300],
    ['1.9999ms', 2],
    ['1ms500ms', 501],
    [' 10s ', undefined],
    ['10s5', undefined],
    ['1.5.5s', undefined],
    ['', undefined],
    ['   ', undefined],
    ['1.5', undefined],
    ['.5s', undefined],
    ['1.s', undefined],
    ['10S', undefined],
    ['1w', undefined],
    ['1m30', undefined],
    ['1 m', undefined],
    ['-1s', undefined],
    ['+1s', undefined],
    ['1e3', undefined],
    ['1sm', undefined],
    ['1constructor', undefined],
    ['s', undefined],
  ];
  for (const [value, want] of cases)
    assert.equal(parseDuration(value), want, `parseDuration(${JSON.stringify(value)})`);
});

const BIND: DurationSyntax = {
  units: { s: 1, m: 60, h: 3600, d: 86400, w: 604800 },
  ignoreCase: true,
  max: 0x7fffffff,
};

test('parseDurationText: BIND TTL syntax, case-insensitive, bounded, whole numbers', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['2147483647', 2147483647],
    ['2147483648', undefined],
    ['00000000001', 1],
    ['1W2d3H4m5S', 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5],
    ['3550w', 3550 * 604800],
    ['3551w', undefined],
    ['1.5h', undefined],
    ['1h30', undefined],
    ['1hm', undefined],
    ['1ms', undefined],
    ['1h-', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases)
    assert.equal(parseDurationText(text, BIND), want, `BIND ${JSON.stringify(text)}`);
});

const pieces = (units: readonly string[], fractions: boolean) =>
  fc.array(
    fc.record({
      whole: fc.nat({ max: 10_000 }),
      fraction: fractions
        ? fc.option(fc.nat({ max: 999 }), { nil: undefined })
        : fc.constant(undefined),
      unit: fc.constantFrom(...units),
    }),
    { minLength: 1, maxLength: 5 },
  );

const written = (p: { whole: number; fraction: number | undefined; unit: string }): string =>
  `${p.whole}${p.fraction === undefined ? '' : `.${p.fraction}`}${p.unit}`;

test('parseDurationText: a run of number-unit pieces is the sum of the pieces', () => {
  const ms: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  fc.assert(
    fc.property(pieces(Object.keys(ms), true), (run) => {
      const want = Math.round(
        run.reduce((sum, p) => sum + Number(written(p).replace(/[a-z]+$/, '')) * ms[p.unit]!, 0),
      );
      assert.equal(
        parseDuration(run.map(written).join('')),
        want <= MAX_DURATION_MS ? want : undefined,
      );
    }),
  );
  fc.assert(
    fc.property(pieces(['s', 'M', 'h', 'D', 'w', 'W'], false), (run) => {
      const sum = run.reduce((total, p) => total + p.whole * BIND.units[p.unit.toLowerCase()]!, 0);
      const want = sum <= BIND.max! ? sum : undefined;
      assert.equal(parseDurationText(run.map(written).join(''), BIND), want);
    }),
  );
});

test('checkDuration: the value, or why it is none (not a duration, too short, too long)', () => {
  const rows: [string | number, number, number | RegExp][] = [
    ['10s', 100, 10_000],
    [100, 100, 100],
    ['100ms', 100, 100],
    [0, 100, /^expected at least 100ms, got 0$/],
    ['0s', 1, /^expected at least 1ms, got "0s"$/],
    ['0.4ms', 1, /at least 1ms/],
    [0, 0, 0],
    ['1.5', 0, /^expected a duration \(whole milliseconds.*got "1\.5"$/],
    ['10s5', 0, /expected a duration .*got "10s5"/],
    [1.5, 0, /expected a duration .*got 1\.5$/],
    ['30d', 0, /^expected at most 2147483647ms .*got "30d"$/],
    [2 ** 31, 0, /expected at most 2147483647ms/],
  ];
  for (const [value, min, want] of rows) {
    const checked = checkDuration(value, { min });
    const label = `checkDuration(${JSON.stringify(value)}, { min: ${min} })`;
    if (typeof want === 'number') assert.deepEqual(checked, { ms: want }, label);
    else assert.match('problem' in checked ? checked.problem : `ms ${checked.ms}`, want, label);
  }
});
