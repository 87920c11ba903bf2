/**
 * The selective ACK extension (BEP 29 "Selective ACK"). Bit i of the mask (byte i >> 3, bit i & 7, least
 * significant first) acknowledges packet ack_nr + 2 + i; ack_nr + 1 is implied missing. The mask is a multiple of
 * 4 bytes. We cap what we send at MAX_SACK_BYTES (1024 packets past ack_nr), enough for any window we advertise.
 */
import { DUP_ACK_LIMIT, seqAdd, seqDiff } from './header.ts';

export const MAX_SACK_BYTES = 128;

/**
 * Builds the mask for a receiver whose cumulative ack is ackNr and which holds the out-of-order packets in
 * `received` (keyed by sequence number). Returns undefined when nothing past ack_nr + 1 is held.
 */
export function buildSack(
  ackNr: number,
  received: ReadonlyMap<number, unknown>,
  maxAheadPackets: number,
): Buffer | undefined {
  if (received.size === 0) return undefined;
  const limit = Math.min(maxAheadPackets, MAX_SACK_BYTES * 8);
  let highest = -1;
  for (const seq of received.keys()) {
    const i = seqDiff(seq, ackNr) - 2;
    if (i >= 0 && i < limit && i > highest) highest = i;
  }
  if (highest < 0) return undefined;
  const mask = Buffer.alloc(Math.ceil((highest + 1) / 32) * 4);
  for (const seq of received.keys()) {
    const i = seqDiff(seq, ackNr) - 2;
    if (i >= 0 && i <= highest) mask[i >> 3] = (mask[i >> 3] as number) | (1 << (i & 7));
  }
  return mask;
}

/** Calls fn(seq) for every packet the mask acknowledges, in increasing order. */
export function forEachSacked(ackNr: number, mask: Uint8Array, fn: (seq: number) => void): void {
  for (let byte = 0; byte < mask.length; byte++) {
    const bits = mask[byte] as number;
    if (bits === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      if (bits & (1 << bit)) fn(seqAdd(ackNr, 2 + byte * 8 + bit));
    }
  }
}

/**
 * BEP 29 "packet loss", for a selective ACK: a packet not acked, with DUP_ACK_LIMIT or more packets acked after
 * it, is lost. ack_nr + 1 is implicitly missing; bit i stands for ack_nr + 2 + i. Oldest first.
 */
export function lostBySack(ackNr: number, mask: Uint8Array): number[] {
  const lost: number[] = [];
  let ackedAfter = 0;
  for (let i = mask.length * 8 - 1; i >= -1; i--) {
    const isAcked = i >= 0 && ((mask[i >> 3] as number) & (1 << (i & 7))) !== 0;
    if (isAcked) ackedAfter++;
    else if (ackedAfter >= DUP_ACK_LIMIT) lost.push(seqAdd(ackNr, 2 + i));
  }
  return lost.reverse();
}
