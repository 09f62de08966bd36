import { Type } from '@sinclair/typebox';
import { definePolicy, type AdminState, type Member, type SelectionContext } from '../types.js';

const stateOf = (member: Member, ctx: SelectionContext): AdminState => {
  if (member.admin !== 'enabled') return member.admin;
  return ctx.state.member(member.key).admin ?? 'enabled';
};

/** Drops members the operator disabled or put in drain (configured, or reported by an agent). */
export const admin = definePolicy({
  name: 'admin',
  config: Type.Object({}, { additionalProperties: false }),
  create: () => ({
    name: 'admin',
    apply(candidates, ctx) {
      let kept: Member[] | undefined;
      for (let i = 0; i < candidates.length; i++) {
        const member = candidates[i]!;
        if (stateOf(member, ctx) !== 'enabled') kept ??= candidates.slice(0, i);
        else kept?.push(member);
      }
      if (!ctx.explain) return { candidates: kept ?? candidates };
      const notes = candidates
        .filter((m) => stateOf(m, ctx) !== 'enabled')
        .map((m) => `${m.id} is ${stateOf(m, ctx)}`);
      return { candidates: kept ?? candidates, notes };
    },
  }),
});
