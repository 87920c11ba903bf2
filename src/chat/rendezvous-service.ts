/**
 * Rendezvous service (docs/PROTOCOL.md "Rendezvous records"): publishes our record for each accepted friend, polls
 * theirs. The formats live in rendezvous-record.ts / record-body.ts; this file only decides what goes in and when.
 *
 *   const rv = new RendezvousService({ identity, store, dht, clock, random, localEndpoints });
 *   rv.onRecord((friendPk, record, info) => …);   // every successful fetch; info.isNew once per new seq
 *   await rv.start();            // publish to and fetch from every accepted friend, then keep doing it
 *   rv.endpointsChanged();       // our addresses moved: republish everywhere now
 *   await rv.friendAccepted(pk); // a new friend: publish, fetch and start polling (no restart needed)
 *   await rv.publishNow(pk);     // republish one friend's record now (the mailbox does, when pending/acks change)
 *   await rv.refreshNow(pk);     // fetch the friend's record now (the session layer, before dialling)
 *   rv.resetBackoff(pk);         // the friend went online/offline: poll fast again
 *   rv.latestRecord(pk);         // newest record seen this run (by the author's timestamp)
 *   rv.close();
 *
 * Record contents: endpoints = the DHT's BEP 42-voted external address (public) + localEndpoints() (public or
 * LAN by address class), introducers from the optional introducers(), pending = our unacknowledged offline
 * bundles that were put at least once (oldest first), acked = the friend's bundles we stored (newest first), and
 * our current one-time prekey for that friend (made here on first use; offline-mailbox.ts rotates it).
 * Timing: publish at start, on endpointsChanged(), and every 30–60 min (jittered). Fetch at start, then poll
 * each friend with back-off 15 s doubling to 5 min, skipping the polls while a session with them is up
 * (isConnected). Both cover the neighbouring day epoch near a boundary.
 * DhtNode's own hourly republisher is told to forget our records: this service re-publishes them itself, fresh.
 * A friend whose contact is no longer `accepted` (declined, blocked, removed) stops being polled and published.
 * Failures are logged and retried on the next tick; publishNow/refreshNow reject with the DHT's error.
 */
import { type DhtNode, isPublicHost } from '../dht/index.ts';
import {
  type Clock,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';
import { dayEpochsToFetch, dayEpochsToPublish } from './epoch.ts';
import type { Identity } from './identity.ts';
import { derivePairSecret } from './pair-secret.ts';
import { RECORD_LIMITS, type RecordEndpoint, type RendezvousRecord } from './record-body.ts';
import { openRecord, recordKeyFor, sealRecord } from './rendezvous-record.ts';
import { ownPrekeys, pendingInOrder } from './mailbox-state.ts';
import type { ChatStore } from './store/chat-store.ts';

export const RENDEZVOUS_TIMING = {
  republishMinMs: 30 * 60_000,
  republishJitterMs: 30 * 60_000,
  pollFirstMs: 15_000,
  pollMaxMs: 5 * 60_000,
} as const;

export interface RendezvousServiceOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: DhtNode;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** Where our chat socket listens locally (LAN addresses, port-mapped ones); the DHT adds the voted public one. */
  localEndpoints(): UdpAddress[];
  /** Reachable DHT nodes that forward punch notes for us (introducer-keeper.ts). */
  introducers?(): UdpAddress[];
  /**
   * Is a session with this friend up? Its record is then not polled: the session is fresher news than the record
   * (where the friend is, that it is around), and sending goes over it. When the session ends the friend turns
   * away and resetBackoff() polls again within pollFirstMs. Explicit fetches (refreshNow: before dialling, before
   * sealing an offline bundle to the current prekey) still run. Default: never connected (always poll).
   */
  isConnected?(friendPk: Buffer): boolean;
}

export interface RecordInfo {
  readonly epoch: number;
  readonly seq: number;
  /** First time this run that this (epoch, seq) was seen. */
  readonly isNew: boolean;
}

export type RecordListener = (friendPk: Buffer, record: RendezvousRecord, info: RecordInfo) => void;

interface FriendState {
  readonly pk: Buffer;
  readonly pairSecret: Buffer;
  pollDelayMs: number;
  pollTimer?: Timer;
  publishing?: Promise<void>;
  isDirty: boolean;
  latest?: RendezvousRecord;
  readonly seenSeq: Map<number, number>;
}

export class RendezvousService {
  readonly #opts: RendezvousServiceOptions;
  readonly #log: Logger;
  readonly #friends = new Map<string, FriendState>();
  readonly #listeners: RecordListener[] = [];
  #republishTimer?: Timer;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: RendezvousServiceOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'rendezvous' });
  }

  onRecord(listener: RecordListener): this {
    this.#listeners.push(listener);
    return this;
  }

  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#isStarted) return;
    this.#isStarted = true;
    const friends = this.#syncFriends();
    this.#scheduleRepublish();
    await Promise.all(
      friends.map(async (f) => {
        await Promise.allSettled([this.#publish(f), this.#fetch(f)]);
        this.#schedulePoll(f);
      }),
    );
  }

  close(): void {
    this.#isClosed = true;
    this.#republishTimer?.cancel();
    for (const f of this.#friends.values()) f.pollTimer?.cancel();
  }

  /** Our endpoints changed: republish to every friend now. */
  endpointsChanged(): void {
    if (this.#isClosed) return;
    for (const f of this.#syncFriends()) void this.#publish(f).catch(() => {});
  }

  /** A friend was just accepted: publish our record, fetch theirs, and keep polling it. */
  async friendAccepted(friendPk: Uint8Array): Promise<void> {
    this.#assertOpen();
    const f = this.#friend(friendPk);
    f.pollDelayMs = RENDEZVOUS_TIMING.pollFirstMs;
    await Promise.allSettled([this.#publish(f), this.#fetch(f)]);
    if (this.#isStarted) this.#schedulePoll(f);
  }

  /** Publishes our record to one friend (or all) now; rejects when no DHT node stored it. */
  async publishNow(friendPk?: Uint8Array): Promise<void> {
    this.#assertOpen();
    const friends = friendPk === undefined ? this.#syncFriends() : [this.#friend(friendPk)];
    await Promise.all(friends.map((f) => this.#publish(f)));
  }

  /** Fetches the friend's record now; undefined when none was found. */
  async refreshNow(friendPk: Uint8Array): Promise<RendezvousRecord | undefined> {
    this.#assertOpen();
    const f = this.#friend(friendPk);
    const found = await this.#fetch(f);
    // Start polling a friend we did not poll yet; an existing poll keeps its rhythm (no extra back-off step).
    if (this.#isStarted && f.pollTimer === undefined) this.#schedulePoll(f);
    return found;
  }

  /** The friend came online or went away: poll again soon and back off from there. */
  resetBackoff(friendPk: Uint8Array): void {
    if (this.#isClosed) return;
    const f = this.#friend(friendPk);
    f.pollDelayMs = RENDEZVOUS_TIMING.pollFirstMs;
    if (this.#isStarted) this.#schedulePoll(f);
  }

  latestRecord(friendPk: Uint8Array): RendezvousRecord | undefined {
    return this.#friends.get(Buffer.from(friendPk).toString('hex'))?.latest;
  }

  /** Accepted contacts, each with its pair secret (new friends are picked up here). */
  #syncFriends(): FriendState[] {
    const accepted = this.#opts.store.contacts.list(['accepted']);
    return accepted.map((c) => this.#friend(c.publicKey));
  }

  #friend(friendPk: Uint8Array): FriendState {
    const hex = Buffer.from(friendPk).toString('hex');
    const known = this.#friends.get(hex);
    if (known !== undefined) return known;
    const secret = derivePairSecret(this.#opts.identity, friendPk);
    if (!secret.ok) throw new DhtchatError(secret.code, `cannot pair with friend ${hex.slice(0, 16)}…`);
    const f: FriendState = {
      pk: Buffer.from(friendPk),
      pairSecret: secret.secret,
      pollDelayMs: RENDEZVOUS_TIMING.pollFirstMs,
      isDirty: false,
      seenSeq: new Map(),
    };
    this.#friends.set(hex, f);
    return f;
  }

  /** Coalesces: a publish asked for while one runs makes exactly one more run after it. */
  #publish(f: FriendState): Promise<void> {
    if (f.publishing !== undefined) {
      f.isDirty = true;
      return f.publishing;
    }
    const run = async (): Promise<void> => {
      try {
        do {
          f.isDirty = false;
          await this.#publishOnce(f);
        } while (f.isDirty && !this.#isClosed);
      } finally {
        f.publishing = undefined;
      }
    };
    f.publishing = run();
    return f.publishing;
  }

  async #publishOnce(f: FriendState): Promise<void> {
    const { store, dht, clock, random, identity } = this.#opts;
    const record = this.#ownRecord(f);
    const epochs = dayEpochsToPublish(clock.now());
    const results = await Promise.allSettled(
      epochs.map(async (epoch) => {
        const sealed = sealRecord(
          { pairSecret: f.pairSecret, authorPk: identity.publicKey, readerPk: f.pk, epoch },
          record,
          random,
        );
        const seq = store.recordSeqs.nextOwnSeq(f.pk, epoch);
        const put = await dht.putMutable({
          keyPair: sealed.key.keyPair,
          salt: sealed.key.salt,
          v: sealed.v,
          seq,
          isQuick: true,
        });
        dht.forgetItem(put.target);
        if (put.stored === 0)
          throw new DhtchatError('CHAT_RECORD_NOT_STORED', 'no DHT node stored our record');
      }),
    );
    const failure = results.find((r) => r.status === 'rejected');
    if (failure !== undefined && results.every((r) => r.status === 'rejected')) {
      this.#log.warn({ friend: shortHex(f.pk), err: String(failure.reason) }, 'record publish failed');
      throw failure.reason;
    }
    this.#log.debug({ friend: shortHex(f.pk), epochs }, 'record published');
  }

  #ownRecord(f: FriendState): RendezvousRecord {
    const { store, dht, clock } = this.#opts;
    const endpoints: RecordEndpoint[] = [];
    const seen = new Set<string>();
    const add = (kind: RecordEndpoint['kind'], address: UdpAddress): void => {
      const key = `${address.host}|${address.port}`;
      if (seen.has(key) || address.port === 0 || endpoints.length >= RECORD_LIMITS.maxEndpoints) return;
      seen.add(key);
      endpoints.push({ kind, address: { host: address.host, port: address.port } });
    };
    const external = dht.externalAddress();
    if (external !== undefined) add('public', external);
    for (const a of this.#opts.localEndpoints()) add(isPublicHost(a.host) ? 'public' : 'lan', a);
    const pendingOffline = pendingInOrder(store, f.pk)
      .filter((b) => b.putCount > 0)
      .slice(0, RECORD_LIMITS.maxPendingOffline)
      .map((b) => b.headTarget);
    return {
      timestampMs: clock.now(),
      endpoints,
      introducers: (this.#opts.introducers?.() ?? []).slice(0, RECORD_LIMITS.maxIntroducers),
      pendingOffline,
      ackedOffline: this.#acks(f),
      prekey: ownPrekeys(store, f.pk, this.#opts.random)[0]?.publicKey,
    };
  }

  /** Heads the friend still lists that we stored come first (they wait for exactly this ack), then the newest. */
  #acks(f: FriendState): Buffer[] {
    const { offline } = this.#opts.store;
    const acks = (f.latest?.pendingOffline ?? []).filter((head) => offline.hasFetched(head));
    for (const head of offline.ackedHeads(f.pk, RECORD_LIMITS.maxAckedOffline)) {
      if (!acks.some((a) => a.equals(head))) acks.push(head);
    }
    return acks.slice(0, RECORD_LIMITS.maxAckedOffline);
  }

  /** Fetches every epoch in the window; hands each valid record to the listeners; returns the newest. */
  async #fetch(f: FriendState): Promise<RendezvousRecord | undefined> {
    const { dht, clock, identity, store } = this.#opts;
    const epochs = dayEpochsToFetch(clock.now());
    const found = await Promise.all(
      epochs.map(async (epoch) => {
        const parties = { pairSecret: f.pairSecret, authorPk: f.pk, readerPk: identity.publicKey, epoch };
        const key = recordKeyFor(f.pairSecret, f.pk, epoch);
        // Quick: a dead node among the closest must not delay a friend's record by 3 s; we poll again anyway.
        const item = await dht.get(key.target, { salt: key.salt, isQuick: true }).catch(() => undefined);
        if (item === undefined || item.seq === undefined) return undefined;
        const opened = openRecord(parties, item, key);
        if (!opened.ok) {
          this.#log.warn({ friend: shortHex(f.pk), code: opened.code }, 'friend record rejected');
          return undefined;
        }
        // A lower seq than one already seen (this run or before a restart) is a stale copy: ignore it.
        const lastStored = store.recordSeqs.lastTheirSeq(f.pk, epoch) ?? -1;
        if (item.seq < lastStored) return undefined;
        if (item.seq > lastStored) store.recordSeqs.noteTheirs(f.pk, epoch, item.seq);
        const isNew = (f.seenSeq.get(epoch) ?? -1) < item.seq;
        if (isNew) f.seenSeq.set(epoch, item.seq);
        return { record: opened.record, info: { epoch, seq: item.seq, isNew } };
      }),
    );
    let newest: RendezvousRecord | undefined;
    for (const hit of found) {
      if (hit === undefined) continue;
      if (newest === undefined || hit.record.timestampMs > newest.timestampMs) newest = hit.record;
    }
    if (newest !== undefined && (f.latest === undefined || newest.timestampMs >= f.latest.timestampMs)) {
      f.latest = newest;
    }
    for (const hit of found) {
      if (hit === undefined) continue;
      for (const listener of this.#listeners) {
        try {
          listener(f.pk, hit.record, hit.info);
        } catch (err) {
          this.#log.error({ err: String(err) }, 'record listener threw');
        }
      }
    }
    return newest;
  }

  #schedulePoll(f: FriendState): void {
    f.pollTimer?.cancel();
    if (this.#isClosed) return;
    const delayMs = f.pollDelayMs;
    f.pollDelayMs = Math.min(RENDEZVOUS_TIMING.pollMaxMs, f.pollDelayMs * 2);
    f.pollTimer = this.#opts.clock.setTimer(delayMs, () => {
      if (this.#isClosed) return;
      if (this.#opts.store.contacts.get(f.pk)?.state !== 'accepted') {
        this.#friends.delete(f.pk.toString('hex'));
        return;
      }
      // An idle daemon's DHT traffic was mostly these polls, online friends' included (issue 13 §4).
      if (this.#opts.isConnected?.(f.pk) === true) {
        this.#schedulePoll(f);
        return;
      }
      void this.#fetch(f)
        .catch((err: unknown) => this.#log.warn({ err: String(err) }, 'record poll failed'))
        .finally(() => this.#schedulePoll(f));
    });
  }

  #scheduleRepublish(): void {
    if (this.#isClosed) return;
    const { clock, random } = this.#opts;
    const delayMs = RENDEZVOUS_TIMING.republishMinMs + random.int(RENDEZVOUS_TIMING.republishJitterMs);
    this.#republishTimer = clock.setTimer(delayMs, () => {
      this.endpointsChanged();
      this.#scheduleRepublish();
    });
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new DhtchatError('CHAT_SERVICE_CLOSED', 'the rendezvous service is closed');
  }
}

function shortHex(pk: Buffer): string {
  return pk.toString('hex').slice(0, 16);
}
