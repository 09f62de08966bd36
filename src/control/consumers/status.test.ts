import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../config/load.js';
import { loadZones } from '../../server/load-zones.js';
import { serviceNames } from '../../server/load-services.js';
import { ControlNode } from '../node.js';
import { explainOn } from './status.js';

const CONFIG = `
zones:
  - origin: example.org
    ttl: 3600
    records: |
      @ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
      @ IN NS ns1
      ns1 IN A 192.0.2.53
services:
  - name: www.example.org
    pools:
      - name: web
        members:
          - { name: a, address: 192.0.2.1 }
          - { name: b, address: 192.0.2.2 }
    policies: [up, admin, weighted, { policy: persistence, ttl: 600 }]
`;

test('live explain shows the persistence decision without writing it', async () => {
  const compiled = parseConfig(CONFIG, 'status.yaml');
  const { zones } = await loadZones(compiled.zones, serviceNames(compiled));
  const node = new ControlNode(compiled, zones);
  const explain = explainOn(node);
  const outcome = explain({ name: 'www.example.org', client: '198.51.100.7' });
  assert.ok(!(outcome instanceof Error), outcome instanceof Error ? outcome.message : '');
  const notes = outcome.steps.flatMap((step) => step.notes);
  assert.ok(
    notes.some((note) => /198\.51\.100\.7 new or expired: would now be web\/[ab]/.test(note)),
    notes.join('; '),
  );
  const store = node.persistence.get('www.example.org.');
  assert.equal(store?.size ?? 0, 0, 'the explained client has no persistence entry');
});
