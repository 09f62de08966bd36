// The reload gap: how long a server stops answering while it reloads a large zone.
// Writes a zone of N names (`name-i IN A 192.0.2.x`) into a temporary directory, starts
// the server on it (port 0), probes one name over UDP every 10 ms, changes the SOA serial,
// sends SIGHUP, waits until every answering process said `reloaded`, probes 500 ms more
// and prints the probe's figures as one JSON line per run.
//
// Usage: node --import tsx bench/reload-gap.ts [--records 500000] [--workers 1] [--runs 1]
//                                             [--installed] (bin/steerdns.js, the bundle)
//                                             [--reject last-line|long-line]
// --reject measures a reload that is rejected instead: the zone's last line is an error,
// or the new file is one line of 50 MB.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { parseArgs } from 'node:util';
import { startServer, tmpdirWith } from '../test/helpers/server-process.js';
import { startProbe } from '../test/helpers/udp-probe.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '500000' },
    workers: { type: 'string', default: '1' },
    runs: { type: 'string', default: '1' },
    installed: { type: 'boolean', default: false },
    reject: { type: 'string' },
  },
});
const records = Number(values.records);
const workers = Number(values.workers);

const zone = (serial: number): string => {
  const lines = [
    '$TTL 300',
    `@ IN SOA ns1 hostmaster ${serial} 7200 3600 1209600 300`,
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.53',
  ];
  for (let i = 0; i < records; i++) lines.push(`name-${i} IN A 192.0.2.${i % 250}`);
  return `${lines.join('\n')}\n`;
};

const config = `listen: ['127.0.0.1:0']
workers: ${workers}
zones:
  - origin: example.test
    file: big.zone
`;

const dir = await tmpdirWith({ 'steerdns.yaml': config, 'big.zone': zone(1) });
try {
  const server = await startServer(['serve', '--config', join(dir, 'steerdns.yaml')], {
    addListen: false,
    readyTimeoutMs: 120_000,
    ...(values.installed ? { executable: 'bin/steerdns.js' } : {}),
  });
  try {
    for (let run = 1; run <= Number(values.runs); run++) {
      const serial = run + 1;
      const text =
        values.reject === 'long-line'
          ? `x IN TXT ${'a'.repeat(50 * 1024 * 1024)}\n`
          : `${zone(serial)}${values.reject === 'last-line' ? 'bad IN A 1.2.3\n' : ''}`;
      await writeFile(join(dir, 'big.zone'), text);
      const probe = await startProbe({ server: server.address, name: 'name-7.example.test' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const began = Date.now();
      server.signal('SIGHUP');
      // Rejections so far: this run's is the next one (waitForLog reads past lines first).
      const isRejection = (line: string): boolean => line.includes('"msg":"reload rejected');
      const earlier = server.logs().filter(isRejection).length;
      let rejections = 0;
      const done = new Set<unknown>();
      await server.waitForLog((entry, line) => {
        if (values.reject !== undefined) return isRejection(line) && ++rejections > earlier;
        const serials = entry?.['serials'] as number[] | undefined;
        if (entry?.['msg'] === 'reloaded' && serials?.[0] === serial) done.add(entry['pid']);
        return done.size >= workers;
      }, 120_000);
      const reloadMs = Date.now() - began;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const result = await probe.stop();
      process.stdout.write(
        `${JSON.stringify({ records, workers, run, installed: values.installed, reloadMs, ...result })}\n`,
      );
    }
  } finally {
    await server.stop();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
