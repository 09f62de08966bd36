// Where the resident memory of a large zone goes: Node and steerdns's modules, the loaded
// zone (live heap after a full GC), then the answer cache after queries over random names
// through the real Responder (no sockets). Complements run.sh's RSS readings of the server.
//   node bench/gen-zone.mjs --records 100000 --out /tmp/z100k.zone
//   node --expose-gc [--max-semi-space-size=4] --import tsx bench/micro/zone-memory.ts \
//        /tmp/z100k.zone [QUERIES]
// QUERIES (default 200,000) queries for random existing names hN.example.test, as in run.sh.
import process from 'node:process';
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';

const gc = (globalThis as { gc?: () => void }).gc;
const file = process.argv[2];
if (!gc || file === undefined) {
  process.stderr.write(
    'usage: node --expose-gc --import tsx bench/micro/zone-memory.ts ZONE_FILE [QUERIES]\n',
  );
  process.exit(2);
}
const queries = Number(process.argv[3] ?? 200_000);

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const show = (label: string): void => {
  gc();
  gc();
  const m = process.memoryUsage();
  console.log(
    `${label.padEnd(40)} RSS ${mib(m.rss).padStart(10)}  heap used ${mib(m.heapUsed).padStart(10)}` +
      `  heap total ${mib(m.heapTotal).padStart(10)}  array buffers ${mib(m.arrayBuffers).padStart(9)}`,
  );
};

console.log(`${process.version} ${process.execArgv.join(' ')}`);
show('modules loaded');
const { loaded, config } = await loadAll(() =>
  Promise.resolve(
    parseConfig(
      `listen: [127.0.0.1:5353]\nzones:\n  - origin: example.test\n    file: ${JSON.stringify(file)}\n`,
      'zone-memory.yaml',
    ),
  ),
);
const zone = loaded.zones.zones.values().next().value;
const records = zone ? zone.size : 0;
show(`zone loaded`);
const responder = new Responder(loaded.zones, { udpPayloadMax: config.dns.udpPayloadMax });
// Random existing names; names = records - 3 (SOA, NS, ns1 are not hN)
let state = 1;
const random = (): number => {
  state = (state * 1103515245 + 12345) >>> 0;
  return state / 4294967296;
};
let answered = 0;
for (let i = 0; i < queries; i++) {
  const name = `h${1 + Math.floor(random() * Math.max(1, records))}.example.test`;
  const query = Buffer.from(
    dnsPacket.encode({ type: 'query', id: i & 0xffff, questions: [{ name, type: 'A' }] }),
  );
  if (responder.handle(query, 'udp', '127.0.0.1')) answered++;
}
show(`after ${queries.toLocaleString('en-US')} random-name queries`);
console.log(
  `zone size ${records.toLocaleString('en-US')}; ${answered.toLocaleString('en-US')} answered`,
);
