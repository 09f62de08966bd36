import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, fuzzServer } from './fuzz.js';

// A short run of the over-the-wire fuzzer (`npm run fuzz` is the long one) against the real
// server. A fixed seed makes a failure reproducible with `npm run fuzz -- --seed 20240601`.

test(
  'the server survives 20,000 mutated packets and keeps answering',
  { timeout: 180_000 },
  async () => {
    const report = await fuzzServer({
      count: 20_000,
      seconds: 120,
      seed: 20240601,
      checkEvery: 5000,
    });
    const text = formatReport(report);
    assert.equal(report.failure, undefined, text);
    assert.ok(report.alive, text);
    assert.ok(report.answering, text);
    assert.ok(report.checks.passed >= 5, text);
    assert.equal(report.sent.udp, 20_000, text);
  },
);
