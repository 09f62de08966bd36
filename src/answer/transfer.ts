import { Flag } from '../dns/constants.js';
import type { ParsedQuery } from '../dns/query.js';
import type { MessageWriter } from '../dns/writer.js';
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

/** The messages of a full zone transfer, each with the question and compressed names. */
export function transferMessages(
  writer: MessageWriter,
  q: ParsedQuery,
  msg: Buffer,
  zone: Zone,
): Buffer[] {
  const messages: Buffer[] = [];
  let count = 0;
  const start = (): void => {
    writer.reset();
    writer.u16(q.id);
    writer.u16(replyFlags(q) | Flag.AA);
    writer.u16(1);
    writer.u16(0);
    writer.u32(0);
    writer.remember(zone.origin, 12);
    writer.bytes(msg.subarray(12, q.questionEnd));
    count = 0;
  };
  const finish = (): void => {
    writer.patchU16(6, count);
    messages.push(writer.toBuffer());
  };
  start();
  for (const { owner, rrset } of axfrRecords(zone)) {
    for (const rdata of rdataOf(rrset)) {
      if (writer.length > MESSAGE_BUDGET) {
        finish();
        start();
      }
      writer.rr(owner, rrset.type, rrset.ttl, rdata);
      count++;
    }
  }
  finish();
  return messages;
}
