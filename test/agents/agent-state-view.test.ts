import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SteeredName } from '../../src/answer/steer.js';
import type { AgentSnapshot, AnnouncedNode } from '../../src/agent/registry.js';
import { agentStateView, UNANNOUNCED_TTL_HINT } from '../../src/server/agents.js';
import type { MemberState } from '../../src/steering/types.js';
import { keyOf, SERVICE, service, stateView } from '../helpers/steering.js';

/** Pool `p`: `req` (announce required), `opt` (announce optional), `plain` (no agent). */
const steered: SteeredName[] = [
  {
    key: SERVICE,
    name: Buffer.alloc(0),
    zone: undefined as never, // agentStateView reads the service only
    service: service({
      pools: [['p', [{ name: 'req', announce: 'required' }, { name: 'opt' }, { name: 'plain' }]]],
      chain: [],
    }),
  },
];

function node(name: string, fields: Partial<AnnouncedNode> = {}): AnnouncedNode {
  return {
    service: SERVICE,
    node: name,
    addresses: ['192.0.2.1'],
    load: 40,
    connections: 7,
    capacity: undefined,
    admin: 'enabled',
    intervalMs: 1000,
    heardAt: 0,
    expiresAt: 3000,
    ...fields,
  };
}

const snapshot = (...nodes: AnnouncedNode[]): AgentSnapshot => ({
  nodes,
  membership: nodes.map((n) => n.node).join('\n'),
});

const facts = (s: MemberState): Partial<MemberState> =>
  Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined));

test('agentStateView: each row is what the members report, given the nodes heard and the base state', () => {
  const rows: {
    name: string;
    nodes: AnnouncedNode[];
    base?: Record<string, Partial<MemberState>>;
    want: Record<'req' | 'opt' | 'plain', Partial<MemberState>>;
  }[] = [
    {
      name: 'nobody announces: the required member is down with a short TTL, the rest as they were',
      nodes: [],
      base: { opt: { up: true }, plain: { load: 5 } },
      want: {
        req: { up: false, ttlHint: UNANNOUNCED_TTL_HINT },
        opt: { up: true },
        plain: { load: 5 },
      },
    },
    {
      name: 'both announce: both up with their figures',
      nodes: [node('req'), node('opt', { load: 10, admin: 'draining' })],
      want: {
        req: { up: true, load: 40, connections: 7 },
        opt: { up: true, load: 10, connections: 7, admin: 'draining' },
        plain: {},
      },
    },
    {
      name: 'a failed health check still wins over an announcement',
      nodes: [node('req')],
      base: { req: { up: false } },
      want: { req: { up: false, load: 40, connections: 7 }, opt: {}, plain: {} },
    },
    {
      name: 'a longer TTL hint from the base is shortened',
      nodes: [],
      base: { req: { up: true, ttlHint: 30 } },
      want: { req: { up: false, ttlHint: UNANNOUNCED_TTL_HINT }, opt: {}, plain: {} },
    },
    {
      name: 'a node of another service or another name does not count',
      nodes: [node('req', { service: 'other.example.org.' }), node('REQ')],
      want: { req: { up: false, ttlHint: UNANNOUNCED_TTL_HINT }, opt: {}, plain: {} },
    },
  ];
  for (const row of rows) {
    const view = agentStateView(steered, snapshot(...row.nodes), stateView(row.base));
    const got = Object.fromEntries(
      (['req', 'opt', 'plain'] as const).map((m) => [m, facts(view.member(keyOf(`p/${m}`)))]),
    );
    assert.deepEqual(got, row.want, row.name);
  }
});

test('agentStateView: the base view itself when nothing is announced and nothing requires it', () => {
  const base = stateView({});
  const optionalOnly: SteeredName[] = [
    { ...steered[0]!, service: service({ pools: [['p', ['a', 'b']]], chain: [] }) },
  ];
  assert.equal(agentStateView(optionalOnly, snapshot(), base), base);
  assert.notEqual(agentStateView(steered, snapshot(), base), base);
});
