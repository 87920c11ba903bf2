/**
 * A group entry: one signed unit of a group's history (docs/PROTOCOL.md "Groups"), either a message or a
 * membership op. Every member stores, forwards and orders entries by their hash; only the author's signature
 * makes one valid, so whoever forwards an entry can neither forge nor alter it.
 *
 *   entry  = version u8 (1) ‖ kind u8 (1 message, 2 op) ‖ groupId[32] ‖ author[32] ‖ seq u32 ‖ lamport u32
 *            ‖ createdMs u64 ‖ parentCount u8 ‖ parents[32 × parentCount] ‖ body ‖ signature[64]
 *   signature = Ed25519(author, "dhtchat/group/entry/v1" ‖ 0x00 ‖ every byte before the signature)
 *   hash   = SHA-256(entry)            the entry's id everywhere (parents, heads, wants, message ids)
 *
 * seq counts the author's entries in the group (1, 2, …, one counter for messages and ops): a removal names
 * the removed member's last seq it had seen. parents are the heads the author had seen — other messages for a
 * message, other ops for an op (two DAGs, so a member who joins later can check every op without holding any
 * message before its join) — sorted ascending, distinct, at most MAX_PARENTS. lamport is 1 + the highest
 * parent's lamport (1 without parents): sorting by (lamport, hash) is then a topological order that every
 * member computes alike, whatever subset of the DAG it holds.
 * Decoding never throws and checks every size before reading; the signature is checked separately
 * (verifyEntrySignature), after the cheap checks.
 */
import { createHash } from 'node:crypto';
import { ed25519Sign, ed25519Verify, type Ed25519KeyPair } from '../../crypto/index.ts';
import { LABELS } from '../labels.ts';

export const ENTRY_VERSION = 1;
export const GROUP_ID_BYTES = 32;
export const ENTRY_HASH_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
/** Heads an entry may name: more concurrent heads than this are merged by the next entries. */
export const MAX_PARENTS = 16;
/**
 * The largest entry: a 16 KiB message with 16 parents is ~17.2 KiB, an op sealing a key to 100 members ~8.7 KiB.
 * It must fit one DHT bundle (group-bundle.ts, ~20 KiB) and one group frame.
 */
export const MAX_ENTRY_BYTES = 18 * 1024;
const HEADER_BYTES = 1 + 1 + GROUP_ID_BYTES + PUBLIC_KEY_BYTES + 4 + 4 + 8 + 1;
export const MIN_ENTRY_BYTES = HEADER_BYTES + 1 + SIGNATURE_BYTES;

export const EntryKind = { message: 1, op: 2 } as const;
export type EntryKindName = keyof typeof EntryKind;

export interface EntryFields {
  readonly kind: EntryKindName;
  readonly groupId: Buffer;
  readonly author: Buffer;
  readonly seq: number;
  readonly lamport: number;
  readonly createdMs: number;
  readonly parents: readonly Buffer[];
  readonly body: Buffer;
}

export interface GroupEntry extends EntryFields {
  /** The whole signed entry, as stored and sent. */
  readonly bytes: Buffer;
  readonly hash: Buffer;
  /** Where the body ends and the signature starts (the body's AEAD associated data is bytes[0, bodyOffset)). */
  readonly bodyOffset: number;
}

export const EntryDecodeError = {
  size: 'CHAT_GROUP_ENTRY_SIZE',
  malformed: 'CHAT_GROUP_ENTRY_MALFORMED',
} as const;
export type EntryDecodeErrorCode = (typeof EntryDecodeError)[keyof typeof EntryDecodeError];

export type EntryDecodeResult = { ok: true; entry: GroupEntry } | { ok: false; code: EntryDecodeErrorCode };

/** Encodes and signs an entry (local: throws RangeError on fields out of range). */
export function signEntry(fields: EntryFields, signing: Ed25519KeyPair): GroupEntry {
  const header = encodeHeader(fields);
  const unsigned = Buffer.concat([header, fields.body]);
  const signature = ed25519Sign(signing, signedBytes(unsigned));
  const bytes = Buffer.concat([unsigned, signature]);
  if (bytes.length > MAX_ENTRY_BYTES)
    throw new RangeError(`a group entry is at most ${MAX_ENTRY_BYTES} bytes`);
  return {
    ...fields,
    parents: sortParents(fields.parents),
    bytes,
    hash: entryHash(bytes),
    bodyOffset: header.length,
  };
}

/** The bytes before the body: what a message's AEAD binds as associated data (with the body's own header). */
export function encodeHeader(fields: Omit<EntryFields, 'body'>): Buffer {
  const parents = sortParents(fields.parents);
  if (parents.length > MAX_PARENTS) throw new RangeError(`at most ${MAX_PARENTS} parents`);
  for (const key of [fields.groupId, fields.author]) {
    if (key.length !== 32) throw new RangeError('group ids and author keys are 32 bytes');
  }
  checkU32(fields.seq, 1);
  checkU32(fields.lamport, 1);
  if (!Number.isSafeInteger(fields.createdMs) || fields.createdMs < 0) throw new RangeError('createdMs');
  const out = Buffer.alloc(HEADER_BYTES + parents.length * ENTRY_HASH_BYTES);
  let at = 0;
  out[at++] = ENTRY_VERSION;
  out[at++] = EntryKind[fields.kind];
  at += fields.groupId.copy(out, at);
  at += fields.author.copy(out, at);
  at = out.writeUInt32BE(fields.seq, at);
  at = out.writeUInt32BE(fields.lamport, at);
  at = out.writeBigUInt64BE(BigInt(fields.createdMs), at);
  out[at++] = parents.length;
  for (const parent of parents) {
    if (parent.length !== ENTRY_HASH_BYTES) throw new RangeError('a parent is a 32-byte entry hash');
    at += parent.copy(out, at);
  }
  return out;
}

/** Decodes an entry's structure (remote input: never throws). The signature is not checked here. */
export function decodeEntry(bytes: Buffer): EntryDecodeResult {
  if (bytes.length < MIN_ENTRY_BYTES || bytes.length > MAX_ENTRY_BYTES) return bad('size');
  if (bytes[0] !== ENTRY_VERSION) return bad('malformed');
  const kind = bytes[1] === EntryKind.message ? 'message' : bytes[1] === EntryKind.op ? 'op' : undefined;
  if (kind === undefined) return bad('malformed');
  const groupId = Buffer.from(bytes.subarray(2, 2 + GROUP_ID_BYTES));
  let at = 2 + GROUP_ID_BYTES;
  const author = Buffer.from(bytes.subarray(at, at + PUBLIC_KEY_BYTES));
  at += PUBLIC_KEY_BYTES;
  const seq = bytes.readUInt32BE(at);
  const lamport = bytes.readUInt32BE(at + 4);
  const created = bytes.readBigUInt64BE(at + 8);
  at += 16;
  const parentCount = bytes[at++] as number;
  if (seq < 1 || lamport < 1 || created > BigInt(Number.MAX_SAFE_INTEGER)) return bad('malformed');
  if (parentCount > MAX_PARENTS) return bad('malformed');
  const bodyOffset = at + parentCount * ENTRY_HASH_BYTES;
  if (bytes.length < bodyOffset + 1 + SIGNATURE_BYTES) return bad('malformed');
  const parents: Buffer[] = [];
  for (let i = 0; i < parentCount; i++) {
    const parent = Buffer.from(bytes.subarray(at, at + ENTRY_HASH_BYTES));
    at += ENTRY_HASH_BYTES;
    // Canonical: ascending and distinct, so one set of parents has one encoding.
    const previous = parents[parents.length - 1];
    if (previous !== undefined && Buffer.compare(previous, parent) >= 0) return bad('malformed');
    parents.push(parent);
  }
  if (parentCount === 0 && lamport !== 1) return bad('malformed');
  const signatureOffset = bytes.length - SIGNATURE_BYTES;
  const entry: GroupEntry = {
    kind,
    groupId,
    author,
    seq,
    lamport,
    createdMs: Number(created),
    parents,
    body: Buffer.from(bytes.subarray(bodyOffset, signatureOffset)),
    bytes: Buffer.from(bytes),
    hash: entryHash(bytes),
    bodyOffset,
  };
  return { ok: true, entry };
}

/** True when the author's signature covers the entry. */
export function verifyEntrySignature(entry: GroupEntry): boolean {
  const signatureOffset = entry.bytes.length - SIGNATURE_BYTES;
  return ed25519Verify(
    entry.author,
    signedBytes(entry.bytes.subarray(0, signatureOffset)),
    entry.bytes.subarray(signatureOffset),
  );
}

export function entryHash(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** The order every member shows: lamport, then hash (a topological order of the DAG, the same everywhere). */
export function compareEntries(
  a: { lamport: number; hash: Buffer },
  b: { lamport: number; hash: Buffer },
): number {
  return a.lamport - b.lamport || Buffer.compare(a.hash, b.hash);
}

export function sortParents(parents: readonly Buffer[]): Buffer[] {
  const unique = new Map(parents.map((p) => [p.toString('hex'), p]));
  return [...unique.values()].sort(Buffer.compare);
}

function signedBytes(unsigned: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(LABELS.groupEntry, 'ascii'), Buffer.of(0), unsigned]);
}

function checkU32(value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 0xffff_ffff)
    throw new RangeError(`bad u32 ${value}`);
}

function bad(key: keyof typeof EntryDecodeError): EntryDecodeResult {
  return { ok: false, code: EntryDecodeError[key] };
}
