import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentUsageError, parseAgentArgs, type AgentArgsDeps } from './cli.js';
import { KeyFileError } from './key-file.js';

const KEY = Buffer.alloc(32, 7);
const deps: AgentArgsDeps = {
  hostname: () => 'web-1.dc1.example.net',
  readKey: (path) => {
    if (path === 'key') return KEY;
    throw new KeyFileError(`key file ${path}: cannot read it (ENOENT)`);
  },
};
const base = ['--to', '192.0.2.53:5300', '--key-file', 'key', '--service', 'app.example.org'];
const minimal = [...base, '--address', '192.0.2.10'];

test('agent command line: a minimal one gets the defaults', () => {
  assert.deepEqual(parseAgentArgs(minimal, deps), {
    to: [{ host: '192.0.2.53', port: 5300 }],
    key: KEY,
    service: 'app.example.org',
    node: 'web-1.dc1.example.net',
    addresses: ['192.0.2.10'],
    intervalMs: 1000,
    drain: false,
  });
});

test('agent command line: every option', () => {
  const args = [
    '--to',
    '192.0.2.53:5300,[2001:DB8::53]:5300',
    '--to',
    '198.51.100.53:5300',
    '--key-file',
    'key',
    '--service',
    'App.Example.ORG.',
    '--address',
    '192.0.2.10',
    '--address',
    '2001:DB8:0::10',
    '--node',
    'web-1',
    '--interval',
    '500ms',
    '--load-command',
    'cat /run/load',
    '--port',
    '8080',
    '--port',
    '8443',
    '--port',
    '8080',
    '--capacity',
    '2000',
    '--drain',
  ];
  assert.deepEqual(parseAgentArgs(args, deps), {
    to: [
      { host: '192.0.2.53', port: 5300 },
      { host: '2001:db8::53', port: 5300 },
      { host: '198.51.100.53', port: 5300 },
    ],
    key: KEY,
    service: 'app.example.org',
    node: 'web-1',
    addresses: ['192.0.2.10', '2001:db8::10'],
    intervalMs: 500,
    drain: true,
    loadCommand: 'cat /run/load',
    ports: [8080, 8443],
    capacity: 2000,
  });
  const withCommand = parseAgentArgs([...minimal, '--connections-command', 'ss -Ht | wc -l'], deps);
  assert.equal(withCommand.connectionsCommand, 'ss -Ht | wc -l');
  assert.equal(parseAgentArgs([...minimal, '--interval', '1m'], deps).intervalMs, 60_000);
});

test('agent command line: a load URL', () => {
  const options = parseAgentArgs([...minimal, '--load-url', 'http://127.0.0.1:8080/load'], deps);
  assert.equal(options.loadUrl, 'http://127.0.0.1:8080/load');
  assert.equal(options.loadCommand, undefined);
  const https = parseAgentArgs([...minimal, '--load-url', 'https://[::1]:8443/stats?f=load'], deps);
  assert.equal(https.loadUrl, 'https://[::1]:8443/stats?f=load');
});

test('agent command line: multicast groups, their interface and TTL', () => {
  const ipv4 = parseAgentArgs(
    [
      '--to',
      '239.255.53.1:5380,192.0.2.53:5300',
      '--multicast-interface',
      '10.0.0.7',
      '--multicast-ttl',
      '4',
      ...minimal.slice(2),
    ],
    deps,
  );
  assert.deepEqual(ipv4.to, [
    { host: '239.255.53.1', port: 5380 },
    { host: '192.0.2.53', port: 5300 },
  ]);
  assert.equal(ipv4.multicastInterface, '10.0.0.7');
  assert.equal(ipv4.multicastTtl, 4);
  const ipv6 = parseAgentArgs(
    ['--to', '[FF02:0::5380%veth-a]:5380,[ff15::5380]:5380', ...minimal.slice(2)],
    deps,
  );
  assert.deepEqual(ipv6.to, [
    { host: 'ff02::5380%veth-a', port: 5380 },
    { host: 'ff15::5380', port: 5380 },
  ]);
  assert.equal(ipv6.multicastInterface, undefined, 'the kernel chooses');
  assert.equal(ipv6.multicastTtl, undefined, 'the agent uses 1');
  const ttl0 = parseAgentArgs(
    ['--to', '224.0.0.251:5380', '--multicast-ttl', '0', ...minimal.slice(2)],
    deps,
  );
  assert.equal(ttl0.multicastTtl, 0);
});

test('agent command line: each mistake is named', () => {
  const cases: { args: string[]; message: RegExp; hostname?: string }[] = [
    { args: [], message: /--to is required/ },
    { args: minimal.slice(2), message: /--to is required/ },
    {
      args: ['--to', 'dns1:5300', ...minimal.slice(2)],
      message: /--to expects ADDR:PORT .*"dns1:5300"/,
    },
    { args: ['--to', '192.0.2.53', ...minimal.slice(2)], message: /--to expects .*"192.0.2.53"/ },
    { args: ['--to', '192.0.2.53:0', ...minimal.slice(2)], message: /--to expects/ },
    { args: ['--to', '192.0.2.53:65536', ...minimal.slice(2)], message: /--to expects/ },
    { args: ['--to', '2001:db8::53:5300', ...minimal.slice(2)], message: /--to expects/ },
    { args: ['--to', '192.0.2.53:5300,', ...minimal.slice(2)], message: /--to expects .*""/ },
    { args: ['--to', '192.0.2.53:53,192.0.2.53:53', ...minimal.slice(2)], message: /twice/ },
    { args: [...minimal.slice(0, 2), ...minimal.slice(4)], message: /--key-file is required/ },
    {
      args: [
        '--to',
        '192.0.2.53:53',
        '--key-file',
        'nope',
        '--service',
        'a.org',
        '--address',
        '192.0.2.1',
      ],
      message: /key file nope: cannot read it/,
    },
    { args: [...minimal.slice(0, 4), '--address', '192.0.2.1'], message: /--service is required/ },
    {
      args: [...base.slice(0, 4), '--service', 'app..org', '--address', '192.0.2.1'],
      message: /--service expects a DNS name, got "app..org"/,
    },
    {
      args: [...base.slice(0, 4), '--service', 'app example.org', '--address', '192.0.2.1'],
      message: /--service expects/,
    },
    { args: base, message: /--address is required/ },
    {
      args: [...base, '--address', '192.0.2.300'],
      message: /--address expects an IP address, got "192.0.2.300"/,
    },
    { args: [...base, '--address', 'web-1.example.org'], message: /--address expects/ },
    { args: [...base, '--address', 'fe80::1%eth0'], message: /--address expects/ },
    { args: [...base, '--address', '192.0.2.1/24'], message: /--address expects/ },
    { args: [...base, '--address', '2001:db8::1', '--address', '2001:DB8:0::1'], message: /twice/ },
    {
      args: [
        ...base,
        ...Array.from({ length: 33 }, (_, i) => ['--address', `192.0.2.${i}`]).flat(),
      ],
      message: /at most 32/,
    },
    { args: [...minimal, '--node', 'web 1'], message: /--node expects .*"web 1"/ },
    { args: [...minimal, '--node', ''], message: /--node expects/ },
    {
      args: minimal,
      hostname: 'bad host',
      message: /host name "bad host" cannot be a node id; give --node/,
    },
    {
      args: [...minimal, '--interval', 'fast'],
      message: /--interval expects a duration from 100ms to 60s, got "fast"/,
    },
    { args: [...minimal, '--interval', '50ms'], message: /--interval expects/ },
    { args: [...minimal, '--interval', '2m'], message: /--interval expects/ },
    { args: [...minimal, '--port', '0'], message: /--port expects an integer 1-65535, got "0"/ },
    { args: [...minimal, '--port', '65536'], message: /--port expects/ },
    { args: [...minimal, '--port', 'http'], message: /--port expects/ },
    {
      args: [...minimal, '--port', '80', '--connections-command', 'echo 1'],
      message: /either --port or --connections-command/,
    },
    { args: [...minimal, '--connections-command', ' '], message: /--connections-command is empty/ },
    { args: [...minimal, '--load-command', ''], message: /--load-command is empty/ },
    {
      args: [...minimal, '--capacity', '0'],
      message: /--capacity expects an integer 1-1000000000/,
    },
    { args: [...minimal, '--capacity', '1.5'], message: /--capacity expects/ },
    { args: [...minimal, '--capacity', '-3'], message: /--capacity/ },
    {
      args: [...minimal, '--load-url', 'ftp://127.0.0.1/load'],
      message: /--load-url expects an http:\/\/ or https:\/\/ URL, got "ftp:\/\/127.0.0.1\/load"/,
    },
    { args: [...minimal, '--load-url', '127.0.0.1:8080'], message: /--load-url expects/ },
    { args: [...minimal, '--load-url', ''], message: /--load-url expects/ },
    {
      args: [...minimal, '--load-url', 'http://127.0.0.1/', '--load-command', 'echo 1'],
      message: /either --load-command or --load-url, not both/,
    },
    {
      args: ['--to', '[ff02::5380]:5380', ...minimal.slice(2)],
      message: /--to \[ff02::5380\]:5380: the link-local group ff02::5380 needs its interface/,
    },
    {
      args: ['--to', '[fe80::53%eth0]:5380', ...minimal.slice(2)],
      message: /--to .*only for an IPv6 multicast group/,
    },
    { args: ['--to', '239.1.2.3%eth0:5380', ...minimal.slice(2)], message: /--to expects/ },
    {
      args: ['--to', '239.255.53.1:5380', '--multicast-interface', 'eth0', ...minimal.slice(2)],
      message: /--multicast-interface expects the IPv4 address of a local interface, got "eth0"/,
    },
    {
      args: ['--to', '[ff15::1]:5380', '--multicast-interface', '::%eth0', ...minimal.slice(2)],
      message: /--multicast-interface expects .*give the interface as its zone/,
    },
    {
      args: [...minimal, '--multicast-interface', '127.0.0.1'],
      message: /--multicast-interface needs an IPv4 multicast group in --to/,
    },
    {
      args: ['--to', '[ff15::1]:5380', '--multicast-interface', '127.0.0.1', ...minimal.slice(2)],
      message: /--multicast-interface needs an IPv4 multicast group/,
    },
    {
      args: [...minimal, '--multicast-ttl', '1'],
      message: /--multicast-ttl needs a multicast group/,
    },
    {
      args: ['--to', '239.255.53.1:5380', '--multicast-ttl', '256', ...minimal.slice(2)],
      message: /--multicast-ttl expects an integer 0-255, got "256"/,
    },
    { args: [...minimal, '--weight', '3'], message: /Unknown option '--weight'/ },
    { args: [...minimal, 'extra'], message: /Unexpected argument 'extra'/ },
    { args: [...minimal, '--drain=yes'], message: /--drain/ },
    { args: [...minimal, '--service'], message: /--service/ },
  ];
  for (const { args, message, hostname } of cases) {
    const options = hostname === undefined ? deps : { ...deps, hostname: () => hostname };
    assert.throws(
      () => parseAgentArgs(args, options),
      (error: unknown) =>
        error instanceof AgentUsageError &&
        error.code === 'STEERDNS_ERR_USAGE' &&
        message.test(error.message),
      `${args.join(' ')} -> ${message}`,
    );
  }
});
