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
 *   rv.noteAlive(pk, atMs);      // evidence the friend's daemon runs (a session ended, a punch note came)
 *   rv.isAlive(pk);              // evidence within the online window (rendezvous-schedule.ts)
 *   await rv.wantSession(pk);    // publish "I am punching towards you since now" (punch-coordinator.ts)
 *   rv.moved();                  // our network changed: forget holders, poll everyone fast, republish
 *   rv.latestRecord(pk);         // newest record seen this run (by the author's timestamp)
 *   rv.close();
 *
 * Record contents: endpoints = the DHT's BEP 42-voted external address (public) + localEndpoints() (public or
 * LAN by address class), introducers from the optional introducers(), pending = our unacknowledged offline
 * bundles that were put at least once (oldest first), acked = the friend's bundles we stored (newest first), and
 * our current one-time prekey for that friend (made here on first use; offline-mailbox.ts rotates it).
 * Also natMapping (how our NAT maps us, nat-mapping.ts) and wantSinceMs while we punch towards the friend.
 * Timing: publish at start, on endpointsChanged(), and every 30–60 min (jittered); to an alive friend we have no
 * session with, every POLL_SCHEDULE.heartbeatMs too. Fetch at start, then poll on the schedule of
 * rendezvous-schedule.ts: fast (2.5 s, budgeted) for friends alive but unreachable and for everyone during the
 * first minute, else back-off 15 s doubling to 5 min; none while a direct session is up (hasDirectSession).
 * Reads and puts go to the record's last holders when they
 * can (rendezvous-holders.ts): a poll is then 3 queries. Both cover the neighbouring day epoch near a boundary.
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
import type { NatMapping } from './nat-mapping.ts';
import { derivePairSecret } from './pair-secret.ts';
import { RECORD_LIMITS, type RecordEndpoint, type RendezvousRecord, WANT_MAX_AGE_MS } from './record-body.ts';
import { type HolderRead, RecordHolders } from './rendezvous-holders.ts';
import { openRecord, type RecordKey, recordKeyFor, sealRecord } from './rendezvous-record.ts';
import { fastPollIntervalMs, isAlive, isFastTier, POLL_SCHEDULE } from './rendezvous-schedule.ts';
import { ownPrekeys, pendingInOrder } from './mailbox-state.ts';
import type { ChatStore } from './store/chat-store.ts';

export const RENDEZVOUS_TIMING = {
  republishMinMs: 30 * 60_000,
  republishJitterMs: 30 * 60_000,
  pollFirstMs: POLL_SCHEDULE.backoffFirstMs,
  pollMaxMs: POLL_SCHEDULE.backoffMaxMs,
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
  /** How our NAT maps us (nat-mapping.ts), published for the friend's choice of punching. */
  natMapping?(): NatMapping;
  /** A session with the friend is up (then its record is read on the back-off schedule). */
  isConnected?(friendPk: Buffer): boolean;
  /** Our public endpoint as DHT nodes see us now (nat-mapping.ts publicView); default the DHT's voted one. */
  publicEndpoint?(): UdpAddress | undefined;
  /**
   * Is a direct (not relayed) session with this friend up? Its record is then not polled: the session is fresher
   * news than the record (where the friend is, that it is around; liveness probes catch a move), and sending goes
   * over it. Under a relayed session records are still read (a punch wish there upgrades the path). When the
   * session ends, polls resume on the schedule. Explicit fetches (refreshNow: before dialling, before sealing an
   * offline bundle to the current prekey) still run. Default: never (always poll). An idle daemon's DHT traffic
   * was mostly these polls (issue 13 §4).
   */
  hasDirectSession?(friendPk: Buffer): boolean;
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
  /** The next back-off delay (doubling). */
  pollDelayMs: number;
  pollTimer?: Timer;
  pollDueMs: number;
  publishing?: Promise<void>;
  isDirty: boolean;
  latest?: RendezvousRecord;
  /** The newest record seen this run, per epoch, with its seq. */
  readonly byEpoch: Map<number, { record: RendezvousRecord; seq: number }>;
  /**
   * The keys of the friend's records we read, per epoch (only those in the fetch window are kept): deriving one
   * (an Ed25519 key from a seed, three HKDFs) cost more than the rest of an unchanged read (issue 13 §4).
   */
  readonly readKeys: Map<number, RecordKey>;
  lastEmitMs: number;
  lastPublishedMs: number;
  /** Last evidence the friend's daemon was running (our monotonic clock: a record's timestamp is turned into its age on arrival). */
  aliveMs: number | undefined;
  /** We want a session and punch towards the friend since then (wall time: published as the record's w). */
  wantSinceMs: number | undefined;
}

export class RendezvousService {
  readonly #opts: RendezvousServiceOptions;
  readonly #log: Logger;
  readonly #friends = new Map<string, FriendState>();
  readonly #listeners: RecordListener[] = [];
  readonly #holders: RecordHolders;
  #republishTimer?: Timer;
  #burstUntilMs = 0;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: RendezvousServiceOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'rendezvous' });
    this.#holders = new RecordHolders(opts.dht, opts.clock);
  }

  onRecord(listener: RecordListener): this {
    this.#listeners.push(listener);
    return this;
  }

  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#burstUntilMs = this.#opts.clock.monotonicMs() + POLL_SCHEDULE.startBurstMs;
    const friends = this.#syncFriends();
    this.#scheduleRepublish();
    await Promise.all(
      friends.map(async (f) => {
        await Promise.allSettled([this.#publish(f), this.#fetch(f, true)]);
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

  /**
   * We moved to another network: the holders' tokens were bound to our old address, and who is online is to be
   * found out again. Forget the holders, poll everyone on the fast schedule for a while, republish now.
   */
  moved(): void {
    if (this.#isClosed) return;
    this.#holders.forgetAll();
    this.#burstUntilMs = this.#opts.clock.monotonicMs() + POLL_SCHEDULE.startBurstMs;
    for (const f of this.#syncFriends()) this.#hurry(f);
    this.endpointsChanged();
  }

  /**
   * We punch towards the friend from sinceMs on: publish a record saying so (a cheap put when its holders are
   * known), so the friend, polling fast, punches back within seconds. Rejects like publishNow.
   */
  async wantSession(friendPk: Uint8Array, sinceMs = this.#opts.clock.wallMs()): Promise<void> {
    this.#assertOpen();
    const f = this.#friend(friendPk);
    f.wantSinceMs = sinceMs;
    await this.#publish(f);
  }

  /** Our wish for a session with the friend (undefined when none, or older than WANT_MAX_AGE_MS). */
  wantSince(friendPk: Uint8Array): number | undefined {
    const f = this.#friends.get(Buffer.from(friendPk).toString('hex'));
    if (f?.wantSinceMs === undefined) return undefined;
    return this.#opts.clock.wallMs() - f.wantSinceMs <= WANT_MAX_AGE_MS ? f.wantSinceMs : undefined;
  }

  /** Evidence that the friend's daemon runs (a session just ended, a note came): it is read on the fast schedule. */
  noteAlive(friendPk: Uint8Array, atMs = this.#opts.clock.monotonicMs()): void {
    if (this.#isClosed) return;
    const f = this.#friend(friendPk);
    f.aliveMs = Math.max(f.aliveMs ?? 0, Math.min(atMs, this.#opts.clock.monotonicMs()));
    // Alive and unreachable right now (a session just failed, a note came): read its record at once, it may
    // say where the friend is now.
    this.#hurry(f, POLL_SCHEDULE.urgentPollMs);
  }

  /** Evidence of life within the online window (rendezvous-schedule.ts). */
  isAlive(friendPk: Uint8Array): boolean {
    const f = this.#friends.get(Buffer.from(friendPk).toString('hex'));
    return (
      f !== undefined && isAlive({ hasSession: false, aliveMs: f.aliveMs }, this.#opts.clock.monotonicMs())
    );
  }

  /** A friend was just accepted: publish our record, fetch theirs, and keep polling it. */
  async friendAccepted(friendPk: Uint8Array): Promise<void> {
    this.#assertOpen();
    const f = this.#friend(friendPk);
    f.pollDelayMs = RENDEZVOUS_TIMING.pollFirstMs;
    await Promise.allSettled([this.#publish(f), this.#fetch(f, true)]);
    if (this.#isStarted) this.#schedulePoll(f);
  }

  /** Publishes our record to one friend (or all) now; rejects when no DHT node stored it. */
  async publishNow(friendPk?: Uint8Array): Promise<void> {
    this.#assertOpen();
    const friends = friendPk === undefined ? this.#syncFriends() : [this.#friend(friendPk)];
    await Promise.all(friends.map((f) => this.#publish(f)));
  }

  /** Fetches the friend's record now (from its holders when known); undefined when none was found. */
  async refreshNow(friendPk: Uint8Array): Promise<RendezvousRecord | undefined> {
    this.#assertOpen();
    const f = this.#friend(friendPk);
    const found = await this.#fetch(f, true);
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

  /** How many friends are read on the fast schedule now (for the budget, and for tests). */
  fastFriendCount(): number {
    const nowMs = this.#opts.clock.monotonicMs();
    let n = 0;
    for (const f of this.#friends.values()) if (this.#isFast(f, nowMs)) n++;
    return n;
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
      pollDueMs: Infinity,
      isDirty: false,
      byEpoch: new Map(),
      readKeys: new Map(),
      lastEmitMs: Number.NEGATIVE_INFINITY,
      lastPublishedMs: Number.NEGATIVE_INFINITY,
      aliveMs: undefined,
      wantSinceMs: undefined,
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
    const { store, clock, random, identity } = this.#opts;
    const record = this.#ownRecord(f);
    f.lastPublishedMs = clock.monotonicMs();
    const epochs = dayEpochsToPublish(clock.wallMs());
    const results = await Promise.allSettled(
      epochs.map(async (epoch) => {
        const sealed = sealRecord(
          { pairSecret: f.pairSecret, authorPk: identity.publicKey, readerPk: f.pk, epoch },
          record,
          random,
        );
        const seq = store.recordSeqs.nextOwnSeq(f.pk, epoch);
        const stored = await this.#holders.write({
          keyPair: sealed.key.keyPair,
          salt: sealed.key.salt,
          v: sealed.v,
          seq,
          target: sealed.key.target,
        });
        if (stored === 0) throw new DhtchatError('CHAT_RECORD_NOT_STORED', 'no DHT node stored our record');
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
    const external =
      this.#opts.publicEndpoint === undefined ? dht.externalAddress() : this.#opts.publicEndpoint();
    if (external !== undefined) add('public', external);
    for (const a of this.#opts.localEndpoints()) add(isPublicHost(a.host) ? 'public' : 'lan', a);
    const pendingOffline = pendingInOrder(store, f.pk)
      .filter((b) => b.putCount > 0)
      .slice(0, RECORD_LIMITS.maxPendingOffline)
      .map((b) => b.headTarget);
    const nowMs = clock.wallMs();
    const isWishing = f.wantSinceMs !== undefined && nowMs - f.wantSinceMs <= WANT_MAX_AGE_MS;
    return {
      timestampMs: nowMs,
      endpoints,
      introducers: (this.#opts.introducers?.() ?? []).slice(0, RECORD_LIMITS.maxIntroducers),
      pendingOffline,
      ackedOffline: this.#acks(f),
      prekey: ownPrekeys(store, f.pk, this.#opts.random)[0]?.publicKey,
      natMapping: this.#opts.natMapping?.(),
      ...(isWishing ? { wantSinceMs: f.wantSinceMs } : {}),
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

  /**
   * Fetches every epoch in the window (from the holders when known); hands each valid record to the listeners
   * (an unchanged one only when isExplicit, or at most every unchangedEmitMs); returns the newest.
   */
  async #fetch(f: FriendState, isExplicit: boolean): Promise<RendezvousRecord | undefined> {
    const nowMs = this.#opts.clock.monotonicMs();
    const isEmitDue = isExplicit || nowMs - f.lastEmitMs >= POLL_SCHEDULE.unchangedEmitMs;
    const epochs = dayEpochsToFetch(this.#opts.clock.wallMs());
    for (const epoch of f.readKeys.keys()) if (!epochs.includes(epoch)) f.readKeys.delete(epoch);
    const found = await Promise.all(
      epochs.map(async (epoch) => {
        let key = f.readKeys.get(epoch);
        if (key === undefined) {
          key = recordKeyFor(f.pairSecret, f.pk, epoch);
          f.readKeys.set(epoch, key);
        }
        const known = f.byEpoch.get(epoch);
        // Quick searches: a dead node among the closest must not delay a friend's record by 3 s; we poll again.
        const read = await this.#holders.read(key.target, key.salt, known?.seq, true).catch(() => undefined);
        if (read === undefined) return undefined;
        const hit = this.#opened(f, epoch, key, read, isEmitDue);
        // Handed on as soon as it is read: one slow epoch must not hold back the other's news.
        if (hit !== undefined) this.#emit(f, hit);
        return hit?.record;
      }),
    );
    let newest: RendezvousRecord | undefined;
    for (const record of found) {
      if (record !== undefined && (newest === undefined || record.timestampMs > newest.timestampMs))
        newest = record;
    }
    return newest ?? (isExplicit ? f.latest : undefined);
  }

  /** What a read brought: a record to hand on (new, or unchanged but due again), or nothing. */
  #opened(
    f: FriendState,
    epoch: number,
    key: RecordKey,
    read: HolderRead,
    isEmitDue: boolean,
  ): { record: RendezvousRecord; info: RecordInfo } | undefined {
    const { identity, store } = this.#opts;
    const known = f.byEpoch.get(epoch);
    if (read.isUnchanged) {
      return known !== undefined && isEmitDue
        ? { record: known.record, info: { epoch, seq: known.seq, isNew: false } }
        : undefined;
    }
    const item = read.item;
    if (item === undefined || item.seq === undefined) return undefined;
    const parties = { pairSecret: f.pairSecret, authorPk: f.pk, readerPk: identity.publicKey, epoch };
    const opened = openRecord(parties, item, key);
    if (!opened.ok) {
      this.#log.warn({ friend: shortHex(f.pk), code: opened.code }, 'friend record rejected');
      return undefined;
    }
    // A lower seq than one already seen (this run or before a restart) is a stale copy: ignore it.
    const lastStored = store.recordSeqs.lastTheirSeq(f.pk, epoch) ?? -1;
    if (item.seq < lastStored) return undefined;
    if (item.seq > lastStored) store.recordSeqs.noteTheirs(f.pk, epoch, item.seq);
    const isNew = (known?.seq ?? -1) < item.seq;
    if (!isNew && !isEmitDue) return undefined;
    if (isNew) {
      f.byEpoch.set(epoch, { record: opened.record, seq: item.seq });
      this.#noteLife(f, opened.record, known !== undefined);
    }
    return { record: opened.record, info: { epoch, seq: item.seq, isNew } };
  }

  #emit(f: FriendState, hit: { record: RendezvousRecord; info: RecordInfo }): void {
    if (f.latest === undefined || hit.record.timestampMs >= f.latest.timestampMs) f.latest = hit.record;
    f.lastEmitMs = this.#opts.clock.monotonicMs();
    for (const listener of this.#listeners) {
      try {
        listener(f.pk, hit.record, hit.info);
      } catch (err) {
        this.#log.error({ err: String(err) }, 'record listener threw');
      }
    }
  }

  /**
   * A new record is evidence of life: a seq above one we saw this run was published since (now, our clock); the
   * first one seen counts from the author's timestamp (not after now: clocks differ).
   */
  #noteLife(f: FriendState, record: RendezvousRecord, isUpdate: boolean): void {
    const { clock } = this.#opts;
    const nowMs = clock.monotonicMs();
    // The author's timestamp is wall time on its clock: only its age (wall against wall) carries over to ours.
    const atMs = isUpdate ? nowMs : nowMs - Math.max(0, clock.wallMs() - record.timestampMs);
    if (f.aliveMs === undefined || atMs > f.aliveMs) f.aliveMs = atMs;
  }

  #isFast(f: FriendState, nowMs: number): boolean {
    const hasSession = this.#opts.isConnected?.(f.pk) ?? false;
    return isFastTier({ hasSession, aliveMs: f.aliveMs }, nowMs, this.#burstUntilMs);
  }

  /** The friend may have moved to the fast tier: poll sooner (within withinMs) if its next poll is further away. */
  #hurry(f: FriendState, withinMs = fastPollIntervalMs(this.fastFriendCount())): void {
    if (!this.#isStarted || this.#isClosed) return;
    const nowMs = this.#opts.clock.monotonicMs();
    if (!this.#isFast(f, nowMs)) return;
    if (f.pollDueMs - nowMs > withinMs) this.#schedulePoll(f, withinMs);
  }

  #schedulePoll(f: FriendState, fixedDelayMs?: number): void {
    f.pollTimer?.cancel();
    if (this.#isClosed) return;
    const { clock, random } = this.#opts;
    const nowMs = clock.monotonicMs();
    let delayMs: number;
    if (fixedDelayMs !== undefined) delayMs = fixedDelayMs;
    else if (this.#isFast(f, nowMs)) {
      // The first seconds after our start or a move: friends who came up with us publish about now.
      const isRush = nowMs < this.#burstUntilMs - POLL_SCHEDULE.startBurstMs + POLL_SCHEDULE.startRushMs;
      const intervalMs = fastPollIntervalMs(this.fastFriendCount(), isRush);
      const jitterMs = Math.round(intervalMs * POLL_SCHEDULE.jitterShare);
      delayMs = intervalMs - jitterMs + random.int(2 * jitterMs + 1);
    } else {
      delayMs = f.pollDelayMs;
      f.pollDelayMs = Math.min(RENDEZVOUS_TIMING.pollMaxMs, f.pollDelayMs * 2);
    }
    f.pollDueMs = nowMs + delayMs;
    f.pollTimer = clock.setTimer(delayMs, () => {
      f.pollDueMs = Infinity;
      if (this.#isClosed) return;
      if (this.#opts.store.contacts.get(f.pk)?.state !== 'accepted') {
        this.#friends.delete(f.pk.toString('hex'));
        return;
      }
      if (this.#opts.hasDirectSession?.(f.pk) === true) {
        this.#schedulePoll(f);
        return;
      }
      void this.#fetch(f, false)
        .then(() => this.#heartbeat(f))
        .catch((err: unknown) => this.#log.warn({ err: String(err) }, 'record poll failed'))
        .finally(() => {
          if (f.pollDueMs === Infinity) this.#schedulePoll(f);
        });
    });
  }

  /** To an alive friend we have no session with: our record again every heartbeatMs, so it sees us alive too. */
  #heartbeat(f: FriendState): void {
    const nowMs = this.#opts.clock.monotonicMs();
    const hasSession = this.#opts.isConnected?.(f.pk) ?? false;
    if (hasSession || !isAlive({ hasSession, aliveMs: f.aliveMs }, nowMs)) return;
    if (nowMs - f.lastPublishedMs < POLL_SCHEDULE.heartbeatMs) return;
    void this.#publish(f).catch(() => {});
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
