/**
 * The membership of a group, folded from its ops (docs/PROTOCOL.md "Groups", "Membership"). Pure: the same set
 * of ops gives every member the same members, roles, epochs and cut-offs, whatever order they arrived in.
 *
 * Ops are applied one by one in (lamport, hash) order (group-entry.ts compareEntries), each checked against the
 * state the ops before it made; an op that fails a check is skipped (kept, never applied):
 *   create   the first op, without parents, signed by the creator its group id names (group-ops.ts), sealing
 *            the first epoch key to the creator alone. Every other op needs parents.
 *   add      by an admin, of someone not a member; the key block must include the author and the new member.
 *   remove   by an admin, of another member; the key block must not include the removed member.
 *   leave    by a member (itself).
 *   promote  by an admin, of a member who is not one.
 *   rekey    by any member (a leave needs one, and no admin may be online), listing itself.
 * Create, add, remove and rekey start a new epoch, whose holders are the key block's recipients. The current
 * epoch — the one to send under — is the last epoch started, when its holders are exactly the members; when
 * they are not (someone left, or concurrent ops crossed), `needsRekey` says a member must rekey before anyone
 * sends: nobody writes under a key that a former member holds or a current one lacks.
 * A removal or a leave cuts its member off: that member's entries with a seq above the cut-off, under an
 * epoch older than the removal, are dropped (messageVerdict): what a removed member writes without having seen
 * its removal is not delivered, by anyone. A group left without admins makes its longest-standing member one.
 */
import { compareEntries, type GroupEntry } from './group-entry.ts';
import { type GroupOp, groupIdFor, holdersOf, isKeyOp } from './group-ops.ts';
import { MAX_GROUP_MEMBERS } from './group-key-seal.ts';

export type Role = 'admin' | 'member';

export interface Member {
  readonly publicKey: Buffer;
  readonly role: Role;
  /** Position (in applied order) of the op that made them a member: lower is longer-standing. */
  readonly sincePosition: number;
  /** The op that made them a member (create or add). */
  readonly since: Buffer;
}

export interface Epoch {
  /** The hash of the op that started it (messages name it). */
  readonly hash: Buffer;
  readonly position: number;
  readonly holders: ReadonlySet<string>;
  /** The op's createdMs: day 0 of the epoch key's ratchet. */
  readonly startMs: number;
}

export interface Cutoff {
  readonly position: number;
  readonly lastSeq: number;
}

export interface OpEntry {
  readonly entry: GroupEntry;
  readonly op: GroupOp;
}

export type OpVerdict =
  | 'applied'
  | 'no-create'
  | 'not-admin'
  | 'not-member'
  | 'already-member'
  | 'bad-key-block'
  | 'self'
  | 'full'
  | 'no-parents';

export interface Membership {
  readonly groupId: Buffer;
  readonly name: string | undefined;
  readonly creator: Buffer | undefined;
  /** By public key hex. */
  readonly members: ReadonlyMap<string, Member>;
  /** Applied epochs by op hash hex. */
  readonly epochs: ReadonlyMap<string, Epoch>;
  /** The last epoch started, if any. */
  readonly latestEpoch: Epoch | undefined;
  /** latestEpoch when its holders are exactly the members (else undefined: needsRekey). */
  readonly currentEpoch: Epoch | undefined;
  readonly needsRekey: boolean;
  /** By author hex: every removal or leave of that member. */
  readonly cutoffs: ReadonlyMap<string, readonly Cutoff[]>;
  /** Every op's fate by hash hex (position for applied ones in `positions`). */
  readonly verdicts: ReadonlyMap<string, OpVerdict>;
  readonly positions: ReadonlyMap<string, number>;
  /** Applied ops in order (for views and events). */
  readonly applied: readonly OpEntry[];
}

export function foldMembership(groupId: Buffer, ops: readonly OpEntry[]): Membership {
  const sorted = [...ops].sort((a, b) => compareEntries(a.entry, b.entry));
  const members = new Map<string, Member>();
  const epochs = new Map<string, Epoch>();
  const cutoffs = new Map<string, Cutoff[]>();
  const verdicts = new Map<string, OpVerdict>();
  const positions = new Map<string, number>();
  const applied: OpEntry[] = [];
  let name: string | undefined;
  let creator: Buffer | undefined;
  let latestEpoch: Epoch | undefined;

  for (const item of sorted) {
    const { entry, op } = item;
    const hex = entry.hash.toString('hex');
    const authorHex = entry.author.toString('hex');
    const author = members.get(authorHex);
    const position = applied.length;
    const verdict = check();
    verdicts.set(hex, verdict);
    if (verdict !== 'applied') continue;
    positions.set(hex, position);
    applied.push(item);
    apply();

    function check(): OpVerdict {
      if (op.type === 'create') {
        if (creator !== undefined || entry.parents.length > 0) return 'no-create';
        if (!groupIdFor(entry.author, op.nonce).equals(groupId)) return 'no-create';
        const holders = holdersOf(op);
        return holders.length === 1 && holders[0]?.equals(entry.author) === true
          ? 'applied'
          : 'bad-key-block';
      }
      if (creator === undefined) return 'no-create';
      if (entry.parents.length === 0) return 'no-parents';
      if (author === undefined) return 'not-member';
      switch (op.type) {
        case 'add': {
          if (author.role !== 'admin') return 'not-admin';
          if (members.has(op.target.toString('hex'))) return 'already-member';
          if (members.size >= MAX_GROUP_MEMBERS) return 'full';
          const holders = holderSet(op);
          return holders.has(authorHex) && holders.has(op.target.toString('hex'))
            ? 'applied'
            : 'bad-key-block';
        }
        case 'remove': {
          if (author.role !== 'admin') return 'not-admin';
          if (op.target.equals(entry.author)) return 'self';
          if (!members.has(op.target.toString('hex'))) return 'not-member';
          const holders = holderSet(op);
          return holders.has(op.target.toString('hex')) || !holders.has(authorHex)
            ? 'bad-key-block'
            : 'applied';
        }
        case 'leave':
          return 'applied';
        case 'promote': {
          if (author.role !== 'admin') return 'not-admin';
          const target = members.get(op.target.toString('hex'));
          if (target === undefined) return 'not-member';
          return target.role === 'admin' ? 'already-member' : 'applied';
        }
        case 'rekey':
          return holderSet(op).has(authorHex) ? 'applied' : 'bad-key-block';
      }
    }

    function apply(): void {
      switch (op.type) {
        case 'create':
          creator = entry.author;
          name = op.name;
          members.set(authorHex, {
            publicKey: entry.author,
            role: 'admin',
            sincePosition: position,
            since: entry.hash,
          });
          break;
        case 'add':
          members.set(op.target.toString('hex'), {
            publicKey: op.target,
            role: 'member',
            sincePosition: position,
            since: entry.hash,
          });
          break;
        case 'remove':
          members.delete(op.target.toString('hex'));
          addCutoff(op.target.toString('hex'), { position, lastSeq: op.targetLastSeq });
          break;
        case 'leave':
          members.delete(authorHex);
          addCutoff(authorHex, { position, lastSeq: entry.seq });
          break;
        case 'promote': {
          const target = members.get(op.target.toString('hex')) as Member;
          members.set(op.target.toString('hex'), { ...target, role: 'admin' });
          break;
        }
        case 'rekey':
          break;
      }
      if (isKeyOp(op)) {
        latestEpoch = { hash: entry.hash, position, holders: holderSet(op), startMs: entry.createdMs };
        epochs.set(hex, latestEpoch);
      }
      ensureAnAdmin();
    }
  }

  function addCutoff(authorHex: string, cutoff: Cutoff): void {
    const list = cutoffs.get(authorHex) ?? [];
    list.push(cutoff);
    cutoffs.set(authorHex, list);
  }

  /** A group whose last admin left or was removed: its longest-standing member becomes one. */
  function ensureAnAdmin(): void {
    if (members.size === 0 || [...members.values()].some((m) => m.role === 'admin')) return;
    const eldest = [...members.entries()].sort((a, b) => a[1].sincePosition - b[1].sincePosition)[0];
    if (eldest !== undefined) members.set(eldest[0], { ...eldest[1], role: 'admin' });
  }

  const holdersMatch =
    latestEpoch !== undefined &&
    latestEpoch.holders.size === members.size &&
    [...members.keys()].every((m) => latestEpoch?.holders.has(m) === true);
  return {
    groupId,
    name,
    creator,
    members,
    epochs,
    latestEpoch,
    currentEpoch: holdersMatch ? latestEpoch : undefined,
    needsRekey: latestEpoch !== undefined && members.size > 0 && !holdersMatch,
    cutoffs,
    verdicts,
    positions,
    applied,
  };
}

export type MessageVerdict = 'ok' | 'unknown-epoch' | 'not-holder' | 'cut-off';

/**
 * Whether a message by `author` (its `seq`, under `epoch`) counts, by the membership: its epoch must be one
 * that was applied, the author one of its holders, and no removal of the author after that epoch may have cut
 * it off below this seq.
 */
export function messageVerdict(
  membership: Membership,
  message: { author: Buffer; seq: number; epoch: Buffer },
): MessageVerdict {
  const epoch = membership.epochs.get(message.epoch.toString('hex'));
  if (epoch === undefined) return 'unknown-epoch';
  const authorHex = message.author.toString('hex');
  if (!epoch.holders.has(authorHex)) return 'not-holder';
  const isCutOff = (membership.cutoffs.get(authorHex) ?? []).some(
    (c) => c.position > epoch.position && message.seq > c.lastSeq,
  );
  return isCutOff ? 'cut-off' : 'ok';
}

function holderSet(op: Extract<GroupOp, { keys: unknown }>): Set<string> {
  return new Set(holdersOf(op).map((h) => h.toString('hex')));
}
