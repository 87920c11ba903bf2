/**
 * A group's DHT mailbox (docs/PROTOCOL.md "Groups", "DHT mailbox"): how a member who comes back when nobody is
 * online gets what it missed. Each author files its own entries, and only those a member has not confirmed
 * having (their heads), OFFLINE_AFTER_MS after writing them: sealed into bundles (group-bundle.ts) under the
 * mailbox secret of an epoch its readers hold — a message under its own epoch; an op under the epoch before it,
 * so members who have not seen a new key yet find the op that hands it to them (a removed member finds its
 * removal there too, never the new key) — put as immutable items, and listed in the author's group record for
 * that epoch and day (group-record.ts), which also says where the author can be reached.
 *
 * Readers poll the records of the members they hold no session with, for the three newest epochs they hold and
 * the days around now, fetch bundles they have not fetched, and take every entry through the replica like any
 * other (signature, order, gaps). Authors re-put bundles hourly until every member's heads cover their entries
 * or KEY_RETENTION_DAYS pass. DHT cost per member and group: one record put per epoch touched and day, bundles
 * only when a member is away, and ≤ (members − 1) × 3 × 2 record gets per poll (15 s doubling to 10 min).
 */
import type { DhtNode } from '../../dht/index.ts';
import type { Clock, Logger, Random, Timer, UdpAddress } from '../../runtime/index.ts';
import { dayEpochsToFetch, dayEpochsToPublish, nextRecordSeq } from '../epoch.ts';
import type { Identity } from '../identity.ts';
import { parseHead } from '../offline-parts.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { GroupBundle } from '../store/group-bundles.ts';
import type { StoredEntry } from '../store/groups.ts';
import { bundleFits, openGroupBundle, sealGroupBundle } from './group-bundle.ts';
import { KEY_RETENTION_DAYS } from './group-keys.ts';
import { decodeOp, isKeyOp } from './group-ops.ts';
import {
  groupRecordKey,
  MAX_RECORD_BUNDLES,
  MAX_RECORD_ENDPOINTS,
  openGroupRecord,
  sealGroupRecord,
} from './group-record.ts';
import type { GroupReplica } from './group-replica.ts';
import { decodeEntry } from './group-entry.ts';

export const GROUP_MAILBOX_TIMING = {
  /** An own entry some member has not confirmed after this long goes to the DHT. */
  offlineAfterMs: 8000,
  pollFirstMs: 15_000,
  pollMaxMs: 10 * 60_000,
  reputMs: 60 * 60_000,
} as const;
/** Epochs whose mailboxes a reader polls (newest first). */
const POLLED_EPOCHS = 3;
const DAY_MS = 86_400_000;

export interface GroupMailboxHost {
  /** Groups we are a member of. */
  memberGroups(): Buffer[];
  replica(groupId: Buffer): GroupReplica | undefined;
  isLinked(peer: Buffer): boolean;
  mailboxes(groupId: Buffer): { epoch: Buffer; secret: Buffer }[];
  /** Entries fetched from the DHT: through the replica, then heads to the members online. */
  ingest(replica: GroupReplica, bytes: Buffer): void;
  noteMemberEndpoint(member: Buffer, address: UdpAddress): void;
}

export interface GroupMailboxOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly dht: DhtNode;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly host: GroupMailboxHost;
  localEndpoints(): UdpAddress[];
}

export class GroupMailbox {
  readonly #opts: GroupMailboxOptions;
  readonly #checks = new Map<string, Timer>();
  readonly #polls = new Map<string, { delayMs: number; timer: Timer | undefined }>();
  readonly #chains = new Map<string, Promise<unknown>>();
  /** Last record seq we put, by target hex (seqs must grow; seconds into the day do, except on a clock step). */
  readonly #seqs = new Map<string, number>();
  #reputTimer: Timer | undefined;
  #isStarted = false;
  #isClosed = false;

  constructor(opts: GroupMailboxOptions) {
    this.#opts = opts;
  }

  /** Re-puts our bundles and records, and starts polling every group's members we have no session with. */
  start(): void {
    if (this.#isStarted || this.#isClosed) return;
    this.#isStarted = true;
    this.#reputAll().catch((error: unknown) =>
      this.#logger.warn({ error: String(error) }, 'group re-put failed'),
    );
    for (const groupId of this.#opts.host.memberGroups()) this.pollSoon(groupId);
  }

  close(): void {
    this.#isClosed = true;
    this.#reputTimer?.cancel();
    for (const timer of this.#checks.values()) timer.cancel();
    for (const poll of this.#polls.values()) poll.timer?.cancel();
  }

  /** Resolves when the work started so far has finished (tests). */
  async whenIdle(): Promise<void> {
    for (let round = 0; round < 16; round++) {
      const pending = [...this.#chains.values()];
      await Promise.allSettled(pending);
      if ([...this.#chains.values()].every((p) => pending.includes(p))) return;
    }
  }

  /** We wrote an entry: if a member has not got it in a while, it goes to the DHT. */
  noteOwnEntry(groupId: Buffer): void {
    const hex = groupId.toString('hex');
    if (this.#checks.has(hex) || this.#isClosed) return;
    this.#checks.set(
      hex,
      this.#opts.clock.setTimer(GROUP_MAILBOX_TIMING.offlineAfterMs, () => {
        this.#checks.delete(hex);
        if (this.#isStarted) void this.#serial(groupId, () => this.#storeFor(groupId));
      }),
    );
  }

  /** Polls a group's members' records now, then with back-off. */
  pollSoon(groupId: Buffer): void {
    const hex = groupId.toString('hex');
    const state = this.#polls.get(hex) ?? { delayMs: GROUP_MAILBOX_TIMING.pollFirstMs, timer: undefined };
    state.timer?.cancel();
    state.delayMs = GROUP_MAILBOX_TIMING.pollFirstMs;
    this.#polls.set(hex, state);
    const run = (): void => {
      state.timer = undefined;
      if (this.#isClosed) return;
      void this.#serial(groupId, () => this.#poll(groupId))
        .catch(() => undefined)
        .finally(() => {
          if (this.#isClosed) return;
          state.timer = this.#opts.clock.setTimer(state.delayMs, run);
          state.delayMs = Math.min(GROUP_MAILBOX_TIMING.pollMaxMs, state.delayMs * 2);
        });
    };
    run();
  }

  // ── sending ──────────────────────────────────────────────────────────────────────────────────────────────

  /** Seals and puts our entries that some member lacks, then publishes the records that list them. */
  async #storeFor(groupId: Buffer): Promise<void> {
    const replica = this.#opts.host.replica(groupId);
    if (replica === undefined) return;
    const own = this.#opts.identity.publicKey;
    const waiting = this.#opts.store.groups.unbundled(groupId, own, 1024);
    const lacking = this.#lacking(replica, waiting);
    if (lacking.length === 0) return;
    const byEpoch = new Map<string, StoredEntry[]>();
    for (const entry of lacking) {
      const epoch = this.#filedUnder(replica, entry);
      if (epoch === undefined) continue;
      const list = byEpoch.get(epoch.toString('hex')) ?? [];
      list.push(entry);
      byEpoch.set(epoch.toString('hex'), list);
    }
    for (const [epochHex, entries] of byEpoch) {
      const epoch = Buffer.from(epochHex, 'hex');
      const secret = this.#secret(groupId, epoch);
      if (secret === undefined) continue;
      for (let at = 0; at < entries.length; ) {
        const fit = bundleFits(entries.slice(at).map((e) => e.bytes));
        const batch = entries.slice(at, at + fit);
        at += fit;
        const sealed = sealGroupBundle(
          secret,
          own,
          batch.map((e) => e.bytes),
          this.#opts.random,
        );
        this.#opts.store.groupBundles.save(
          groupId,
          epoch,
          sealed.parts,
          batch.map((e) => e.hash),
        );
        await this.#put(sealed.headTarget, sealed.parts);
        if (this.#isClosed) return;
      }
      await this.#publish(groupId, epoch);
      const fields = {
        event: 'group_bundles_stored',
        group: groupId.toString('hex').slice(0, 8),
        entries: entries.length,
      };
      this.#opts.logger.info(fields, 'group entries filed in the DHT');
    }
  }

  async #put(head: Buffer, parts: readonly { v: Buffer }[]): Promise<boolean> {
    const { dht } = this.#opts;
    const counts = await Promise.all(
      parts.map(async (part) => {
        try {
          const put = await dht.putImmutable(part.v, { isQuick: true });
          dht.forgetItem(put.target); // re-put from the store ourselves, while members lack the entries
          return put.stored;
        } catch {
          return 0;
        }
      }),
    );
    if (this.#isClosed) return false;
    if (counts.some((n) => n === 0)) {
      this.#opts.logger.warn(
        { head: head.toString('hex').slice(0, 8), counts },
        'group bundle not stored everywhere',
      );
      return false;
    }
    this.#opts.store.groupBundles.notePut(head);
    return true;
  }

  /** Puts our record for an epoch (the bundles filed under it, where we are) for the days around now. */
  async #publish(groupId: Buffer, epoch: Buffer): Promise<void> {
    const secret = this.#secret(groupId, epoch);
    if (secret === undefined) return;
    const { clock, dht, identity, random } = this.#opts;
    const bundles = this.#opts.store.groupBundles
      .list(groupId)
      .filter((b) => b.epoch.equals(epoch) && b.putCount > 0)
      .reverse()
      .slice(0, MAX_RECORD_BUNDLES)
      .map((b) => b.headTarget);
    const record = { timestampMs: clock.wallMs(), endpoints: this.#endpoints(), bundles };
    await Promise.all(
      dayEpochsToPublish(clock.wallMs()).map(async (day) => {
        const key = groupRecordKey(secret, identity.publicKey, day);
        const hex = key.target.toString('hex');
        const seq = nextRecordSeq(clock.wallMs(), day, this.#seqs.get(hex));
        this.#seqs.set(hex, seq);
        try {
          await dht.putMutable({
            keyPair: key.keyPair,
            salt: key.salt,
            v: sealGroupRecord(key, record, random),
            seq,
            isQuick: true,
          });
          dht.forgetItem(key.target);
        } catch (error) {
          this.#opts.logger.debug({ error: String(error) }, 'group record not published');
        }
      }),
    );
  }

  /** Hourly: bundles every member now has, or past the key retention, go; the others are put again. */
  async #reputAll(): Promise<void> {
    this.#reputTimer?.cancel();
    const now = this.#opts.clock.wallMs();
    const touched = new Map<string, { groupId: Buffer; epoch: Buffer }>();
    for (const bundle of this.#opts.store.groupBundles.list()) {
      if (this.#isClosed) return;
      const replica = this.#opts.host.replica(bundle.groupId);
      const isOld = now - bundle.createdMs > KEY_RETENTION_DAYS * DAY_MS;
      if (replica === undefined || isOld || this.#isDelivered(replica, bundle)) {
        this.#opts.store.groupBundles.drop(bundle.headTarget);
        continue;
      }
      await this.#serial(bundle.groupId, () => this.#put(bundle.headTarget, bundle.parts));
      touched.set(`${bundle.groupId.toString('hex')}/${bundle.epoch.toString('hex')}`, bundle);
    }
    for (const { groupId, epoch } of touched.values())
      await this.#serial(groupId, () => this.#publish(groupId, epoch));
    if (this.#isClosed) return;
    this.#reputTimer = this.#opts.clock.setTimer(GROUP_MAILBOX_TIMING.reputMs, () => {
      this.#reputAll().catch((error: unknown) =>
        this.#logger.warn({ error: String(error) }, 'group re-put failed'),
      );
    });
  }

  // ── receiving ────────────────────────────────────────────────────────────────────────────────────────────

  async #poll(groupId: Buffer): Promise<void> {
    const replica = this.#opts.host.replica(groupId);
    if (replica === undefined) return;
    const { dht, clock } = this.#opts;
    const absent = [...replica.membership().members.values()]
      .map((m) => m.publicKey)
      .filter((m) => !m.equals(this.#opts.identity.publicKey) && !this.#opts.host.isLinked(m));
    if (absent.length === 0) return;
    const fetched: { head: Buffer; hashes: (Buffer | undefined)[] }[] = [];
    for (const { secret } of this.#opts.host.mailboxes(groupId).slice(0, POLLED_EPOCHS)) {
      for (const member of absent) {
        for (const day of dayEpochsToFetch(clock.wallMs())) {
          const key = groupRecordKey(secret, member, day);
          const item = await dht.get(key.target, { salt: key.salt, isQuick: true }).catch(() => undefined);
          if (this.#isClosed) return;
          const record = item === undefined ? undefined : openGroupRecord(key, item);
          if (record === undefined) continue;
          for (const address of record.endpoints) this.#opts.host.noteMemberEndpoint(member, address);
          for (const head of record.bundles) {
            if (this.#opts.store.groupBundles.hasFetched(head) || fetched.some((f) => f.head.equals(head)))
              continue;
            const entries = await this.#fetchBundle(secret, member, head);
            if (this.#isClosed) return;
            if (entries === undefined) continue;
            for (const bytes of entries) this.#opts.host.ingest(replica, bytes);
            fetched.push({ head, hashes: entries.map((e) => hashOf(e)) });
          }
        }
      }
    }
    // A bundle is done once all its entries are stored (some may have waited for another bundle's).
    for (const { head, hashes } of fetched) {
      if (hashes.every((h) => h === undefined || this.#opts.store.groups.hasEntry(h))) {
        this.#opts.store.groupBundles.noteFetched(groupId, head);
      }
    }
  }

  async #fetchBundle(secret: Buffer, author: Buffer, head: Buffer): Promise<Buffer[] | undefined> {
    const { dht } = this.#opts;
    const headItem = await dht.get(head, { isQuick: true }).catch(() => undefined);
    if (headItem === undefined) return undefined;
    const parsed = parseHead(head, headItem.v);
    if (!parsed.ok) return undefined;
    const tails = await Promise.all(
      parsed.tailTargets.map((t) =>
        dht
          .get(t)
          .then((i) => i?.v)
          .catch(() => undefined),
      ),
    );
    const opened = openGroupBundle(
      secret,
      author,
      head,
      headItem.v,
      tails.filter((v) => v !== undefined),
    );
    if (!opened.ok) {
      this.#opts.logger.debug(
        { head: head.toString('hex').slice(0, 8), code: opened.code },
        'group bundle not opened',
      );
      return undefined;
    }
    return opened.entries;
  }

  // ── helpers ──────────────────────────────────────────────────────────────────────────────────────────────

  /** Entries of ours that some other member's heads do not cover yet. */
  #lacking(replica: GroupReplica, entries: readonly StoredEntry[]): StoredEntry[] {
    if (entries.length === 0) return [];
    const members = [...replica.membership().members.keys()].filter(
      (m) => m !== this.#opts.identity.publicKey.toString('hex'),
    );
    const covered = this.#coverage(replica, entries);
    return entries.filter((e) => members.some((m) => covered.get(m)?.has(e.hash.toString('hex')) !== true));
  }

  #isDelivered(replica: GroupReplica, bundle: GroupBundle): boolean {
    const entries = bundle.hashes
      .map((h) => this.#opts.store.groups.entry(h))
      .filter((e): e is StoredEntry => e !== undefined);
    return this.#lacking(replica, entries).length === 0;
  }

  /** Per member (hex): the hashes among `entries`' window its reported heads descend from. */
  #coverage(replica: GroupReplica, entries: readonly StoredEntry[]): Map<string, Set<string>> {
    const groups = this.#opts.store.groups;
    const messages = entries.filter((e) => e.kind === 'message');
    const minLamport =
      messages.length === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...messages.map((e) => e.lamport));
    const parents = new Map<string, Buffer[]>();
    for (const n of groups.dagFrom(replica.groupId, minLamport))
      parents.set(n.hash.toString('hex'), n.parents);
    for (const op of groups.ops(replica.groupId)) parents.set(op.hash.toString('hex'), op.parents);
    const have = groups.frontiers(replica.groupId, 'have');
    const ops = groups.frontiers(replica.groupId, 'ops');
    const out = new Map<string, Set<string>>();
    for (const member of replica.membership().members.keys()) {
      const seen = new Set<string>();
      const stack = [...(have.get(member) ?? []), ...(ops.get(member) ?? [])].map((h) => h.toString('hex'));
      while (stack.length > 0) {
        const hex = stack.pop() as string;
        if (seen.has(hex)) continue;
        seen.add(hex);
        for (const p of parents.get(hex) ?? []) stack.push(p.toString('hex'));
      }
      out.set(member, seen);
    }
    return out;
  }

  /** The epoch whose mailbox carries an entry: a message's own; an op's, the newest we hold from before it. */
  #filedUnder(replica: GroupReplica, entry: StoredEntry): Buffer | undefined {
    if (entry.kind === 'message') return entry.epoch;
    const membership = replica.membership();
    const position = membership.positions.get(entry.hash.toString('hex'));
    const decoded = decodeEntry(entry.bytes);
    const op = decoded.ok ? decodeOp(decoded.entry.body) : undefined;
    const held = [...membership.epochs.values()]
      .filter((e) => this.#secret(replica.groupId, e.hash) !== undefined)
      .sort((a, b) => b.position - a.position);
    const isKey = op !== undefined && isKeyOp(op);
    const before = held.find(
      (e) => position === undefined || (isKey ? e.position < position : e.position <= position),
    );
    return (before ?? held[0])?.hash;
  }

  #secret(groupId: Buffer, epoch: Buffer): Buffer | undefined {
    return this.#opts.host.mailboxes(groupId).find((m) => m.epoch.equals(epoch))?.secret;
  }

  #endpoints(): UdpAddress[] {
    const out: UdpAddress[] = [];
    const seen = new Set<string>();
    const external = this.#opts.dht.externalAddress();
    for (const address of [...(external === undefined ? [] : [external]), ...this.#opts.localEndpoints()]) {
      const key = `${address.host}|${address.port}`;
      if (seen.has(key) || address.port === 0 || out.length >= MAX_RECORD_ENDPOINTS) continue;
      seen.add(key);
      out.push({ host: address.host, port: address.port });
    }
    return out;
  }

  get #logger(): Logger {
    return this.#opts.logger;
  }

  /** Runs fn after the group's earlier work; nothing once closed (the store may be gone). */
  #serial<T>(groupId: Buffer, fn: () => Promise<T>): Promise<T | undefined> {
    const hex = groupId.toString('hex');
    const previous = this.#chains.get(hex) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => (this.#isClosed ? undefined : fn()));
    this.#chains.set(hex, next);
    void next
      .catch((error: unknown) => this.#opts.logger.warn({ error: String(error) }, 'group mailbox failed'))
      .finally(() => {
        if (this.#chains.get(hex) === next) this.#chains.delete(hex);
      });
    return next;
  }
}

function hashOf(bytes: Buffer): Buffer | undefined {
  const decoded = decodeEntry(bytes);
  return decoded.ok ? decoded.entry.hash : undefined;
}
