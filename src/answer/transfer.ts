import { Flag } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import { MessageWriter } from '../dns/writer.js';
import { nodeName, rdataOf, rrsetsOf, type RRset, type Zone } from '../zone/zone.js';
import { replyFlags } from './reply.js';

/** Bytes of records per AXFR message before a new one is started. */
const MESSAGE_BUDGET = 16_000;

/** Every record of the zone in AXFR order: the SOA, the rest, the SOA again (RFC 5936). */
function* axfrRecords(zone: Zone): Generator<{ owner: Buffer; rrset: RRset }> {
  const apexNode = zone.nodes.get(zone.key);
  const apex = { owner: apexNode ? nodeName(apexNode) : zone.origin, rrset: zone.soa };
  yield apex;
  for (const node of zone.nodes.values()) {
    const owner = nodeName(node);
    for (const rrset of rrsetsOf(node)) if (rrset !== zone.soa) yield { owner, rrset };
  }
  yield apex;
}

/**
 * The messages of a full zone transfer, each with the question and compressed names, made
 * one at a time as the caller asks for them: a large zone is never held whole, and the
 * transport can wait for the client to read (and let other work run) between messages.
 * What the messages need of `q` and `msg` is copied now (both are reused by the next query);
 * `zone` is the snapshot of now, so a reload during the transfer does not change it.
 */
export function transferMessages(q: ParsedQuery, msg: Buffer, zone: Zone): Iterable<Buffer> {
  const id = q.id;
  const flags = replyFlags(q) | Flag.AA;
  const question = Buffer.from(msg.subarray(12, q.questionEnd));
  return messagesOf(new MessageWriter(), id, flags, question, zone);
}

function* messagesOf(
  writer: MessageWriter,
  id: number,
  flags: number,
  question: Buffer,
  zone: Zone,
): Generator<Buffer> {
  let count = 0;
  const start = (): void => {
    writer.reset();
    writer.u16(id);
    writer.u16(flags);
    writer.u16(1);
    writer.u16(0);
    writer.u32(0);
    writer.remember(zone.origin, 12);
    writer.bytes(question);
    count = 0;
  };
  start();
  for (const { owner, rrset } of axfrRecords(zone)) {
    for (const rdata of rdataOf(rrset)) {
      if (writer.length > MESSAGE_BUDGET) {
        writer.patchU16(6, count);
        yield writer.toBuffer();
        start();
      }
      writer.rr(owner, rrset.type, rrset.ttl, rdata);
      count++;
    }
  }
  writer.patchU16(6, count);
  yield writer.toBuffer();
}
