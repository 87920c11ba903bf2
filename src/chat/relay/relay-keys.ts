/**
 * What two friends derive to meet at a relay (docs/PROTOCOL.md "Relays"), from their pair secret K:
 *
 *   token(hour) = HKDF(K, "dhtchat/relay-token/v1", hour as u32)       32 bytes, presented in JOIN
 *   rank key    = HKDF(K, "dhtchat/relay-rank/v1")                       ranks relays for this pair
 *   role        = 0 for the friend with the lower public key, else 1    (and role 0 starts the Noise IK)
 *
 * The token rotates every hour, so a relay (or anyone watching JOINs) cannot follow a pair's token from one hour
 * to the next; near an hour's boundary the neighbouring hour's token goes too (clock skew up to
 * RELAY_TOKEN_SKEW_MS), and the relay matches on either. Relays are ranked by rendezvous hashing,
 * SHA-256(rank key ‖ compact address): two friends who know the same relays pick the same one first without
 * saying so, and a relay gone from one list only moves the choice for the pairs that ranked it first.
 */
import { createHash } from 'node:crypto';
import type { RelayJoin, RelayRole } from '../../net/index.ts';
import type { UdpAddress } from '../../runtime/index.ts';
import { encodeCompactAddress } from '../../wire/index.ts';
import { HOUR_EPOCH_MS, hourEpoch } from '../epoch.ts';
import { deriveSubkey, u32 } from '../kdf.ts';
import { LABELS } from '../labels.ts';

export const RELAY_TOKEN_BYTES = 32;
/** Clock skew between friends that still meets at a relay (the neighbouring hour's token is sent within it). */
export const RELAY_TOKEN_SKEW_MS = 15 * 60_000;

export function relayToken(pairSecret: Uint8Array, hour: number): Buffer {
  return deriveSubkey(pairSecret, LABELS.relayToken, [u32(hour)], RELAY_TOKEN_BYTES);
}

/** The tokens to present at nowMs: this hour's first, and the neighbour's within the skew of a boundary. */
export function relayTokensAt(pairSecret: Uint8Array, nowMs: number): Buffer[] {
  return tokenHoursAt(nowMs).map((hour) => relayToken(pairSecret, hour));
}

/** The hours whose tokens go in a JOIN at nowMs: this one, and the neighbour within RELAY_TOKEN_SKEW_MS. */
function tokenHoursAt(nowMs: number): number[] {
  const hour = hourEpoch(nowMs);
  const intoHourMs = nowMs - hour * HOUR_EPOCH_MS;
  if (intoHourMs < RELAY_TOKEN_SKEW_MS && hour > 0) return [hour, hour - 1];
  if (HOUR_EPOCH_MS - intoHourMs <= RELAY_TOKEN_SKEW_MS) return [hour, hour + 1];
  return [hour];
}

export function relayRankKey(pairSecret: Uint8Array): Buffer {
  return deriveSubkey(pairSecret, LABELS.relayRank, [], 32);
}

/** 0 for the friend whose Ed25519 key sorts first. */
export function relayRole(ownPk: Uint8Array, friendPk: Uint8Array): RelayRole {
  return Buffer.compare(Buffer.from(ownPk), Buffer.from(friendPk)) < 0 ? 0 : 1;
}

/** The relays in this pair's order of preference (duplicates dropped). */
export function rankRelays(rankKey: Uint8Array, relays: readonly UdpAddress[]): UdpAddress[] {
  const scored = new Map<string, { relay: UdpAddress; score: Buffer }>();
  for (const relay of relays) {
    const compact = encodeCompactAddress(relay);
    const key = compact.toString('hex');
    if (scored.has(key)) continue;
    const score = createHash('sha256').update(rankKey).update(compact).digest();
    scored.set(key, { relay, score });
  }
  return [...scored.values()].sort((a, b) => Buffer.compare(a.score, b.score)).map((s) => s.relay);
}

/**
 * What two sides meet with at a relay: the tokens to present now, the key that ranks relays, and our role. From a
 * pair secret (friends, above) or from a friend request's public inputs (requestMeeting).
 */
export interface RelayMeeting {
  readonly join: RelayJoin;
  readonly rankKey: Buffer;
}

/** Friends: tokens and rank key from the pair secret; the lower key calls. */
export function friendMeeting(
  pairSecret: Uint8Array,
  ownPk: Uint8Array,
  friendPk: Uint8Array,
  nowMs: number,
): RelayMeeting {
  return {
    join: { role: relayRole(ownPk, friendPk), tokens: relayTokensAt(pairSecret, nowMs) },
    rankKey: relayRankKey(pairSecret),
  };
}

/**
 * A friend request whose recipient cannot dial the requester back (a randomising NAT on the way; issue 11 §5):
 * both know the recipient's key and the requester's announced endpoint E (request-answer.ts), so both derive
 *
 *   token(hour) = SHA-256("dhtchat/request-relay-token/v1" ‖ 0x00 ‖ recipient's key ‖ compact(E) ‖ hour u32)
 *   rank key    = SHA-256("dhtchat/request-relay-rank/v1" ‖ 0x00 ‖ recipient's key ‖ compact(E))
 *
 * and the recipient calls (role 0: its XX dial-back, over the relay), the requester answers (role 1). The inputs
 * are not secret (whoever knows the recipient's code and stands at E, as for the answer topic): the token only
 * pairs two halves, and the Noise XX handshake and the request's own checks (stamp, rations) decide the rest.
 */
export function requestMeeting(
  recipientPk: Uint8Array,
  requester: UdpAddress,
  isRecipient: boolean,
  nowMs: number,
): RelayMeeting {
  const compact = encodeCompactAddress(requester);
  const hash = (label: string, ...parts: Uint8Array[]): Buffer => {
    const h = createHash('sha256')
      .update(label)
      .update(Buffer.from([0]))
      .update(recipientPk)
      .update(compact);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  return {
    join: {
      role: isRecipient ? 0 : 1,
      tokens: tokenHoursAt(nowMs).map((h) => hash(LABELS.requestRelayToken, u32(h))),
    },
    rankKey: hash(LABELS.requestRelayRank),
  };
}
