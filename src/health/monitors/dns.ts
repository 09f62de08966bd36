import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { Type } from '@sinclair/typebox';
import { Rcode, RRType } from '../../dns/constants.js';
import { nameFromText } from '../../dns/name.js';
import { defineMonitor, type Target } from '../monitor.js';
import { answerTexts, decodeReply, encodeQuery, sameAnswer, type Reply } from './dns-wire.js';
import { endpoint, errorReason, runProbe, type Finish } from './probe.js';

/** Types a check may ask for: every type we know by name that is not a meta-type. */
const QUERY_TYPES = Object.keys(RRType).filter((t) => !['OPT', 'IXFR', 'AXFR'].includes(t));

/** Response codes a check may expect (BADVERS needs EDNS, which checks do not send). */
const RCODES = Object.keys(Rcode).filter((r) => r !== 'BADVERS');

const rcodeNames: ReadonlyMap<number, string> = new Map(
  Object.entries(Rcode).map(([name, value]) => [value, name]),
);

const literals = (values: readonly string[]) => values.map((v) => Type.Literal(v));

/**
 * Sends one query over UDP and checks the reply's rcode and, with `answer`, that one of
 * the answer records reads as that text. Reasons: 'rcode NXDOMAIN', 'answer mismatch',
 * 'bad reply', 'timeout', 'refused' (ICMP port unreachable), other error codes
 * lower-cased. `create` throws a NameError for a `qname` that is not a domain name.
 * (`qname`/`qtype`, not `name`/`type`: `type` names the monitor in a check's settings.)
 */
export const dns = defineMonitor({
  type: 'dns',
  config: Type.Object(
    {
      qname: Type.String({ minLength: 1, description: 'the name to ask for' }),
      qtype: Type.Union(literals(QUERY_TYPES), {
        default: 'A',
        description: 'the type to ask for',
      }),
      rcode: Type.Union(literals(RCODES), {
        default: 'NOERROR',
        description: 'the response code that counts as up',
      }),
      answer: Type.Optional(
        Type.String({
          minLength: 1,
          description: 'text one answer record must read as (an address, a name, a TXT string)',
        }),
      ),
      recursion: Type.Boolean({
        default: false,
        description: 'set RD: ask a resolver rather than an authoritative server',
      }),
      port: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 65535, description: "default: the target's, else 53" }),
      ),
    },
    { additionalProperties: false },
  ),
  create: (config) => {
    const query: DnsQuery = {
      qname: nameFromText(config.qname.endsWith('.') ? config.qname : `${config.qname}.`),
      qtype: RRType[config.qtype as keyof typeof RRType],
      rcode: Rcode[config.rcode as keyof typeof Rcode],
      answer: config.answer,
      recursion: config.recursion,
      port: config.port,
    };
    return {
      type: 'dns',
      check: (target, signal) => runProbe(signal, (finish) => ask(query, target, finish)),
      close: () => Promise.resolve(),
    };
  },
});

/** A check's settings, parsed once. */
interface DnsQuery {
  readonly qname: Buffer;
  readonly qtype: number;
  readonly rcode: number;
  readonly answer: string | undefined;
  readonly recursion: boolean;
  readonly port: number | undefined;
}

function ask(query: DnsQuery, target: Target, finish: Finish): () => void {
  const to = endpoint(target, query.port, 53);
  if (typeof to === 'string') {
    finish(false, to);
    return () => undefined;
  }
  const id = randomInt(0x10000);
  const socket = createSocket(isIPv6(to.address) ? 'udp6' : 'udp4');
  socket.on('error', (error) => {
    finish(false, errorReason(error));
  });
  socket.on('message', (message) => {
    const reply = decodeReply(message, id, query.qname, query.qtype);
    if (reply === undefined) return; // not our reply: keep waiting
    if (typeof reply === 'string') finish(false, reply);
    else {
      const reason = judge(query, reply);
      finish(reason === undefined, reason);
    }
  });
  // A connected socket hears ICMP port unreachable ('refused') and only the target's replies.
  let closed = false;
  socket.connect(to.port, to.address, () => {
    if (!closed) socket.send(encodeQuery(id, query.qname, query.qtype, query.recursion));
  });
  return () => {
    closed = true;
    socket.close();
  };
}

/** Why a reply does not count as up, or undefined when it does. */
export function judge(query: Pick<DnsQuery, 'rcode' | 'answer'>, reply: Reply): string | undefined {
  if (reply.rcode !== query.rcode) return `rcode ${rcodeNames.get(reply.rcode) ?? reply.rcode}`;
  const expected = query.answer;
  if (expected === undefined) return undefined;
  const found = reply.answers.some((record) =>
    answerTexts(record).some((text) => sameAnswer(text, expected)),
  );
  return found ? undefined : 'answer mismatch';
}
