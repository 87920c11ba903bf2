/**
 * A file offered to a group (docs/PROTOCOL.md "Group files"): the plaintext of a group message of content type
 * 2, sealed and signed like a text message (group-message-seal.ts), so it reaches every member — offline ones
 * through the DHT mailbox — the way a message does. It names the transfer; the bytes travel on file streams
 * (src/chat/files), from every member who has them.
 *
 *   plaintext = 0x02 ‖ transferId[16] ‖ size u64 ‖ pieceBytes u32 ‖ root[32] ‖ nameLength u16 ‖ name (UTF-8)
 *               ‖ zeros to a multiple of 64 bytes
 *
 * Decoding is strict (remote input, never throws): a layout a sender could have picked (layoutOf), a name of
 * 1..MAX_SAFE_NAME_BYTES valid UTF-8 bytes, nothing but zeros after it.
 */
import { layoutOf } from '../files/file-layout.ts';
import { MAX_SAFE_NAME_BYTES } from '../files/safe-name.ts';

export const CONTENT_FILE_OFFER = 2;
export const OFFER_TRANSFER_ID_BYTES = 16;
const ROOT_BYTES = 32;
const HEADER_BYTES = 1 + OFFER_TRANSFER_ID_BYTES + 8 + 4 + ROOT_BYTES + 2;
const PADDING_BLOCK = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface GroupFileOffer {
  readonly transferId: Buffer;
  readonly sizeBytes: number;
  readonly pieceBytes: number;
  /** The hash-tree root of the file's piece hashes (hash-tree.ts). */
  readonly root: Buffer;
  /** The sender's file name, made safe (safe-name.ts); receivers make it safe again. */
  readonly name: string;
}

/** The offer as a padded plaintext. Local: throws RangeError on fields out of range. */
export function encodeFileOfferPlaintext(offer: GroupFileOffer): Buffer {
  const name = Buffer.from(offer.name, 'utf8');
  if (name.length < 1 || name.length > MAX_SAFE_NAME_BYTES) throw new RangeError('file name size');
  if (offer.transferId.length !== OFFER_TRANSFER_ID_BYTES) throw new RangeError('a transfer id is 16 bytes');
  if (offer.root.length !== ROOT_BYTES) throw new RangeError('a root is 32 bytes');
  if (layoutOf(offer.sizeBytes, offer.pieceBytes) === undefined) throw new RangeError('file layout');
  const out = Buffer.alloc(Math.ceil((HEADER_BYTES + name.length) / PADDING_BLOCK) * PADDING_BLOCK);
  let at = 0;
  out[at++] = CONTENT_FILE_OFFER;
  at += offer.transferId.copy(out, at);
  out.writeBigUInt64BE(BigInt(offer.sizeBytes), at);
  at += 8;
  out.writeUInt32BE(offer.pieceBytes, at);
  at += 4;
  at += offer.root.copy(out, at);
  out.writeUInt16BE(name.length, at);
  at += 2;
  name.copy(out, at);
  return out;
}

/** The offer in an opened plaintext of content type 2; undefined when malformed. Never throws. */
export function decodeFileOfferPlaintext(plaintext: Buffer): GroupFileOffer | undefined {
  if (plaintext.length < HEADER_BYTES + 1 || plaintext.length % PADDING_BLOCK !== 0) return undefined;
  if (plaintext[0] !== CONTENT_FILE_OFFER) return undefined;
  let at = 1;
  const transferId = Buffer.from(plaintext.subarray(at, at + OFFER_TRANSFER_ID_BYTES));
  at += OFFER_TRANSFER_ID_BYTES;
  const size = plaintext.readBigUInt64BE(at);
  at += 8;
  const pieceBytes = plaintext.readUInt32BE(at);
  at += 4;
  const root = Buffer.from(plaintext.subarray(at, at + ROOT_BYTES));
  at += ROOT_BYTES;
  const nameLength = plaintext.readUInt16BE(at);
  at += 2;
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  const sizeBytes = Number(size);
  if (layoutOf(sizeBytes, pieceBytes) === undefined) return undefined;
  if (nameLength < 1 || nameLength > MAX_SAFE_NAME_BYTES || at + nameLength > plaintext.length)
    return undefined;
  if (plaintext.subarray(at + nameLength).some((b) => b !== 0)) return undefined;
  let name: string;
  try {
    name = utf8.decode(plaintext.subarray(at, at + nameLength));
  } catch {
    return undefined;
  }
  return { transferId, sizeBytes, pieceBytes, root, name };
}
