/**
 * Group sub-frames: the body of a chat frame of type `group` (session/frames.ts), exchanged between members over
 * their pairwise sessions (and, for invites, between friends). Fixed layouts, each `type u8 ‖ groupId[32] ‖ …`:
 *
 *   heads    0x01  opCount u8 ‖ opHeads[32 ×] ‖ messageCount u8 ‖ messageHeads[32 ×]   (≤ 16 each: what the
 *                  sender has; also its delivery frontier)
 *   want     0x02  count u8 (1..64) ‖ hashes[32 ×]                 (entries the sender lacks: gaps, new heads)
 *   entry    0x03  one signed entry (group-entry.ts, ≤ 18 KiB)
 *   read     0x04  count u8 (0..16) ‖ heads[32 ×]                  (the sender has read up to these)
 *   typing   0x05  isTyping u8 (0|1)
 *   peers    0x06  count u8 (≤ 100) ‖ count × (member[32] ‖ size u8 (6|18) ‖ compact address (BEP 5 / 32))
 *                  (where the sender reaches other members: how members who are not friends find each other)
 *   invite   0x07  nameLen u8 (1..255) ‖ name (UTF-8)               (to a friend: join my group)
 *   join     0x08  (nothing)                                        (the invitee accepts: add me)
 *   decline  0x09  (nothing)
 * Decoding never throws: anything else is undefined and the session is closed as for any bad chat frame.
 */
import type { UdpAddress } from '../../runtime/index.ts';
import { COMPACT_ADDRESS_BYTES, decodeCompactAddress, encodeCompactAddress } from '../../wire/index.ts';
import { MAX_GROUP_FRAME_BYTES } from '../session/frames.ts';
import {
  ENTRY_HASH_BYTES,
  GROUP_ID_BYTES,
  MAX_ENTRY_BYTES,
  MAX_PARENTS,
  PUBLIC_KEY_BYTES,
} from './group-entry.ts';
import { MAX_GROUP_MEMBERS } from './group-key-seal.ts';
import { MAX_GROUP_NAME_BYTES } from './group-ops.ts';

export const MAX_WANT_HASHES = 64;

export const GroupFrameType = {
  heads: 1,
  want: 2,
  entry: 3,
  read: 4,
  typing: 5,
  peers: 6,
  invite: 7,
  join: 8,
  decline: 9,
} as const;

export interface MemberEndpoint {
  readonly member: Buffer;
  readonly address: UdpAddress;
}

export type GroupFrame =
  | { type: 'heads'; groupId: Buffer; opHeads: Buffer[]; messageHeads: Buffer[] }
  | { type: 'want'; groupId: Buffer; hashes: Buffer[] }
  | { type: 'entry'; groupId: Buffer; entry: Buffer }
  | { type: 'read'; groupId: Buffer; heads: Buffer[] }
  | { type: 'typing'; groupId: Buffer; isTyping: boolean }
  | { type: 'peers'; groupId: Buffer; peers: MemberEndpoint[] }
  | { type: 'invite'; groupId: Buffer; name: string }
  | { type: 'join'; groupId: Buffer }
  | { type: 'decline'; groupId: Buffer };

if (1 + GROUP_ID_BYTES + MAX_ENTRY_BYTES > MAX_GROUP_FRAME_BYTES)
  throw new Error('a group frame must fit an entry');

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Local: throws RangeError for fields out of range. */
export function encodeGroupFrame(frame: GroupFrame): Buffer {
  if (frame.groupId.length !== GROUP_ID_BYTES) throw new RangeError('a group id is 32 bytes');
  const head = Buffer.concat([Buffer.of(GroupFrameType[frame.type]), frame.groupId]);
  switch (frame.type) {
    case 'heads':
      return Buffer.concat([
        head,
        hashList(frame.opHeads, MAX_PARENTS, 0),
        hashList(frame.messageHeads, MAX_PARENTS, 0),
      ]);
    case 'want':
      return Buffer.concat([head, hashList(frame.hashes, MAX_WANT_HASHES, 1)]);
    case 'entry':
      if (frame.entry.length < 1 || frame.entry.length > MAX_ENTRY_BYTES) throw new RangeError('entry size');
      return Buffer.concat([head, frame.entry]);
    case 'read':
      return Buffer.concat([head, hashList(frame.heads, MAX_PARENTS, 0)]);
    case 'typing':
      return Buffer.concat([head, Buffer.of(frame.isTyping ? 1 : 0)]);
    case 'peers': {
      if (frame.peers.length > MAX_GROUP_MEMBERS) throw new RangeError('too many peers');
      return Buffer.concat([head, Buffer.of(frame.peers.length), ...frame.peers.map(encodePeer)]);
    }
    case 'invite': {
      const name = Buffer.from(frame.name, 'utf8');
      if (name.length < 1 || name.length > MAX_GROUP_NAME_BYTES) throw new RangeError('group name size');
      return Buffer.concat([head, Buffer.of(name.length), name]);
    }
    case 'join':
    case 'decline':
      return head;
  }
}

/** Decodes a group frame body (remote input: undefined when malformed; never throws). */
export function decodeGroupFrame(body: Buffer): GroupFrame | undefined {
  if (body.length < 1 + GROUP_ID_BYTES || body.length > MAX_GROUP_FRAME_BYTES) return undefined;
  const groupId = Buffer.from(body.subarray(1, 1 + GROUP_ID_BYTES));
  const rest = body.subarray(1 + GROUP_ID_BYTES);
  switch (body[0]) {
    case GroupFrameType.heads: {
      const ops = readHashList(rest, MAX_PARENTS, 0);
      if (ops === undefined) return undefined;
      const messages = readHashList(rest.subarray(ops.length), MAX_PARENTS, 0);
      if (messages === undefined || ops.length + messages.length !== rest.length) return undefined;
      return { type: 'heads', groupId, opHeads: ops.hashes, messageHeads: messages.hashes };
    }
    case GroupFrameType.want: {
      const list = readHashList(rest, MAX_WANT_HASHES, 1);
      return list === undefined || list.length !== rest.length
        ? undefined
        : { type: 'want', groupId, hashes: list.hashes };
    }
    case GroupFrameType.entry:
      return rest.length < 1 || rest.length > MAX_ENTRY_BYTES
        ? undefined
        : { type: 'entry', groupId, entry: Buffer.from(rest) };
    case GroupFrameType.read: {
      const list = readHashList(rest, MAX_PARENTS, 0);
      return list === undefined || list.length !== rest.length
        ? undefined
        : { type: 'read', groupId, heads: list.hashes };
    }
    case GroupFrameType.typing:
      return rest.length === 1 && (rest[0] as number) <= 1
        ? { type: 'typing', groupId, isTyping: rest[0] === 1 }
        : undefined;
    case GroupFrameType.peers:
      return decodePeers(groupId, rest);
    case GroupFrameType.invite: {
      const length = rest[0] ?? 0;
      if (length < 1 || rest.length !== 1 + length) return undefined;
      try {
        return { type: 'invite', groupId, name: utf8.decode(rest.subarray(1)) };
      } catch {
        return undefined;
      }
    }
    case GroupFrameType.join:
      return rest.length === 0 ? { type: 'join', groupId } : undefined;
    case GroupFrameType.decline:
      return rest.length === 0 ? { type: 'decline', groupId } : undefined;
    default:
      return undefined;
  }
}

function hashList(hashes: readonly Buffer[], max: number, min: number): Buffer {
  if (hashes.length < min || hashes.length > max) throw new RangeError(`${min}-${max} hashes`);
  for (const hash of hashes) if (hash.length !== ENTRY_HASH_BYTES) throw new RangeError('a hash is 32 bytes');
  return Buffer.concat([Buffer.of(hashes.length), ...hashes]);
}

function readHashList(
  bytes: Buffer,
  max: number,
  min: number,
): { hashes: Buffer[]; length: number } | undefined {
  const count = bytes[0];
  if (count === undefined || count < min || count > max) return undefined;
  const length = 1 + count * ENTRY_HASH_BYTES;
  if (bytes.length < length) return undefined;
  const hashes: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const at = 1 + i * ENTRY_HASH_BYTES;
    hashes.push(Buffer.from(bytes.subarray(at, at + ENTRY_HASH_BYTES)));
  }
  return { hashes, length };
}

function encodePeer(peer: MemberEndpoint): Buffer {
  if (peer.member.length !== PUBLIC_KEY_BYTES) throw new RangeError('a member key is 32 bytes');
  const address = encodeCompactAddress(peer.address);
  return Buffer.concat([peer.member, Buffer.of(address.length), address]);
}

function decodePeers(groupId: Buffer, bytes: Buffer): GroupFrame | undefined {
  const count = bytes[0];
  if (count === undefined || count > MAX_GROUP_MEMBERS) return undefined;
  const peers: MemberEndpoint[] = [];
  let at = 1;
  for (let i = 0; i < count; i++) {
    const size = bytes[at + PUBLIC_KEY_BYTES];
    if (size !== COMPACT_ADDRESS_BYTES[4] && size !== COMPACT_ADDRESS_BYTES[6]) return undefined;
    const start = at + PUBLIC_KEY_BYTES + 1;
    if (bytes.length < start + size) return undefined;
    const address = decodeCompactAddress(bytes.subarray(start, start + size));
    if (address === undefined || address.port === 0) return undefined;
    peers.push({ member: Buffer.from(bytes.subarray(at, at + PUBLIC_KEY_BYTES)), address });
    at = start + size;
  }
  return at === bytes.length ? { type: 'peers', groupId, peers } : undefined;
}
