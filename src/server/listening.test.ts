import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { listeningReporter, sameDns, type Listening } from './listening.js';

function capture(level = 'info'): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level, base: {}, timestamp: false }, stream), lines };
}

const at = (port: number, api?: string): Listening => ({
  dns: {
    udp: [`127.0.0.1:${port}`, `[::1]:${port + 1}`],
    tcp: [`127.0.0.1:${port}`, `[::1]:${port + 1}`],
  },
  api,
  agents: ['127.0.0.1:5380'],
});

test('one listening line, again only when a listener moved', async () => {
  const { log, lines } = capture();
  const report = listeningReporter(log);
  report(at(5300));
  report(at(5300));
  report(at(5300, '127.0.0.1:8080'));
  report(at(5300, '127.0.0.1:8080'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines, [
    { level: 30, msg: 'listening', dns: at(5300).dns, agents: ['127.0.0.1:5380'] },
    {
      level: 30,
      msg: 'listening',
      dns: at(5300).dns,
      api: '127.0.0.1:8080',
      agents: ['127.0.0.1:5380'],
    },
  ]);
});

test('sameDns compares both lists in order', () => {
  assert.ok(sameDns(at(5300).dns, at(5300).dns));
  assert.ok(!sameDns(at(5300).dns, at(5302).dns));
  assert.ok(!sameDns(at(5300).dns, { udp: at(5300).dns.udp, tcp: [] }));
});

test('the listening line is written at log level warn too, and nothing else at info', async () => {
  const { log, lines } = capture('warn');
  log.info('hidden');
  listeningReporter(log)(at(5300));
  log.info('hidden too');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines, [
    { level: 30, msg: 'listening', dns: at(5300).dns, agents: ['127.0.0.1:5380'] },
  ]);
});
