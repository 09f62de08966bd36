import { Rcode, RRType, parseRRType, rrTypeName } from '../dns/constants.js';
import { nameFromText, nameToText, wireKey } from '../dns/name.js';
import { ParsedQuery, parseQuery, Verdict } from '../dns/query.js';
import { rdataToText } from '../dns/rdata-text.js';
import { MessageWriter } from '../dns/writer.js';
import { parseCidr } from '../lib/ip.js';
import { SteerdnsError } from '../lib/errors.js';
import type { Explanation } from '../steering/explain.js';
import type { ZoneSet } from '../zone/zone-set.js';
import { rdataOf } from '../zone/zone.js';
import { lookup } from '../zone/lookup.js';
import {
  chaseSteered,
  steer,
  steeredCheck,
  steers,
  type SteeredAnswer,
  type SteeredName,
  type SteeringDeps,
} from './steer.js';

/** A question to explain, as an operator writes it. */
export interface ExplainRequest {
  readonly name: string;
  /** @default 'A' */
  readonly type?: string;
  /** The resolver's address. @default '127.0.0.1' */
  readonly client?: string;
  /** An ECS subnet, `ADDR/PREFIX`. */
  readonly ecs?: string;
}

/** A question that cannot be explained: a bad name or type, a bad client address or ECS. */
export class ExplainError extends SteerdnsError {
  constructor(message: string) {
    super('STEERDNS_ERR_EXPLAIN', message);
  }
}

/** Builds the packet explain pretends to receive, with an ECS option if asked. */
function queryPacket(name: Buffer, qtype: number, ecs: string | undefined): Buffer {
  const writer = new MessageWriter();
  writer.bytes(Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, ecs ? 1 : 0]));
  writer.name(name, false);
  writer.u16(qtype);
  writer.u16(1);
  if (ecs) {
    const cidr = ecs.includes('/') ? parseCidr(ecs) : undefined;
    if (!cidr) throw new ExplainError(`ECS must be ADDR/PREFIX, got "${ecs}"`);
    const bytes = cidr.bytes.subarray(0, (cidr.prefix + 7) >> 3);
    writer.bytes(Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0]));
    writer.u16(8 + bytes.length);
    writer.u16(8);
    writer.u16(4 + bytes.length);
    writer.u16(cidr.family === 4 ? 1 : 2);
    writer.u8(cidr.prefix);
    writer.u8(0);
    writer.bytes(bytes);
  }
  return writer.toBuffer();
}

/** Turns a steered answer into an explanation. */
export function explanationOf(
  q: ParsedQuery,
  name: Buffer,
  client: string,
  ecs: string | undefined,
  answer: SteeredAnswer,
): Explanation {
  const { result, scope, decision, records } = answer;
  const fromRecords = (records?.rdata ?? []).map((bytes) => rdataToText(records!.type, bytes));
  const answers = fromRecords.concat(
    (result?.answer ?? []).flatMap(({ rrset }) =>
      rrset.type === RRType.A || rrset.type === RRType.AAAA || rrset.type === RRType.CNAME
        ? rdataOf(rrset).map((rdata) => rdataToText(rrset.type, Buffer.from(rdata, 'latin1')))
        : [],
    ),
  );
  const rcode = records ? 'NOERROR' : result ? rcodeName(result.rcode) : 'SERVFAIL';
  return {
    name: nameToText(name),
    type: rrTypeName(q.qtype),
    client,
    ecs,
    rcode,
    answers,
    ttl: records?.ttl ?? result?.answer[0]?.ttl ?? result?.authority[0]?.ttl,
    scope,
    pool: decision.pool,
    allDown: decision.allDown,
    steps: decision.steps,
  };
}

/** An explanation as `steerdns explain` and the operator interface give it. */
export interface QueryExplanation extends Explanation {
  /**
   * `steered`: the service's policies decided the answer; `static`: the zone data answers,
   * because the name is not a service or the service leaves this type to the zone.
   */
  readonly kind: 'steered' | 'static';
  /** Why the answer came from where it did, for people. */
  readonly notes: readonly string[];
}

const rcodeName = (rcode: number): string =>
  Object.entries(Rcode).find(([, v]) => v === rcode)?.[0] ?? String(rcode);

/** The types a service answers itself, for notes. */
const steeredTypes = (steered: SteeredName): string =>
  steered.service.type === 'cname' ? 'every type but DS' : 'A, AAAA and ANY';

/** Explains an answer from the zone data, as the responder gives it when it does not steer. */
function staticExplanation(
  zones: ZoneSet,
  name: Buffer,
  key: string,
  qtype: number,
  request: { client: string; ecs: string | undefined },
  steered: SteeredName | undefined,
): QueryExplanation {
  const result = lookup(zones, name, key, qtype);
  const notes = [
    steered
      ? `${nameToText(name)} is a service that answers ${steeredTypes(steered)}; ` +
        `${rrTypeName(qtype)} is answered from the zone data`
      : result.rcode === Rcode.REFUSED
        ? `${nameToText(name)} is in none of this server's zones`
        : `${nameToText(name)} is not a service: answered from the zone data`,
  ];
  if (result.rcode === Rcode.NOERROR && !result.authoritative)
    notes.push('below a zone cut: a referral to the delegated servers');
  return {
    kind: 'static',
    name: nameToText(name),
    type: rrTypeName(qtype),
    client: request.client,
    ecs: request.ecs,
    rcode: rcodeName(result.rcode),
    answers: result.answer.flatMap(({ rrset }) =>
      rdataOf(rrset).map((rdata) => rdataToText(rrset.type, Buffer.from(rdata, 'latin1'))),
    ),
    ttl: result.answer[0]?.ttl ?? result.authority[0]?.ttl,
    scope: 0,
    pool: undefined,
    allDown: false,
    steps: [],
    notes,
  };
}

/** Query types that are not questions to answer (the responder treats them apart). */
const NOT_QUERIES = new Map<number, string>([
  [RRType.OPT, 'OPT is not a query type (the server answers FORMERR)'],
  [RRType.AXFR, 'AXFR is a zone transfer, not a question explain can answer'],
  [RRType.IXFR, 'IXFR is a zone transfer, not a question explain can answer'],
]);

function parseName(text: string): Buffer {
  try {
    return nameFromText(text.endsWith('.') ? text : `${text}.`);
  } catch (error) {
    throw new ExplainError(`name "${text}" is not a domain name: ${(error as Error).message}`);
  }
}

/**
 * Says what the server would answer for a name and why, on the given state: for a service
 * asked a type it steers, each policy step; otherwise the zone data's answer, as the server
 * gives it (NODATA for MX at an address service). Used by `steerdns explain` and by a
 * running server. Throws ExplainError for a bad name, type, client or ECS.
 */
export function explainQuery(
  deps: SteeringDeps,
  zones: ZoneSet,
  request: ExplainRequest,
): QueryExplanation {
  const name = parseName(request.name);
  const qtype = parseRRType(request.type ?? 'A');
  if (qtype === undefined) throw new ExplainError(`unknown type "${request.type ?? ''}"`);
  const notQuery = NOT_QUERIES.get(qtype);
  if (notQuery !== undefined) throw new ExplainError(notQuery);
  const client = request.client ?? '127.0.0.1';
  if (!parseCidr(client) || client.includes('/'))
    throw new ExplainError(`client must be an address, got "${client}"`);
  const q = new ParsedQuery();
  if (parseQuery(queryPacket(name, qtype, request.ecs), q) !== Verdict.OK)
    throw new ExplainError(`bad query: ${q.problem}`);
  const key = wireKey(name);
  const steered = deps.names.get(key);
  if (!steered || !steers(steered.service, qtype)) {
    const base = lookup(zones, name, key, qtype, steeredCheck(deps.names));
    if (base.chased || base.steeredTargets) {
      const answer = chaseSteered(base, deps, q, client, zones, true);
      const via = base.chased
        ? `a CNAME chain to the service ${nameToText(base.chased)}`
        : `targets that are services (${base.steeredTargets!.map((t) => nameToText(t)).join(', ')})`;
      const note = `${nameToText(name)} leads to ${via}: that part of the answer is steered`;
      return {
        kind: 'steered',
        ...explanationOf(q, name, client, request.ecs, answer),
        notes: [note],
      };
    }
    return staticExplanation(zones, name, key, qtype, { client, ecs: request.ecs }, steered);
  }
  const answer = steer(steered, deps, q, name, client, zones, true);
  return { kind: 'steered', ...explanationOf(q, name, client, request.ecs, answer), notes: [] };
}

/**
 * {@link explainQuery} with its errors as values: what the operator interface's `explain`
 * callback returns (an ExplainError becomes a 400 with its code and message).
 */
export function explainOrError(
  deps: SteeringDeps,
  zones: ZoneSet,
  request: ExplainRequest,
): QueryExplanation | ExplainError {
  try {
    return explainQuery(deps, zones, request);
  } catch (error) {
    if (error instanceof ExplainError) return error;
    throw error;
  }
}
