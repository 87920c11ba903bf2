/**
 * What the rendezvous service and the offline mailbox both read from the store for one friend: our one-time
 * prekeys (the record publishes the current one; the mailbox opens blobs with them and rotates them) and our
 * unacknowledged offline bundles in the order their messages were written (what the record lists as pending).
 */
import {
  ed25519PublicToX25519,
  type X25519KeyPair,
  x25519FromPrivate,
  x25519Generate,
} from '../crypto/index.ts';
import type { Random } from '../runtime/index.ts';
import type { ChatStore } from './store/chat-store.ts';
import type { PendingBundle } from './store/offline-bundles.ts';

/**
 * Our one-time prekeys for a friend, current first then previous (a caller opening blobs adds our static X25519
 * key: what a friend seals to before it has seen any prekey of ours). Makes the first prekey when there is none.
 */
export function ownPrekeys(store: ChatStore, friendPk: Uint8Array, random: Random): X25519KeyPair[] {
  let stored = store.prekeys.list(friendPk);
  if (stored.length === 0) {
    store.prekeys.rotate(friendPk, 1, x25519Generate(random).privateKey);
    stored = store.prekeys.list(friendPk);
  }
  return stored.map((p) => x25519FromPrivate(p.secret));
}

/**
 * Our unacknowledged bundles to the friend in the order their messages were written (the store orders by
 * creation time, and bundles sealed together share one), so the record lists, and the friend fetches, oldest first.
 */
export function pendingInOrder(store: ChatStore, friendPk: Uint8Array): PendingBundle[] {
  const firstSeq = (b: PendingBundle): number => {
    const first = b.messageIds[0];
    return first === undefined ? 0 : (store.messages.get(first)?.seq ?? 0);
  };
  return store.offline
    .pending(friendPk)
    .map((b) => ({ b, seq: firstSeq(b) }))
    .sort((x, y) => x.seq - y.seq)
    .map((x) => x.b);
}

/** Replaces our current prekey for the friend with a fresh one; the current becomes previous. */
export function rotatePrekey(store: ChatStore, friendPk: Uint8Array, random: Random): void {
  const nextId = Math.max(0, ...store.prekeys.list(friendPk).map((p) => p.id)) + 1;
  store.prekeys.rotate(friendPk, nextId % 0x1_0000_0000, x25519Generate(random).privateKey);
}

/** The friend's static X25519 key: the seal-to key before any prekey of theirs is known. */
export function staticX25519Of(friendPk: Uint8Array): Buffer | undefined {
  return ed25519PublicToX25519(friendPk);
}
