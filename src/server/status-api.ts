import type { ExplainError, ExplainRequest, QueryExplanation } from '../answer/explain.js';
import type { ProtectionStats } from '../answer/protection.js';

/*
 * The types the operator interface is fed with. The interface itself (fastify, /api/v1,
 * /status, /explain, /metrics) is src/api/; these stay here because the processes that
 * produce them (a primary's workers, the DNS server) know nothing of it.
 */

/**
 * The DNS counters of the process that serves the interface (rate limiting and cookies),
 * or undefined when it does not answer DNS itself (a primary with workers).
 */
export type DnsCounters = () => Readonly<ProtectionStats> | undefined;

/** More top-level sections of `GET /status`, by name (the map protocol's counters: `referral`). */
export type StatusSections = () => Readonly<Record<string, unknown>>;

/** What explaining a query comes to: an explanation, or the ExplainError that says why not. */
export type ExplainOutcome = QueryExplanation | ExplainError;

/**
 * Explains a query on the live state: an explanation, or the ExplainError that says which
 * parameter is wrong (answered as 400), now or later (a primary asks a worker). Thrown
 * errors and rejections are answered as 500.
 */
export type ExplainOnLiveState = (
  request: ExplainRequest,
) => ExplainOutcome | Promise<ExplainOutcome>;
