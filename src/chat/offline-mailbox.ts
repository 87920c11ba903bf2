/**
 * Offline mailbox (docs/PROTOCOL.md "Offline messages"): messages for a friend we cannot reach wait in the DHT.
 * Sealing and the item format are offline-seal.ts / offline-parts.ts; the bookkeeping is store/offline-bundles.ts.
 *
 *   const mailbox = new OfflineMailbox({ identity, store, dht, clock, random, rendezvous, onMessages, onStateChange });
 *   await mailbox.start();            // re-put unacknowledged bundles (and hourly after)
 *   await mailbox.storeFor(friendPk); // the session layer gave up reaching the friend: seal + put its queued messages
 *   await mailbox.whenIdle();         // (tests) background fetches/acks triggered by records have finished
 *   mailbox.close();
 *
 * Sending: queued messages not already in a bundle are sealed (≤ 64 per bundle, ≤ ~20 KiB) to the friend's
 * newest prekey (from its record, fetched again now; else the last one saved; else its static key),
 * saved as a bundle before any put, then every part is put; once at least one node stored every part the head
 * goes into our record, and only once that record is published do the messages move to `stored` (the friend can
 * find them). Unacknowledged bundles are re-put at start and hourly (the same bytes: re-sealing could need a
 * prekey that has rotated since).
 * Receiving: the mailbox listens to the rendezvous service. For each head the friend's record lists that we have
 * not stored yet it fetches the head and tails, opens them (current prekey, previous one, static key), stores the
 * messages (deduplicated by id, in the sender's order) in the same transaction that remembers the head, and
 * republishes our record, which now acknowledges it. A blob opened with our current prekey rotates it.
 * Acks in the friend's record end our bundles: their messages move to `delivered`.
 * Message bodies inside a bundle: offline-body.ts. Remote input (records, items) never throws out of here: bad
 * items are logged and skipped.
 */
import type { DhtNode } from '../dht/index.ts';
import {
  type Clock,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
} from '../runtime/index.ts';
import type { Identity } from './identity.ts';
import { decodeOfflineBody, encodeOfflineBody } from './offline-body.ts';
import { parseHead } from './offline-parts.ts';
import {
  OFFLINE_MAX_MESSAGES,
  OFFLINE_MAX_PLAINTEXT_BYTES,
  type OfflineMessage,
  openOffline,
  sealOffline,
} from './offline-seal.ts';
import { derivePairSecret } from './pair-secret.ts';
import { RECORD_LIMITS, type RendezvousRecord } from './record-body.ts';
import { ownPrekeys, pendingInOrder, rotatePrekey, staticX25519Of } from './mailbox-state.ts';
import type { RecordInfo, RendezvousService } from './rendezvous-service.ts';
import type { ChatStore } from './store/chat-store.ts';
import { MAX_MESSAGE_TEXT_BYTES, type MessageState } from './store/message-state.ts';
import type { IncomingMessage, StoredMessage } from './store/messages.ts';

export const OFFLINE_REPUT_MS = 60 * 60_000;
const FRIEND_PREKEY_KV = 'chat-services/friend-prekey/';

export interface OfflineMailboxOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: DhtNode;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  readonly rendezvous: RendezvousService;
  /** Messages fetched from the DHT and stored for the first time, in order. */
  onMessages?(friendPk: Buffer, messages: StoredMessage[]): void;
  /** Our messages that moved to `stored` (all parts put) or `delivered` (acked in the friend's record). */
  onStateChange?(friendPk: Buffer, ids: Buffer[], state: MessageState): void;
}

export class OfflineMailbox {
  readonly #opts: OfflineMailboxOptions;
  readonly #log: Logger;
  readonly #chains = new Map<string, Promise<unknown>>();
  /** Heads that failed for good this run (undecryptable or malformed): not fetched again. */
  readonly #deadHeads = new Set<string>();
  #reputTimer?: Timer;
  #isClosed = false;

  constructor(opts: OfflineMailboxOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'offline-mailbox' });
    opts.rendezvous.onRecord((friendPk, record, info) => this.#onRecord(friendPk, record, info));
  }

  async start(): Promise<void> {
    this.#assertOpen();
    await this.#reputAll();
  }

  close(): void {
    this.#isClosed = true;
    this.#reputTimer?.cancel();
  }

  /** Seals and puts the friend's queued messages; resolves with the ids now `stored`. */
  storeFor(friendPk: Uint8Array): Promise<Buffer[]> {
    this.#assertOpen();
    const pk = Buffer.from(friendPk);
    return this.#serial(pk, () => this.#storeFor(pk));
  }

  /** Resolves when every fetch, ack and put started so far has finished. */
  async whenIdle(): Promise<void> {
    // Bounded: work started while we wait is waited for too, a few rounds deep (polls keep starting more).
    for (let round = 0; round < 16; round++) {
      const pending = [...this.#chains.values()];
      await Promise.allSettled(pending);
      if ([...this.#chains.values()].every((p) => pending.includes(p))) return;
    }
  }

  async #storeFor(pk: Buffer): Promise<Buffer[]> {
    const { store } = this.#opts;
    const pending = store.offline.pending(pk);
    const bundled = new Set(pending.flatMap((b) => b.messageIds.map((id) => id.toString('hex'))));
    const outbox = store.messages.outbox(pk);
    // Undelivered messages in no pending bundle: new ones, and any left over by an interrupted re-seal.
    const loose = outbox.filter((m) => !bundled.has(m.id.toString('hex')));
    if (loose.length > 0) {
      // The record lists at most RECORD_LIMITS.maxPendingOffline heads: rather than overflow it, the pending
      // bundles are dropped and everything undelivered is sealed again into as few bundles as possible.
      const isResealing = pending.length + packBatches(loose).length > RECORD_LIMITS.maxPendingOffline;
      const batches = packBatches(isResealing ? outbox : loose);
      const prekey = await this.#friendPrekey(pk);
      const parties = {
        pairSecret: this.#pairSecret(pk),
        senderPk: this.#opts.identity.publicKey,
        recipientPk: pk,
      };
      const sealed = batches.map((batch) => ({
        batch,
        sealed: sealOffline(parties, prekey, batch, this.#opts.random),
      }));
      store.transaction(() => {
        if (isResealing) for (const b of pending) store.offline.drop(b.headTarget);
        for (const { batch, sealed: s } of sealed) {
          store.offline.saveBundle(
            pk,
            s.parts,
            batch.map((m) => m.id),
          );
        }
      });
    }
    // Every unput bundle of this friend (the new ones, and any whose earlier put failed).
    let isAnyPut = false;
    for (const bundle of pendingInOrder(store, pk).filter((b) => b.putCount === 0)) {
      isAnyPut = (await this.#putBundle(bundle.headTarget, bundle.parts, bundle.messageIds)) || isAnyPut;
    }
    return this.#listThenMarkStored(pk, isAnyPut);
  }

  /**
   * `stored` tells the user the friend can fetch the messages, so it waits for our record listing their bundles:
   * a bundle put but not yet listed (the daemon stopped right after the put) is out of the friend's sight.
   * Publishes when a bundle was just put (a re-seal lists new heads for messages already stored) or messages of
   * a put bundle are still queued; when the publish fails they stay queued and the next call tries again.
   */
  async #listThenMarkStored(pk: Buffer, isNewlyPut: boolean): Promise<Buffer[]> {
    const { store } = this.#opts;
    const waiting = pendingInOrder(store, pk)
      .filter((b) => b.putCount > 0)
      .slice(0, RECORD_LIMITS.maxPendingOffline)
      .flatMap((b) => b.messageIds)
      .filter((id) => store.messages.get(id)?.state === 'queued');
    if (!isNewlyPut && waiting.length === 0) return [];
    try {
      await this.#opts.rendezvous.publishNow(pk);
    } catch (err) {
      this.#log.warn(
        { err: String(err), queued: waiting.length },
        'record listing offline bundles not published',
      );
      return [];
    }
    if (this.#isClosed) return [];
    const changed = waiting.filter((id) => store.messages.advance(id, 'stored').isChanged);
    if (changed.length > 0) this.#opts.onStateChange?.(pk, changed, 'stored');
    return changed;
  }

  /** Puts every part; when each was stored somewhere, counts the put (true); false when some part was not. */
  async #putBundle(head: Buffer, parts: { v: Buffer }[], ids: Buffer[]): Promise<boolean> {
    const { dht, store } = this.#opts;
    const counts = await Promise.all(
      parts.map(async (part) => {
        try {
          const put = await dht.putImmutable(part.v, { isQuick: true });
          dht.forgetItem(put.target); // We re-put from the store ourselves, until the friend acknowledges.
          return put.stored;
        } catch {
          return 0;
        }
      }),
    );
    if (counts.some((n) => n === 0)) {
      this.#log.warn({ head: head.toString('hex'), counts }, 'offline bundle not stored everywhere');
      return false;
    }
    store.offline.notePut(head);
    for (const id of ids) store.messages.noteAttempt(id);
    return true;
  }

  async #reputAll(): Promise<void> {
    this.#reputTimer?.cancel();
    const friends = new Map<string, { pk: Buffer; isNewlyPut: boolean }>();
    for (const bundle of this.#opts.store.offline.pending()) {
      const pk = bundle.conversation;
      await this.#serial(pk, async () => {
        const wasListed = bundle.putCount > 0;
        const isPut = await this.#putBundle(bundle.headTarget, bundle.parts, bundle.messageIds);
        const entry = friends.get(pk.toString('hex')) ?? { pk, isNewlyPut: false };
        entry.isNewlyPut ||= isPut && !wasListed;
        friends.set(pk.toString('hex'), entry);
      });
    }
    await Promise.all(
      [...friends.values()].map(({ pk, isNewlyPut }) =>
        this.#serial(pk, () => this.#listThenMarkStored(pk, isNewlyPut)).catch(() => []),
      ),
    );
    if (!this.#isClosed) {
      this.#reputTimer = this.#opts.clock.setTimer(OFFLINE_REPUT_MS, () => {
        void this.#reputAll().catch((err: unknown) => this.#log.warn({ err: String(err) }, 're-put failed'));
      });
    }
  }

  #onRecord(friendPk: Buffer, record: RendezvousRecord, info: RecordInfo): void {
    if (this.#isClosed) return;
    if (info.isNew) this.#rememberPrekey(friendPk, record);
    void this.#serial(friendPk, () => this.#handleRecord(friendPk, record)).catch((err: unknown) =>
      this.#log.warn({ err: String(err) }, 'handling a friend record failed'),
    );
  }

  async #handleRecord(pk: Buffer, record: RendezvousRecord): Promise<void> {
    const { store } = this.#opts;
    let isOurRecordStale = false;
    const ours = new Set(store.offline.pending(pk).map((b) => b.headTarget.toString('hex')));
    const delivered: Buffer[] = [];
    for (const head of record.ackedOffline) {
      if (!ours.has(head.toString('hex'))) continue;
      delivered.push(...store.offline.ack(pk, head));
      isOurRecordStale = true;
    }
    if (delivered.length > 0) this.#opts.onStateChange?.(pk, delivered, 'delivered');
    // Fetch every new bundle first, then store them all in one transaction: receiveMany orders the messages by
    // the sender's seq, so bundles fetched out of order (or one whose parts show up a poll later) still list right.
    const opened: { head: Buffer; messages: IncomingMessage[] }[] = [];
    for (const head of record.pendingOffline) {
      const hex = head.toString('hex');
      // Already stored: our record acknowledges it (heads the friend still lists are acked first).
      if (this.#deadHeads.has(hex) || store.offline.hasFetched(head)) continue;
      const messages = await this.#fetchBundle(pk, head);
      if (messages !== undefined) opened.push({ head, messages });
    }
    if (opened.length > 0) {
      const results = store.transaction(() => {
        const r = store.messages.receiveMany(opened.flatMap((o) => o.messages));
        for (const o of opened) store.offline.noteFetched(pk, o.head);
        return r;
      });
      isOurRecordStale = true;
      const fresh = results
        .filter((r) => r.isNew)
        .map((r) => r.message)
        .sort((a, b) => a.seq - b.seq);
      if (fresh.length > 0) this.#opts.onMessages?.(pk, fresh);
    }
    if (isOurRecordStale && !this.#isClosed) await this.#opts.rendezvous.publishNow(pk).catch(() => {});
  }

  /** Fetches and opens one bundle (rotating our prekey when it was sealed to the current one); its messages. */
  async #fetchBundle(pk: Buffer, head: Buffer): Promise<IncomingMessage[] | undefined> {
    const { dht, store, identity, random } = this.#opts;
    const hex = head.toString('hex');
    const headItem = await dht.get(head, { isQuick: true }).catch(() => undefined);
    if (headItem === undefined) return undefined; // Not found (yet): the next poll tries again.
    const parsed = parseHead(head, headItem.v);
    if (!parsed.ok) return this.#dead(hex, parsed.code);
    const tails = await Promise.all(
      parsed.tailTargets.map((t) =>
        dht
          .get(t)
          .then((i) => i?.v)
          .catch(() => undefined),
      ),
    );
    const prekeys = [...ownPrekeys(store, pk, random), identity.x25519];
    const parties = { pairSecret: this.#pairSecret(pk), senderPk: pk, recipientPk: identity.publicKey };
    const present = tails.filter((v) => v !== undefined);
    const opened = openOffline(parties, prekeys, head, headItem.v, present);
    if (!opened.ok)
      return opened.code === 'CHAT_OFFLINE_MISSING_PART' ? undefined : this.#dead(hex, opened.code);
    const incoming: IncomingMessage[] = [];
    for (const m of opened.messages) {
      const body = decodeOfflineBody(m.body);
      // A body the store would refuse (over 16 KiB) must not make the whole bundle fail on every poll.
      if (body === undefined || Buffer.byteLength(body.text, 'utf8') > MAX_MESSAGE_TEXT_BYTES)
        this.#log.warn({ head: hex }, 'offline message body malformed; skipped');
      else incoming.push({ id: m.id, conversation: pk, via: 'offline', ...body });
    }
    // Rotating before the messages are stored is safe: the old prekey stays as the previous one, and a crash
    // before the store only means fetching again and opening with that previous key.
    const current = prekeys[0];
    if (current !== undefined && opened.prekey.equals(current.publicKey)) rotatePrekey(store, pk, random);
    return incoming;
  }

  #dead(hex: string, code: string): undefined {
    this.#deadHeads.add(hex);
    this.#log.warn({ head: hex, code }, 'offline bundle cannot be opened; ignored');
    return undefined;
  }

  async #friendPrekey(pk: Buffer): Promise<Buffer> {
    const { rendezvous, store } = this.#opts;
    // A fresh look first: a prekey the friend has rotated twice since we saw it would seal a blob nobody opens.
    await rendezvous.refreshNow(pk).catch(() => undefined);
    let prekey = rendezvous.latestRecord(pk)?.prekey;
    prekey ??= savedPrekey(store.kv.get(FRIEND_PREKEY_KV + pk.toString('hex')))?.prekey;
    prekey ??= staticX25519Of(pk);
    if (prekey === undefined)
      throw new DhtchatError('CHAT_OFFLINE_BAD_PREKEY', 'the friend has no usable key');
    return prekey;
  }

  #rememberPrekey(pk: Buffer, record: RendezvousRecord): void {
    if (record.prekey === undefined) return;
    const key = FRIEND_PREKEY_KV + pk.toString('hex');
    const saved = savedPrekey(this.#opts.store.kv.get(key));
    if (saved !== undefined && saved.timestampMs >= record.timestampMs) return;
    this.#opts.store.kv.setJson(key, { t: record.timestampMs, k: record.prekey.toString('hex') });
  }

  #pairSecret(pk: Buffer): Buffer {
    const secret = derivePairSecret(this.#opts.identity, pk);
    if (!secret.ok) throw new DhtchatError(secret.code, 'cannot pair with this friend');
    return secret.secret;
  }

  /** Runs fn after everything queued for this friend (one fetch/put sequence per friend at a time). */
  #serial<T>(pk: Buffer, fn: () => Promise<T>): Promise<T> {
    const hex = pk.toString('hex');
    const previous = this.#chains.get(hex) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.#chains.set(hex, next);
    void next
      .catch(() => {})
      .finally(() => {
        if (this.#chains.get(hex) === next) this.#chains.delete(hex);
      });
    return next;
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new DhtchatError('CHAT_SERVICE_CLOSED', 'the offline mailbox is closed');
  }
}

/** Oldest first into bundles of at most OFFLINE_MAX_MESSAGES messages and OFFLINE_MAX_PLAINTEXT_BYTES. */
function packBatches(messages: readonly StoredMessage[]): OfflineMessage[][] {
  const batches: OfflineMessage[][] = [];
  let batch: OfflineMessage[] = [];
  let bytes = 2; // "l" … "e"
  for (const m of messages) {
    const entry = { id: m.id, body: encodeOfflineBody(m) };
    const entryBytes = entry.body.length + entry.id.length + 24; // d1:b<n>:…1:i16:…e
    if (
      batch.length > 0 &&
      (batch.length >= OFFLINE_MAX_MESSAGES || bytes + entryBytes > OFFLINE_MAX_PLAINTEXT_BYTES)
    ) {
      batches.push(batch);
      batch = [];
      bytes = 2;
    }
    batch.push(entry);
    bytes += entryBytes;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function savedPrekey(bytes: Buffer | undefined): { timestampMs: number; prekey: Buffer } | undefined {
  if (bytes === undefined) return undefined;
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { t?: unknown; k?: unknown };
    if (typeof json.t !== 'number' || typeof json.k !== 'string' || json.k.length !== 64) return undefined;
    return { timestampMs: json.t, prekey: Buffer.from(json.k, 'hex') };
  } catch {
    return undefined;
  }
}
