/**
 * Groups over sessions (docs/PROTOCOL.md "Groups", "Sync"): what members say to each other on their pairwise
 * sessions, in group frames (group-frames.ts), once the peer's hello says it speaks them (version ≥ 3).
 *
 * - On a session: for each group both are members of, `heads` (ours, both DAGs) and `peers` (where we reach the
 *   other members: how members who are not friends find each other).
 * - On their `heads`: we note what they have (their delivery frontier), ask (`want`) for heads we lack, and send
 *   them what they lack — our entries from the lowest lamport of their heads on that their heads do not descend
 *   from (at most PUSH_MAX_ENTRIES a round; the rest follows their next heads). So a member who missed messages
 *   gets them from whichever member it meets first: members forward what another member missed.
 * - Our own new entries go to every member session at once (fan-out); anything newly stored makes us send our
 *   heads again (debounced), so members who got it from elsewhere stop there and those who did not ask.
 * - An entry whose parents we lack is held (group-replica.ts) and the gaps asked for from the sender; gaps not
 *   filled within WANT_RETRY_MS are asked from another member, and held entries expire.
 * Bounds: `want` ≤ 64 hashes a frame, answered from what we store only; entry frames from one peer are
 * rate-limited (a peer over it has its entries dropped, which the heads exchange recovers later); pushes are
 * capped per round. Only current members (in our view) are synced with; a peer joining by our invite is synced
 * with for its group from the moment its add op is stored.
 */
import type { Clock, Logger, Timer, UdpAddress } from '../../runtime/index.ts';
import { RateLimiter } from '../../dht/index.ts';
import { type ChatSession, SessionCloseCode } from '../session/session.ts';
import { GROUP_FRAME_VERSION } from '../session/frames.ts';
import type { StoredEntry, EntryKind } from '../store/groups.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { compareEntries } from './group-entry.ts';
import {
  decodeGroupFrame,
  encodeGroupFrame,
  type GroupFrame,
  MAX_WANT_HASHES,
  type MemberEndpoint,
} from './group-frames.ts';
import type { GroupReplica, IngestOutcome } from './group-replica.ts';

export const SYNC_TIMING = {
  /** Heads are re-sent this long after the last change (a burst of entries makes one heads frame). */
  headsDebounceMs: 200,
  /** A gap asked for and not filled in this time is asked from another member. */
  wantRetryMs: 5000,
  /** How often gaps and held entries are looked at. */
  tickMs: 2000,
  /**
   * A linked member whose last heads do not match ours is sent our heads again this often. Heads go out when
   * something changes, and a frame can be lost (a session replaced as it was sent, a rate limit that dropped
   * it): this brings both sides back to comparing, so a member never stays behind while a session is up.
   */
  resyncMs: 30_000,
} as const;
/** Entries pushed to a peer in answer to one heads frame. */
export const PUSH_MAX_ENTRIES = 512;
/** The DAG window (rows) a push looks at. */
const PUSH_WINDOW_ROWS = 8192;
/** Entry frames a peer may send us: per second, and in a burst (a catch-up after a long absence). */
const ENTRY_FRAMES_PER_SEC = 200;
const ENTRY_FRAMES_BURST = 4000;
/**
 * Every other frame a peer may send us (heads, want, read, peers, typing, invites): each costs a store read or
 * write, and a want may make us send up to 64 entries (~1 MiB), so they have their own smaller budget.
 */
const CONTROL_FRAMES_PER_SEC = 20;
/** Entries stored in one transaction at most (a long catch-up commits in steps). */
const ENTRIES_PER_COMMIT = 256;
const CONTROL_FRAMES_BURST = 200;

export interface GroupSyncHooks {
  /** Our replica of a group we are a member of (or joining), if any. */
  replica(groupId: Buffer): GroupReplica | undefined;
  /** May this peer sync this group with us (a current member, or the inviter of a group we are joining)? */
  canSync(groupId: Buffer, peer: Buffer): boolean;
  /** The groups we may sync with this peer. */
  sharedGroups(peer: Buffer): Buffer[];
  /** Where we reach the other members of a group (for `peers` frames). */
  endpointsOf(member: Buffer): UdpAddress[];
  onStored(replica: GroupReplica, entries: StoredEntry[]): void;
  onRefused(groupId: Buffer, peer: Buffer, code: string): void;
  onFrontier(groupId: Buffer, peer: Buffer, kind: 'have' | 'read'): void;
  onTyping(groupId: Buffer, peer: Buffer, isTyping: boolean): void;
  onMemberEndpoint(groupId: Buffer, member: Buffer, address: UdpAddress): void;
  /** Frames between friends about joining: an invite, its acceptance, its refusal. */
  onInvite(peer: Buffer, groupId: Buffer, name: string): void;
  onJoin(peer: Buffer, groupId: Buffer): void;
  onDecline(peer: Buffer, groupId: Buffer): void;
  onSessionUp(peer: Buffer): void;
}

interface PeerLink {
  readonly peer: Buffer;
  readonly session: ChatSession;
  isReady: boolean;
  /** Entry frames of the chunk being read: stored together at its end (one commit, one fsync). */
  readonly entries: Extract<GroupFrame, { type: 'entry' }>[];
  /** Per group: our op heads when we last sent this peer `peers` (sent again when the membership moved). */
  readonly peersSentAt: Map<string, string>;
  /** When we last sent this peer our heads of any group (the resync waits resyncMs after it). */
  headsSentAtMs: number;
}

export class GroupSync {
  readonly #store: ChatStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #hooks: GroupSyncHooks;
  readonly #links = new Map<string, PeerLink>();
  readonly #entryLimiter = new RateLimiter({ ratePerSec: ENTRY_FRAMES_PER_SEC, burst: ENTRY_FRAMES_BURST });
  readonly #controlLimiter = new RateLimiter({
    ratePerSec: CONTROL_FRAMES_PER_SEC,
    burst: CONTROL_FRAMES_BURST,
  });
  /** Gaps asked for: hash hex → when and from whom. */
  readonly #asked = new Map<string, { atMs: number; peerHex: string; groupHex: string }>();
  readonly #headsTimers = new Map<string, Timer>();
  #tick: Timer | undefined;
  #isClosed = false;

  constructor(opts: { store: ChatStore; clock: Clock; logger: Logger; hooks: GroupSyncHooks }) {
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#logger = opts.logger;
    this.#hooks = opts.hooks;
  }

  start(): void {
    const tick = (): void => {
      if (this.#isClosed) return;
      this.#retryGaps();
      this.#resync();
      this.#tick = this.#clock.setTimer(SYNC_TIMING.tickMs, tick);
    };
    this.#tick = this.#clock.setTimer(SYNC_TIMING.tickMs, tick);
  }

  close(): void {
    this.#isClosed = true;
    this.#tick?.cancel();
    for (const timer of this.#headsTimers.values()) timer.cancel();
    this.#headsTimers.clear();
    this.#links.clear();
  }

  /** A session with a friend or a member is up; `sendsHello`: no one else (Delivery) says hello on it. */
  attach(
    peer: Buffer,
    session: ChatSession,
    opts: { sendsHello: boolean },
  ): { onFrame(body: Buffer): void; onHello(version: number): void; onBatchEnd(): void } {
    const hex = peer.toString('hex');
    const link: PeerLink = {
      peer: Buffer.from(peer),
      session,
      isReady: false,
      entries: [],
      peersSentAt: new Map(),
      headsSentAtMs: this.#clock.monotonicMs(),
    };
    this.#links.set(hex, link);
    void session.closed.then(() => {
      if (this.#links.get(hex) === link) this.#links.delete(hex);
    });
    if (opts.sendsHello) session.send({ type: 'hello', version: GROUP_FRAME_VERSION });
    return {
      onHello: (version) => {
        if (version < GROUP_FRAME_VERSION || link.isReady) return;
        link.isReady = true;
        for (const groupId of this.#hooks.sharedGroups(peer)) this.#greet(link, groupId);
        this.#hooks.onSessionUp(peer);
      },
      onFrame: (body) => this.#onFrame(link, body),
      onBatchEnd: () => this.#storeEntries(link),
    };
  }

  /** Is a session that speaks group frames up with this peer? */
  isLinked(peer: Buffer): boolean {
    return this.#links.get(peer.toString('hex'))?.isReady === true;
  }

  /** A group became shared with a peer already linked (it joined, we joined): greet it now. */
  greet(groupId: Buffer, peer: Buffer): void {
    const link = this.#links.get(peer.toString('hex'));
    if (link?.isReady === true && link.session.isOpen) this.#greet(link, groupId);
  }

  /** A member we just added: our heads, and every op (it has none yet: its history starts at its add). */
  welcome(groupId: Buffer, peer: Buffer): void {
    const link = this.#links.get(peer.toString('hex'));
    const replica = this.#hooks.replica(groupId);
    if (link?.isReady !== true || replica === undefined) return;
    this.#sendHeads(link, replica);
    this.#push(link, replica, 'op', []);
  }

  /** Sends one of our new entries to every member linked now, then our heads. */
  fanOut(replica: GroupReplica, entry: StoredEntry): number {
    let sent = 0;
    for (const link of this.#membersLinked(replica.groupId)) {
      if (this.#send(link, { type: 'entry', groupId: replica.groupId, entry: entry.bytes })) sent++;
    }
    this.scheduleHeads(replica.groupId);
    return sent;
  }

  /** Our heads changed: tell the group's linked members soon (one frame for a burst). */
  scheduleHeads(groupId: Buffer): void {
    const hex = groupId.toString('hex');
    if (this.#headsTimers.has(hex) || this.#isClosed) return;
    this.#headsTimers.set(
      hex,
      this.#clock.setTimer(SYNC_TIMING.headsDebounceMs, () => {
        this.#headsTimers.delete(hex);
        const replica = this.#hooks.replica(groupId);
        if (replica === undefined) return;
        for (const link of this.#membersLinked(groupId)) this.#sendHeads(link, replica);
      }),
    );
  }

  /** Sends a frame to every member of the group linked now; how many got it. */
  toMembers(groupId: Buffer, frame: GroupFrame): number {
    let sent = 0;
    for (const link of this.#membersLinked(groupId)) if (this.#send(link, frame)) sent++;
    return sent;
  }

  /** Sends a frame to one peer (an invite, a join), if linked: false when not. */
  toPeer(peer: Buffer, frame: GroupFrame): boolean {
    const link = this.#links.get(peer.toString('hex'));
    return link?.isReady === true && this.#send(link, frame);
  }

  /** Members of the group linked now (for presence in views). */
  linkedMembers(groupId: Buffer): Buffer[] {
    return this.#membersLinked(groupId).map((l) => l.peer);
  }

  #greet(link: PeerLink, groupId: Buffer): void {
    const replica = this.#hooks.replica(groupId);
    if (replica !== undefined) this.#sendHeads(link, replica);
  }

  /**
   * Where we reach the other members, once the peer holds the same ops as we do (so it knows who they are): when
   * its op heads are ours, and again whenever the membership moved since we last told it.
   */
  #sendPeers(link: PeerLink, replica: GroupReplica, theirOpHeads: Buffer[]): void {
    const ours = replica
      .heads('op')
      .map((h) => h.hash.toString('hex'))
      .sort()
      .join();
    const theirs = theirOpHeads
      .map((h) => h.toString('hex'))
      .sort()
      .join();
    const groupHex = replica.groupId.toString('hex');
    if (ours !== theirs || link.peersSentAt.get(groupHex) === ours) return;
    link.peersSentAt.set(groupHex, ours);
    const peers: MemberEndpoint[] = [];
    for (const member of replica.membership().members.values()) {
      if (member.publicKey.equals(link.peer) || member.publicKey.equals(replica.ownKey)) continue;
      const address = this.#hooks.endpointsOf(member.publicKey)[0];
      if (address !== undefined) peers.push({ member: member.publicKey, address });
    }
    if (peers.length > 0) this.#send(link, { type: 'peers', groupId: replica.groupId, peers });
  }

  #sendHeads(link: PeerLink, replica: GroupReplica): void {
    link.headsSentAtMs = this.#clock.monotonicMs();
    this.#send(link, {
      type: 'heads',
      groupId: replica.groupId,
      opHeads: replica.heads('op').map((h) => h.hash),
      messageHeads: replica.heads('message').map((h) => h.hash),
    });
  }

  #onFrame(link: PeerLink, body: Buffer): void {
    const frame = decodeGroupFrame(body);
    if (frame === undefined) {
      this.#logger.debug({ peer: hex8(link.peer) }, 'bad group frame: session closed');
      link.session.close(SessionCloseCode.badFrame);
      return;
    }
    try {
      if (frame.type === 'entry') {
        link.entries.push(frame);
        if (link.entries.length >= ENTRIES_PER_COMMIT) this.#storeEntries(link);
        return;
      }
      this.#storeEntries(link); // what came before this frame first
      this.#handle(link, frame);
    } catch (error) {
      // A local failure (the store): the peer's frame is dropped; the heads exchange brings it again later.
      this.#logger.warn({ error: String(error), frame: frame.type }, 'group frame handling failed');
    }
  }

  /** The chunk's entry frames, in one store transaction. */
  #storeEntries(link: PeerLink): void {
    if (link.entries.length === 0) return;
    const frames = link.entries.splice(0);
    try {
      this.#store.transaction(() => {
        for (const frame of frames) this.#handle(link, frame);
      });
    } catch (error) {
      this.#logger.warn({ error: String(error) }, 'group entries not stored');
    }
  }

  #handle(link: PeerLink, frame: GroupFrame): void {
    const { groupId } = frame;
    const limiter = frame.type === 'entry' ? this.#entryLimiter : this.#controlLimiter;
    if (!limiter.allow(link.peer.toString('hex'), this.#clock.monotonicMs())) return; // dropped: heads bring it back later
    switch (frame.type) {
      case 'invite':
        this.#hooks.onInvite(link.peer, groupId, frame.name);
        return;
      case 'join':
        this.#hooks.onJoin(link.peer, groupId);
        return;
      case 'decline':
        this.#hooks.onDecline(link.peer, groupId);
        return;
      default:
        break;
    }
    const replica = this.#hooks.replica(groupId);
    if (replica === undefined || !this.#hooks.canSync(groupId, link.peer)) return;
    switch (frame.type) {
      case 'heads':
        this.#onHeads(link, replica, frame.opHeads, frame.messageHeads);
        return;
      case 'want':
        this.#onWant(link, replica, frame.hashes);
        return;
      case 'entry':
        this.#onEntry(link, replica, this.#ingest(replica, frame.entry, link));
        return;
      case 'read':
        this.#store.groups.setFrontier(groupId, link.peer, 'read', frame.heads);
        this.#hooks.onFrontier(groupId, link.peer, 'read');
        return;
      case 'typing':
        if (replica.isMember(link.peer)) this.#hooks.onTyping(groupId, link.peer, frame.isTyping);
        return;
      case 'peers':
        for (const { member, address } of frame.peers) {
          if (member.equals(replica.ownKey) || member.equals(link.peer) || !replica.isMember(member))
            continue;
          this.#hooks.onMemberEndpoint(groupId, member, address);
        }
        return;
    }
  }

  #onHeads(link: PeerLink, replica: GroupReplica, opHeads: Buffer[], messageHeads: Buffer[]): void {
    const peerHex = link.peer.toString('hex');
    const before = this.#store.groups.frontiers(replica.groupId, 'have').get(peerHex);
    if (before === undefined || !Buffer.concat(before).equals(Buffer.concat(messageHeads))) {
      this.#store.groups.setFrontier(replica.groupId, link.peer, 'have', messageHeads);
      this.#hooks.onFrontier(replica.groupId, link.peer, 'have');
    }
    const opsBefore = this.#store.groups.frontiers(replica.groupId, 'ops').get(peerHex);
    if (opsBefore === undefined || !Buffer.concat(opsBefore).equals(Buffer.concat(opHeads))) {
      this.#store.groups.setFrontier(replica.groupId, link.peer, 'ops', opHeads);
    }
    this.#sendPeers(link, replica, opHeads);
    const unknown = [...opHeads, ...messageHeads].filter(
      (h) => !replica.isKnown(h) && !replica.pending.has(h),
    );
    this.#want(link, replica, unknown);
    this.#push(link, replica, 'op', opHeads);
    // A peer with no message heads yet has just joined (its history starts at its add op) or has none at all.
    if (messageHeads.length > 0 && replica.isMember(link.peer))
      this.#push(link, replica, 'message', messageHeads);
  }

  /** Sends the peer our entries of one DAG that its heads do not descend from (when we know all its heads). */
  #push(link: PeerLink, replica: GroupReplica, kind: EntryKind, theirHeads: Buffer[]): void {
    const lamports = this.#store.groups.lamportsOf(theirHeads);
    if (lamports.size < theirHeads.length) return; // they are ahead somewhere: they will push to us
    const ours = replica.heads(kind);
    if (ours.every((h) => lamports.has(h.hash.toString('hex')))) return; // same heads (or theirs cover ours)
    const fromLamport = theirHeads.length === 0 ? 1 : Math.min(...lamports.values());
    const window =
      kind === 'op'
        ? this.#store.groups.ops(replica.groupId).filter((e) => e.lamport >= fromLamport)
        : this.#store.groups.dagFrom(replica.groupId, fromLamport).slice(0, PUSH_WINDOW_ROWS);
    const parents = new Map(window.map((n) => [n.hash.toString('hex'), n.parents]));
    const covered = new Set<string>();
    const stack = theirHeads.map((h) => h.toString('hex'));
    while (stack.length > 0) {
      const hex = stack.pop() as string;
      if (covered.has(hex)) continue;
      covered.add(hex);
      for (const p of parents.get(hex) ?? []) stack.push(p.toString('hex'));
    }
    const missing = window
      .filter((n) => !covered.has(n.hash.toString('hex')))
      .sort(compareEntries)
      .slice(0, PUSH_MAX_ENTRIES);
    for (const node of missing) {
      const entry = this.#store.groups.entry(node.hash);
      if (entry === undefined) continue;
      if (!this.#send(link, { type: 'entry', groupId: replica.groupId, entry: entry.bytes })) return;
    }
  }

  #onWant(link: PeerLink, replica: GroupReplica, hashes: Buffer[]): void {
    for (const hash of hashes) {
      const entry = this.#store.groups.entry(hash);
      if (entry === undefined || !entry.groupId.equals(replica.groupId)) continue;
      // A peer that is not a member yet (an invitee whose add we hold) is sent ops only.
      if (entry.kind === 'message' && !replica.isMember(link.peer)) continue;
      if (!this.#send(link, { type: 'entry', groupId: replica.groupId, entry: entry.bytes })) return;
    }
  }

  #ingest(replica: GroupReplica, bytes: Buffer, link: PeerLink | undefined): IngestOutcome {
    return replica.ingest(bytes, link?.peer.toString('hex'));
  }

  #onEntry(link: PeerLink, replica: GroupReplica, outcome: IngestOutcome): void {
    switch (outcome.kind) {
      case 'stored':
        for (const e of outcome.entries) this.#asked.delete(e.hash.toString('hex'));
        this.#hooks.onStored(replica, outcome.entries);
        this.scheduleHeads(replica.groupId);
        return;
      case 'held':
        this.#want(link, replica, outcome.missing);
        return;
      case 'refused':
        this.#hooks.onRefused(replica.groupId, link.peer, outcome.code);
        return;
      case 'duplicate':
        return;
    }
  }

  /** Asks one peer for hashes not already asked for recently. */
  #want(link: PeerLink, replica: GroupReplica, hashes: Buffer[]): void {
    const now = this.#clock.monotonicMs();
    const fresh = hashes.filter((h) => {
      const asked = this.#asked.get(h.toString('hex'));
      return asked === undefined || now - asked.atMs >= SYNC_TIMING.wantRetryMs;
    });
    for (let i = 0; i < fresh.length; i += MAX_WANT_HASHES) {
      const batch = fresh.slice(i, i + MAX_WANT_HASHES);
      if (!this.#send(link, { type: 'want', groupId: replica.groupId, hashes: batch })) return;
      for (const h of batch) {
        this.#asked.set(h.toString('hex'), {
          atMs: now,
          peerHex: link.peer.toString('hex'),
          groupHex: replica.groupId.toString('hex'),
        });
      }
    }
  }

  /** Gaps still open: asked again from another member; held entries past their age dropped. */
  #retryGaps(): void {
    const now = this.#clock.monotonicMs();
    for (const [hex, asked] of this.#asked)
      if (now - asked.atMs > 4 * SYNC_TIMING.wantRetryMs) this.#asked.delete(hex);
    const groups = new Set(
      [...this.#links.values()].flatMap((l) =>
        this.#hooks.sharedGroups(l.peer).map((g) => g.toString('hex')),
      ),
    );
    for (const groupHex of groups) {
      const replica = this.#hooks.replica(Buffer.from(groupHex, 'hex'));
      if (replica === undefined) continue;
      replica.pending.expire(now);
      const links = this.#membersLinked(replica.groupId);
      if (links.length === 0) continue;
      for (const { hash, from } of replica.missing()) {
        const asked = this.#asked.get(hash.toString('hex'));
        if (asked !== undefined && now - asked.atMs < SYNC_TIMING.wantRetryMs) continue;
        const others = links.filter((l) => l.peer.toString('hex') !== (asked?.peerHex ?? from));
        const link = others[Math.floor(now / SYNC_TIMING.tickMs) % Math.max(1, others.length)] ?? links[0];
        if (link !== undefined) this.#want(link, replica, [hash]);
      }
    }
  }

  /** Our heads again to linked members whose last heads differ from ours, resyncMs after we last sent any. */
  #resync(): void {
    const now = this.#clock.monotonicMs();
    for (const link of this.#links.values()) {
      if (!link.isReady || !link.session.isOpen || now - link.headsSentAtMs < SYNC_TIMING.resyncMs) continue;
      link.headsSentAtMs = now; // looked at: the next look is resyncMs away, whatever it finds
      const peerHex = link.peer.toString('hex');
      for (const groupId of this.#hooks.sharedGroups(link.peer)) {
        const replica = this.#hooks.replica(groupId);
        if (replica === undefined) continue;
        const isBehind = (['op', 'message'] as const).some((kind) => {
          const theirs = this.#store.groups.frontiers(groupId, kind === 'op' ? 'ops' : 'have').get(peerHex);
          return !sameHashes(
            theirs ?? [],
            replica.heads(kind).map((h) => h.hash),
          );
        });
        if (isBehind) this.#sendHeads(link, replica);
      }
    }
  }

  #membersLinked(groupId: Buffer): PeerLink[] {
    return [...this.#links.values()].filter(
      (l) => l.isReady && l.session.isOpen && this.#hooks.canSync(groupId, l.peer),
    );
  }

  #send(link: PeerLink, frame: GroupFrame): boolean {
    return link.isReady && link.session.send({ type: 'group', body: encodeGroupFrame(frame) });
  }
}

function hex8(buffer: Buffer): string {
  return buffer.toString('hex').slice(0, 8);
}

/** The same set of hashes, in any order. */
function sameHashes(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((h) => h.toString('hex')));
  return b.every((h) => keys.has(h.toString('hex')));
}
