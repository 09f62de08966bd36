// The same example.test. data the real servers load from zones/example.test.static.zone,
// as plain JS, shared by the three Node baselines. www is a static 4-address RRset.
import process from 'node:process';

export const ORIGIN = 'example.test';
export const TTL = 300;
export const SOA = {
  mname: 'ns1.example.test',
  rname: 'hostmaster.example.test',
  serial: 2024010101,
  refresh: 3600,
  retry: 600,
  expire: 604800,
  minimum: 300,
};
// name (relative to nothing, lower case, no trailing dot) -> { TYPE: [rdata...] }
export const RECORDS = {
  'example.test': { SOA: [SOA], NS: ['ns1.example.test'] },
  'ns1.example.test': { A: ['192.0.2.53'] },
  'mail.example.test': { A: ['192.0.2.25'] },
  'api.example.test': { A: ['192.0.2.80'] },
  'www.example.test': { A: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'] },
};
export const PORT = Number(process.env.PORT || 5304);
export const HOST = process.env.HOST || '127.0.0.1';
