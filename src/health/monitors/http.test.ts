import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import type { Target } from '../monitor.js';
import {
  closedPort,
  configure,
  createMonitor,
  selfSignedCertificate,
  startHttpServer,
  startHttpsServer,
} from '../../../test/contract/monitor.contract.js';
import { http, https, requestOptions } from './http.js';

const web = await startHttpServer();
const credentials = selfSignedCertificate();
const secure = typeof credentials === 'string' ? undefined : await startHttpsServer(credentials);
const closed = await closedPort();
after(() => Promise.all([web.close(), secure?.close()]));

const at = (port: number | undefined, address = '127.0.0.1'): Target => ({
  id: 't',
  address,
  port,
});

test('http and https settings: defaults', () => {
  const common = { method: 'GET', path: '/', expect: [200, 204], headers: {} };
  assert.deepEqual(Value.Default(http.config, {}), common, 'http');
  assert.deepEqual(Value.Default(https.config, {}), { ...common, tlsVerify: true }, 'https');
});

test('http and https settings: bad values rejected', () => {
  const cases: { row: string; settings: object; http: boolean; https: boolean }[] = [
    {
      row: 'all set',
      settings: {
        method: 'HEAD',
        path: '/x?y=1',
        port: 8080,
        host: 'www.example.org',
        expect: [200, 301],
        contains: 'ok',
        headers: { 'x-a': 'b' },
      },
      http: true,
      https: true,
    },
    { row: 'tlsVerify only on https', settings: { tlsVerify: false }, http: false, https: true },
    { row: 'lower-case method', settings: { method: 'get' }, http: false, https: false },
    { row: 'relative path', settings: { path: 'health' }, http: false, https: false },
    { row: 'no expected status', settings: { expect: [] }, http: false, https: false },
    { row: 'status 600', settings: { expect: [600] }, http: false, https: false },
    { row: 'status as range text', settings: { expect: ['2xx'] }, http: false, https: false },
    { row: 'empty contains', settings: { contains: '' }, http: false, https: false },
    { row: 'empty host', settings: { host: '' }, http: false, https: false },
    {
      row: 'header name with a space',
      settings: { headers: { 'x a': 'b' } },
      http: false,
      https: false,
    },
    {
      row: 'header value not text',
      settings: { headers: { 'x-a': 1 } },
      http: false,
      https: false,
    },
    { row: 'port 0', settings: { port: 0 }, http: false, https: false },
    { row: 'unknown key', settings: { timeout: 5 }, http: false, https: false },
  ];
  for (const row of cases) {
    for (const definition of [http, https]) {
      const filled = Value.Default(definition.config, structuredClone(row.settings));
      assert.equal(
        Value.Check(definition.config, filled),
        row[definition.type as 'http' | 'https'],
        `${definition.type}: ${row.row}`,
      );
    }
  }
});

test('requestOptions: port, Host header, SNI and verification', () => {
  const cases: {
    row: string;
    type: 'http' | 'https';
    settings: object;
    target: Target;
    want: object | string;
  }[] = [
    {
      row: 'http defaults',
      type: 'http',
      settings: {},
      target: at(undefined, '192.0.2.1'),
      want: {
        host: '192.0.2.1',
        port: 80,
        method: 'GET',
        path: '/',
        headers: { 'user-agent': 'steerdns-monitor' },
        agent: false,
      },
    },
    {
      row: 'https defaults',
      type: 'https',
      settings: {},
      target: at(undefined, '2001:db8::1'),
      want: {
        host: '2001:db8::1',
        port: 443,
        method: 'GET',
        path: '/',
        headers: { 'user-agent': 'steerdns-monitor' },
        agent: false,
        rejectUnauthorized: true,
      },
    },
    { row: 'target port', type: 'http', settings: {}, target: at(8080), want: { port: 8080 } },
    {
      row: 'settings port wins',
      type: 'http',
      settings: { port: 81 },
      target: at(8080),
      want: { port: 81 },
    },
    {
      row: 'host name: Host and SNI',
      type: 'https',
      settings: { host: 'www.example.org' },
      target: at(443),
      want: {
        headers: { 'user-agent': 'steerdns-monitor', host: 'www.example.org' },
        servername: 'www.example.org',
      },
    },
    {
      row: 'host address: Host, no SNI',
      type: 'https',
      settings: { host: '192.0.2.9' },
      target: at(443),
      want: {
        headers: { 'user-agent': 'steerdns-monitor', host: '192.0.2.9' },
        servername: undefined,
      },
    },
    {
      row: 'no SNI over http',
      type: 'http',
      settings: { host: 'www.example.org' },
      target: at(80),
      want: { servername: undefined, rejectUnauthorized: undefined },
    },
    {
      row: 'tlsVerify false',
      type: 'https',
      settings: { tlsVerify: false },
      target: at(443),
      want: { rejectUnauthorized: false },
    },
    {
      row: 'extra headers, user-agent overridden',
      type: 'http',
      settings: { headers: { 'user-agent': 'probe', 'x-a': 'b' } },
      target: at(80),
      want: { headers: { 'user-agent': 'probe', 'x-a': 'b' } },
    },
    {
      row: 'no port',
      type: 'http',
      settings: { port: undefined },
      target: at(0),
      want: 'bad port',
    },
    {
      row: 'not an address',
      type: 'http',
      settings: {},
      target: at(80, 'example.org'),
      want: 'bad address',
    },
  ];
  for (const { row, type, settings, target, want } of cases) {
    const config = type === 'http' ? configure(http, settings) : configure(https, settings);
    const got = requestOptions(type, config, target);
    if (typeof want === 'string') assert.equal(got, want, row);
    else {
      assert.equal(typeof got, 'object', row);
      const picked = Object.fromEntries(
        Object.keys(want).map((k) => [k, (got as Record<string, unknown>)[k]]),
      );
      assert.deepEqual(picked, want, row);
    }
  }
});

test('http: status, content and connection failures against a real server', async () => {
  const cases: { row: string; settings: object; target?: Target; want: string | undefined }[] = [
    { row: '/health 200', settings: { path: '/health' }, want: undefined },
    { row: '/fail 503', settings: { path: '/fail' }, want: 'status 503' },
    { row: '/empty 204 is up by default', settings: { path: '/empty' }, want: undefined },
    {
      row: '/empty 204 not expected',
      settings: { path: '/empty', expect: [200] },
      want: 'status 204',
    },
    { row: '/fail 503 expected', settings: { path: '/fail', expect: [503] }, want: undefined },
    { row: 'unknown route 404', settings: { path: '/nowhere' }, want: 'status 404' },
    { row: 'content found', settings: { path: '/health', contains: 'healthy' }, want: undefined },
    {
      row: 'wrong content',
      settings: { path: '/wrong', contains: 'healthy' },
      want: 'body mismatch',
    },
    {
      row: 'content past 64 KiB',
      settings: { path: '/big', contains: 'healthy' },
      want: 'body mismatch',
    },
    { row: 'content within 64 KiB', settings: { path: '/big', contains: 'xxxx' }, want: undefined },
    {
      row: 'status checked before content',
      settings: { path: '/fail', contains: 'unavailable' },
      want: 'status 503',
    },
    { row: 'connection closed, no answer', settings: { path: '/reset' }, want: 'econnreset' },
    { row: 'nothing listening', settings: {}, target: at(closed), want: 'refused' },
    { row: 'settings port wins', settings: { port: closed }, want: 'refused' },
    {
      row: 'default method and path',
      settings: { path: '/echo', contains: '"method":"GET","url":"/echo"' },
      want: undefined,
    },
    {
      row: 'method',
      settings: { method: 'POST', path: '/echo', contains: '"method":"POST"' },
      want: undefined,
    },
    {
      row: 'query kept',
      settings: { path: '/echo?full=1', contains: '"url":"/echo?full=1"' },
      want: undefined,
    },
    {
      row: 'Host: the address by default',
      settings: { path: '/echo', contains: `"host":"127.0.0.1:${web.port}"` },
      want: undefined,
    },
    {
      row: 'Host setting',
      settings: { path: '/echo', host: 'www.example.org', contains: '"host":"www.example.org"' },
      want: undefined,
    },
    {
      row: 'extra header',
      settings: { path: '/echo', headers: { 'x-check': 'yes' }, contains: '"x-check":"yes"' },
      want: undefined,
    },
    {
      row: 'user agent',
      settings: { path: '/echo', contains: '"user-agent":"steerdns-monitor"' },
      want: undefined,
    },
    {
      row: 'no keep-alive',
      settings: { path: '/echo', contains: '"connection":"close"' },
      want: undefined,
    },
  ];
  for (const { row, settings, target, want } of cases) {
    const result = await createMonitor(http, settings).check(
      target ?? at(web.port),
      new AbortController().signal,
    );
    assert.deepEqual(
      { ok: result.ok, reason: result.reason },
      { ok: want === undefined, reason: want },
      row,
    );
  }
});

test('http download: the whole page is timed; a cut-off page and a reset are counted faults', async () => {
  const check = (settings: object, path: string) =>
    createMonitor(http, { ...settings, path }).check(at(web.port), new AbortController().signal);
  const headOnly = await check({}, '/drip');
  const page = await check({ download: true }, '/drip');
  assert.equal(page.ok, true, page.reason);
  assert.ok(headOnly.latencyMs < 250, `status only: ${headOnly.latencyMs} ms (no body read)`);
  assert.ok(page.latencyMs >= 290, `download: ${page.latencyMs} ms (the page's 300 ms included)`);
  const cut = await check({ download: true }, '/cut');
  assert.deepEqual(
    { ok: cut.ok, reason: cut.reason, fault: cut.fault },
    { ok: false, reason: 'incomplete body', fault: 'abnormal' },
  );
  const reset = await check({ download: true }, '/reset');
  assert.deepEqual(
    { ok: reset.ok, reason: reset.reason, fault: reset.fault },
    { ok: false, reason: 'econnreset', fault: 'reset' },
  );
  const cutHeadOnly = await check({}, '/cut');
  assert.equal(cutHeadOnly.ok, true, 'without download only the status counts');
});

test(
  'https: certificate verification on by default',
  { skip: typeof credentials === 'string' ? credentials : false },
  async () => {
    const cases: { row: string; settings: object; want: string | undefined }[] = [
      {
        row: 'self-signed, verified',
        settings: { path: '/health' },
        want: 'tls: depth_zero_self_signed_cert',
      },
      {
        row: 'self-signed, matching SNI name, verified',
        settings: { path: '/health', host: 'localhost' },
        want: 'tls: depth_zero_self_signed_cert',
      },
      { row: 'verification off', settings: { path: '/health', tlsVerify: false }, want: undefined },
      {
        row: 'verification off, content',
        settings: { path: '/wrong', tlsVerify: false, contains: 'healthy' },
        want: 'body mismatch',
      },
      {
        row: 'verification off, status',
        settings: { path: '/fail', tlsVerify: false },
        want: 'status 503',
      },
      {
        row: 'verification off, SNI name',
        settings: {
          path: '/echo',
          host: 'localhost',
          tlsVerify: false,
          contains: '"host":"localhost"',
        },
        want: undefined,
      },
    ];
    for (const { row, settings, want } of cases) {
      const result = await createMonitor(https, settings).check(
        at(secure!.port),
        new AbortController().signal,
      );
      assert.deepEqual(
        { ok: result.ok, reason: result.reason },
        { ok: want === undefined, reason: want },
        row,
      );
    }
  },
);

test('https: a plain http server fails the handshake, a closed port is refused', async () => {
  const cases: { row: string; port: number; want: RegExp }[] = [
    { row: 'plain http server', port: web.port, want: /^tls: / },
    { row: 'nothing listening', port: closed, want: /^refused$/ },
  ];
  for (const { row, port, want } of cases) {
    const result = await createMonitor(https, { tlsVerify: false }).check(
      at(port),
      new AbortController().signal,
    );
    assert.equal(result.ok, false, row);
    assert.match(result.reason ?? '', want, row);
  }
});
