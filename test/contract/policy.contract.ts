import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type {
  ClientInfo,
  Member,
  Policy,
  PolicyDefinition,
  StateView,
  TopologyConfig,
} from '../../src/steering/types.js';
import {
  client,
  context,
  deepFreeze,
  ids,
  members,
  fixedGeo,
  policyDeps,
  rule,
  seededRandom,
  stateView,
} from '../helpers/steering.js';

/**
 * The rules every policy keeps (src/steering/types.ts `Policy`): it does not mutate its
 * input, keeps a subset of it without duplicates, copes with an empty list and with members
 * nobody has reported on, is deterministic for a given random sequence, and its schema
 * fills defaults and rejects unknown keys. Run it for each registered policy.
 */

/** A pool with every kind of member a policy may meet. */
function sampleMembers(): Member[] {
  return members(
    { name: 'a', site: 'A', country: 'US', weight: 1, capacity: 100, cost: 3 },
    { name: 'b', site: 'B', country: 'DE', weight: 2, capacity: 50, cost: 1 },
    { name: 'c', site: 'C', weight: 3, coordinates: [35.7, 139.7], cost: 2.5 },
    { name: 'd', site: 'D', region: 'LACNIC', weight: 0, capacity: 10, cost: 1 },
    { name: 'e', site: 'E', country: 'ZA', weight: 4, admin: 'draining' },
    { name: 'f', weight: 0.5, ipv4: [], ipv6: ['2001:db8::f'] },
  );
}

/** Topology for the contract: rules of every kind, a country database, an LDNS group. */
const TOPOLOGY: Partial<TopologyConfig> = {
  rules: [
    rule(0, { cidr: ['198.51.100.0/24'] }, { A: 100, b: 10 }),
    rule(1, { ldnsGroup: ['isp'] }, { C: 50, p: 1 }),
    rule(2, { country: ['DE'], continent: ['AF'] }, { B: 100 }),
    rule(3, { region: ['RIPE', 'APNIC'] }, { E: 5 }),
  ],
  geo: fixedGeo({ '203.0.113.0/24': 'DE', '2001:db8:1200::/40': 'ZA', '192.0.2.0/25': 'US' }),
  ldnsGroups: new Map([['isp', ['192.0.2.77', '2001:db8::53']]]),
};

/** Facts about some of the sample members; `f` is never reported. */
const SAMPLE_STATE: StateView = stateView({
  a: { up: true, load: 20, connections: 10, ttlHint: 5 },
  b: { up: false, load: 90, connections: 50 },
  c: { up: true, load: 25, admin: 'disabled' },
  d: { load: 30, connections: 3, ttlHint: 2 },
  e: { up: true, connections: 0 },
});

const CLIENTS: readonly ClientInfo[] = [
  client('192.0.2.77'),
  client('198.51.100.10', '203.0.113.0/24'),
  client('203.0.113.200', '198.51.100.128/25'),
  client('2001:db8::53'),
  client('2001:db8::53', '2001:db8:1234::/48'),
  client('192.0.2.1', '0.0.0.0/0'),
];

/** Property names the schema requires and gives no default for. */
function requiredWithoutDefault(schema: TSchema): string[] {
  const object = schema as Partial<TObject>;
  const required = object.required ?? [];
  return required.filter((key) => object.properties?.[key]?.default === undefined);
}

/** Settings as load-services builds them: defaults filled into a clone. */
const withDefaults = (schema: TSchema, settings: object): unknown =>
  Value.Default(schema, Value.Clone(settings));

/** Every sample client, every sample member list, three rounds: ids kept each time. */
function runAll(
  policy: Policy,
  list: readonly Member[],
  state: StateView,
  seed: number,
): string[][] {
  const random = seededRandom(seed);
  const out: string[][] = [];
  for (let round = 0; round < 3; round++) {
    for (const who of CLIENTS) {
      const ctx = context({ client: who, state, random, explain: round === 1 });
      out.push(ids(policy.apply(list, ctx).candidates));
      out.push(ids(policy.apply(list.slice(1), ctx).candidates));
    }
  }
  return out;
}

/**
 * Runs the policy contract for `definition` with each of `sampleConfigs` (settings as
 * written in the configuration, before defaults). `{}` is always tried as well when the
 * schema needs nothing; a policy whose schema needs settings must bring at least one sample.
 */
export function runPolicyContract(
  definition: PolicyDefinition,
  sampleConfigs: readonly object[] = [],
): void {
  const schema = definition.config;
  const needed = requiredWithoutDefault(schema);
  const configs: object[] = needed.length === 0 ? [{}, ...sampleConfigs] : [...sampleConfigs];
  const label = (settings: object): string => `${definition.name} ${JSON.stringify(settings)}`;
  const build = (settings: object, list: readonly Member[]): Policy =>
    definition.create(withDefaults(schema, settings), policyDeps(list, TOPOLOGY));

  test(`${definition.name}: contract`, async (t) => {
    await t.test('has sample settings when its schema needs some', () => {
      assert.ok(configs.length > 0, `${definition.name}: needs ${needed.join(', ')}; give samples`);
    });

    await t.test('fills defaults: valid when no setting is required, else invalid', () => {
      const filled = withDefaults(schema, {});
      const want = needed.length === 0;
      assert.equal(
        Value.Check(schema, filled),
        want,
        `${definition.name}: defaults ${JSON.stringify(filled)} (required: ${needed.join(', ') || 'none'})`,
      );
    });

    await t.test('accepts each sample and rejects an unknown key beside it', () => {
      for (const settings of configs) {
        const filled = withDefaults(schema, settings);
        assert.ok(Value.Check(schema, filled), `${label(settings)}: sample is valid`);
        const extra = { ...(filled as object), notASetting: 1 };
        assert.equal(Value.Check(schema, extra), false, `${label(settings)}: + notASetting`);
      }
    });

    await t.test('keeps a subset of its input, without duplicates, never mutating it', () => {
      for (const settings of configs) {
        const list = deepFreeze(sampleMembers());
        const before = JSON.stringify(list);
        const policy = build(settings, list);
        const input = new Set(ids(list));
        for (const who of CLIENTS) {
          const location = Uint8Array.from(who.location);
          for (const state of [SAMPLE_STATE, stateView()]) {
            for (const explain of [false, true]) {
              const ctx = context({ client: who, state, explain });
              const got = ids(policy.apply(list, ctx).candidates);
              const row = `${label(settings)} client ${who.location.join('.')} explain ${String(explain)}`;
              assert.ok(
                got.every((id) => input.has(id)),
                `${row}: subset of input, got ${got.join(',')}`,
              );
              assert.equal(
                new Set(got).size,
                got.length,
                `${row}: no duplicates in ${got.join(',')}`,
              );
            }
          }
          assert.deepEqual(who.location, location, `${label(settings)}: client bytes unchanged`);
        }
        assert.equal(JSON.stringify(list), before, `${label(settings)}: members unchanged`);
      }
    });

    await t.test('handles an empty candidate list', () => {
      for (const settings of configs) {
        const policy = build(settings, []);
        for (const who of CLIENTS) {
          const result = policy.apply(Object.freeze([]), context({ client: who }));
          assert.deepEqual(ids(result.candidates), [], `${label(settings)}: empty in, empty out`);
        }
      }
    });

    await t.test('never throws for members nobody has reported on', () => {
      for (const settings of configs) {
        const list = deepFreeze(sampleMembers());
        const policy = build(settings, list);
        for (const who of CLIENTS) {
          for (let n = 1; n <= list.length; n++) {
            assert.doesNotThrow(
              () => policy.apply(list.slice(0, n), context({ client: who, explain: n % 2 === 0 })),
              `${label(settings)}: ${String(n)} members, no state`,
            );
          }
        }
      }
    });

    await t.test('is deterministic for a fresh instance and a fixed seeded random', () => {
      for (const settings of configs) {
        const list = deepFreeze(sampleMembers());
        for (const state of [SAMPLE_STATE, stateView()]) {
          const first = runAll(build(settings, list), list, state, 42);
          const second = runAll(build(settings, list), list, state, 42);
          assert.deepEqual(second, first, `${label(settings)}: same seed, same answers`);
        }
      }
    });

    await t.test('reports its definition name', () => {
      for (const settings of configs)
        assert.equal(build(settings, []).name, definition.name, label(settings));
    });
  });
}
