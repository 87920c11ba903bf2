/**
 * GroupService: private groups for ChatNode (docs/PROTOCOL.md "Groups"). It owns the replicas (one per group we
 * are in or joining, group-replica.ts), our epoch keys (group-keys.ts), the sync over sessions (group-sync.ts)
 * and the DHT mailbox (group-mailbox.ts), and answers the API: create, invite, accept, decline, leave, remove,
 * promote, members, send, messages, read, typing.
 *
 * Sessions: members who are not friends are admitted and dialled like friends (admits(), dialMode IK), with the
 * endpoints members tell each other (`peers`) and that we last reached them at. A peer stops being admitted when
 * it shares no group with us any more (its session is closed unless it is a friend).
 * Invites travel between friends: the invite frame (re-sent on each session until answered), the invitee's join,
 * then the inviter — an admin — writes the add op that seals the epoch key to every member and the newcomer,
 * and sends the newcomer every op (its history starts there: messages before it stay unreadable to it).
 */
import {
  type Clock,
  DhtchatError,
  type Logger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../../runtime/index.ts';
import { decodeFriendCode } from '../friend-code.ts';
import type { Identity } from '../identity.ts';
import { isValidName, NameErrorCode, nameProblem } from '../contact-name.ts';
import { resolveFriend, resolveWho } from '../session/contact-resolver.ts';
import type { ChatSession } from '../session/session.ts';
import { SessionCloseCode } from '../session/session.ts';
import type { SessionManager } from '../session/session-manager.ts';
import { codeOf } from '../session/views.ts';
import type { ChatStore } from '../store/chat-store.ts';
import { checkMessageText } from '../store/message-state.ts';
import type { GroupRow, GroupState, StoredEntry } from '../store/groups.ts';
import { TypingTracker } from '../typing-tracker.ts';
import { writeCreate } from './group-authoring.ts';
import { type DeliveryCounts, deliveryCounts } from './group-delivery.ts';
import { MAX_GROUP_MEMBERS } from './group-key-seal.ts';
import type { GroupFileOffer } from './group-file-offer.ts';
import { GroupKeys } from './group-keys.ts';
import type { GroupMailboxHost } from './group-mailbox.ts';
import { MAX_GROUP_NAME_BYTES } from './group-ops.ts';
import { GroupErrorCode, GroupReplica } from './group-replica.ts';
import { GroupSync } from './group-sync.ts';
import {
  type GroupInviteView,
  type GroupMemberView,
  type GroupMessageView,
  type GroupView,
  toGroupMessageView,
  toGroupView,
  toMemberViews,
} from './group-views.ts';
import type { Membership } from './membership.ts';

/** How many of our newest messages per group have their delivery states watched for events. */
const WATCHED_OWN_MESSAGES = 200;
/** Invites waiting for an answer that we keep; more are dropped (a friend flooding us with groups). */
const MAX_PENDING_INVITES = 100;
/** Keys are ratcheted and old epochs deleted this often (and at start). */
const KEY_PRUNE_MS = 60 * 60_000;
/** Delivery states are recomputed once per burst of frontier changes and stored entries. */
const STATE_REPORT_DEBOUNCE_MS = 250;
const BLANK_TEXT = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

export type MemberChange = 'added' | 'removed' | 'left' | 'promoted';

export interface GroupServiceEvents {
  /** A member's message; `name`: the group's (its creator's text). */
  onMessage(message: GroupMessageView, name: string | null): void;
  onState(event: { group: string; id: string } & DeliveryCounts): void;
  onInvite(invite: GroupInviteView): void;
  onMember(event: { group: string; code: string; change: MemberChange }): void;
  onTyping(event: { group: string; code: string; isTyping: boolean }): void;
  /** Our own place in a group changed: joined, left, removed. */
  onGroup(group: GroupView): void;
  /** A file offered to a group (by a member, or by us), once: after its onMessage. */
  onFileOffer?(groupId: Buffer, author: Buffer, offer: GroupFileOffer): void;
}

export interface GroupServiceOptions {
  readonly identity: Identity;
  readonly store: ChatStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly sessions: Pick<SessionManager, 'sessionOf' | 'connect' | 'addCandidates'>;
  readonly events: GroupServiceEvents;
  /** Our own new entry (message or op): the DHT mailbox may need to carry it (set by ChatNode's DHT wiring). */
  onOwnEntry?(replica: GroupReplica, entry: StoredEntry): void;
}

export class GroupService {
  readonly keys: GroupKeys;
  readonly sync: GroupSync;
  readonly #opts: GroupServiceOptions;
  readonly #store: ChatStore;
  readonly #ownHex: string;
  readonly #replicas = new Map<string, GroupReplica>();
  readonly #typing: TypingTracker;
  /** Per group: the last delivery counts reported for our own messages (by hash hex). */
  readonly #reported = new Map<string, Map<string, string>>();
  readonly #stateTimers = new Map<string, Timer>();
  #pruneTimer: Timer | undefined;
  #isClosed = false;
  onOwnEntry: ((replica: GroupReplica, entry: StoredEntry) => void) | undefined;

  constructor(opts: GroupServiceOptions) {
    this.#opts = opts;
    this.#store = opts.store;
    this.#ownHex = opts.identity.publicKey.toString('hex');
    this.onOwnEntry = opts.onOwnEntry;
    this.keys = new GroupKeys(opts.store, opts.identity, opts.logger);
    this.#typing = new TypingTracker(opts.clock, (key, isTyping) => {
      const group = key.subarray(0, 32).toString('hex');
      opts.events.onTyping({ group, code: codeOf(key.subarray(32)), isTyping });
    });
    this.sync = new GroupSync({
      store: opts.store,
      clock: opts.clock,
      logger: opts.logger,
      hooks: {
        replica: (groupId) => this.replica(groupId),
        canSync: (groupId, peer) => this.#canSync(groupId, peer),
        sharedGroups: (peer) => this.#sharedGroups(peer),
        endpointsOf: (member) => this.#endpointsOf(member),
        onStored: (replica, entries) => this.#onStored(replica, entries),
        onRefused: (groupId, peer, code) =>
          opts.logger.debug({ group: hex8(groupId), peer: hex8(peer), code }, 'group entry rejected'),
        onFrontier: (groupId) => this.#reportStates(groupId),
        onTyping: (groupId, peer, isTyping) => this.#typing.onFrame(Buffer.concat([groupId, peer]), isTyping),
        onMemberEndpoint: (_groupId, member, address) => this.#noteMemberEndpoint(member, address),
        onInvite: (peer, groupId, name) => this.#onInvite(peer, groupId, name),
        onJoin: (peer, groupId) => this.#onJoin(peer, groupId),
        onDecline: (peer, groupId) => this.#store.groups.deleteInviteSent(groupId, peer),
        onSessionUp: (peer) => this.#onSessionUp(peer),
      },
    });
  }

  start(): void {
    this.sync.start();
    const prune = (): void => {
      if (this.#isClosed) return;
      for (const row of this.#store.groups.list(['member'])) {
        const replica = this.replica(row.groupId);
        if (replica !== undefined)
          this.keys.prune(row.groupId, replica.membership(), this.#opts.clock.wallMs());
      }
      this.#pruneTimer = this.#opts.clock.setTimer(KEY_PRUNE_MS, prune);
    };
    prune();
    for (const row of this.#store.groups.list(['member'])) this.#dialMembers(row.groupId);
  }

  close(): void {
    this.#isClosed = true;
    this.#pruneTimer?.cancel();
    for (const timer of this.#stateTimers.values()) timer.cancel();
    this.sync.close();
    this.#typing.close();
  }

  /** Our replica of a group we are a member of or joining. */
  replica(groupId: Buffer): GroupReplica | undefined {
    const row = this.#store.groups.get(groupId);
    if (row === undefined || (row.state !== 'member' && row.state !== 'joining')) return undefined;
    const hex = groupId.toString('hex');
    let replica = this.#replicas.get(hex);
    if (replica === undefined) {
      replica = new GroupReplica({ ...this.#opts, keys: this.keys }, Buffer.from(groupId), {
        onMessage: (r, entry) => this.#onMessage(r, entry),
        onMembership: (r, before, after) => this.#onMembership(r, before, after),
        onOwnState: (r, state) => this.#onOwnState(r, state),
        onFileOffer: (r, entry, offer) => this.#opts.events.onFileOffer?.(r.groupId, entry.author, offer),
      });
      this.#replicas.set(hex, replica);
    }
    return replica;
  }

  /** The DHT mailbox's view of us (group-mailbox.ts GroupMailboxHost). */
  get mailboxHost(): GroupMailboxHost {
    return {
      memberGroups: () => this.#store.groups.list(['member']).map((r) => r.groupId),
      replica: (groupId) => this.replica(groupId),
      isLinked: (peer) => this.sync.isLinked(peer),
      mailboxes: (groupId) => this.keys.mailboxes(groupId),
      ingest: (replica, bytes) => {
        const outcome = replica.ingest(bytes);
        if (outcome.kind === 'stored') {
          this.sync.scheduleHeads(replica.groupId);
          this.#reportStates(replica.groupId);
        } else if (outcome.kind === 'refused') {
          this.#opts.logger.debug(
            { group: hex8(replica.groupId), code: outcome.code },
            'group entry rejected',
          );
        }
      },
      noteMemberEndpoint: (member, address) => this.#noteMemberEndpoint(member, address),
    };
  }

  /** Should a session from or to this peer be admitted (it shares a group with us)? */
  admits(peer: Buffer): boolean {
    const state = this.#store.contacts.get(peer)?.state;
    if (state === 'blocked' || state === 'declined') return false;
    return this.#sharedGroups(peer).length > 0;
  }

  /** A session with a friend or a member is up: the group side of its frame handling. */
  attach(peer: Buffer, session: ChatSession, opts: { isFriend: boolean }): ReturnType<GroupSync['attach']> {
    if (!opts.isFriend) this.#store.groups.noteEndpoint(peer, session.remoteAddress);
    return this.sync.attach(peer, session, { sendsHello: !opts.isFriend });
  }

  // ── the API ──────────────────────────────────────────────────────────────────────────────────────────────

  list(): GroupView[] {
    return this.#store.groups
      .list(['member', 'joining', 'invited', 'left', 'removed'])
      .map((row) => this.#view(row));
  }

  invites(): GroupInviteView[] {
    return this.#store.groups.list(['invited']).map((row) => ({
      group: row.groupId.toString('hex'),
      name: row.name ?? null,
      from: row.inviter === undefined ? '' : codeOf(row.inviter),
      receivedAt: row.updatedMs,
    }));
  }

  create(name: string): GroupView {
    const problem = nameProblem(name);
    if (problem !== undefined || Buffer.byteLength(name) > MAX_GROUP_NAME_BYTES) {
      throw new DhtchatError(NameErrorCode.invalid, `a group name is not usable: ${problem ?? 'too long'}`);
    }
    const { groupId, entry } = writeCreate(
      { identity: this.#opts.identity, random: this.#opts.random, nowMs: this.#opts.clock.wallMs() },
      name,
    );
    this.#store.groups.upsert(groupId, { state: 'joining', name });
    const replica = this.replica(groupId) as GroupReplica;
    const outcome = replica.ingest(entry.bytes);
    if (outcome.kind !== 'stored')
      throw new DhtchatError(GroupErrorCode.unknown, 'the new group was not stored');
    return this.#view(this.#store.groups.get(groupId) as GroupRow);
  }

  /** Invites a friend (we must be an admin): they see it like a request; sent now or on their next session. */
  invite(groupTyped: string, friendTyped: string): GroupView {
    const replica = this.#memberReplica(groupTyped);
    const friend = resolveFriend(this.#store, friendTyped);
    const membership = replica.membership();
    this.#assertAdmin(membership);
    if (membership.members.has(friend.toString('hex'))) {
      throw new DhtchatError(GroupErrorCode.badMember, `${codeOf(friend)} is already a member`);
    }
    if (membership.members.size >= MAX_GROUP_MEMBERS) {
      throw new DhtchatError(GroupErrorCode.full, `a group has at most ${MAX_GROUP_MEMBERS} members`);
    }
    this.#store.groups.noteInviteSent(replica.groupId, friend);
    this.#sendInvite(replica, friend);
    return this.#view(this.#store.groups.get(replica.groupId) as GroupRow);
  }

  /** Accepts an invite: we ask the inviter to add us (now, or when we next meet). */
  accept(groupTyped: string): GroupView {
    const row = this.#resolveGroup(groupTyped, ['invited', 'joining', 'declined']);
    this.#store.groups.upsert(row.groupId, { state: 'joining' });
    if (row.inviter !== undefined) this.#sendJoin(row.groupId, row.inviter);
    return this.#view(this.#store.groups.get(row.groupId) as GroupRow);
  }

  decline(groupTyped: string): void {
    const row = this.#resolveGroup(groupTyped, ['invited', 'joining']);
    this.#store.groups.upsert(row.groupId, { state: 'declined' });
    if (row.inviter !== undefined) this.sync.toPeer(row.inviter, { type: 'decline', groupId: row.groupId });
  }

  leave(groupTyped: string): GroupView {
    const replica = this.#memberReplica(groupTyped);
    const others = [...replica.membership().members.values()]
      .map((m) => m.publicKey)
      .filter((k) => !k.equals(this.#opts.identity.publicKey));
    const op = replica.writeOp({ type: 'leave' });
    this.#publish(replica, op);
    // Once the op is folded we are no member and sync with nobody (canSync), so the fan-out above reaches no one:
    // the members online hear of the leave from us directly, once (as a removed member hears of its removal).
    for (const peer of others)
      this.sync.toPeer(peer, { type: 'entry', groupId: replica.groupId, entry: op.bytes });
    return this.#view(this.#store.groups.get(replica.groupId) as GroupRow);
  }

  /** Removes a member (admins): a new epoch key for everyone else, so nothing sent after reaches them. */
  remove(groupTyped: string, memberTyped: string): GroupMemberView[] {
    const replica = this.#memberReplica(groupTyped);
    const membership = replica.membership();
    this.#assertAdmin(membership);
    const target = this.#resolveMember(membership, memberTyped);
    if (target.equals(this.#opts.identity.publicKey)) {
      throw new DhtchatError(GroupErrorCode.badMember, 'to leave a group, use group leave');
    }
    const recipients = [...membership.members.values()]
      .map((m) => m.publicKey)
      .filter((k) => !k.equals(target));
    const lastSeq = this.#store.groups.maxSeq(replica.groupId, target);
    const op = replica.writeOp({ type: 'remove', target, targetLastSeq: lastSeq }, recipients);
    this.#publish(replica, op);
    // The removed member hears of it once (from us), then is no longer synced with.
    this.sync.toPeer(target, { type: 'entry', groupId: replica.groupId, entry: op.bytes });
    return this.members(groupTyped);
  }

  promote(groupTyped: string, memberTyped: string): GroupMemberView[] {
    const replica = this.#memberReplica(groupTyped);
    const membership = replica.membership();
    this.#assertAdmin(membership);
    const target = this.#resolveMember(membership, memberTyped);
    if (membership.members.get(target.toString('hex'))?.role === 'admin') {
      throw new DhtchatError(GroupErrorCode.badMember, `${codeOf(target)} is already an admin`);
    }
    this.#publish(replica, replica.writeOp({ type: 'promote', target }));
    return this.members(groupTyped);
  }

  /**
   * The members of a group we are in, as keys, and whether a session with each is up now: for other services
   * that reach members over their sessions (file pieces from every member that has them).
   */
  memberKeys(groupTyped: string): { publicKey: Buffer; role: 'admin' | 'member'; isOnline: boolean }[] {
    const replica = this.#memberReplica(groupTyped);
    return [...replica.membership().members.values()]
      .filter((m) => !m.publicKey.equals(this.#opts.identity.publicKey))
      .map((m) => ({ publicKey: m.publicKey, role: m.role, isOnline: this.sync.isLinked(m.publicKey) }));
  }

  /** The id of a group we are a member of, by id or name (GROUP_NOT_MEMBER, GROUP_UNKNOWN otherwise). */
  memberGroupId(groupTyped: string): Buffer {
    return this.#memberReplica(groupTyped).groupId;
  }

  /** Is peer a current member of a group we are a member of (the check a group file's server makes)? */
  isCurrentMember(groupId: Buffer, peer: Buffer): boolean {
    const replica = this.replica(groupId);
    if (replica === undefined) return false;
    return replica.isMember(this.#opts.identity.publicKey) && replica.isMember(peer);
  }

  /** The other current members of a group we are a member of; undefined when we are none (any more). */
  otherMembers(groupId: Buffer): Buffer[] | undefined {
    const replica = this.replica(groupId);
    if (replica === undefined || !replica.isMember(this.#opts.identity.publicKey)) return undefined;
    return [...replica.membership().members.values()]
      .map((m) => m.publicKey)
      .filter((k) => !k.equals(this.#opts.identity.publicKey));
  }

  /** Announces a file to the group: a signed message of the file-offer content type, delivered as any message. */
  sendFileOffer(groupId: Buffer, offer: GroupFileOffer): GroupMessageView {
    const replica = this.replica(groupId);
    if (replica === undefined)
      throw new DhtchatError(GroupErrorCode.notMember, 'you are not a member of that group');
    const entry = replica.writeMessage({ type: 'file-offer', offer });
    this.#publish(replica, entry);
    return this.#messageViews(replica, [entry])[0] as GroupMessageView;
  }

  members(groupTyped: string): GroupMemberView[] {
    const replica = this.#memberReplica(groupTyped);
    return toMemberViews(this.#store, replica.membership(), this.#ownHex, (peer) => this.sync.isLinked(peer));
  }

  send(groupTyped: string, text: string): GroupMessageView {
    checkMessageText(text);
    if (BLANK_TEXT.test(text)) {
      throw new DhtchatError('CHAT_MESSAGE_EMPTY', 'the message is empty (or only spaces): nothing sent');
    }
    const replica = this.#memberReplica(groupTyped);
    const entry = replica.writeMessage(text);
    this.#publish(replica, entry);
    return this.#messageViews(replica, [entry])[0] as GroupMessageView;
  }

  /** The group's messages in the order every member shows: the newest `limit`, or those before an id. */
  messages(groupTyped: string, opts: { limit?: number; beforeId?: string } = {}): GroupMessageView[] {
    const row = this.#resolveGroup(groupTyped, ['member', 'left', 'removed']);
    if (
      opts.limit !== undefined &&
      (!Number.isSafeInteger(opts.limit) || opts.limit < 1 || opts.limit > 1000)
    ) {
      throw new DhtchatError('CHAT_BAD_QUERY', 'a limit is 1-1000');
    }
    let before: { lamport: number; hash: Buffer } | undefined;
    if (opts.beforeId !== undefined) {
      const entry = /^[0-9a-f]{64}$/i.test(opts.beforeId)
        ? this.#store.groups.entry(Buffer.from(opts.beforeId, 'hex'))
        : undefined;
      if (entry === undefined || !entry.groupId.equals(row.groupId)) {
        throw new DhtchatError('CHAT_UNKNOWN_MESSAGE', `no message ${opts.beforeId} in this group`);
      }
      before = { lamport: entry.lamport, hash: entry.hash };
    }
    const entries = this.#store.groups.messages(row.groupId, {
      ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      ...(before === undefined ? {} : { before }),
    });
    const replica = this.replica(row.groupId);
    return replica === undefined
      ? entries.map((e) => toGroupMessageView(e, undefined))
      : this.#messageViews(replica, entries);
  }

  /** Marks the group's messages read and tells the members (a read frame with our heads). */
  markRead(groupTyped: string): number {
    const row = this.#resolveGroup(groupTyped, ['member', 'left', 'removed']);
    const read = this.#store.groups.markRead(row.groupId);
    const replica = this.replica(row.groupId);
    if (replica !== undefined && read.length > 0) {
      const heads = replica.heads('message').map((h) => h.hash);
      this.sync.toMembers(row.groupId, { type: 'read', groupId: row.groupId, heads });
    }
    return read.length;
  }

  /** Tells the members online now that we are (or stopped) typing; how many were told. */
  setTyping(groupTyped: string, isTyping: boolean): number {
    const replica = this.#memberReplica(groupTyped);
    return this.sync.toMembers(replica.groupId, { type: 'typing', groupId: replica.groupId, isTyping });
  }

  /** The group a name or id means (for the app: is `who` a group?), or undefined. */
  find(typed: string): GroupView | undefined {
    try {
      return this.#view(this.#resolveGroup(typed, ['member', 'left', 'removed']));
    } catch {
      return undefined;
    }
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────────────────

  /** Our new entry: to every member online now, and to the DHT mailbox when some member is not. */
  #publish(replica: GroupReplica, entry: StoredEntry): void {
    this.sync.fanOut(replica, entry);
    this.onOwnEntry?.(replica, entry);
  }

  #onStored(replica: GroupReplica, _entries: StoredEntry[]): void {
    // Events fire from the replica's own hooks; here only what depends on a batch having landed.
    this.#reportStates(replica.groupId);
  }

  #onMessage(replica: GroupReplica, entry: StoredEntry): void {
    if (entry.author.equals(this.#opts.identity.publicKey)) return; // ours: the API call answers it
    this.#typing.stop(Buffer.concat([replica.groupId, entry.author]));
    const view = this.#messageViews(replica, [entry])[0];
    if (view !== undefined) this.#opts.events.onMessage(view, replica.membership().name ?? null);
  }

  #onMembership(replica: GroupReplica, before: Membership, after: Membership): void {
    const group = replica.groupId.toString('hex');
    const events = this.#opts.events;
    for (const [hex, member] of after.members) {
      const old = before.members.get(hex);
      if (old === undefined && before.creator !== undefined)
        events.onMember({ group, code: codeOf(member.publicKey), change: 'added' });
      else if (old?.role === 'member' && member.role === 'admin')
        events.onMember({ group, code: codeOf(member.publicKey), change: 'promoted' });
    }
    for (const [hex, member] of before.members) {
      if (after.members.has(hex)) continue;
      const isLeave = after.applied.some(
        (a) => a.op.type === 'leave' && a.entry.author.toString('hex') === hex,
      );
      events.onMember({ group, code: codeOf(member.publicKey), change: isLeave ? 'left' : 'removed' });
      this.#dropIfStranger(member.publicKey);
    }
    if (after.members.has(this.#ownHex)) {
      this.#dialMembers(replica.groupId);
      for (const m of after.members.values())
        if (!before.members.has(m.publicKey.toString('hex'))) this.sync.greet(replica.groupId, m.publicKey);
    }
  }

  #onOwnState(replica: GroupReplica, state: GroupState): void {
    const row = this.#store.groups.get(replica.groupId);
    if (row !== undefined) this.#opts.events.onGroup(this.#view(row));
    if (state !== 'member') {
      this.#replicas.delete(replica.groupId.toString('hex'));
      for (const m of replica.membership().members.values()) this.#dropIfStranger(m.publicKey);
    }
  }

  #onInvite(peer: Buffer, groupId: Buffer, name: string): void {
    if (this.#store.contacts.get(peer)?.state !== 'accepted') return; // invites come from friends only
    const row = this.#store.groups.get(groupId);
    if (row?.state === 'member' || row?.state === 'declined') return;
    if (row?.state === 'joining') {
      this.#sendJoin(groupId, peer); // they invited again: our join was lost
      return;
    }
    if (row === undefined && this.#store.groups.list(['invited']).length >= MAX_PENDING_INVITES) return;
    const shownName = isValidName(name) ? name : undefined;
    const saved = this.#store.groups.upsert(groupId, {
      state: 'invited',
      inviter: peer,
      ...(shownName === undefined ? {} : { name: shownName }),
    });
    if (row?.state !== 'invited') {
      this.#opts.events.onInvite({
        group: groupId.toString('hex'),
        name: saved.name ?? null,
        from: codeOf(peer),
        receivedAt: saved.updatedMs,
      });
    }
  }

  /** A friend we invited accepts: we add them (sealing a new key to every member and them). */
  #onJoin(peer: Buffer, groupId: Buffer): void {
    if (!this.#store.groups.hasInviteSent(groupId, peer)) return;
    const replica = this.replica(groupId);
    if (replica === undefined) return;
    const membership = replica.membership();
    if (membership.members.get(this.#ownHex)?.role !== 'admin') return;
    if (!membership.members.has(peer.toString('hex'))) {
      if (membership.members.size >= MAX_GROUP_MEMBERS) return;
      const recipients = [...[...membership.members.values()].map((m) => m.publicKey), peer];
      const messageHeads = replica.heads('message');
      this.#publish(replica, replica.writeOp({ type: 'add', target: peer, messageHeads }, recipients));
    }
    this.#store.groups.deleteInviteSent(groupId, peer);
    this.sync.welcome(groupId, peer);
  }

  /** A session came up: invites and joins still waiting for this peer go out. */
  #onSessionUp(peer: Buffer): void {
    for (const groupId of this.#store.groups.invitesSentTo(peer)) {
      const replica = this.replica(groupId);
      if (replica !== undefined) this.#sendInvite(replica, peer);
    }
    for (const row of this.#store.groups.list(['joining'])) {
      if (row.inviter?.equals(peer) === true) this.#sendJoin(row.groupId, peer);
    }
  }

  #sendInvite(replica: GroupReplica, friend: Buffer): void {
    const name = replica.membership().name ?? 'group';
    this.sync.toPeer(friend, { type: 'invite', groupId: replica.groupId, name });
    if (this.#opts.sessions.sessionOf(friend) === undefined) this.#opts.sessions.connect(friend);
  }

  #sendJoin(groupId: Buffer, inviter: Buffer): void {
    if (this.sync.toPeer(inviter, { type: 'join', groupId })) return;
    this.#opts.sessions.connect(inviter);
  }

  /** Dials every member we have no session with (at the endpoints we know; friends' from their contact). */
  #dialMembers(groupId: Buffer): void {
    const replica = this.replica(groupId);
    if (replica === undefined || this.#isClosed) return;
    for (const member of replica.membership().members.values()) {
      if (member.publicKey.equals(this.#opts.identity.publicKey) || this.sync.isLinked(member.publicKey))
        continue;
      const endpoints = this.#store.groups.endpoints(member.publicKey);
      if (endpoints.length > 0) this.#opts.sessions.addCandidates(member.publicKey, endpoints);
      else this.#opts.sessions.connect(member.publicKey);
    }
  }

  #noteMemberEndpoint(member: Buffer, address: UdpAddress): void {
    this.#store.groups.noteEndpoint(member, address);
    if (!this.sync.isLinked(member)) this.#opts.sessions.addCandidates(member, [address]);
  }

  #endpointsOf(member: Buffer): UdpAddress[] {
    const session = this.#opts.sessions.sessionOf(member);
    const live = session === undefined ? [] : [session.remoteAddress];
    return [...live, ...this.#store.groups.endpoints(member), ...this.#store.contacts.endpoints(member)];
  }

  /** A peer who shares no group with us any more and is no friend: its session goes. */
  #dropIfStranger(peer: Buffer): void {
    if (peer.equals(this.#opts.identity.publicKey)) return;
    if (this.#store.contacts.get(peer)?.state === 'accepted' || this.admits(peer)) return;
    this.#opts.sessions.sessionOf(peer)?.close(SessionCloseCode.refused);
  }

  #canSync(groupId: Buffer, peer: Buffer): boolean {
    const row = this.#store.groups.get(groupId);
    if (row === undefined) return false;
    if (row.state === 'joining') return row.inviter?.equals(peer) === true;
    if (row.state !== 'member') return false;
    return this.replica(groupId)?.isMember(peer) === true;
  }

  #sharedGroups(peer: Buffer): Buffer[] {
    return this.#store.groups
      .list(['member', 'joining'])
      .filter((row) => this.#canSync(row.groupId, peer))
      .map((row) => row.groupId);
  }

  /** Reports delivery-state changes of our newest messages in a group, once per burst of changes. */
  #reportStates(groupId: Buffer): void {
    const hex = groupId.toString('hex');
    if (this.#stateTimers.has(hex) || this.#isClosed) return;
    this.#stateTimers.set(
      hex,
      this.#opts.clock.setTimer(STATE_REPORT_DEBOUNCE_MS, () => {
        this.#stateTimers.delete(hex);
        if (!this.#isClosed) this.#reportStatesNow(groupId);
      }),
    );
  }

  #reportStatesNow(groupId: Buffer): void {
    const replica = this.replica(groupId);
    if (replica === undefined) return;
    const own = this.#store.groups.ownMessages(groupId, this.#opts.identity.publicKey, WATCHED_OWN_MESSAGES);
    if (own.length === 0) return;
    const groupHex = groupId.toString('hex');
    const reported = this.#reported.get(groupHex) ?? new Map<string, string>();
    this.#reported.set(groupHex, reported);
    const counts = this.#counts(replica, own);
    for (const entry of own) {
      const hex = entry.hash.toString('hex');
      const c = counts.get(hex);
      if (c === undefined) continue;
      const key = `${c.state}/${c.delivered}/${c.read}/${c.members}`;
      if (reported.get(hex) === key) continue;
      const isFirst = !reported.has(hex);
      reported.set(hex, key);
      if (!isFirst || c.state !== 'queued') this.#opts.events.onState({ group: groupHex, id: hex, ...c });
    }
    if (reported.size > 2 * WATCHED_OWN_MESSAGES) {
      const keep = new Set(own.map((e) => e.hash.toString('hex')));
      for (const hex of reported.keys()) if (!keep.has(hex)) reported.delete(hex);
    }
  }

  #messageViews(replica: GroupReplica, entries: readonly StoredEntry[]): GroupMessageView[] {
    const counts = this.#counts(replica, entries);
    return entries.map((e) => toGroupMessageView(e, counts.get(e.hash.toString('hex'))));
  }

  #counts(replica: GroupReplica, entries: readonly StoredEntry[]): Map<string, DeliveryCounts> {
    if (entries.length === 0) return new Map();
    const minLamport = Math.min(...entries.map((e) => e.lamport));
    return deliveryCounts(entries, {
      dag: this.#store.groups.dagFrom(replica.groupId, minLamport),
      members: [...replica.membership().members.keys()],
      ownHex: this.#ownHex,
      have: this.#store.groups.frontiers(replica.groupId, 'have'),
      read: this.#store.groups.frontiers(replica.groupId, 'read'),
      inDht: this.#store.groupBundles.putHashes(replica.groupId),
    });
  }

  #view(row: GroupRow): GroupView {
    const replica = row.state === 'member' ? this.replica(row.groupId) : undefined;
    return toGroupView(row, replica?.membership(), this.#ownHex, this.#store.groups.unreadCount(row.groupId));
  }

  #memberReplica(typed: string): GroupReplica {
    const row = this.#resolveGroup(typed, ['member', 'joining', 'left', 'removed']);
    const replica = this.replica(row.groupId);
    if (replica === undefined || !replica.isMember(this.#opts.identity.publicKey)) {
      throw new DhtchatError(GroupErrorCode.notMember, `you are not a member of "${typed}"`);
    }
    return replica;
  }

  /** A group by id (64 hex digits) or name (exactly, else ignoring case); several: CHAT_NAME_AMBIGUOUS. */
  #resolveGroup(typed: string, states: readonly GroupState[]): GroupRow {
    const rows = this.#store.groups.list(states);
    if (/^[0-9a-f]{64}$/i.test(typed)) {
      const row = rows.find((r) => r.groupId.toString('hex') === typed.toLowerCase());
      if (row !== undefined) return row;
    }
    const nameOf = (r: GroupRow): string | undefined => this.#view(r).name ?? undefined;
    for (const isMatch of [
      (n: string) => n === typed,
      (n: string) => n.toLowerCase() === typed.toLowerCase(),
    ]) {
      const found = rows.filter((r) => {
        const name = nameOf(r);
        return name !== undefined && isMatch(name);
      });
      if (found.length > 1) {
        const ids = found.map((r) => r.groupId.toString('hex')).join(', ');
        throw new DhtchatError(
          NameErrorCode.ambiguous,
          `several groups are called "${typed}": use an id (${ids})`,
        );
      }
      if (found[0] !== undefined) return found[0];
    }
    throw new DhtchatError(GroupErrorCode.unknown, `no group "${typed}"`);
  }

  /** A member by friend code, or by the name of a contact who is a member. */
  #resolveMember(membership: Membership, typed: string): Buffer {
    const key = typed.toLowerCase().startsWith('dhtchat:')
      ? decodeFriendCode(typed)
      : resolveWho(this.#store, typed);
    if (!membership.members.has(key.toString('hex'))) {
      throw new DhtchatError(GroupErrorCode.badMember, `${codeOf(key)} is not a member of this group`);
    }
    return key;
  }

  #assertAdmin(membership: Membership): void {
    if (membership.members.get(this.#ownHex)?.role !== 'admin') {
      throw new DhtchatError(GroupErrorCode.notAdmin, 'only an admin of the group can do that');
    }
  }
}

function hex8(buffer: Buffer): string {
  return buffer.toString('hex').slice(0, 8);
}
