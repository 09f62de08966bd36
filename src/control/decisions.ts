import type { ExplainRequest, QueryExplanation } from '../answer/explain.js';
import type { QuestionSampler } from '../answer/question-sampler.js';
import type { Transport } from '../dns/transport.js';
import type { ExplainOutcome } from '../server/status-api.js';

/** One entry of the decisions log: a real query, explained on the live state. */
export interface SampledDecision {
  /** When the query arrived (ISO 8601). */
  readonly at: string;
  readonly transport: Transport;
  readonly explanation: QueryExplanation;
}

/** How many decisions the log keeps. */
export const DECISIONS_KEPT = 50;

/** How often a process takes a question: at most this many a second. */
export const SAMPLES_PER_SECOND = 4;

/** The last {@link DECISIONS_KEPT} sampled decisions of a node (every worker's). */
export class DecisionLog {
  private readonly entries: SampledDecision[] = [];
  private readonly capacity: number;

  constructor(capacity = DECISIONS_KEPT) {
    this.capacity = capacity;
  }

  add(decision: SampledDecision): void {
    this.entries.push(decision);
    // Kept in the order they arrive: the oldest to arrive goes first.
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /**
   * The decisions kept, newest query first (workers explain on their own ticks: the order
   * they arrive in is not quite the order of the queries).
   */
  list(): SampledDecision[] {
    return this.entries.slice().sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }
}

/** A running sampler timer. */
export interface DecisionSampling {
  stop(): void;
}

/**
 * Arms `sampler` {@link SAMPLES_PER_SECOND} times a second and explains the question it
 * took since, on the live state (`explain`: the process's own node, which answered it),
 * handing the result to `record`. The explanation is made up to one tick after the answer,
 * on the state then: what the node decides for that question, not a replay of the answer
 * sent. Questions explain refuses (none should: they were answered) are left out.
 */
export function startDecisionSampling(
  sampler: QuestionSampler,
  explain: (request: ExplainRequest) => ExplainOutcome,
  record: (decision: SampledDecision) => void,
): DecisionSampling {
  const tick = (): void => {
    const question = sampler.take();
    sampler.arm();
    if (!question) return;
    const outcome = explain(question.request);
    if (outcome instanceof Error) return;
    record({
      at: new Date(question.at).toISOString(),
      transport: question.transport,
      explanation: outcome,
    });
  };
  sampler.arm();
  const timer = setInterval(tick, 1000 / SAMPLES_PER_SECOND);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      sampler.wanted = false;
    },
  };
}
