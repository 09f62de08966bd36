import { Type } from '@sinclair/typebox';
import { cidrContains, parseCidr, type Cidr } from '../../lib/ip.js';
import { definePolicy, type AgentFigures, type Member, type SelectionContext } from '../types.js';

/** The best figure the agent has for any of a member's addresses, ms. */
function figureOf(member: Member, figures: AgentFigures): number | undefined {
  let best = Infinity;
  for (const address of member.ipv4) best = Math.min(best, figures.figure(address) ?? Infinity);
  for (const address of member.ipv6) best = Math.min(best, figures.figure(address) ?? Infinity);
  return Number.isFinite(best) ? best : undefined;
}

/**
 * Seed 002 MService: orders the candidates by the response times the measurement agent
 * nearest to the client measured (the agent whose address shares the longest prefix with
 * the client: the ECS subnet, else the resolver), fastest first; sites it could not
 * measure go last. With no agent of the client's family, or figures older than `maxAge`
 * seconds, the candidates stay as the policies before it left them: put the fallback rule
 * (proximity, geo, response-time) before this one. Explain says which agent was used, or
 * why none.
 */
export const measured = definePolicy({
  name: 'measured',
  config: Type.Object(
    {
      maxAge: Type.Integer({
        minimum: 1,
        maximum: 86_400,
        default: 900,
        description: 'seconds: older figures are not used (default three 5-minute rounds)',
      }),
      agents: Type.Array(
        Type.Object(
          { cidr: Type.String(), agent: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
        {
          default: [],
          description:
            'client prefix -> agent (seed 002 [0045]): the first match names the agent; no match: the nearest by address',
        },
      ),
    },
    { additionalProperties: false },
  ),
  create: ({ maxAge, agents }) => {
    const table = agents.flatMap((a): { cidr: Cidr; agent: string; text: string }[] => {
      const cidr = parseCidr(a.cidr);
      return cidr ? [{ cidr, agent: a.agent, text: a.cidr }] : [];
    });
    /** The agent for this client: the table's, else the nearest; or why there is none. */
    const agentFor = (ctx: SelectionContext): AgentFigures | string => {
      const { location } = ctx.client;
      const listed = table.find((t) => cidrContains(t.cidr, location));
      if (listed) {
        const named = ctx.state.measured?.named(listed.agent, location, ctx.now);
        return named ?? `agent ${listed.agent} (for ${listed.text}) not heard: next rule`;
      }
      return (
        ctx.state.measured?.nearest(location, ctx.now) ?? 'no measurement agent for this client'
      );
    };
    return {
      name: 'measured',
      role: 'select',
      apply(candidates, ctx) {
        const figures = agentFor(ctx);
        if (typeof figures === 'string') return { candidates, notes: ctx.explain ? [figures] : [] };
        if (figures.ageMs > maxAge * 1000) {
          const age = Math.round(figures.ageMs / 1000);
          const note = `agent ${figures.agent}: figures ${age} s old, over ${maxAge} s: next rule`;
          return { candidates, notes: ctx.explain ? [note] : [] };
        }
        const timed = candidates.map((member, index) => ({
          member,
          index,
          ms: figureOf(member, figures),
        }));
        timed.sort((a, b) => (a.ms ?? Infinity) - (b.ms ?? Infinity) || a.index - b.index);
        const notes = ctx.explain
          ? [
              `agent ${figures.agent} (${figures.address}, ${figures.commonBits} bits in common)`,
              ...timed.map(
                (t) =>
                  `${t.member.id} ${t.ms === undefined ? 'not measured' : `${t.ms.toFixed(1)} ms`}`,
              ),
            ]
          : [];
        // The answer holds for the clients that share as much with the agent.
        const scope = Math.min(figures.commonBits, ctx.client.locationPrefix);
        return { candidates: timed.map((t) => t.member), scope, notes };
      },
    };
  },
});
