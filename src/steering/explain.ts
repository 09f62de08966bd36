import type { Decision } from './chain.js';

/** A decision explained: what was answered and, step by step, why. */
export interface Explanation {
  readonly name: string;
  readonly type: string;
  readonly client: string;
  readonly ecs: string | undefined;
  readonly rcode: string;
  /** Addresses or names answered, in order. */
  readonly answers: readonly string[];
  readonly ttl: number | undefined;
  readonly scope: number;
  readonly pool: string | undefined;
  readonly allDown: boolean;
  readonly steps: Decision['steps'];
}

/** Formats an explanation for people: one line per policy step. */
export function formatExplanation(e: Explanation): string {
  const lines = [`${e.name} ${e.type} asked by ${e.client}${e.ecs ? ` (ECS ${e.ecs})` : ''}`];
  let pool: string | undefined;
  for (const step of e.steps) {
    if (step.pool !== pool) lines.push(`  pool ${(pool = step.pool)}:`);
    const dropped = step.dropped.length > 0 ? `; dropped ${step.dropped.join(', ')}` : '';
    lines.push(`    ${step.policy}: kept ${step.kept.join(', ') || 'none'}${dropped}`);
    for (const note of step.notes) lines.push(`      ${note}`);
  }
  if (e.allDown) lines.push('  every pool came out empty: the all-down behaviour applied');
  const answer = e.answers.length > 0 ? e.answers.join(' ') : '(no records)';
  lines.push(
    `answer: ${e.rcode} ${answer}${e.ttl === undefined ? '' : ` ttl ${e.ttl}`} scope /${e.scope}`,
  );
  return lines.join('\n');
}
