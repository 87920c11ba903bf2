/**
 * Chat frames: what two friends say to each other inside a secure stream. Fixed binary layouts (no general
 * decoder to abuse), each frame a u32 big-endian length then one type byte then its body:
 *   hello    0x01  version u8
 *   message  0x02  id[16] createdMs u64 senderSeq u32 text (UTF-8, the rest, ≤ 16 KiB)
 *   ack      0x03  count u8 (1..64) ids[16 × count]        (received and committed)
 *   read     0x04  count u8 (1..64) ids[16 × count]        (read receipts)
 *   typing   0x05  isTyping u8 (0|1)
 *   ping     0x06  nonce u32;   pong 0x07 nonce u32
 *   request  0x08  stampHour u32 stampNonces[16 × 8] nameLen u8 name (UTF-8, ≤ 64 bytes) message (UTF-8, the
 *                  rest, ≤ 1 KiB)                          (the stamp: request-stamp.ts)
 *   profile  0x0a  name (UTF-8, the rest, 1..256 bytes: 64 code points)   (the name the sender gives itself;
 *                  sent only to a peer whose hello said version ≥ 2: a version-1 peer drops unknown frames)
 *   request-ack 0x0b  status u8 (0 received | 1 stamp refused) stampBits u8 (the work the recipient asks for)
 *   file-offer 0x0c  transferId[16] size u64 pieceBytes u32 root[32] name (UTF-8, the rest, 1..1024 bytes)
 *   file-state 0x0d  transferId[16] state u8 (1 complete, 2 declined, 3 canceled, 4 unavailable)
 *                  (both only to a peer whose hello said version ≥ 3; docs/PROTOCOL.md "Files")
 *   group    0x0e  body (1..MAX_GROUP_FRAME_BYTES: a group sub-frame, src/chat/groups/group-frames.ts; sent only
 *                  to a peer whose hello said version ≥ 3)
 *   forward  0x0f  tag[16] note (the rest, 1..64 bytes)   "pass this punch note on to your friend with this tag"
 *   relayed  0x10  from[32] note (the rest, 1..64 bytes)  "this friend of ours sent you a punch note"
 *                  (both sent only to a peer whose hello said version ≥ 4; punch-forwarding.ts; from = the
 *                  sender itself, over a relayed session: "punch with me now")
 * Decoding never throws: anything not exactly one of these (bad length, trailing bytes, invalid UTF-8, a
 * timestamp beyond 2^53) is a result with a stable code, and the session drops the peer.
 */
import { MESSAGE_ID_BYTES } from '../labels.ts';
import { type RequestStamp, STAMP_NONCES_BYTES } from '../request-stamp.ts';
import { MAX_MESSAGE_TEXT_BYTES } from '../store/message-state.ts';

/**
 * 2: knows the profile frame; 3: the file frames (and the file channel) and the group frame; 4: the punch
 * forwarding frames. A frame a peer's version does not know is never sent to it (it would close the session).
 */
export const CHAT_PROTOCOL_VERSION = 4;
/** The first version whose peers accept a profile frame. */
export const PROFILE_FRAME_VERSION = 2;
/** The first version whose peers accept file-offer and file-state frames and file streams. */
export const FILE_FRAME_VERSION = 3;
export const FILE_ID_BYTES = 16;
const FILE_ROOT_BYTES = 32;
/** A sender's file name as offered (ours are far shorter once made safe: files/safe-name.ts). */
export const MAX_OFFER_NAME_BYTES = 1024;
const FILE_OFFER_HEADER_BYTES = 1 + FILE_ID_BYTES + 8 + 4 + FILE_ROOT_BYTES;
/** What a file-state frame says about a transfer. */
export const FileStateCode = { complete: 1, declined: 2, canceled: 3, unavailable: 4 } as const;
export type FileStateName = keyof typeof FileStateCode;
/** The first version whose peers accept a group frame (an older peer would close the session on it). */
export const GROUP_FRAME_VERSION = 3;
/** The first version whose peers accept forward and relayed frames. */
export const FORWARD_FRAME_VERSION = 4;
/** A punch note in a forward/relayed frame (punch-note.ts: at most 55 bytes today). */
export const MAX_FORWARDED_NOTE_BYTES = 64;
export const FORWARD_TAG_BYTES = 16;
const PUBLIC_KEY_BYTES = 32;
export const FrameType = {
  hello: 0x01,
  message: 0x02,
  ack: 0x03,
  read: 0x04,
  typing: 0x05,
  ping: 0x06,
  pong: 0x07,
  request: 0x08,
  profile: 0x0a,
  requestAck: 0x0b,
  fileOffer: 0x0c,
  fileState: 0x0d,
  group: 0x0e,
  forward: 0x0f,
  relayed: 0x10,
} as const;
/** What a request-ack says: the request is stored for the user, or it was dropped for want of a valid stamp. */
export const REQUEST_ACK_STATUSES = ['received', 'stamp-refused'] as const;
export type RequestAckStatus = (typeof REQUEST_ACK_STATUSES)[number];
export const MAX_IDS_PER_FRAME = 64;
export const MAX_REQUEST_NAME_BYTES = 64;
export const MAX_REQUEST_MESSAGE_BYTES = 1024;
/** 64 code points of at most 4 bytes each. */
export const MAX_PROFILE_NAME_BYTES = 256;
const LENGTH_BYTES = 4;
const STAMP_BYTES = 4 + STAMP_NONCES_BYTES;
const MESSAGE_HEADER_BYTES = 1 + MESSAGE_ID_BYTES + 8 + 4;
/** A group sub-frame: its type, the group id and one entry of at most 18 KiB (groups/group-entry.ts). */
export const MAX_GROUP_FRAME_BYTES = 1 + 32 + 18 * 1024;
/** The largest body a valid frame can have: a group frame (a message of 16 KiB is a little smaller). */
export const MAX_CHAT_FRAME_BYTES = Math.max(
  MESSAGE_HEADER_BYTES + MAX_MESSAGE_TEXT_BYTES,
  1 + MAX_GROUP_FRAME_BYTES,
);

export type ChatFrame =
  | { type: 'hello'; version: number }
  | { type: 'message'; id: Buffer; createdMs: number; senderSeq: number; text: string }
  | { type: 'ack'; ids: Buffer[] }
  | { type: 'read'; ids: Buffer[] }
  | { type: 'typing'; isTyping: boolean }
  | { type: 'ping'; nonce: number }
  | { type: 'pong'; nonce: number }
  | { type: 'request'; name: string; message: string; stamp: RequestStamp }
  | { type: 'profile'; name: string }
  | { type: 'request-ack'; status: RequestAckStatus; stampBits: number }
  | {
      type: 'file-offer';
      transferId: Buffer;
      sizeBytes: number;
      pieceBytes: number;
      root: Buffer;
      name: string;
    }
  | { type: 'file-state'; transferId: Buffer; state: FileStateName }
  | { type: 'group'; body: Buffer }
  | { type: 'forward'; tag: Buffer; note: Buffer }
  | { type: 'relayed'; from: Buffer; note: Buffer };

export const FrameErrorCode = {
  tooLarge: 'CHAT_FRAME_TOO_LARGE',
  malformed: 'CHAT_FRAME_MALFORMED',
  unknownType: 'CHAT_FRAME_UNKNOWN_TYPE',
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

export type FrameResult = { ok: true; frame: ChatFrame } | { ok: false; code: FrameErrorCode };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Encodes one frame with its length prefix. Throws (local misuse) on out-of-range fields. */
export function encodeChatFrame(frame: ChatFrame): Buffer {
  const body = encodeBody(frame);
  if (body.length > MAX_CHAT_FRAME_BYTES) throw new RangeError('chat frame too large');
  const out = Buffer.allocUnsafe(LENGTH_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, LENGTH_BYTES);
  return out;
}

function encodeBody(frame: ChatFrame): Buffer {
  switch (frame.type) {
    case 'hello':
      return Buffer.of(FrameType.hello, frame.version & 0xff);
    case 'message': {
      checkId(frame.id);
      const text = Buffer.from(frame.text, 'utf8');
      if (text.length > MAX_MESSAGE_TEXT_BYTES) throw new RangeError('message text over 16 KiB');
      const head = Buffer.alloc(MESSAGE_HEADER_BYTES);
      head[0] = FrameType.message;
      frame.id.copy(head, 1);
      head.writeBigUInt64BE(BigInt(frame.createdMs), 1 + MESSAGE_ID_BYTES);
      head.writeUInt32BE(frame.senderSeq >>> 0, 1 + MESSAGE_ID_BYTES + 8);
      return Buffer.concat([head, text]);
    }
    case 'ack':
    case 'read': {
      if (frame.ids.length < 1 || frame.ids.length > MAX_IDS_PER_FRAME) throw new RangeError('1-64 ids');
      for (const id of frame.ids) checkId(id);
      return Buffer.concat([Buffer.of(FrameType[frame.type], frame.ids.length), ...frame.ids]);
    }
    case 'typing':
      return Buffer.of(FrameType.typing, frame.isTyping ? 1 : 0);
    case 'ping':
    case 'pong': {
      const out = Buffer.alloc(5);
      out[0] = FrameType[frame.type];
      out.writeUInt32BE(frame.nonce >>> 0, 1);
      return out;
    }
    case 'request': {
      const name = Buffer.from(frame.name, 'utf8');
      const message = Buffer.from(frame.message, 'utf8');
      if (name.length > MAX_REQUEST_NAME_BYTES) throw new RangeError('request name over 64 bytes');
      if (message.length > MAX_REQUEST_MESSAGE_BYTES) throw new RangeError('request message over 1 KiB');
      if (frame.stamp.nonces.length !== STAMP_NONCES_BYTES)
        throw new RangeError('stamp nonces are 128 bytes');
      const head = Buffer.alloc(1 + STAMP_BYTES + 1);
      head[0] = FrameType.request;
      head.writeUInt32BE(frame.stamp.hour >>> 0, 1);
      frame.stamp.nonces.copy(head, 5);
      head[1 + STAMP_BYTES] = name.length;
      return Buffer.concat([head, name, message]);
    }
    case 'request-ack':
      return Buffer.of(
        FrameType.requestAck,
        REQUEST_ACK_STATUSES.indexOf(frame.status),
        frame.stampBits & 0xff,
      );
    case 'profile': {
      const name = Buffer.from(frame.name, 'utf8');
      if (name.length < 1 || name.length > MAX_PROFILE_NAME_BYTES) throw new RangeError('profile name size');
      return Buffer.concat([Buffer.of(FrameType.profile), name]);
    }
    case 'file-offer': {
      const name = Buffer.from(frame.name, 'utf8');
      if (name.length < 1 || name.length > MAX_OFFER_NAME_BYTES) throw new RangeError('offer name size');
      if (frame.transferId.length !== FILE_ID_BYTES || frame.root.length !== FILE_ROOT_BYTES) {
        throw new RangeError('transfer id or root size');
      }
      const head = Buffer.alloc(FILE_OFFER_HEADER_BYTES);
      head[0] = FrameType.fileOffer;
      frame.transferId.copy(head, 1);
      head.writeBigUInt64BE(BigInt(frame.sizeBytes), 1 + FILE_ID_BYTES);
      head.writeUInt32BE(frame.pieceBytes >>> 0, 1 + FILE_ID_BYTES + 8);
      frame.root.copy(head, 1 + FILE_ID_BYTES + 12);
      return Buffer.concat([head, name]);
    }
    case 'file-state':
      if (frame.transferId.length !== FILE_ID_BYTES) throw new RangeError('a transfer id is 16 bytes');
      return Buffer.concat([
        Buffer.of(FrameType.fileState),
        frame.transferId,
        Buffer.of(FileStateCode[frame.state]),
      ]);
    case 'group':
      if (frame.body.length < 1 || frame.body.length > MAX_GROUP_FRAME_BYTES)
        throw new RangeError('group frame size');
      return Buffer.concat([Buffer.of(FrameType.group), frame.body]);
    case 'forward':
    case 'relayed': {
      const head = frame.type === 'forward' ? frame.tag : frame.from;
      const headBytes = frame.type === 'forward' ? FORWARD_TAG_BYTES : PUBLIC_KEY_BYTES;
      if (head.length !== headBytes) throw new RangeError(`${frame.type}: head of ${headBytes} bytes`);
      if (frame.note.length < 1 || frame.note.length > MAX_FORWARDED_NOTE_BYTES)
        throw new RangeError('note size');
      return Buffer.concat([Buffer.of(FrameType[frame.type]), head, frame.note]);
    }
  }
}

function checkId(id: Buffer): void {
  if (id.length !== MESSAGE_ID_BYTES) throw new RangeError(`a message id is ${MESSAGE_ID_BYTES} bytes`);
}

/** Decodes one frame body (without its length prefix). Never throws. */
export function decodeChatFrame(body: Buffer): FrameResult {
  if (body.length === 0) return bad('malformed');
  if (body.length > MAX_CHAT_FRAME_BYTES) return bad('tooLarge');
  const rest = body.subarray(1);
  switch (body[0]) {
    case FrameType.hello:
      return rest.length === 1 ? ok({ type: 'hello', version: rest[0] as number }) : bad('malformed');
    case FrameType.message: {
      if (body.length < MESSAGE_HEADER_BYTES) return bad('malformed');
      const createdMs = body.readBigUInt64BE(1 + MESSAGE_ID_BYTES);
      if (createdMs > BigInt(Number.MAX_SAFE_INTEGER)) return bad('malformed');
      const text = decodeText(body.subarray(MESSAGE_HEADER_BYTES), MAX_MESSAGE_TEXT_BYTES);
      if (text === undefined) return bad('malformed');
      return ok({
        type: 'message',
        id: Buffer.from(body.subarray(1, 1 + MESSAGE_ID_BYTES)),
        createdMs: Number(createdMs),
        senderSeq: body.readUInt32BE(1 + MESSAGE_ID_BYTES + 8),
        text,
      });
    }
    case FrameType.ack:
    case FrameType.read: {
      const count = rest[0] ?? 0;
      if (count < 1 || count > MAX_IDS_PER_FRAME || rest.length !== 1 + count * MESSAGE_ID_BYTES) {
        return bad('malformed');
      }
      const ids: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        const start = 1 + i * MESSAGE_ID_BYTES;
        ids.push(Buffer.from(rest.subarray(start, start + MESSAGE_ID_BYTES)));
      }
      return ok({ type: body[0] === FrameType.ack ? 'ack' : 'read', ids });
    }
    case FrameType.typing:
      if (rest.length !== 1 || (rest[0] as number) > 1) return bad('malformed');
      return ok({ type: 'typing', isTyping: rest[0] === 1 });
    case FrameType.ping:
    case FrameType.pong:
      if (rest.length !== 4) return bad('malformed');
      return ok({ type: body[0] === FrameType.ping ? 'ping' : 'pong', nonce: rest.readUInt32BE(0) });
    case FrameType.request: {
      const nameLength = rest[STAMP_BYTES];
      const nameStart = STAMP_BYTES + 1;
      if (
        nameLength === undefined ||
        nameLength > MAX_REQUEST_NAME_BYTES ||
        rest.length < nameStart + nameLength
      ) {
        return bad('malformed');
      }
      const name = decodeText(rest.subarray(nameStart, nameStart + nameLength), MAX_REQUEST_NAME_BYTES);
      const message = decodeText(rest.subarray(nameStart + nameLength), MAX_REQUEST_MESSAGE_BYTES);
      if (name === undefined || message === undefined) return bad('malformed');
      const stamp = { hour: rest.readUInt32BE(0), nonces: Buffer.from(rest.subarray(4, STAMP_BYTES)) };
      return ok({ type: 'request', name, message, stamp });
    }
    case FrameType.requestAck: {
      const status = REQUEST_ACK_STATUSES[rest[0] ?? REQUEST_ACK_STATUSES.length];
      if (rest.length !== 2 || status === undefined) return bad('malformed');
      return ok({ type: 'request-ack', status, stampBits: rest[1] as number });
    }
    case FrameType.profile: {
      const name = rest.length === 0 ? undefined : decodeText(rest, MAX_PROFILE_NAME_BYTES);
      return name === undefined ? bad('malformed') : ok({ type: 'profile', name });
    }
    case FrameType.fileOffer: {
      if (body.length < FILE_OFFER_HEADER_BYTES + 1) return bad('malformed');
      const sizeBytes = body.readBigUInt64BE(1 + FILE_ID_BYTES);
      if (sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) return bad('malformed');
      const name = decodeText(body.subarray(FILE_OFFER_HEADER_BYTES), MAX_OFFER_NAME_BYTES);
      if (name === undefined) return bad('malformed');
      return ok({
        type: 'file-offer',
        transferId: Buffer.from(body.subarray(1, 1 + FILE_ID_BYTES)),
        sizeBytes: Number(sizeBytes),
        pieceBytes: body.readUInt32BE(1 + FILE_ID_BYTES + 8),
        root: Buffer.from(body.subarray(1 + FILE_ID_BYTES + 12, FILE_OFFER_HEADER_BYTES)),
        name,
      });
    }
    case FrameType.fileState: {
      const state = fileStateOf(rest[FILE_ID_BYTES]);
      if (rest.length !== FILE_ID_BYTES + 1 || state === undefined) return bad('malformed');
      return ok({ type: 'file-state', transferId: Buffer.from(rest.subarray(0, FILE_ID_BYTES)), state });
    }
    case FrameType.group:
      if (rest.length < 1 || rest.length > MAX_GROUP_FRAME_BYTES) return bad('malformed');
      return ok({ type: 'group', body: Buffer.from(rest) });
    case FrameType.forward:
    case FrameType.relayed: {
      const headBytes = body[0] === FrameType.forward ? FORWARD_TAG_BYTES : PUBLIC_KEY_BYTES;
      const noteBytes = rest.length - headBytes;
      if (noteBytes < 1 || noteBytes > MAX_FORWARDED_NOTE_BYTES) return bad('malformed');
      const head = Buffer.from(rest.subarray(0, headBytes));
      const note = Buffer.from(rest.subarray(headBytes));
      return ok(
        body[0] === FrameType.forward
          ? { type: 'forward', tag: head, note }
          : { type: 'relayed', from: head, note },
      );
    }
    default:
      return bad('unknownType');
  }
}

function fileStateOf(code: number | undefined): FileStateName | undefined {
  for (const [name, value] of Object.entries(FileStateCode)) if (value === code) return name as FileStateName;
  return undefined;
}

function decodeText(bytes: Buffer, maxBytes: number): string | undefined {
  if (bytes.length > maxBytes) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function ok(frame: ChatFrame): FrameResult {
  return { ok: true, frame };
}

function bad(key: keyof typeof FrameErrorCode): FrameResult {
  return { ok: false, code: FrameErrorCode[key] };
}

/**
 * Splits a byte stream into frames. push() returns the frames completed so far, or the first error (after which
 * the reader refuses everything: the stream is dropped). Buffers at most one frame plus its prefix.
 */
export class ChatFrameReader {
  #buffered: Buffer = Buffer.alloc(0);
  #error: FrameErrorCode | undefined;

  push(chunk: Buffer): { frames: ChatFrame[]; error?: FrameErrorCode } {
    const frames: ChatFrame[] = [];
    if (this.#error !== undefined) return { frames, error: this.#error };
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    while (this.#buffered.length >= LENGTH_BYTES) {
      const length = this.#buffered.readUInt32BE(0);
      if (length > MAX_CHAT_FRAME_BYTES) return this.#fail(frames, FrameErrorCode.tooLarge);
      if (this.#buffered.length < LENGTH_BYTES + length) break;
      const result = decodeChatFrame(this.#buffered.subarray(LENGTH_BYTES, LENGTH_BYTES + length));
      this.#buffered = this.#buffered.subarray(LENGTH_BYTES + length);
      if (!result.ok) return this.#fail(frames, result.code);
      frames.push(result.frame);
    }
    return { frames };
  }

  #fail(frames: ChatFrame[], code: FrameErrorCode): { frames: ChatFrame[]; error: FrameErrorCode } {
    this.#error = code;
    this.#buffered = Buffer.alloc(0);
    return { frames, error: code };
  }
}
