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
import { steer, type SteeredAnswer, type SteeringDeps } from './steer.js';

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

/** A question that cannot be explained: unknown name or type, bad address. */
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
  const rcode = records
    ? 'NOERROR'
    : result
      ? (Object.entries(Rcode).find(([, v]) => v === result.rcode)?.[0] ?? String(result.rcode))
      : 'SERVFAIL';
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

/**
 * Says what the server would answer for a steered name and why, step by step, on the
 * given state. Used by `steerdns explain` and by a running server.
 */
export function explainQuery(
  deps: SteeringDeps,
  zones: ZoneSet,
  request: ExplainRequest,
): Explanation {
  const text = request.name.endsWith('.') ? request.name : `${request.name}.`;
  const name = nameFromText(text);
  const steered = deps.names.get(wireKey(name));
  if (!steered) throw new ExplainError(`${nameToText(name)} is not a steered name`);
  const qtype = parseRRType(request.type ?? 'A');
  if (qtype === undefined) throw new ExplainError(`unknown type "${request.type ?? ''}"`);
  const client = request.client ?? '127.0.0.1';
  if (!parseCidr(client) || client.includes('/'))
    throw new ExplainError(`client must be an address, got "${client}"`);
  const q = new ParsedQuery();
  if (parseQuery(queryPacket(name, qtype, request.ecs), q) !== Verdict.OK)
    throw new ExplainError(`bad query: ${q.problem}`);
  const answer = steer(steered, deps, q, name, client, zones, true);
  return explanationOf(q, name, client, request.ecs, answer);
}
