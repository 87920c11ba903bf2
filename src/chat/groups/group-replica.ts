/**
 * One group as this member holds it (docs/PROTOCOL.md "Groups"): its stored entries, the membership folded from
 * its ops, and the entries waiting for their dependencies. Everything that arrives — from a session, a fetch or
 * the DHT mailbox — goes through ingest(); everything we write goes through writeMessage()/writeOp(). No network
 * here: the sync layer (group-sync.ts) moves bytes and asks for what ingest() reports missing.
 *
 * ingest(bytes): decode (group-entry.ts) → the right group → the author's signature → a body of its kind →
 * already stored? (a duplicate, dropped) → dependencies known? (its parents, a message's epoch op; else held in
 * PendingEntries and the missing hashes returned) → checks that need them → stored, then whatever was waiting
 * for it, in turn. Checks: lamport = 1 + the highest parent; an op's author was a member at some point; a
 * message's verdict from the membership (membership.ts messageVerdict) — not a holder or an unknown epoch is
 * refused, cut off is stored hidden — and it must open with the epoch key we hold, unless we hold none: then it
 * is stored as `foreign` (a message from before our join, or older than our key retention) with its unknown
 * parents taken as boundaries, so nothing before our history is ever chased. Refusals are values with a code
 * (logged by the caller), never throws.
 */
import { RateLimiter } from '../../dht/index.ts';
import { type Clock, DhtchatError, type Logger, type Random } from '../../runtime/index.ts';
import type { Identity } from '../identity.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { EntryKind, GroupState, StoredEntry } from '../store/groups.ts';
import { lamportAfter, type ParentRef, writeMessage, writeOp } from './group-authoring.ts';
import { decodeEntry, type GroupEntry, MAX_PARENTS, verifyEntrySignature } from './group-entry.ts';
import type { GroupKeys } from './group-keys.ts';
import type { GroupFileOffer } from './group-file-offer.ts';
import {
  decodeMessageBody,
  type GroupContent,
  type MessageBody,
  openMessageContent,
} from './group-message-seal.ts';
import { decodeOp, type GroupOp, isKeyOp } from './group-ops.ts';
import { foldMembership, type Membership, messageVerdict, type OpEntry } from './membership.ts';
import { PendingEntries } from './pending-entries.ts';

/** Why an entry was refused (docs/ERRORS.md "## groups"): logged and counted, never thrown. */
export const EntryRefusal = {
  size: 'CHAT_GROUP_ENTRY_SIZE',
  malformed: 'CHAT_GROUP_ENTRY_MALFORMED',
  wrongGroup: 'CHAT_GROUP_WRONG_GROUP',
  badSignature: 'CHAT_GROUP_BAD_SIGNATURE',
  badBody: 'CHAT_GROUP_BAD_BODY',
  badLamport: 'CHAT_GROUP_BAD_LAMPORT',
  notMember: 'CHAT_GROUP_NOT_MEMBER',
  unreadable: 'CHAT_GROUP_UNREADABLE',
  pendingFull: 'CHAT_GROUP_PENDING_FULL',
  authorRate: 'CHAT_GROUP_AUTHOR_RATE',
} as const;

/**
 * New entries of one author (not ours) this replica stores: per second, and in a burst that covers a member's
 * catch-up after an absence. Over it an entry is refused, not lost: the heads exchange offers it again later.
 */
export const AUTHOR_ENTRIES_PER_SEC = 20;
export const AUTHOR_ENTRIES_BURST = 2000;
export type EntryRefusalCode = (typeof EntryRefusal)[keyof typeof EntryRefusal];

/** Local failures of group commands (docs/ERRORS.md "## groups"). */
export const GroupErrorCode = {
  notMember: 'CHAT_GROUP_NOT_A_MEMBER',
  notAdmin: 'CHAT_GROUP_NOT_ADMIN',
  unknown: 'CHAT_GROUP_UNKNOWN',
  full: 'CHAT_GROUP_FULL',
  noKey: 'CHAT_GROUP_NO_KEY',
  badMember: 'CHAT_GROUP_BAD_MEMBER',
} as const;

export type IngestOutcome =
  | { kind: 'stored'; entries: StoredEntry[] }
  | { kind: 'duplicate' }
  | { kind: 'held'; missing: Buffer[] }
  | { kind: 'refused'; code: EntryRefusalCode };

export interface ReplicaContext {
  readonly store: ChatStore;
  readonly identity: Identity;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly keys: GroupKeys;
}

export interface ReplicaEvents {
  /** A message that counts, stored for the first time (ours included). */
  onMessage(replica: GroupReplica, entry: StoredEntry): void;
  /** A member's file offer that counts, stored for the first time (ours included): after onMessage. */
  onFileOffer?(replica: GroupReplica, entry: StoredEntry, offer: GroupFileOffer): void;
  /** The membership changed (an op was applied, or a late one reordered others). */
  onMembership(replica: GroupReplica, before: Membership, after: Membership): void;
  /** Our own place in the group changed (we joined, left, were removed). */
  onOwnState(replica: GroupReplica, state: GroupState): void;
}

type Decoded =
  | { entry: GroupEntry; kind: 'op'; op: GroupOp }
  | { entry: GroupEntry; kind: 'message'; body: MessageBody };

export class GroupReplica {
  readonly groupId: Buffer;
  readonly pending = new PendingEntries();
  readonly #authors = new RateLimiter({ ratePerSec: AUTHOR_ENTRIES_PER_SEC, burst: AUTHOR_ENTRIES_BURST });
  readonly #ctx: ReplicaContext;
  readonly #events: ReplicaEvents;
  #membership: Membership | undefined;

  constructor(ctx: ReplicaContext, groupId: Buffer, events: ReplicaEvents) {
    this.#ctx = ctx;
    this.groupId = groupId;
    this.#events = events;
  }

  get ownKey(): Buffer {
    return this.#ctx.identity.publicKey;
  }

  membership(): Membership {
    this.#membership ??= this.#fold();
    return this.#membership;
  }

  isMember(peer: Buffer): boolean {
    return this.membership().members.has(peer.toString('hex'));
  }

  /** Is this entry (or boundary) known: stored, or where our history starts. */
  isKnown(hash: Buffer): boolean {
    return (
      this.#ctx.store.groups.hasEntry(hash) ||
      this.#ctx.store.groups.boundary(this.groupId, hash) !== undefined
    );
  }

  heads(kind: EntryKind): { hash: Buffer; lamport: number }[] {
    return this.#ctx.store.groups.heads(this.groupId, kind).slice(0, MAX_PARENTS);
  }

  /** Takes one entry from anyone (remote input: never throws). */
  ingest(bytes: Buffer, from?: string): IngestOutcome {
    const decoded = this.#decode(bytes);
    if ('code' in decoded) return { kind: 'refused', code: decoded.code };
    const { entry } = decoded;
    if (this.#ctx.store.groups.hasEntry(entry.hash) || this.pending.has(entry.hash))
      return { kind: 'duplicate' };
    const missing = this.#missing(decoded);
    if (missing.length > 0) {
      if (!this.pending.hold(entry, missing, this.#ctx.clock.monotonicMs(), from)) {
        return { kind: 'refused', code: EntryRefusal.pendingFull };
      }
      return { kind: 'held', missing };
    }
    const stored: StoredEntry[] = [];
    const first = this.#accept(decoded);
    if ('code' in first) return { kind: 'refused', code: first.code };
    stored.push(first);
    // Whatever was waiting for it, in turn (a queue, not recursion: a long gap filled at once is a long chain).
    const queue = this.pending.resolve(entry.hash);
    while (queue.length > 0) {
      const next = queue.shift() as GroupEntry;
      const again = this.#decode(next.bytes);
      if ('code' in again) continue;
      const stillMissing = this.#missing(again);
      if (stillMissing.length > 0) {
        this.pending.hold(again.entry, stillMissing, this.#ctx.clock.monotonicMs());
        continue;
      }
      const result = this.#accept(again);
      if ('code' in result) {
        this.#ctx.logger.debug({ code: result.code, group: hex8(this.groupId) }, 'group entry refused');
        continue;
      }
      stored.push(result);
      queue.push(...this.pending.resolve(next.hash));
    }
    return { kind: 'stored', entries: stored };
  }

  /** Writes and stores a message (a text, or a file offer) under the current epoch (rekeying first when a member left). */
  writeMessage(content: string | GroupContent): StoredEntry {
    this.#assertMember();
    let membership = this.membership();
    if (membership.currentEpoch === undefined && membership.needsRekey) {
      this.writeOp(
        { type: 'rekey' },
        [...membership.members.values()].map((m) => m.publicKey),
      );
      membership = this.membership();
    }
    const epoch = membership.currentEpoch;
    const key =
      epoch === undefined
        ? undefined
        : this.#ctx.keys.forSending(this.groupId, epoch, this.#ctx.clock.wallMs());
    if (epoch === undefined || key === undefined) {
      throw new DhtchatError(
        GroupErrorCode.noKey,
        'no key for this group yet: wait until a member is online',
      );
    }
    const entry = writeMessage(
      this.#author(),
      { groupId: this.groupId, seq: this.#nextSeq(), parents: this.heads('message') },
      { epoch: epoch.hash, ...key },
      content,
    );
    return this.#storeOwn(entry);
  }

  /** Writes and stores an op; add, remove and rekey seal a fresh epoch key to `recipients`. */
  writeOp(op: Parameters<typeof writeOp>[2], recipients?: readonly Buffer[]): StoredEntry {
    const { entry } = writeOp(
      this.#author(),
      { groupId: this.groupId, seq: this.#nextSeq(), parents: this.heads('op') },
      op,
      recipients,
    );
    return this.#storeOwn(entry);
  }

  /** The hashes some held entry waits for (gaps to fetch), with who sent it. */
  missing(): { hash: Buffer; from: string | undefined }[] {
    return this.pending.missing();
  }

  /** Re-folds the membership (after a restart, or when asked). */
  refresh(): void {
    this.#membership = undefined;
  }

  #storeOwn(entry: GroupEntry): StoredEntry {
    const outcome = this.ingest(entry.bytes);
    const stored = outcome.kind === 'stored' ? outcome.entries[0] : undefined;
    if (stored === undefined) {
      // Our own entry must pass our own checks: anything else is a bug, not remote input.
      throw new DhtchatError(
        GroupErrorCode.notMember,
        `our own group entry was not stored (${JSON.stringify(outcome)})`,
      );
    }
    return stored;
  }

  #decode(bytes: Buffer): Decoded | { code: EntryRefusalCode } {
    const result = decodeEntry(bytes);
    if (!result.ok) return { code: result.code };
    const { entry } = result;
    if (!entry.groupId.equals(this.groupId)) return { code: EntryRefusal.wrongGroup };
    if (!verifyEntrySignature(entry)) return { code: EntryRefusal.badSignature };
    if (entry.kind === 'op') {
      const op = decodeOp(entry.body);
      return op === undefined ? { code: EntryRefusal.badBody } : { entry, kind: 'op', op };
    }
    const body = decodeMessageBody(entry.body);
    return body === undefined ? { code: EntryRefusal.badBody } : { entry, kind: 'message', body };
  }

  /** What this entry still needs: a message's epoch op first, then its parents (unless it is foreign). */
  #missing(decoded: Decoded): Buffer[] {
    if (decoded.kind === 'message') {
      const epoch = decoded.body.epoch;
      if (!this.#ctx.store.groups.hasEntry(epoch)) return [epoch];
      if (this.#isForeign(decoded.body)) return [];
    }
    return decoded.entry.parents.filter((p) => !this.isKnown(p));
  }

  /** A message we can never read: we hold no key of its epoch, or not for its step any more. */
  #isForeign(body: MessageBody): boolean {
    const row = this.#ctx.store.groups.key(this.groupId, body.epoch);
    return row === undefined || body.step < row.step;
  }

  #accept(decoded: Decoded): StoredEntry | { code: EntryRefusalCode } {
    const { entry } = decoded;
    const isOwn = entry.author.equals(this.ownKey);
    if (!isOwn && !this.#authors.allow(entry.author.toString('hex'), this.#ctx.clock.monotonicMs())) {
      return { code: EntryRefusal.authorRate };
    }
    const lamports = this.#parentLamports(entry.parents);
    const known = entry.parents.map((p) => lamports.get(p.toString('hex')) ?? 0);
    const expected = known.reduce((max, l) => Math.max(max, l), 0) + 1;
    const isExact = known.every((l) => l > 0);
    if (isExact ? entry.lamport !== expected : entry.lamport < expected)
      return { code: EntryRefusal.badLamport };
    return decoded.kind === 'op'
      ? this.#acceptOp(entry, decoded.op)
      : this.#acceptMessage(entry, decoded.body);
  }

  #acceptOp(entry: GroupEntry, op: GroupOp): StoredEntry | { code: EntryRefusalCode } {
    const before = this.membership();
    if (op.type !== 'create' && !everMember(before).has(entry.author.toString('hex'))) {
      return { code: EntryRefusal.notMember };
    }
    const stored = this.#insert(entry, { status: 'ok' });
    const after = this.#fold();
    this.#membership = after;
    if (isKeyOp(op) && after.epochs.has(entry.hash.toString('hex'))) {
      this.#ctx.keys.absorb(this.groupId, entry, op, this.#ctx.clock.wallMs());
    }
    this.#noteOwnPlace(after, op, entry);
    this.#recheckCutoffs(before, after);
    this.#events.onMembership(this, before, after);
    return stored;
  }

  #acceptMessage(entry: GroupEntry, body: MessageBody): StoredEntry | { code: EntryRefusalCode } {
    const membership = this.membership();
    const verdict = messageVerdict(membership, { author: entry.author, seq: entry.seq, epoch: body.epoch });
    if (verdict === 'unknown-epoch' || verdict === 'not-holder') return { code: EntryRefusal.notMember };
    if (this.#isForeign(body)) {
      // Its unknown parents are where our history starts: never chased.
      const unknown = entry.parents.filter((p) => !this.isKnown(p));
      this.#ctx.store.groups.addBoundaries(
        this.groupId,
        unknown.map((hash) => ({ hash, lamport: 0 })),
      );
      return this.#insert(entry, { status: 'foreign', epoch: body.epoch });
    }
    const stepKey = this.#ctx.keys.stepKey(this.groupId, body.epoch, body.step);
    const content =
      stepKey === undefined
        ? undefined
        : openMessageContent({
            entryHeader: entry.bytes.subarray(0, entry.bodyOffset),
            groupId: this.groupId,
            author: entry.author,
            body,
            stepKey,
          });
    if (content === undefined) return { code: EntryRefusal.unreadable };
    // A later version's content: kept in the history (its descendants need it as a parent), never shown.
    if (content.type === 'unknown') return this.#insert(entry, { status: 'hidden', epoch: body.epoch });
    const isOwn = entry.author.equals(this.ownKey);
    const offer = content.type === 'file-offer' ? content.offer : undefined;
    const stored = this.#insert(entry, {
      status: verdict === 'ok' ? 'ok' : 'hidden',
      epoch: body.epoch,
      // A file offer keeps its name as its text (what a line for it shows) and its transfer id.
      text: content.type === 'text' ? content.text : content.offer.name,
      ...(offer === undefined ? {} : { fileId: offer.transferId }),
      isRead: isOwn,
    });
    if (verdict === 'ok') {
      this.#events.onMessage(this, stored);
      if (offer !== undefined) this.#events.onFileOffer?.(this, stored, offer);
    }
    return stored;
  }

  #insert(
    entry: GroupEntry,
    extra: {
      status: StoredEntry['status'];
      epoch?: Buffer;
      text?: string;
      fileId?: Buffer;
      isRead?: boolean;
    },
  ): StoredEntry {
    const row = {
      hash: entry.hash,
      groupId: this.groupId,
      kind: entry.kind,
      author: entry.author,
      seq: entry.seq,
      lamport: entry.lamport,
      createdMs: entry.createdMs,
      parents: entry.parents,
      bytes: entry.bytes,
      ...extra,
    };
    this.#ctx.store.groups.insertEntry(row);
    return {
      ...row,
      parents: [...entry.parents],
      epoch: extra.epoch,
      text: extra.text,
      fileId: extra.fileId,
      receivedMs: this.#ctx.clock.wallMs(),
      isRead: extra.isRead === true,
    };
  }

  #parentLamports(parents: readonly Buffer[]): Map<string, number> {
    const lamports = this.#ctx.store.groups.lamportsOf(parents);
    for (const p of parents) {
      const hex = p.toString('hex');
      if (lamports.has(hex)) continue;
      const boundary = this.#ctx.store.groups.boundary(this.groupId, p);
      if (boundary !== undefined) lamports.set(hex, boundary);
    }
    return lamports;
  }

  /** We were added (our history starts after the add's heads), removed, or left. */
  #noteOwnPlace(after: Membership, op: GroupOp, entry: GroupEntry): void {
    const groups = this.#ctx.store.groups;
    const row = groups.get(this.groupId);
    const isMember = after.members.has(this.ownKey.toString('hex'));
    if (isMember && row?.state !== 'member') {
      const isOurAdd = op.type === 'add' && op.target.equals(this.ownKey);
      if (isOurAdd) groups.addBoundaries(this.groupId, op.messageHeads, { isHead: true });
      groups.upsert(this.groupId, {
        state: 'member',
        ...(after.name === undefined ? {} : { name: after.name }),
        ...(isOurAdd ? { joinOp: entry.hash } : {}),
      });
      this.#events.onOwnState(this, 'member');
    } else if (!isMember && row?.state === 'member') {
      const state = op.type === 'leave' && entry.author.equals(this.ownKey) ? 'left' : 'removed';
      groups.upsert(this.groupId, { state });
      this.#events.onOwnState(this, state);
    }
  }

  /** A removal (or a late op) moved a cut-off: the affected authors' messages are counted again. */
  #recheckCutoffs(before: Membership, after: Membership): void {
    for (const [author, cutoffs] of after.cutoffs) {
      const old = before.cutoffs.get(author);
      if (old !== undefined && JSON.stringify(old) === JSON.stringify(cutoffs)) continue;
      for (const message of this.#ctx.store.groups.messagesBy(this.groupId, Buffer.from(author, 'hex'))) {
        if (message.status === 'foreign' || message.epoch === undefined) continue;
        const verdict = messageVerdict(after, {
          author: message.author,
          seq: message.seq,
          epoch: message.epoch,
        });
        const status = verdict === 'ok' ? 'ok' : 'hidden';
        if (status !== message.status) this.#ctx.store.groups.setStatus(message.hash, status);
      }
    }
  }

  #fold(): Membership {
    const ops: OpEntry[] = [];
    for (const stored of this.#ctx.store.groups.ops(this.groupId)) {
      const decoded = decodeEntry(stored.bytes);
      const op = decoded.ok ? decodeOp(decoded.entry.body) : undefined;
      if (decoded.ok && op !== undefined) ops.push({ entry: decoded.entry, op });
    }
    return foldMembership(this.groupId, ops);
  }

  #nextSeq(): number {
    return this.#ctx.store.groups.maxSeq(this.groupId, this.ownKey) + 1;
  }

  #author() {
    return { identity: this.#ctx.identity, random: this.#ctx.random, nowMs: this.#ctx.clock.wallMs() };
  }

  #assertMember(): void {
    if (!this.isMember(this.ownKey)) {
      throw new DhtchatError(GroupErrorCode.notMember, 'you are not a member of this group');
    }
  }
}

/** Everyone the ops ever made a member: the creator and every add's target. */
function everMember(membership: Membership): Set<string> {
  const out = new Set<string>();
  for (const { entry, op } of membership.applied) {
    if (op.type === 'create') out.add(entry.author.toString('hex'));
    if (op.type === 'add') out.add(op.target.toString('hex'));
  }
  return out;
}

function hex8(buffer: Buffer): string {
  return buffer.toString('hex').slice(0, 8);
}

export type { ParentRef };
export { lamportAfter };
