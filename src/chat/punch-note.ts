/**
 * The sealed "punch to me" note a caller sends its friend through an introducer (docs/PROTOCOL.md "Reaching a friend
 * behind NAT"; the introducer's side is src/dht/note-relay.ts). Only the friend can open it; the introducer sees
 * an opaque, fixed-size blob.
 *
 *   note  = version (1) ‖ nonce (12, random) ‖ ChaCha20-Poly1305(key, nonce, aad, plaintext)
 *   key   = punchNoteKey(K, senderPk)                       (pair-secret.ts: one key per direction)
 *   aad   = "dhtchat/punch/v1" ‖ senderPk ‖ receiverPk
 *   plaintext = timestampMs (u64 BE) ‖ the sender's endpoint as its introducers see it (compact, 6/18 bytes;
 *               empty when not known yet: the receiver then uses the address the introducer saw)
 *
 * The receiver knows neither the sender nor the key in advance: it tries the key of each friend (trial
 * decryption; a tag in clear would let introducers link notes). Freshness and replay are the caller's to check
 * (punch-service.ts); this file only seals and opens. Opening never throws.
 */
import { chachaPolyDecrypt, chachaPolyEncrypt } from '../crypto/index.ts';
import type { Random, UdpAddress } from '../runtime/index.ts';
import { decodeCompactAddress, encodeCompactAddress } from '../wire/index.ts';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS } from './labels.ts';

export const PUNCH_NOTE_VERSION = 1;
const TIMESTAMP_BYTES = 8;
const HEADER_BYTES = 1 + AEAD_NONCE_BYTES;
/** The largest note (IPv6 endpoint): well under the introducer's NOTE_MAX_BYTES. */
export const PUNCH_NOTE_MAX_BYTES = HEADER_BYTES + TIMESTAMP_BYTES + 18 + AEAD_TAG_BYTES;

export interface PunchNote {
  readonly timestampMs: number;
  readonly endpoint?: UdpAddress;
  /** The note's random nonce: the receiver's replay filter keys on it. */
  readonly nonce: Buffer;
}

export interface NoteParties {
  /** punchNoteKey(K, senderPk). */
  readonly key: Uint8Array;
  readonly senderPk: Uint8Array;
  readonly receiverPk: Uint8Array;
}

function aad(p: NoteParties): Buffer {
  return Buffer.concat([Buffer.from(LABELS.punchNote, 'ascii'), p.senderPk, p.receiverPk]);
}

export function sealPunchNote(
  parties: NoteParties,
  note: { timestampMs: number; endpoint?: UdpAddress },
  random: Random,
): Buffer {
  const nonce = random.bytes(AEAD_NONCE_BYTES);
  const time = Buffer.alloc(TIMESTAMP_BYTES);
  time.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(note.timestampMs))));
  const endpoint = note.endpoint === undefined ? Buffer.alloc(0) : encodeCompactAddress(note.endpoint);
  const sealed = chachaPolyEncrypt(parties.key, nonce, aad(parties), Buffer.concat([time, endpoint]));
  return Buffer.concat([Buffer.from([PUNCH_NOTE_VERSION]), nonce, sealed]);
}

/** The note, or undefined when it is not a note of this sender to this receiver (or is malformed). */
export function openPunchNote(parties: NoteParties, bytes: Uint8Array): PunchNote | undefined {
  if (bytes.length < HEADER_BYTES + TIMESTAMP_BYTES + AEAD_TAG_BYTES || bytes.length > PUNCH_NOTE_MAX_BYTES)
    return undefined;
  if (bytes[0] !== PUNCH_NOTE_VERSION) return undefined;
  const nonce = Buffer.from(bytes.subarray(1, HEADER_BYTES));
  const plain = chachaPolyDecrypt(parties.key, nonce, aad(parties), bytes.subarray(HEADER_BYTES));
  if (plain === undefined) return undefined;
  const timestampMs = Number(plain.readBigUInt64BE(0));
  if (!Number.isSafeInteger(timestampMs)) return undefined;
  const rest = plain.subarray(TIMESTAMP_BYTES);
  if (rest.length === 0) return { timestampMs, nonce };
  const endpoint = decodeCompactAddress(rest);
  if (endpoint === undefined || endpoint.port === 0) return undefined;
  return { timestampMs, endpoint, nonce };
}
