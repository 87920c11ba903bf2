/**
 * Where friend requests meet (docs/PROTOCOL.md "Friend requests"): the requester announces itself on an info-hash
 * derived from the recipient's public key and the hour; the recipient, online, looks there every minute. Only
 * someone who knows the recipient's key (its friend code) can compute the topic; the hour rotates it.
 */
import { createHash } from 'node:crypto';
import { u32 } from './kdf.ts';
import { LABELS } from './labels.ts';

/** SHA-1(label ‖ 0x00 ‖ recipient's Ed25519 public key ‖ hour epoch as u32): a 20-byte DHT info-hash. */
export function requestTopic(recipientPk: Uint8Array, hourEpoch: number): Buffer {
  return createHash('sha1')
    .update(LABELS.requestTopic)
    .update(Buffer.from([0]))
    .update(recipientPk)
    .update(u32(hourEpoch))
    .digest();
}
