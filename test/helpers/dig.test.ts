import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { collapseWhitespace, dig, kdig, parseDigOutput } from './dig.js';
import { startStubServer } from './stub-dns-server.js';

const TOOLS_MISSING =
  !(existsSync('/usr/bin/dig') && existsSync('/usr/bin/kdig')) &&
  'dig or kdig is not installed (npm run test:tools)';

// Captured from dig 9.18 and kdig 3.2 against the stub server.
const DIG_SAMPLE = `
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @127.0.0.1 -p 25353 +norec +subnet=198.51.100.0/24 www.example.org TXT
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 18666
;; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 1, ADDITIONAL: 2

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
; CLIENT-SUBNET: 198.51.100.0/24/24
;; QUESTION SECTION:
;www.example.org.\t\tIN\tTXT

;; ANSWER SECTION:
www.example.org.\t300\tIN\tTXT\t"hello  world" "second"

;; AUTHORITY SECTION:
example.org.\t\t300\tIN\tNS\tns1.example.org.

;; ADDITIONAL SECTION:
ns1.example.org.\t300\tIN\tA\t192.0.2.53

;; Query time: 0 msec
;; SERVER: 127.0.0.1#25353(127.0.0.1) (UDP)
;; WHEN: Mon Nov 23 02:28:09 UTC 2026
;; MSG SIZE  rcvd: 101
`;

const KDIG_SAMPLE = `;; ->>HEADER<<- opcode: QUERY; status: BADVERS; id: 9609
;; Flags: qr aa; QUERY: 1; ANSWER: 0; AUTHORITY: 0; ADDITIONAL: 1

;; EDNS PSEUDOSECTION:
;; Version: 0; flags: ; UDP size: 1232 B; ext-rcode: BADVERS

;; QUESTION SECTION:
;; www.example.org.    \t\tIN\tTXT

;; Received 44 B
;; Time 2026-11-23 02:28:09 UTC
;; From 127.0.0.1@25353(UDP) in 0.9 ms
`;

test('parseDigOutput reads dig sections', () => {
  const r = parseDigOutput(DIG_SAMPLE);
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.flags, ['qr', 'aa']);
  assert.deepEqual(r.question, ['www.example.org. IN TXT']);
  assert.deepEqual(r.answer, ['www.example.org. 300 IN TXT "hello  world" "second"']);
  assert.deepEqual(r.authority, ['example.org. 300 IN NS ns1.example.org.']);
  assert.deepEqual(r.additional, ['ns1.example.org. 300 IN A 192.0.2.53']);
  assert.deepEqual(r.edns, [
    'EDNS: version: 0, flags:; udp: 1232',
    'CLIENT-SUBNET: 198.51.100.0/24/24',
  ]);
});

test('parseDigOutput reads kdig sections', () => {
  const r = parseDigOutput(KDIG_SAMPLE);
  assert.equal(r.status, 'BADVERS');
  assert.deepEqual(r.flags, ['qr', 'aa']);
  assert.deepEqual(r.question, ['www.example.org. IN TXT']);
  assert.deepEqual([r.answer, r.authority, r.additional], [[], [], []]);
  assert.deepEqual(r.edns, ['Version: 0; flags: ; UDP size: 1232 B; ext-rcode: BADVERS']);
});

test('parseDigOutput keeps the last message and tolerates no reply', () => {
  const twice = parseDigOutput(KDIG_SAMPLE + DIG_SAMPLE);
  assert.equal(twice.status, 'NOERROR');
  assert.equal(twice.answer.length, 1);
  const none = parseDigOutput(';; communications error to 127.0.0.1#9: timed out\n', '', 9);
  assert.deepEqual([none.status, none.flags, none.answer, none.exitCode], ['', [], [], 9]);
});

test('collapseWhitespace leaves quoted text alone', () => {
  const cases = [
    ['a\t\tb   c', 'a b c'],
    ['x "a  \\" b"\t y', 'x "a  \\" b" y'],
    ['  lead', 'lead'],
  ];
  for (const [input, want] of cases) assert.equal(collapseWhitespace(input!), want, input);
});

test('dig and kdig run against a live server', { skip: TOOLS_MISSING }, async () => {
  const stub = await startStubServer();
  try {
    const args = ['@127.0.0.1', '-p', String(stub.port), '+norec', 'www.example.org', 'A'];
    for (const [name, run] of [
      ['dig', dig],
      ['kdig', kdig],
    ] as const) {
      const r = await run(args);
      assert.equal(r.exitCode, 0, `${name}: ${r.stderr}`);
      assert.equal(r.status, 'NOERROR', name);
      assert.ok(r.flags.includes('aa'), name);
      assert.deepEqual(r.answer, ['www.example.org. 300 IN A 192.0.2.1'], name);
    }
    const badvers = await kdig([...args, '+edns=1']);
    assert.equal(badvers.status, 'BADVERS');
  } finally {
    await stub.close();
  }
});
