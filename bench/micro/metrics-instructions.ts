// Instructions per query with metrics off and on (issue 12), for a machine too noisy for
// timings: run under valgrind, which counts instructions whatever else the machine does.
//   node --import tsx bench/micro/metrics-instructions.ts off|on static|steered COUNT
// answers COUNT queries through one responder (no sockets) and exits; bench/metrics-instructions.sh
// runs it under cachegrind at two counts and divides the difference in instructions by the
// difference in queries, so that start-up cancels out.
import dnsPacket from 'dns-packet';
import { loadAll } from '../../src/app.js';
import { QueryCounters } from '../../src/answer/query-counters.js';
import { Responder } from '../../src/answer/responder.js';
import { parseConfig } from '../../src/config/load.js';
import { GSLB_CONFIG } from './gslb-config.js';

const [side = 'on', kind = 'static', countText = '100000'] = process.argv.slice(2);
const { loaded, services, config } = await loadAll(() =>
  Promise.resolve(parseConfig(GSLB_CONFIG, 'bench.yaml')),
);
const responder = new Responder(loaded.zones, {
  udpPayloadMax: config.dns.udpPayloadMax,
  counters: side === 'on' ? new QueryCounters() : undefined,
  steering: {
    names: services.byKey,
    state: () => services.staticState,
    random: Math.random,
    now: Date.now,
  },
});
const name = kind === 'steered' ? 'www.example.test' : 'api.example.test';
const query = Buffer.from(
  dnsPacket.encode({ type: 'query', id: 1, questions: [{ name, type: 'A' }] }),
);
const count = Number(countText);
for (let i = 0; i < count; i++) responder.handle(query, 'udp', '127.0.0.1');
