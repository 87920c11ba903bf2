/**
 * Where volunteer relays are found: `dhtchat relay` announces itself (BEP 5 announce_peer, its chat/uTP port) on
 *
 *   topic(day) = SHA-1("dhtchat/relay/v1" ‖ 0x00 ‖ UTC day number as u32)
 *
 * and clients look there with get_peers. Why a topic per day rather than one fixed info-hash: a fixed one puts
 * every relay's announce and every client's lookup on the same 8 DHT nodes forever, and lets an attacker place
 * nodes next to it once to answer every lookup with addresses of its choosing; rotated daily, the load moves
 * and such an eclipse must be set up again each day. Near midnight (within RELAY_TOPIC_OVERLAP_MS) relays
 * announce on both days and clients look at both.
 */
import { createHash } from 'node:crypto';
import { DAY_EPOCH_MS, dayEpoch } from '../epoch.ts';
import { u32 } from '../kdf.ts';
import { LABELS } from '../labels.ts';

export const RELAY_TOPIC_OVERLAP_MS = 60 * 60_000;

export function relayTopic(day: number): Buffer {
  return createHash('sha1')
    .update(LABELS.relayTopic)
    .update(Buffer.from([0]))
    .update(u32(day))
    .digest();
}

/** The days whose topic counts at nowMs: today, and the neighbour within the overlap of midnight. */
export function relayTopicDays(nowMs: number): number[] {
  const day = dayEpoch(nowMs);
  const intoDayMs = nowMs - day * DAY_EPOCH_MS;
  if (intoDayMs < RELAY_TOPIC_OVERLAP_MS) return [day, day - 1];
  if (DAY_EPOCH_MS - intoDayMs <= RELAY_TOPIC_OVERLAP_MS) return [day, day + 1];
  return [day];
}
