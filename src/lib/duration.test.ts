import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseDuration, parseDurationText, type DurationSyntax } from './duration.js';

test('parseDuration: configuration durations in milliseconds', () => {
  const cases: [string | number, number | undefined][] = [
    [0, 0],
    [1500, 1500],
    [0.5, 0.5],
    [-1, undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    ['0', 0],
    ['250', 250],
    ['99999999999999999999', 1e20],
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1.5s', 1500],
    ['0.1s0.2s', 300],
    ['1.9999ms', 2],
    ['1ms500ms', 501],
    [' 10s ', 10_000],
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
      assert.equal(parseDuration(run.map(written).join('')), want);
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
