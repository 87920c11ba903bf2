/**
 * Our epoch keys (docs/PROTOCOL.md "Groups", "Epoch keys and forward secrecy"). A key op that lists us hands us
 * an epoch key: we open our copy and keep it at step 0, with the epoch's mailbox secret (the DHT mailbox's keys
 * derive from it, group-mailbox.ts). Messages use the key ratcheted to their day step (group-message-seal.ts).
 *
 * Forward secrecy: each day a key is ratcheted forward past the steps older than KEY_RETENTION_DAYS (the old
 * step's key is overwritten in the store), and an epoch superseded by a newer one for longer than that is
 * deleted whole. A key taken from this store later opens no message more than KEY_RETENTION_DAYS old; a message
 * that arrives later than that (a member offline for longer) cannot be read and is not stored as text.
 * The copies sealed to our identity key stay inside the ops (every member keeps the ops): whoever steals the
 * identity key itself can still open an epoch's first key (THREAT-MODEL.md "Groups").
 */
import type { Logger } from '../../runtime/index.ts';
import { dayEpoch } from '../epoch.ts';
import type { Identity } from '../identity.ts';
import { deriveSubkey } from '../kdf.ts';
import { AEAD_KEY_BYTES, LABELS } from '../labels.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { GroupEntry } from './group-entry.ts';
import { openKeyBlock } from './group-key-seal.ts';
import { MAX_RATCHET_STEP, ratchetTo } from './group-message-seal.ts';
import type { KeyOp } from './group-ops.ts';
import type { Epoch, Membership } from './membership.ts';

export const KEY_RETENTION_DAYS = 7;
const DAY_MS = 86_400_000;

export class GroupKeys {
  readonly #store: ChatStore;
  readonly #identity: Identity;
  readonly #logger: Logger;

  constructor(store: ChatStore, identity: Identity, logger: Logger) {
    this.#store = store;
    this.#identity = identity;
    this.#logger = logger;
  }

  /** A key op: when it lists us, our copy of its epoch key is opened and kept (true). */
  absorb(groupId: Buffer, entry: GroupEntry, op: KeyOp, nowMs: number): boolean {
    if (this.#store.groups.key(groupId, entry.hash) !== undefined) return true;
    const key = openKeyBlock(op.keys, groupId, entry.author, this.#identity.publicKey, this.#identity.x25519);
    if (key === undefined) {
      if (op.keys.slots.some((s) => s.recipient.equals(this.#identity.publicKey))) {
        this.#logger.warn(
          { op: entry.hash.toString('hex').slice(0, 8) },
          'group key sealed to us does not open',
        );
      }
      return false;
    }
    const mailbox = deriveSubkey(key, LABELS.groupMailbox, [groupId, entry.hash], AEAD_KEY_BYTES);
    const step = retainedStep(entry.createdMs, nowMs);
    const atStep = ratchetTo(key, 0, step, groupId, entry.hash) ?? key;
    this.#store.groups.saveKey(groupId, {
      epoch: entry.hash,
      step,
      key: atStep,
      mailbox,
      startMs: entry.createdMs,
    });
    key.fill(0);
    return true;
  }

  /** The key of `epoch` at `step`, if we hold it and have not ratcheted past that step. */
  stepKey(groupId: Buffer, epoch: Buffer, step: number): Buffer | undefined {
    const row = this.#store.groups.key(groupId, epoch);
    if (row === undefined) return undefined;
    return ratchetTo(row.key, row.step, step, groupId, epoch);
  }

  /** The step and key to write a message under `epoch` now (never behind the step we hold). */
  forSending(groupId: Buffer, epoch: Epoch, nowMs: number): { step: number; stepKey: Buffer } | undefined {
    const row = this.#store.groups.key(groupId, epoch.hash);
    if (row === undefined) return undefined;
    const step = Math.min(MAX_RATCHET_STEP, Math.max(row.step, dayEpoch(nowMs) - dayEpoch(epoch.startMs)));
    const stepKey = ratchetTo(row.key, row.step, step, groupId, epoch.hash);
    return stepKey === undefined ? undefined : { step, stepKey };
  }

  holds(groupId: Buffer, epoch: Buffer): boolean {
    return this.#store.groups.key(groupId, epoch) !== undefined;
  }

  /** Mailbox secrets of the epochs we hold, newest first. */
  mailboxes(groupId: Buffer): { epoch: Buffer; secret: Buffer; startMs: number }[] {
    return this.#store.groups
      .keys(groupId)
      .map((k) => ({ epoch: k.epoch, secret: k.mailbox, startMs: k.startMs }))
      .reverse();
  }

  /**
   * Ratchets every key past the steps older than the retention window and deletes epochs superseded for longer
   * than it (never the latest one). Returns how many keys were ratchetted or deleted.
   */
  prune(groupId: Buffer, membership: Membership, nowMs: number): number {
    let changed = 0;
    const epochs = [...membership.epochs.values()].sort((a, b) => a.position - b.position);
    for (const row of this.#store.groups.keys(groupId)) {
      const index = epochs.findIndex((e) => e.hash.equals(row.epoch));
      const next = index < 0 ? undefined : epochs[index + 1];
      if (next !== undefined && nowMs - next.startMs > KEY_RETENTION_DAYS * DAY_MS) {
        this.#store.groups.deleteKey(groupId, row.epoch);
        changed++;
        continue;
      }
      const step = retainedStep(row.startMs, nowMs);
      if (step <= row.step) continue;
      const key = ratchetTo(row.key, row.step, step, groupId, row.epoch);
      if (key === undefined) continue;
      this.#store.groups.saveKey(groupId, { ...row, step, key });
      changed++;
    }
    return changed;
  }
}

/** The oldest step still kept at nowMs for an epoch that started at startMs. */
function retainedStep(startMs: number, nowMs: number): number {
  return Math.min(MAX_RATCHET_STEP, Math.max(0, dayEpoch(nowMs) - dayEpoch(startMs) - KEY_RETENTION_DAYS));
}
