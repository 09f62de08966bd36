import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ProtectionStats } from '../answer/protection.js';
import { DURATION_BUCKETS_MS, type QueryTotals } from '../answer/query-counters.js';
import { parseMemberKey } from '../config/member-key.js';
import type { ProbeResult } from '../health/monitor.js';
import { nameToText } from '../dns/name.js';
import type { NodeSnapshot } from '../control/node.js';
import { statusRows } from '../control/consumers/status.js';
import type { DecisionTotals } from '../observability/decision-totals.js';
import type { MetricsExposition } from '../observability/metrics-exposition.js';
import { histogramSamples, registerGathered, type Sample } from './gathered.js';
import { HealthCheckCounters } from './health-counters.js';

/**
 * The Prometheus metrics of a node (docs/metrics.md), names and labels after CoreDNS's
 * (`coredns_dns_requests_total` is `steerdns_dns_requests_total` here). The query counters
 * come from every process that answers (see query-counters.ts); everything else is read
 * from the node's snapshot at each scrape. Counters live as long as the process: a reload
 * rebuilds the responder, not the counters, and a worker that ends keeps its last report in
 * the primary's sums.
 */

/** Where the metrics are read from; given by app.ts. */
export interface MetricSources {
  /** The node's snapshot now. */
  snapshot(): NodeSnapshot;
  /** The query counters of every process that answers, summed (as last reported). */
  queries(): QueryTotals;
  /** Asks the processes that answer for their counters now (workers); resolves when they did. */
  refresh(): Promise<void>;
  /** Persistence entries held by the node, by service. */
  persistence(): Iterable<readonly [string, number]>;
  /** Rate-limit and cookie counters, summed over the processes that answer. */
  protection(): Readonly<ProtectionStats>;
  /** The steerdns version. */
  readonly version: string;
}

/** The metrics of a node: the exposition, the decision totals, and what it is told. */
export interface NodeMetrics extends MetricsExposition {
  /** Answers each member was chosen for, all workers (for the operator interface's shares). */
  readonly decisionTotals: DecisionTotals;
  /** Counts a health check result (the health producer calls it after every check). */
  checked(id: string, result: ProbeResult): void;
  /** Counts a reload: applied or rejected. */
  reloaded(ok: boolean): void;
}

const PREFIX = 'steerdns_';

/** Splits a tab-joined totals key into labels. */
function labelled(key: string, names: readonly string[]): Record<string, string> {
  const values = key.split('\t');
  const labels: Record<string, string> = {};
  names.forEach((name, i) => (labels[name] = values[i] ?? ''));
  return labels;
}

/** Samples of a `Record<key, value>` of totals. */
function recordSamples(record: Record<string, number>, names: readonly string[]): Sample[] {
  return Object.entries(record).map(([key, value]) => ({ labels: labelled(key, names), value }));
}

/** The labels of a member key: service, pool, member. */
function memberLabels(key: string): Record<string, string> {
  const parts = parseMemberKey(key);
  return parts ?? { service: key, pool: '', member: '' };
}

/** A one-sample gauge of value 1 with `labels` for every row (state sets, info metrics). */
const ones = (rows: readonly Record<string, string>[]): Sample[] =>
  rows.map((labels) => ({ labels, value: 1 }));

/** Makes the metrics of a node; see the module comment. */
export function createNodeMetrics(sources: MetricSources): NodeMetrics {
  const registry = new Registry();
  const health = new HealthCheckCounters();
  const reloads = { success: 0, failure: 0 };
  let queries: QueryTotals = sources.queries();
  const queryFamilies: [string, string, 'counter' | 'histogram', () => Sample[]][] = [
    [
      'dns_requests_total',
      'DNS requests received, by zone, protocol, address family (1 IPv4, 2 IPv6) and query type.',
      'counter',
      () => recordSamples(queries.requests, ['zone', 'proto', 'family', 'type']),
    ],
    [
      'dns_responses_total',
      'DNS responses sent, by zone and rcode.',
      'counter',
      () => recordSamples(queries.responses, ['zone', 'rcode']),
    ],
    [
      'dns_request_duration_seconds',
      'Time taken to answer a DNS request (in the process, from receipt to reply), by zone and type; every TCP query and a random one in four UDP queries are timed, each standing for the untimed ones of its cell.',
      'histogram',
      () =>
        Object.entries(queries.durationBuckets).flatMap(([key, counts]) =>
          histogramSamples(
            `${PREFIX}dns_request_duration_seconds`,
            labelled(key, ['zone', 'type']),
            DURATION_BUCKETS_MS.map((ms) => ms / 1000),
            counts,
            queries.durationSeconds[key] ?? 0,
          ),
        ),
    ],
    [
      'steering_decisions_total',
      'Answers each member was chosen for, by service, pool and member.',
      'counter',
      () =>
        Object.entries(queries.decisions).map(([key, value]) => ({
          labels: memberLabels(key),
          value,
        })),
    ],
  ];
  for (const [name, help, type, collect] of queryFamilies)
    registerGathered(registry, { name: PREFIX + name, help, type, collect });
  registerSnapshotFamilies(registry, sources);
  registerProtection(registry, sources);
  registerGathered(registry, {
    name: `${PREFIX}health_checks_total`,
    help: 'Health checks run by this node, by check and result (success, failure).',
    type: 'counter',
    collect: () =>
      [...health.entries()].flatMap(([check, counts]) => [
        { labels: { check, result: 'success' }, value: counts.success },
        { labels: { check, result: 'failure' }, value: counts.failure },
      ]),
  });
  registerGathered(registry, {
    name: `${PREFIX}health_check_duration_seconds`,
    help: 'Time health checks took, by check.',
    type: 'histogram',
    collect: () =>
      [...health.entries()].flatMap(([check, counts]) =>
        histogramSamples(
          `${PREFIX}health_check_duration_seconds`,
          { check },
          DURATION_BUCKETS_MS.map((ms) => ms / 1000),
          counts.buckets,
          counts.seconds,
        ),
      ),
  });
  registerGathered(registry, {
    name: `${PREFIX}reloads_total`,
    help: 'Configuration reloads, by result (success: applied; failure: rejected, the previous configuration kept).',
    type: 'counter',
    collect: () => [
      { labels: { result: 'success' }, value: reloads.success },
      { labels: { result: 'failure' }, value: reloads.failure },
    ],
  });
  registerGathered(registry, {
    name: `${PREFIX}build_info`,
    help: 'Always 1: the steerdns version and the Node.js version running it.',
    type: 'gauge',
    collect: () => ones([{ version: sources.version, node: process.versions.node }]),
  });
  collectDefaultMetrics({ register: registry });
  return {
    contentType: registry.contentType,
    async text() {
      // The workers' counters now, read once: every DNS family of a scrape agrees.
      await sources.refresh();
      queries = sources.queries();
      return registry.metrics();
    },
    decisionTotals: () => new Map(Object.entries(sources.queries().decisions)),
    checked: (id, result) => {
      health.observe(id, result);
    },
    reloaded: (ok) => {
      reloads[ok ? 'success' : 'failure']++;
    },
  };
}

/** Members, agents, persistence and zones: gauges read from the snapshot at each scrape. */
function registerSnapshotFamilies(registry: Registry, sources: MetricSources): void {
  const members = (snapshot: NodeSnapshot) =>
    statusRows(snapshot).map((row) => {
      const [pool = '', member = ''] = row.member.split('/');
      return { row, labels: { service: row.service, pool, member } };
    });
  const gauge = (name: string, help: string, collect: () => Sample[]): void => {
    registerGathered(registry, { name: PREFIX + name, help, type: 'gauge', collect });
  };
  gauge(
    'member_up',
    'Whether answers may use the member: 1 unless its live state (health, agents, overrides) says down.',
    () => {
      const snapshot = sources.snapshot();
      return members(snapshot).map(({ labels }) => {
        const key = `${labels.service} ${labels.pool}/${labels.member}`;
        return { labels, value: snapshot.state.member(key).up === false ? 0 : 1 };
      });
    },
  );
  gauge(
    'member_health',
    "The member's health as its check says (up, down, unknown, unchecked), before overrides: 1 for the current state.",
    () =>
      ones(members(sources.snapshot()).map(({ row, labels }) => ({ ...labels, state: row.state }))),
  );
  gauge(
    'member_admin_state',
    'The admin state answers use (enabled, draining, disabled): 1 for the current state.',
    () =>
      ones(members(sources.snapshot()).map(({ row, labels }) => ({ ...labels, state: row.admin }))),
  );
  gauge(
    'member_override',
    'Operator overrides in force: 1 per overridden member, with the forced health and admin state ("" when not forced).',
    () =>
      ones(
        [...sources.snapshot().overrides].map(([key, override]) => ({
          ...memberLabels(key),
          health: override.health ?? '',
          admin: override.admin ?? '',
        })),
      ),
  );
  gauge('agents_known', 'Nodes announced by agents and known now.', () => [
    { labels: {}, value: sources.snapshot().agents.nodes.length },
  ]);
  gauge('persistence_entries', 'Persistence (stickiness) entries held, by service.', () =>
    [...sources.persistence()].map(([service, entries]) => ({
      labels: { service },
      value: entries,
    })),
  );
  gauge('zone_serial', 'The SOA serial of each zone served.', () =>
    [...sources.snapshot().zones.zones.values()].map((zone) => ({
      labels: { zone: nameToText(zone.origin).toLowerCase() },
      value: zone.serial,
    })),
  );
}

/** Rate limiting and cookies (ProtectionStats), summed over the processes that answer. */
function registerProtection(registry: Registry, sources: MetricSources): void {
  const counter = (name: string, help: string, collect: (s: ProtectionStats) => Sample[]): void => {
    registerGathered(registry, {
      name: PREFIX + name,
      help,
      type: 'counter',
      collect: () => collect(sources.protection()),
    });
  };
  counter(
    'ratelimit_responses_total',
    'UDP responses the rate limiter acted on: dropped, slipped (an empty TC reply instead), or exempt (a valid server cookie).',
    (s) => [
      { labels: { action: 'dropped' }, value: s.rateLimitDropped },
      { labels: { action: 'slipped' }, value: s.rateLimitSlipped },
      { labels: { action: 'cookie_exempt' }, value: s.cookieExempt },
    ],
  );
  counter(
    'cookies_invalid_total',
    'Queries whose server cookie was not valid (not ours, another address, expired).',
    (s) => [{ labels: {}, value: s.badCookies }],
  );
  counter(
    'cookies_badcookie_responses_total',
    'BADCOOKIE responses sent (cookies.requireValid).',
    (s) => [{ labels: {}, value: s.badCookieReplies }],
  );
}
