import { rrTypeName } from '../dns/constants.js';
import { nameToText } from '../dns/name.js';
import type { ParsedQuery } from '../dns/query.js';
import type { Transport } from '../dns/transport.js';
import { formatAddress, unmapAddress } from '../lib/ip.js';
import type { ExplainRequest } from './explain.js';

/** A question the sampler took, as explain takes it, with when and how it came. */
export interface SampledQuestion {
  readonly request: ExplainRequest;
  readonly transport: Transport;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** The longest name on the wire (RFC 1035 3.1). */
const MAX_NAME = 255;

/**
 * Takes at most one real steered question each time it is armed, for the decisions log.
 * The answer path pays one property read per steered query while disarmed; the query it
 * takes costs a copy of the question into storage allocated here once (no allocation on
 * the answer path). The owner arms it on a timer (a few times a second) and takes the
 * question off the answer path with {@link take}, where turning it into text is free to
 * allocate.
 */
export class QuestionSampler {
  /** True when the next steered query should be copied (read by the answer path). */
  wanted = false;
  private filled = false;
  private readonly name = Buffer.alloc(MAX_NAME);
  private nameLength = 0;
  private qtype = 0;
  private address = '';
  private transport: Transport = 'udp';
  private at = 0;
  private hasEcs = false;
  private ecsFamily = 0;
  private ecsPrefix = 0;
  private readonly ecsAddress = Buffer.alloc(16);

  /** Asks for the next steered query (the slot's question, if not taken yet, is replaced). */
  arm(): void {
    this.wanted = true;
  }

  /**
   * Copies the question of `q` (its name is `msg` from 12 to `q.qnameEnd`). Called by the
   * answer path only when {@link wanted}; `address` is the transport's string, kept by
   * reference.
   */
  offer(q: ParsedQuery, msg: Buffer, transport: Transport, address: string, now: number): void {
    this.wanted = false;
    this.nameLength = msg.copy(this.name, 0, 12, Math.min(q.qnameEnd, 12 + MAX_NAME));
    this.qtype = q.qtype;
    this.address = address;
    this.transport = transport;
    this.at = now;
    this.hasEcs = q.hasEcs;
    if (q.hasEcs) {
      this.ecsFamily = q.ecsFamily;
      this.ecsPrefix = q.ecsSourcePrefix;
      q.ecsAddress.copy(this.ecsAddress);
    }
    this.filled = true;
  }

  /** The question copied since the last take, as text; undefined when none was. */
  take(): SampledQuestion | undefined {
    if (!this.filled) return undefined;
    this.filled = false;
    const ecs = this.hasEcs
      ? `${formatAddress(this.ecsAddress.subarray(0, this.ecsFamily === 1 ? 4 : 16))}/${this.ecsPrefix}`
      : undefined;
    const request: ExplainRequest = {
      name: nameToText(this.name.subarray(0, this.nameLength)),
      type: rrTypeName(this.qtype),
      client: unmapAddress(this.address),
      ...(ecs === undefined ? {} : { ecs }),
    };
    return { request, transport: this.transport, at: this.at };
  }
}
