/**
 * Membership ops: the body of an entry of kind `op` (group-entry.ts). Who may issue which op, and what it does
 * to the membership, is membership.ts; this file is the layout and the group id.
 *
 *   create   0x01  nonce[16] ‖ nameLen u8 ‖ name (UTF-8, 1..255 bytes) ‖ keyBlock (to the creator alone)
 *   add      0x02  target[32] ‖ headCount u8 ‖ headCount × (messageHead[32] ‖ lamport u32) ‖ keyBlock
 *                  (to the members and the target)
 *   remove   0x03  target[32] ‖ targetLastSeq u32 ‖ keyBlock (the members left)
 *   leave    0x04  (nothing: the author leaves; its cut-off is this entry's seq)
 *   promote  0x05  target[32]
 *   rekey    0x06  keyBlock (the members)
 *
 * groupId = SHA-256("dhtchat/group/id/v1" ‖ 0x00 ‖ creator ‖ nonce): only the creator can sign a create for
 * its id, so nobody else can start a second history under the same id. An add names the message heads the admin
 * had seen, with their lamports: the new member's history starts after them (it holds no key for anything
 * before), and its first message names them as parents. A remove names the
 * last seq of the removed member's entries the admin had seen: the removed member's later entries that did not
 * see the removal are dropped by every member alike (membership.ts "cut-offs").
 */
import { createHash } from 'node:crypto';
import { LABELS } from '../labels.ts';
import { ENTRY_HASH_BYTES, MAX_PARENTS, PUBLIC_KEY_BYTES } from './group-entry.ts';
import { decodeKeyBlock, encodeKeyBlock, type KeyBlock } from './group-key-seal.ts';

export const CREATE_NONCE_BYTES = 16;
export const MAX_GROUP_NAME_BYTES = 255;
const HEAD_REF_BYTES = ENTRY_HASH_BYTES + 4;

export const OpType = { create: 1, add: 2, remove: 3, leave: 4, promote: 5, rekey: 6 } as const;
export type OpTypeName = keyof typeof OpType;

export type GroupOp =
  | { type: 'create'; nonce: Buffer; name: string; keys: KeyBlock }
  | { type: 'add'; target: Buffer; messageHeads: HeadRef[]; keys: KeyBlock }
  | { type: 'remove'; target: Buffer; targetLastSeq: number; keys: KeyBlock }
  | { type: 'leave' }
  | { type: 'promote'; target: Buffer }
  | { type: 'rekey'; keys: KeyBlock };

/** A message head an add op names: where the new member's history starts. */
export interface HeadRef {
  readonly hash: Buffer;
  readonly lamport: number;
}

/** The ops that hand out a new epoch key. */
export type KeyOp = Extract<GroupOp, { keys: KeyBlock }>;

export function isKeyOp(op: GroupOp): op is KeyOp {
  return 'keys' in op;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function groupIdFor(creator: Buffer, nonce: Buffer): Buffer {
  return createHash('sha256')
    .update(LABELS.groupId, 'ascii')
    .update(Buffer.of(0))
    .update(creator)
    .update(nonce)
    .digest();
}

/** Local: throws RangeError for fields out of range. */
export function encodeOp(op: GroupOp): Buffer {
  const type = Buffer.of(OpType[op.type]);
  switch (op.type) {
    case 'create': {
      const name = Buffer.from(op.name, 'utf8');
      if (op.nonce.length !== CREATE_NONCE_BYTES) throw new RangeError('a create nonce is 16 bytes');
      if (name.length < 1 || name.length > MAX_GROUP_NAME_BYTES) throw new RangeError('group name size');
      return Buffer.concat([type, op.nonce, Buffer.of(name.length & 0xff), name, encodeKeyBlock(op.keys)]);
    }
    case 'add': {
      if (op.messageHeads.length > MAX_PARENTS) throw new RangeError(`at most ${MAX_PARENTS} heads`);
      const heads = [...op.messageHeads]
        .sort((a, b) => Buffer.compare(a.hash, b.hash))
        .map((h) => {
          if (h.hash.length !== ENTRY_HASH_BYTES) throw new RangeError('a head is a 32-byte hash');
          const lamport = Buffer.alloc(4);
          lamport.writeUInt32BE(h.lamport);
          return Buffer.concat([h.hash, lamport]);
        });
      return Buffer.concat([
        type,
        key(op.target),
        Buffer.of(heads.length),
        ...heads,
        encodeKeyBlock(op.keys),
      ]);
    }
    case 'remove': {
      const last = Buffer.alloc(4);
      last.writeUInt32BE(op.targetLastSeq);
      return Buffer.concat([type, key(op.target), last, encodeKeyBlock(op.keys)]);
    }
    case 'leave':
      return type;
    case 'promote':
      return Buffer.concat([type, key(op.target)]);
    case 'rekey':
      return Buffer.concat([type, encodeKeyBlock(op.keys)]);
  }
}

/** Decodes an op body (remote input: undefined when malformed, never throws). */
export function decodeOp(body: Buffer): GroupOp | undefined {
  const rest = body.subarray(1);
  switch (body[0]) {
    case OpType.create: {
      const nameLength = rest[CREATE_NONCE_BYTES];
      const nameStart = CREATE_NONCE_BYTES + 1;
      if (nameLength === undefined || nameLength < 1 || rest.length < nameStart + nameLength)
        return undefined;
      const name = text(rest.subarray(nameStart, nameStart + nameLength));
      const keys = wholeKeyBlock(rest.subarray(nameStart + nameLength));
      if (name === undefined || keys === undefined) return undefined;
      return { type: 'create', nonce: Buffer.from(rest.subarray(0, CREATE_NONCE_BYTES)), name, keys };
    }
    case OpType.add: {
      const count = rest[PUBLIC_KEY_BYTES];
      if (count === undefined || count > MAX_PARENTS) return undefined;
      const headsEnd = PUBLIC_KEY_BYTES + 1 + count * HEAD_REF_BYTES;
      if (rest.length < headsEnd) return undefined;
      const messageHeads: HeadRef[] = [];
      for (let i = 0; i < count; i++) {
        const at = PUBLIC_KEY_BYTES + 1 + i * HEAD_REF_BYTES;
        const hash = Buffer.from(rest.subarray(at, at + ENTRY_HASH_BYTES));
        const previous = messageHeads[messageHeads.length - 1];
        if (previous !== undefined && Buffer.compare(previous.hash, hash) >= 0) return undefined;
        const lamport = rest.readUInt32BE(at + ENTRY_HASH_BYTES);
        if (lamport < 1) return undefined;
        messageHeads.push({ hash, lamport });
      }
      const keys = wholeKeyBlock(rest.subarray(headsEnd));
      if (keys === undefined) return undefined;
      return { type: 'add', target: Buffer.from(rest.subarray(0, PUBLIC_KEY_BYTES)), messageHeads, keys };
    }
    case OpType.remove: {
      if (rest.length < PUBLIC_KEY_BYTES + 4) return undefined;
      const keys = wholeKeyBlock(rest.subarray(PUBLIC_KEY_BYTES + 4));
      if (keys === undefined) return undefined;
      const target = Buffer.from(rest.subarray(0, PUBLIC_KEY_BYTES));
      return { type: 'remove', target, targetLastSeq: rest.readUInt32BE(PUBLIC_KEY_BYTES), keys };
    }
    case OpType.leave:
      return rest.length === 0 ? { type: 'leave' } : undefined;
    case OpType.promote:
      return rest.length === PUBLIC_KEY_BYTES ? { type: 'promote', target: Buffer.from(rest) } : undefined;
    case OpType.rekey: {
      const keys = wholeKeyBlock(rest);
      return keys === undefined ? undefined : { type: 'rekey', keys };
    }
    default:
      return undefined;
  }
}

/** The recipients of an op's key block: the holders of the epoch it starts. */
export function holdersOf(op: KeyOp): Buffer[] {
  return op.keys.slots.map((s) => s.recipient);
}

function wholeKeyBlock(bytes: Buffer): KeyBlock | undefined {
  const decoded = decodeKeyBlock(bytes);
  return decoded !== undefined && decoded.length === bytes.length ? decoded.block : undefined;
}

function key(target: Buffer): Buffer {
  if (target.length !== PUBLIC_KEY_BYTES) throw new RangeError('a member key is 32 bytes');
  return target;
}

function text(bytes: Buffer): string | undefined {
  if (bytes.length > MAX_GROUP_NAME_BYTES) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
