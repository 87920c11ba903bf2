/**
 * Small builders for the group protocol's unit tests: identities from a seed byte, and a `Scribe` that writes a
 * group's ops and messages the way a member would (its own seq, parents from the heads it has seen), without any
 * store or network.
 */
import { type Identity, identityFromSeed } from '../../../src/chat/identity.ts';
import {
  type ParentRef,
  writeCreate,
  writeMessage,
  writeOp,
} from '../../../src/chat/groups/group-authoring.ts';
import type { GroupEntry } from '../../../src/chat/groups/group-entry.ts';
import { decodeOp, type GroupOp } from '../../../src/chat/groups/group-ops.ts';
import { ratchetTo } from '../../../src/chat/groups/group-message-seal.ts';
import { foldMembership, type Membership, type OpEntry } from '../../../src/chat/groups/membership.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

export const T0 = Date.UTC(2025, 0, 10, 12);

export function person(seedByte: number): Identity {
  return identityFromSeed(Buffer.alloc(32, seedByte));
}

export function opEntry(entry: GroupEntry): OpEntry {
  const op = decodeOp(entry.body);
  if (op === undefined) throw new Error('not an op');
  return { entry, op };
}

export function refOf(entry: GroupEntry): ParentRef {
  return { hash: entry.hash, lamport: entry.lamport };
}

/** A group's whole history as one omniscient writer sees it; each write names the given parents (default heads). */
export class Scribe {
  readonly groupId: Buffer;
  readonly ops: GroupEntry[] = [];
  readonly messages: GroupEntry[] = [];
  readonly keys = new Map<string, Buffer>();
  readonly #random: SeededRandom;
  readonly #seqs = new Map<string, number>();
  nowMs = T0;

  readonly creator: Identity;

  constructor(creator: Identity, seed = 'scribe') {
    this.creator = creator;
    this.#random = new SeededRandom(seed);
    const { groupId, entry, epochKey } = writeCreate(this.#ctx(creator), 'friends');
    this.groupId = groupId;
    this.ops.push(entry);
    this.keys.set(entry.hash.toString('hex'), epochKey);
    this.#seqs.set(creator.publicKey.toString('hex'), 1);
  }

  membership(ops: readonly GroupEntry[] = this.ops): Membership {
    return foldMembership(this.groupId, ops.map(opEntry));
  }

  op(
    author: Identity,
    op: Parameters<typeof writeOp>[2],
    opts: { recipients?: Buffer[]; parents?: GroupEntry[] } = {},
  ): GroupEntry {
    const parents = (opts.parents ?? heads(this.ops)).map(refOf);
    const { entry, epochKey } = writeOp(
      this.#ctx(author),
      { groupId: this.groupId, seq: this.#nextSeq(author), parents },
      op,
      opts.recipients,
    );
    this.ops.push(entry);
    if (epochKey !== undefined) this.keys.set(entry.hash.toString('hex'), epochKey);
    return entry;
  }

  /** A message by `author` under the current epoch (or `epoch`), step from the clock. */
  message(author: Identity, text: string, opts: { parents?: GroupEntry[]; epoch?: Buffer } = {}): GroupEntry {
    const membership = this.membership();
    const epoch = opts.epoch ?? membership.currentEpoch?.hash;
    if (epoch === undefined) throw new Error('no current epoch');
    const info = membership.epochs.get(epoch.toString('hex'));
    const key = this.keys.get(epoch.toString('hex'));
    if (info === undefined || key === undefined) throw new Error('unknown epoch');
    const step = Math.max(0, Math.floor(this.nowMs / 86_400_000) - Math.floor(info.startMs / 86_400_000));
    const stepKey = ratchetTo(key, 0, step, this.groupId, epoch) as Buffer;
    const parents = (opts.parents ?? heads(this.messages)).map(refOf);
    const entry = writeMessage(
      this.#ctx(author),
      { groupId: this.groupId, seq: this.#nextSeq(author), parents },
      { epoch, step, stepKey },
      text,
    );
    this.messages.push(entry);
    return entry;
  }

  /** The members other than `except`, as recipients of a new key. */
  members(except?: Identity, plus?: Identity): Buffer[] {
    const keys = [...this.membership().members.values()].map((m) => m.publicKey);
    const out = keys.filter((k) => except === undefined || !k.equals(except.publicKey));
    return plus === undefined ? out : [...out, plus.publicKey];
  }

  #nextSeq(author: Identity): number {
    const hex = author.publicKey.toString('hex');
    const seq = (this.#seqs.get(hex) ?? 0) + 1;
    this.#seqs.set(hex, seq);
    return seq;
  }

  #ctx(identity: Identity) {
    return { identity, random: this.#random, nowMs: this.nowMs };
  }
}

/** Entries no other entry of the list names as a parent. */
export function heads(entries: readonly GroupEntry[]): GroupEntry[] {
  const named = new Set(entries.flatMap((e) => e.parents.map((p) => p.toString('hex'))));
  return entries.filter((e) => !named.has(e.hash.toString('hex'))).slice(-16);
}

export type { GroupOp };
