/**
 * A group message's body (docs/PROTOCOL.md "Groups", "Messages"): its text encrypted under the epoch key at
 * the message's ratchet step.
 *
 *   body      = epoch[32] ‖ step u16 ‖ nonce[16] ‖ ChaCha20-Poly1305(messageKey, nonce 0, aad, plaintext)
 *   stepKey 0 = the epoch key;  stepKey s+1 = HKDF(stepKey s, "dhtchat/group/ratchet/v1", groupId ‖ epoch)
 *   messageKey = HKDF(stepKey step, "dhtchat/group/message/v1", groupId ‖ author ‖ nonce)
 *   aad       = the entry's bytes before the body ‖ epoch ‖ step ‖ nonce   (author, seq, parents: all bound)
 *   plaintext = contentType u8 (1 text) ‖ textLength u16 ‖ text (UTF-8) ‖ zeros to a multiple of 64 bytes
 *               or a file offer (content type 2, group-file-offer.ts)
 *
 * `epoch` is the hash of the op whose key block handed out the epoch key. The step is the number of UTC days
 * between that op and the message, by the author's clock: every member ratchets its copy forward and deletes
 * the steps older than its retention window (group-keys.ts), so a key stolen later opens nothing older. Each
 * message key seals once (a fresh random nonce per message), so the AEAD nonce can be zero.
 */
import { chachaPolyDecrypt, chachaPolyEncrypt } from '../../crypto/index.ts';
import { deriveSubkey } from '../kdf.ts';
import { AEAD_KEY_BYTES, AEAD_NONCE_BYTES, AEAD_TAG_BYTES, LABELS } from '../labels.ts';
import { MAX_MESSAGE_TEXT_BYTES } from '../store/message-state.ts';
import { ENTRY_HASH_BYTES } from './group-entry.ts';
import {
  CONTENT_FILE_OFFER,
  decodeFileOfferPlaintext,
  encodeFileOfferPlaintext,
  type GroupFileOffer,
} from './group-file-offer.ts';

export const MESSAGE_NONCE_BYTES = 16;
export const MAX_RATCHET_STEP = 0xffff;
export const CONTENT_TEXT = 1;
const BODY_HEADER_BYTES = ENTRY_HASH_BYTES + 2 + MESSAGE_NONCE_BYTES;
const PADDING_BLOCK = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What a group message carries. */
export type GroupContent = { type: 'text'; text: string } | { type: 'file-offer'; offer: GroupFileOffer };
/**
 * What an opened body holds: a content we read, or one of a type a later version writes (kept in the history,
 * never shown, so that the entries naming it as a parent are not held forever waiting on it).
 */
export type OpenedContent = GroupContent | { type: 'unknown'; contentType: number };

export interface MessageBody {
  readonly epoch: Buffer;
  readonly step: number;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
}

/** Decodes a message body's layout (remote input: undefined when malformed; never throws). */
export function decodeMessageBody(body: Buffer): MessageBody | undefined {
  if (body.length < BODY_HEADER_BYTES + AEAD_TAG_BYTES + PADDING_BLOCK) return undefined;
  return {
    epoch: Buffer.from(body.subarray(0, ENTRY_HASH_BYTES)),
    step: body.readUInt16BE(ENTRY_HASH_BYTES),
    nonce: Buffer.from(body.subarray(ENTRY_HASH_BYTES + 2, BODY_HEADER_BYTES)),
    ciphertext: Buffer.from(body.subarray(BODY_HEADER_BYTES)),
  };
}

/**
 * Encrypts `text` (or a file offer: `content`) as a message body. `entryHeader` is encodeHeader() of the entry
 * the body goes into, `stepKey` the epoch key ratcheted to `step`. Local: throws RangeError for a text over
 * 16 KiB, an offer out of range, or a step out of range.
 */
export function sealMessageBody(opts: {
  entryHeader: Buffer;
  groupId: Buffer;
  author: Buffer;
  epoch: Buffer;
  step: number;
  stepKey: Buffer;
  nonce: Buffer;
  text?: string;
  content?: GroupContent;
}): Buffer {
  const content: GroupContent = opts.content ?? { type: 'text', text: opts.text ?? '' };
  const plaintext =
    content.type === 'text' ? textPlaintext(content.text) : encodeFileOfferPlaintext(content.offer);
  if (!Number.isInteger(opts.step) || opts.step < 0 || opts.step > MAX_RATCHET_STEP)
    throw new RangeError('step');
  if (opts.nonce.length !== MESSAGE_NONCE_BYTES) throw new RangeError('a message nonce is 16 bytes');
  const bodyHeader = Buffer.alloc(BODY_HEADER_BYTES);
  opts.epoch.copy(bodyHeader, 0);
  bodyHeader.writeUInt16BE(opts.step, ENTRY_HASH_BYTES);
  opts.nonce.copy(bodyHeader, ENTRY_HASH_BYTES + 2);
  const key = messageKey(opts.stepKey, opts.groupId, opts.author, opts.nonce);
  const aad = Buffer.concat([opts.entryHeader, bodyHeader]);
  const sealed = chachaPolyEncrypt(key, Buffer.alloc(AEAD_NONCE_BYTES), aad, plaintext);
  key.fill(0);
  return Buffer.concat([bodyHeader, sealed]);
}

function textPlaintext(value: string): Buffer {
  const text = Buffer.from(value, 'utf8');
  if (text.length > MAX_MESSAGE_TEXT_BYTES) throw new RangeError('message text over 16 KiB');
  const padded = Math.ceil((3 + text.length) / PADDING_BLOCK) * PADDING_BLOCK;
  const plaintext = Buffer.alloc(padded);
  plaintext[0] = CONTENT_TEXT;
  plaintext.writeUInt16BE(text.length, 1);
  text.copy(plaintext, 3);
  return plaintext;
}

/**
 * The text of a message body, given the step key; undefined when it does not open (wrong key, altered bytes)
 * or the plaintext is malformed. `entryHeader` is entry.bytes before entry.bodyOffset. Never throws.
 */
export function openMessageBody(opts: {
  entryHeader: Buffer;
  groupId: Buffer;
  author: Buffer;
  body: MessageBody;
  stepKey: Buffer;
}): string | undefined {
  const content = openMessageContent(opts);
  return content?.type === 'text' ? content.text : undefined;
}

/** What a message body carries (a text, a file offer), given the step key; undefined as openMessageBody. */
export function openMessageContent(opts: {
  entryHeader: Buffer;
  groupId: Buffer;
  author: Buffer;
  body: MessageBody;
  stepKey: Buffer;
}): OpenedContent | undefined {
  const { body } = opts;
  const bodyHeader = Buffer.alloc(BODY_HEADER_BYTES);
  body.epoch.copy(bodyHeader, 0);
  bodyHeader.writeUInt16BE(body.step, ENTRY_HASH_BYTES);
  body.nonce.copy(bodyHeader, ENTRY_HASH_BYTES + 2);
  const key = messageKey(opts.stepKey, opts.groupId, opts.author, body.nonce);
  const aad = Buffer.concat([opts.entryHeader, bodyHeader]);
  const plaintext = chachaPolyDecrypt(key, Buffer.alloc(AEAD_NONCE_BYTES), aad, body.ciphertext);
  key.fill(0);
  return plaintext === undefined ? undefined : decodeContent(plaintext);
}

/**
 * The content of an opened plaintext by its type byte (exported for its fuzz target); undefined when malformed.
 * A type byte we do not know, in a padded plaintext, is `unknown`: the author's signature and the group key
 * already vouch for it, only this version cannot show it.
 */
export function decodeContent(plaintext: Buffer): OpenedContent | undefined {
  const contentType = plaintext[0];
  if (contentType === undefined || plaintext.length % PADDING_BLOCK !== 0) return undefined;
  if (contentType !== CONTENT_TEXT && contentType !== CONTENT_FILE_OFFER)
    return { type: 'unknown', contentType };
  if (contentType === CONTENT_FILE_OFFER) {
    const offer = decodeFileOfferPlaintext(plaintext);
    return offer === undefined ? undefined : { type: 'file-offer', offer };
  }
  const text = decodePlaintext(plaintext);
  return text === undefined ? undefined : { type: 'text', text };
}

/** The text inside an opened plaintext (exported for its fuzz target); undefined when malformed. */
export function decodePlaintext(plaintext: Buffer): string | undefined {
  if (plaintext.length < 3 || plaintext.length % PADDING_BLOCK !== 0 || plaintext[0] !== CONTENT_TEXT) {
    return undefined;
  }
  const length = plaintext.readUInt16BE(1);
  if (length < 1 || length > MAX_MESSAGE_TEXT_BYTES || 3 + length > plaintext.length) return undefined;
  if (plaintext.subarray(3 + length).some((b) => b !== 0)) return undefined;
  try {
    return utf8.decode(plaintext.subarray(3, 3 + length));
  } catch {
    return undefined;
  }
}

/** The epoch key ratcheted from `fromStep` (holding `key`) to `toStep`; undefined when toStep is behind. */
export function ratchetTo(
  key: Buffer,
  fromStep: number,
  toStep: number,
  groupId: Buffer,
  epoch: Buffer,
): Buffer | undefined {
  if (toStep < fromStep || toStep > MAX_RATCHET_STEP) return undefined;
  let current = key;
  for (let step = fromStep; step < toStep; step++) {
    const next = deriveSubkey(current, LABELS.groupRatchet, [groupId, epoch], AEAD_KEY_BYTES);
    if (current !== key) current.fill(0);
    current = next;
  }
  return current === key ? Buffer.from(key) : current;
}

function messageKey(stepKey: Buffer, groupId: Buffer, author: Buffer, nonce: Buffer): Buffer {
  return deriveSubkey(stepKey, LABELS.groupMessage, [groupId, author, nonce], AEAD_KEY_BYTES);
}
