/**
 * Writing entries: the create op that starts a group, the other membership ops, and messages. Each function
 * returns a signed entry (group-entry.ts) ready to store and send; the GroupService decides seq and parents.
 * Epoch keys are fresh random bytes from the injected Random; they are sealed here and returned to the caller,
 * which stores its own copy (the author is always one of the holders).
 */
import type { Random } from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import { encodeHeader, type GroupEntry, signEntry } from './group-entry.ts';
import { EPOCH_KEY_BYTES, sealKeyBlock } from './group-key-seal.ts';
import { type GroupContent, sealMessageBody, MESSAGE_NONCE_BYTES } from './group-message-seal.ts';
import { CREATE_NONCE_BYTES, encodeOp, type GroupOp, groupIdFor } from './group-ops.ts';

export interface AuthorContext {
  readonly identity: Identity;
  readonly random: Random;
  readonly nowMs: number;
}

/** A parent as the author knows it: its hash and lamport (the entry's lamport is 1 + the highest). */
export interface ParentRef {
  readonly hash: Buffer;
  readonly lamport: number;
}

/** A new group: its id, its create op and the first epoch key (held by the creator alone). */
export function writeCreate(
  ctx: AuthorContext,
  name: string,
): { groupId: Buffer; entry: GroupEntry; epochKey: Buffer } {
  const nonce = ctx.random.bytes(CREATE_NONCE_BYTES);
  const groupId = groupIdFor(ctx.identity.publicKey, nonce);
  const epochKey = ctx.random.bytes(EPOCH_KEY_BYTES);
  const keys = sealKeyBlock(groupId, ctx.identity.publicKey, [ctx.identity.publicKey], epochKey, ctx.random);
  const entry = signEntry(
    {
      kind: 'op',
      groupId,
      author: ctx.identity.publicKey,
      seq: 1,
      lamport: 1,
      createdMs: ctx.nowMs,
      parents: [],
      body: encodeOp({ type: 'create', nonce, name, keys }),
    },
    ctx.identity.signing,
  );
  return { groupId, entry, epochKey };
}

/**
 * A membership op. For add, remove and rekey pass `recipients` (who will hold the new epoch key): the key is
 * made and sealed here and returned; the op's other fields come in `op` (its `keys` are filled in).
 */
export function writeOp(
  ctx: AuthorContext,
  at: { groupId: Buffer; seq: number; parents: readonly ParentRef[] },
  op: DistributiveOmit<GroupOp, 'keys'>,
  recipients?: readonly Buffer[],
): { entry: GroupEntry; epochKey: Buffer | undefined } {
  let epochKey: Buffer | undefined;
  let full: GroupOp;
  if (op.type === 'add' || op.type === 'remove' || op.type === 'rekey') {
    if (recipients === undefined)
      throw new RangeError(`a ${op.type} op seals a new epoch key: give recipients`);
    epochKey = ctx.random.bytes(EPOCH_KEY_BYTES);
    const keys = sealKeyBlock(at.groupId, ctx.identity.publicKey, recipients, epochKey, ctx.random);
    full = { ...op, keys } as GroupOp;
  } else {
    full = op as GroupOp;
  }
  const entry = signEntry(
    {
      kind: 'op',
      groupId: at.groupId,
      author: ctx.identity.publicKey,
      seq: at.seq,
      lamport: lamportAfter(at.parents),
      createdMs: ctx.nowMs,
      parents: at.parents.map((p) => p.hash),
      body: encodeOp(full),
    },
    ctx.identity.signing,
  );
  return { entry, epochKey };
}

/** A message under `epoch`, whose key the caller has ratcheted to `step`. */
export function writeMessage(
  ctx: AuthorContext,
  at: { groupId: Buffer; seq: number; parents: readonly ParentRef[] },
  key: { epoch: Buffer; step: number; stepKey: Buffer },
  content: string | GroupContent,
): GroupEntry {
  const fields = {
    kind: 'message' as const,
    groupId: at.groupId,
    author: ctx.identity.publicKey,
    seq: at.seq,
    lamport: lamportAfter(at.parents),
    createdMs: ctx.nowMs,
    parents: at.parents.map((p) => p.hash),
  };
  const body = sealMessageBody({
    entryHeader: encodeHeader(fields),
    groupId: at.groupId,
    author: ctx.identity.publicKey,
    ...key,
    nonce: ctx.random.bytes(MESSAGE_NONCE_BYTES),
    content: typeof content === 'string' ? { type: 'text', text: content } : content,
  });
  return signEntry({ ...fields, body }, ctx.identity.signing);
}

export function lamportAfter(parents: readonly ParentRef[]): number {
  return parents.reduce((max, p) => Math.max(max, p.lamport), 0) + 1;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
