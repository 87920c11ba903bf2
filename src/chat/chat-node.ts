/**
 * ChatNode: the chat layer's one typed API (daemon, CLI, tests and bots). It wires the session layer
 * (src/chat/session: sessions, tie-break, presence, delivery, friend requests over sessions) with the DHT
 * services: RendezvousService (records → candidate endpoints), OfflineMailbox (messages for a friend we cannot
 * reach wait in the DHT) and RequestBeacon (friend requests meet through the DHT). Without a DhtNode it runs
 * the online path alone: sessions to last known endpoints and endpoint hints.
 *
 * Offline path: a message that finds no session is sent as soon as one comes up, or goes to the DHT after a
 * wait (OfflineScheduler: 8 s, 2 s when the friend is already away).
 * Relays (src/chat/relay): with no session to a friend who seems around, both sides meet at a relay and run the
 * session over it; a direct session replaces it when one comes up. contacts() says which path each friend is on.
 */
import { EventEmitter } from 'node:events';
import { isAbsolute } from 'node:path';
import type { DhtNode } from '../dht/index.ts';
import type { UtpEndpoint } from '../net/index.ts';
import {
  type Clock,
  DhtchatError,
  type Logger,
  nullLogger,
  type Random,
  type UdpAddress,
} from '../runtime/index.ts';
import { checkName, isValidName } from './contact-name.ts';
import { FileErrorCode, fileError } from './files/file-errors.ts';
import type { FileSystem } from './files/file-system.ts';
import { FileTransfers } from './files/file-transfers.ts';
import { nodeFileSystem } from './files/node-file-system.ts';
import { LocalDiscovery } from './local-discovery.ts';
import type { FileTransferView } from './files/transfer-view.ts';
import { decodeFriendCode, encodeFriendCode } from './friend-code.ts';
import { derivePairSecret } from './pair-secret.ts';
import { RelayDirectory } from './relay/relay-directory.ts';
import { friendMeeting } from './relay/relay-keys.ts';
import { RequestRelays } from './relay/request-relays.ts';
import { RelayLinks } from './relay/relay-links.ts';
import { type ContactPath, directSessionPath, type SessionPath } from './session/path.ts';
import type { Identity } from './identity.ts';
import { Delivery } from './session/delivery.ts';
import { GroupMailbox } from './groups/group-mailbox.ts';
import { GroupService, type MemberChange } from './groups/group-service.ts';
import type { DeliveryCounts } from './groups/group-delivery.ts';
import type { GroupInviteView, GroupMessageView, GroupView } from './groups/group-views.ts';
import { type BirthdaySeams, createDhtServices, type DhtServices } from './session/dht-services.ts';
import { OfflineScheduler } from './offline-scheduler.ts';
import { RequestExchange } from './session/request-exchange.ts';
import type { RequestBudgetLimits } from './session/request-budget.ts';
import type { StrangerLimits } from './session/stranger-gate.ts';
import { DEFAULT_SESSION_TIMING, type SessionTiming } from './session/session.ts';
import { PunchForwarding } from './punch-forwarding.ts';
import { SessionLiveness } from './session/session-liveness.ts';
import { SessionManager } from './session/session-manager.ts';
import type { ChatStore } from './store/chat-store.ts';
import type { Contact, Presence } from './store/contacts.ts';
import { ChatStoreErrorCode } from './store/store-errors.ts';
import { checkMessageText, type MessageState } from './store/message-state.ts';
import { resolveFriend, resolveWho } from './session/contact-resolver.ts';
import { MAX_PROFILE_NAME_BYTES, MAX_REQUEST_NAME_BYTES } from './session/frames.ts';
import {
  type ContactView,
  codeOf,
  type FoundMessage,
  type MessageView,
  type ProfileView,
  type RequestView,
  toContactView,
  toView,
  usableName,
} from './session/views.ts';

export type { ContactView, FoundMessage, MessageView, ProfileView, RequestView } from './session/views.ts';
export type { FileTransferView } from './files/transfer-view.ts';

/** ChatNode's own error codes (docs/ERRORS.md, "## chat sessions"); the name codes are in contact-name.ts. */
export const ChatNodeErrorCode = {
  addSelf: 'CHAT_ADD_SELF',
  alreadyFriend: 'CHAT_ALREADY_FRIEND',
  emptyMessage: 'CHAT_MESSAGE_EMPTY',
  badQuery: 'CHAT_BAD_QUERY',
} as const;

/** What `typing` did: whom it told, and whether a session was up to carry it. */
export interface TypingResult {
  readonly to: ContactView;
  readonly isSent: boolean;
}

/** The most messages one `messages` or `search` call returns (and the default page of `messages`). */
export const MAX_MESSAGES_PER_CALL = 1000;
/** Search text, in characters. */
export const MAX_SEARCH_QUERY_CHARS = 256;
const BLANK_TEXT = /^[\s\p{Default_Ignorable_Code_Point}]*$/u;

export interface ChatNodeOptions {
  identity: Identity;
  store: ChatStore;
  /** The DHT for records, offline messages and request beacons; without it only the online path runs. */
  dht?: DhtNode;
  /** uTP on the DHT's UDP port (DatagramDemux). */
  utp: UtpEndpoint;
  clock: Clock;
  random: Random;
  logger?: Logger;
  localEndpoints(): UdpAddress[];
  /** Our display name (profile), sent with friend requests and in profile frames to friends. */
  name?: string;
  /** Persists a new display name (the daemon writes profile.json) before friends are told. */
  saveName?: (name: string) => Promise<void>;
  timing?: Partial<SessionTiming>;
  /** Retransmit period for unacknowledged messages within a session (default 10 s). */
  retransmitMs?: number;
  /** How long a queued message waits for a session before going to the DHT (default 8 s). */
  offlineAfterMs?: number;
  /**
   * Friend-request stamp work (leading zero bits), asked of requesters and done for our own requests. The daemon
   * never sets it (REQUEST_STAMP_BITS, ~1 s a request); in-process tests lower it so that befriending is cheap.
   */
  requestStampBits?: number;
  /** Stranger XX handshake ration (stranger-gate.ts); defaults are the product's. */
  strangerLimits?: Partial<StrangerLimits>;
  /** Friend-request budget (request-budget.ts); defaults are the product's. */
  requestBudget?: Partial<RequestBudgetLimits>;
  /** File transfers: where accepted files go (none: offers are declined), the size limit, the disk. */
  files?: {
    downloadsDir?: string;
    maxBytes?: number;
    fileSystem?: FileSystem;
    download?: { windowBytes?: number; checkpointBytes?: number; checkpointMs?: number };
  };
  /** Relays to use besides those found on the DHT (`daemon --relay`). */
  relays?: readonly UdpAddress[];
  /** Use relays for friends we cannot reach directly (default true; `daemon --no-relay`). */
  isRelayEnabled?: boolean;
  /** Take relays at private addresses from the DHT (local test networks, `--allow-private`). */
  allowPrivateRelays?: boolean;
  /** Seams for the birthday technique (the chat socket's PunchTransport, extra sockets); without: not tried. */
  birthday?: BirthdaySeams;
  /**
   * Friend requests on our LAN (local-discovery.ts): how to multicast a BEP 14 announce; the app feeds what it
   * hears to handleLocalDiscovery. Without: requests meet through the DHT only.
   */
  localDiscovery?: { send(message: Buffer): void };
}

export interface ChatNodeEvents {
  message: [event: { from: string; message: MessageView }];
  state: [event: { with: string; id: string; state: MessageState }];
  presence: [event: { code: string; presence: Presence; lastSeen: number | null }];
  request: [event: RequestView];
  typing: [event: { code: string; isTyping: boolean }];
  /** A contact became a friend (they accepted us, or both added each other). */
  accepted: [event: ContactView];
  /** Our friend request reached the recipient's daemon (it acknowledged it); they have not answered yet. */
  request_received: [event: ContactView];
  /** A file transfer changed state or made progress (progress at most every 250 ms per transfer). */
  file: [event: FileTransferView];
  /** How we reach a friend changed (session/path.ts): a session came up, moved to a direct path, or went. */
  path: [event: { code: string; path: ContactPath | null }];
  /** Groups (groups/group-service.ts): a member's message; our message's delivery counts moved; an invite. */
  group_message: [event: { group: string; name: string | null; message: GroupMessageView }];
  group_state: [event: { group: string; id: string } & DeliveryCounts];
  group_invite: [event: GroupInviteView];
  group_member: [event: { group: string; code: string; change: MemberChange }];
  group_typing: [event: { group: string; code: string; isTyping: boolean }];
  /** Our own place in a group changed (joined, left, removed). */
  group: [event: GroupView];
}

export class ChatNode extends EventEmitter<ChatNodeEvents> {
  readonly code: string;
  /** Private groups: create, invite, send… (the API calls it directly). */
  readonly groups: GroupService;
  readonly #opts: ChatNodeOptions;
  readonly #store: ChatStore;
  readonly #logger: Logger;
  readonly #sessions: SessionManager;
  readonly #delivery: Delivery;
  readonly #requests: RequestExchange;
  readonly #rendezvous: DhtServices['rendezvous'] | undefined;
  readonly #mailbox: DhtServices['mailbox'] | undefined;
  readonly #beacon: DhtServices['beacon'] | undefined;
  readonly #localDiscovery: LocalDiscovery | undefined;
  readonly #nat: DhtServices['nat'] | undefined;
  readonly #offline: OfflineScheduler | undefined;
  readonly #liveness: SessionLiveness;
  readonly #forwarding: PunchForwarding;
  readonly #files: FileTransfers;
  readonly #relayDirectory: RelayDirectory;
  readonly #requestRelays: RequestRelays;
  readonly #relays: RelayLinks;
  readonly #pairSecrets = new Map<string, Buffer>();
  /** The path last announced per friend (the `path` event fires on a change). */
  readonly #paths = new Map<string, ContactPath | null>();
  readonly #groupMailbox: GroupMailbox | undefined;
  #ownName: string | undefined;
  #isStarted = false;
  #areServicesStarted = false;
  #isClosed = false;

  constructor(opts: ChatNodeOptions) {
    super();
    this.#opts = opts;
    this.#store = opts.store;
    this.#logger = opts.logger ?? nullLogger;
    this.code = encodeFriendCode(opts.identity.publicKey);
    this.#ownName = opts.name;
    const ctx = {
      identity: opts.identity,
      clock: opts.clock,
      random: opts.random,
      logger: this.#logger,
      timing: { ...DEFAULT_SESSION_TIMING, ...opts.timing },
    };
    this.#requests = new RequestExchange({
      store: opts.store,
      clock: opts.clock,
      random: opts.random,
      logger: this.#logger,
      ownPublicKey: opts.identity.publicKey,
      ownName: () => fitBytes(this.#ownName ?? '', MAX_REQUEST_NAME_BYTES),
      ...(opts.requestStampBits === undefined ? {} : { stampBits: opts.requestStampBits }),
      ...(opts.requestBudget === undefined ? {} : { budget: opts.requestBudget }),
      events: {
        onRequest: (peer, from) => {
          this.#requestRelays.requestArrived(from);
          // Requests come in bunches (a code shared with several people at once): look fast for a while.
          this.#beacon?.expectRequests();
          const view = this.#requests.view(peer);
          if (view !== undefined) this.emit('request', view);
        },
        onAccepted: (peer) => this.#onAccepted(peer),
        onRequestReceived: (peer, isRelayed) => {
          // It took a relay to reach the recipient: its acceptance will too (#canMeetAtRelay).
          if (isRelayed) this.#relays.want(peer, 'accepted');
          const contact = this.#store.contacts.get(peer);
          if (contact !== undefined) this.emit('request_received', this.#view(contact, 'received'));
        },
        dial: (peer) => this.#sessions.connect(peer),
      },
    });
    this.#delivery = new Delivery({
      store: opts.store,
      clock: opts.clock,
      logger: this.#logger,
      sessionOf: (peer) => this.#sessions.sessionOf(peer),
      ...(opts.retransmitMs === undefined ? {} : { retransmitMs: opts.retransmitMs }),
      ownName: () => this.#profileName(),
      events: {
        onMessage: (peer, m) => this.emit('message', { from: codeOf(peer), message: toView(m) }),
        onState: (peer, m) => this.#emitState(peer, m.id, m.state),
        onTyping: (peer, isTyping) => this.emit('typing', { code: codeOf(peer), isTyping }),
        onFriendRequestFrame: (_peer, session) => this.#requests.answerFriendRequest(session),
        onProfile: (peer, name) => this.#onProfile(peer, name),
        onHello: (peer, session, version) => this.#files.onHello(peer, session, version),
        onFileFrame: (peer, session, frame) => this.#files.onFrame(peer, session, frame),
        onPunchForward: (peer, tag, note) => this.#forwarding.onForward(peer, tag, note),
        onPunchRelayed: (peer, from, note) => this.#forwarding.onRelayed(peer, from, note),
      },
    });
    this.#forwarding = new PunchForwarding({
      ownPk: opts.identity.publicKey,
      store: opts.store,
      clock: opts.clock,
      // Friends only (a group member's session is no friend's), on a path no probe doubts.
      friendsOnline: () =>
        [...this.#sessions.activeSessions()]
          .map((s) => s.peer)
          .filter((peer) => this.#isFriend(peer) && !this.#liveness.isSuspect(peer)),
      isRelayed: (peer) => this.#sessions.sessionOf(peer)?.path === 'relayed',
      send: (peer, frame) => this.#delivery.sendPunchFrame(peer, frame),
      seal: (target) => this.#nat?.punch.sealFor(target),
      accept: (from, note) => this.#nat?.punch.acceptFrom(from, note) ?? false,
    });
    this.#sessions = new SessionManager(
      ctx,
      opts.utp,
      opts.store,
      {
        admit: (peer, pattern, isInitiator) => {
          // Someone we asked who dials us with IK has accepted us — unless they share a group with us: a member
          // dials IK anyway. Then it is a member's session; their acceptance still reaches us on our request
          // session (they answer it as a friend's), never by their being in a group with us.
          const isAsked = this.#store.contacts.get(peer)?.state === 'pending-outgoing';
          if (isAsked && pattern === 'IK' && !isInitiator && this.groups.admits(peer)) return 'member';
          const admission = this.#requests.admit(peer, pattern, isInitiator);
          // A group member who is no friend dials IK like a friend (groups.admits refuses blocked keys).
          return admission === 'refuse' && pattern === 'IK' && this.groups.admits(peer)
            ? 'member'
            : admission;
        },
        dialMode: (peer) => this.#requests.dialMode(peer) ?? (this.groups.admits(peer) ? 'IK' : undefined),
        onFriendSession: (peer, session) => {
          const isFriend = this.#isFriend(peer);
          if (isFriend) {
            this.#relays.sessionUp(peer);
            this.#notePath(peer);
            this.#offline?.cancel(peer);
            this.#rendezvous?.resetBackoff(peer);
            // Punching goes on under a relayed session: a punched one replaces it (session-manager.ts).
            if (session.path !== 'relayed') {
              this.#nat?.sessionUp(peer);
              this.#liveness.start();
            } else this.#nat?.relayedUp(peer);
          }
          const direct = isFriend ? this.#delivery.attach(peer, session) : undefined;
          const group = this.groups.attach(peer, session, { isFriend });
          this.#files.onSessionUp(peer);
          return {
            onFrame: (frame) => {
              if (frame.type === 'group') return group.onFrame(frame.body);
              if (frame.type === 'hello') group.onHello(frame.version);
              direct?.onFrame(frame);
            },
            onBatchEnd: () => group.onBatchEnd(),
          };
        },
        onRequestSession: (peer, session) => this.#requests.onRequestSession(peer, session),
        onPresence: (peer, presence) => this.#onPresence(peer, presence),
        onChannelStream: (peer, session) => this.#files.acceptStream(peer, session),
        onFriendSessionEnd: (peer, session) => {
          this.#relays.sessionLost(peer, session);
          // The friend was alive until now: its record is read on the fast schedule (a move, a NAT that lost us).
          if (this.#isFriend(peer)) this.#rendezvous?.noteAlive(peer);
        },
        isSuspect: (peer) => this.#liveness.isSuspect(peer),
      },
      opts.strangerLimits === undefined ? {} : { strangerLimits: opts.strangerLimits },
    );
    this.#liveness = new SessionLiveness({
      clock: opts.clock,
      // Friends' direct sessions: a relayed one is the relay links' to watch (its round trips are longer).
      sessions: () =>
        [...this.#sessions.activeSessions()].filter(
          (s) => s.session.path !== 'relayed' && this.#isFriend(s.peer),
        ),
      onSuspect: (peer) => {
        this.#logger.debug(
          { code: codeOf(peer) },
          'chat: session quiet and unanswered: reaching the friend anew',
        );
        this.#rendezvous?.noteAlive(peer);
        this.#nat?.punchTowards(peer, 'alive');
      },
    });
    this.#files = new FileTransfers({
      store: opts.store,
      fs: opts.files?.fileSystem ?? nodeFileSystem,
      utp: opts.utp,
      identity: opts.identity,
      clock: opts.clock,
      random: opts.random,
      logger: this.#logger,
      handshakeTimeoutMs: ctx.timing.handshakeTimeoutMs,
      downloadsDir: opts.files?.downloadsDir,
      ...(opts.files?.maxBytes === undefined ? {} : { maxBytes: opts.files.maxBytes }),
      ...(opts.files?.download === undefined ? {} : { download: opts.files.download }),
      sessionOf: (peer) => this.#sessions.sessionOf(peer),
      isFriend: (peer) => this.#store.contacts.get(peer)?.state === 'accepted',
      onTransfer: (view) => this.emit('file', view),
      // Lazily: the group service is made below.
      groups: {
        isCurrentMember: (groupId, peer) => this.groups.isCurrentMember(groupId, peer),
        otherMembers: (groupId) => this.groups.otherMembers(groupId),
        sharesGroup: (peer) => this.groups.admits(peer),
        announce: (groupId, offer) => {
          this.groups.sendFileOffer(groupId, offer);
        },
      },
    });
    this.#relayDirectory = new RelayDirectory({
      dht: opts.dht,
      clock: opts.clock,
      logger: this.#logger,
      allowPrivate: opts.allowPrivateRelays ?? false,
      ...(opts.relays === undefined ? {} : { configured: opts.relays }),
      // Our public address too (the daemon's local endpoints leave it to the DHT): never our own relay.
      ownAddresses: () => {
        const external = opts.dht?.externalAddress();
        return external === undefined ? opts.localEndpoints() : [...opts.localEndpoints(), external];
      },
    });
    // Friends' sessions and friend requests join relays alike (the same directory, the same switch).
    const relayCommon = {
      isEnabled: opts.isRelayEnabled ?? true,
      identity: opts.identity,
      utp: opts.utp,
      clock: opts.clock,
      logger: this.#logger,
      directory: this.#relayDirectory,
    };
    this.#relays = new RelayLinks({
      ...relayCommon,
      meeting: (peer, nowMs) => {
        const secret = this.#pairSecret(peer);
        return secret === undefined ? undefined : friendMeeting(secret, opts.identity.publicKey, peer, nowMs);
      },
      sessionPath: (peer) => this.#sessions.sessionOf(peer)?.path,
      onMatched: (peer, stream, relay, isInitiator) =>
        this.#sessions.adoptRelayed(peer, stream, relay, isInitiator),
    });
    this.#requestRelays = new RequestRelays({
      ...relayCommon,
      // E as the answer topic has it (request-answer.ts requesterEndpoint): both sides derive the meeting from it.
      ownRequestEndpoint: () => this.#nat?.answers.ownEndpoint(),
      isUnacknowledged: (peer) =>
        this.#store.contacts.get(peer)?.state === 'pending-outgoing' &&
        this.#requests.outgoingStatus(peer) !== 'received',
      onMatched: (stream, relay, isRecipient) =>
        this.#sessions.adoptRelayedRequest(stream, relay, isRecipient),
    });
    this.groups = new GroupService({
      ...ctx,
      store: opts.store,
      sessions: this.#sessions,
      events: {
        onMessage: (message, name) => this.emit('group_message', { group: message.group, name, message }),
        onState: (event) => this.emit('group_state', event),
        onInvite: (invite) => this.emit('group_invite', invite),
        onMember: (event) => {
          this.emit('group_member', event);
          if (event.change === 'removed' || event.change === 'left')
            this.#files.onMemberGone(Buffer.from(event.group, 'hex'), decodeFriendCode(event.code));
        },
        onFileOffer: (groupId, author, offer) => this.#files.onGroupOffer(groupId, author, offer),
        onTyping: (event) => this.emit('group_typing', event),
        onGroup: (group) => this.emit('group', group),
      },
    });
    if (opts.dht !== undefined) {
      const services = createDhtServices(
        { ...opts, dht: opts.dht, logger: this.#logger },
        {
          onRecord: (peer, endpoints, timestampMs) => {
            this.#sessions.addCandidates(peer, endpoints);
            this.#sessions.noteRecordSeen(peer, timestampMs);
            this.#relays.noteRecord(peer, timestampMs);
            // A direct session's path is refined from the friend's record (direct, punched, mapped): a record
            // read after the session came up may change what the path is called.
            if (this.#sessions.sessionOf(peer) !== undefined) this.#notePath(peer);
          },
          onOfflineMessages: (peer, messages) => {
            for (const m of messages) this.emit('message', { from: codeOf(peer), message: toView(m) });
          },
          onOfflineState: (peer, ids, state) => {
            for (const id of ids) this.#emitState(peer, id, state);
          },
          sessions: this.#sessions,
          isSuspect: (peer) => this.#liveness.isSuspect(peer),
          onMoved: () => this.networkChanged(),
          friendForward: (peer) => this.#forwarding.ask(peer),
          noteOverRelay: (peer) => this.#forwarding.tellOverRelay(peer),
          onRequester: (endpoint) => this.#requestRelays.asRecipient(endpoint),
          onRequestAnswered: (recipient) => this.#requestRelays.asRequester(recipient),
          needsAnnouncing: (peer) => this.#requests.outgoingStatus(peer) !== 'received',
        },
      );
      this.#rendezvous = services.rendezvous;
      this.#mailbox = services.mailbox;
      const mailbox = services.mailbox;
      this.#offline = new OfflineScheduler({
        clock: opts.clock,
        logger: this.#logger,
        ...(opts.offlineAfterMs === undefined ? {} : { afterMs: opts.offlineAfterMs }),
        isOnline: (peer) => this.#store.contacts.get(peer)?.presence === 'online',
        hasSession: (peer) => this.#sessions.sessionOf(peer) !== undefined,
        isPathless: (peer) => this.#nat?.isPathless(peer) === true,
        store: (peer) => mailbox.storeFor(peer),
      });
      this.#beacon = services.beacon;
      this.#nat = services.nat;
      const groupMailbox = new GroupMailbox({
        ...opts,
        dht: opts.dht,
        logger: this.#logger,
        host: this.groups.mailboxHost,
      });
      this.groups.onOwnEntry = (replica) => groupMailbox.noteOwnEntry(replica.groupId);
      this.#groupMailbox = groupMailbox;
    } else {
      this.#groupMailbox = undefined;
    }
    const lan = opts.localDiscovery;
    this.#localDiscovery =
      lan === undefined
        ? undefined
        : new LocalDiscovery({
            identity: opts.identity,
            store: this.#store,
            clock: opts.clock,
            random: opts.random,
            logger: this.#logger,
            send: (message) => lan.send(message),
            port: () => opts.utp.localAddress().port,
            needsAnnouncing: (peer) => this.#requests.outgoingStatus(peer) !== 'received',
            onRequester: (endpoint) => this.#sessions.connectUnknown(endpoint),
          });
  }

  /** A datagram heard on the LAN discovery socket (BEP 14 announces; anything else is dropped). */
  handleLocalDiscovery(message: Buffer, from: UdpAddress): void {
    this.#localDiscovery?.handle(message, from);
  }

  /**
   * Listens and dials every friend's last known endpoints at once (a restarted daemon is back with its online
   * friends before any DHT traffic), then starts the DHT services in the background once dhtReady settles (the
   * daemon passes its join, bounded in time; records published before the join would reach too few nodes).
   */
  async start(dhtReady: Promise<unknown> = Promise.resolve()): Promise<void> {
    if (this.#isStarted) return;
    this.#isStarted = true;
    this.#sessions.start();
    this.#liveness.start();
    this.#requests.start();
    this.groups.start();
    for (const contact of this.#store.contacts.list(['accepted', 'pending-outgoing'])) {
      if (contact.presence === 'online') this.#store.contacts.setPresence(contact.publicKey, 'offline');
      this.#sessions.connect(contact.publicKey);
      if (this.#store.messages.outbox(contact.publicKey, 1).some((m) => m.state === 'queued')) {
        this.#offline?.schedule(contact.publicKey, true);
      }
    }
    void dhtReady.then(
      () => this.#startServices(),
      () => this.#startServices(),
    );
  }

  #startServices(): void {
    if (this.#isClosed) return;
    this.#areServicesStarted = true;
    // Friends not reached directly by now may only be reachable through a relay (with the DHT up, we can find one).
    for (const contact of this.#store.contacts.list(['accepted', 'pending-outgoing']))
      if (this.#canMeetAtRelay(contact.publicKey)) this.#relays.want(contact.publicKey, 'start');
    this.#relays.start();
    // Our requests still waiting for the recipient's daemon: wait at their relays too (a NAT may block both ways).
    for (const contact of this.#store.contacts.list(['pending-outgoing']))
      this.#requestRelays.asRequester(contact.publicKey);
    this.#requestRelays.start();
    this.#beacon?.start();
    // Without a friend yet, our code has just been given out (`dhtchat init` printed it): a request is expected.
    if (this.#store.contacts.list(['accepted']).length === 0) this.#beacon?.expectRequests();
    this.#localDiscovery?.start();
    this.#nat?.start();
    this.#groupMailbox?.start();
    const background = [this.#rendezvous?.start(), this.#mailbox?.start()];
    for (const task of background)
      task?.catch((error) => this.#logger.warn({ error: String(error) }, 'chat service failed'));
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#liveness.close();
    this.#offline?.close();
    this.#beacon?.close();
    this.#localDiscovery?.close();
    this.#nat?.close();
    this.#mailbox?.close();
    this.#groupMailbox?.close();
    this.#rendezvous?.close();
    await this.#files.close();
    this.#delivery.close();
    this.groups.close();
    this.#requests.close();
    this.#relays.close();
    this.#requestRelays.close();
    this.#relayDirectory.close();
    this.#sessions.close();
  }

  /** Adds a friend by code: a pending request until they accept. `endpoints`: where they can be reached, if known. */
  async addFriend(
    code: string,
    opts: { name?: string; message?: string; endpoints?: readonly UdpAddress[] } = {},
  ): Promise<ContactView> {
    const peer = decodeFriendCode(code);
    if (peer.equals(this.#opts.identity.publicKey)) {
      throw new DhtchatError(ChatNodeErrorCode.addSelf, 'that is your own friend code');
    }
    const existing = this.#store.contacts.get(peer);
    if (existing?.state === 'accepted') {
      // Renaming is its own command: an add that renamed quietly looked like a request sent.
      const who = existing.name === undefined ? code : `${existing.name} (${codeOf(peer)})`;
      throw new DhtchatError(
        ChatNodeErrorCode.alreadyFriend,
        `${who} is already a friend; to rename, use dhtchat rename`,
      );
    }
    const incoming = this.#store.requests.get(peer, 'incoming');
    if (incoming?.state === 'pending') return this.#accept(peer, opts.name);
    const message = opts.message ?? '';
    checkMessageText(message);
    const contact = this.#store.transaction(() => {
      this.#store.requests.saveOutgoing(peer, message);
      return this.#store.contacts.upsert(peer, 'pending-outgoing', opts.name);
    });
    for (const endpoint of opts.endpoints ?? []) this.#store.contacts.noteEndpoint(peer, endpoint, 'hint');
    // Dialled once the request's stamp is solved (RequestExchange's dial event).
    this.#requests.noteOutgoing(peer);
    this.#beacon?.announceNow().catch(() => {});
    // Two people swapping codes often add each other at once: their request may be on our topic in seconds.
    this.#beacon?.expectRequests();
    this.#localDiscovery?.requestAdded();
    this.#nat?.answers.added(peer);
    this.#requestRelays.asRequester(peer);
    return this.#view(contact, 'sent');
  }

  requests(): RequestView[] {
    return this.#store.requests
      .list({ direction: 'incoming', state: 'pending' })
      .map((r) => this.#requests.view(r.publicKey))
      .filter((v): v is RequestView => v !== undefined);
  }

  async accept(codeOrName: string): Promise<ContactView> {
    return this.#accept(this.#resolve(codeOrName, true));
  }

  decline(codeOrName: string): void {
    this.#refuse(this.#resolve(codeOrName, true), 'declined');
  }

  block(codeOrName: string): void {
    const peer = this.#resolve(codeOrName, true);
    this.#refuse(peer, 'blocked');
    this.#sessions.sessionOf(peer)?.close();
  }

  /** Lifts a block: they are a stranger again, who may send a fresh request (the conversation is kept). */
  unblock(codeOrName: string): ContactView {
    const peer = this.#resolve(codeOrName, true);
    const contact = this.#store.contacts.get(peer);
    if (contact?.state !== 'blocked') {
      throw new DhtchatError(ChatStoreErrorCode.unknownFriend, `"${codeOrName}" is not blocked`);
    }
    this.#store.removeContact(peer, { isHistoryForgotten: false });
    this.#requests.forget(peer);
    return this.#view(contact);
  }

  contacts(): ContactView[] {
    return this.#store.contacts
      .list(['accepted', 'pending-outgoing'])
      .map((c) => this.#view(c, this.#requests.outgoingStatus(c.publicKey)));
  }

  blocked(): ContactView[] {
    return this.#store.contacts.list(['blocked']).map((c) => this.#view(c));
  }

  /** Names a contact (ours for them: the friend never sees it). CHAT_NAME_INVALID, CHAT_CONTACT_NAME_TAKEN. */
  rename(codeOrName: string, name: string): ContactView {
    const peer = this.#resolveContact(codeOrName);
    return this.#view(this.#store.contacts.rename(peer, name));
  }

  /**
   * Removes a contact (or our pending request to them): they become a stranger, whose later request is a fresh
   * one. The conversation stays, readable by friend code, unless isHistoryForgotten.
   */
  remove(codeOrName: string, opts: { isHistoryForgotten?: boolean } = {}): ContactView {
    const peer = this.#resolveContact(codeOrName);
    const contact = this.#store.contacts.get(peer) as Contact;
    this.#store.removeContact(peer, { isHistoryForgotten: opts.isHistoryForgotten === true });
    this.#requests.forget(peer);
    this.#offline?.cancel(peer);
    this.#sessions.sessionOf(peer)?.close();
    return this.#view(contact);
  }

  /**
   * Our code is being shown to someone (the API's GET /v1/id: `dhtchat id`, the web client's code card): a
   * friend request may follow within minutes, so our request topic is re-read every few seconds for a while
   * (request-beacon.ts). Reading the code for any other purpose (labels) goes through profile().
   */
  noteCodeShown(): void {
    this.#beacon?.expectRequests();
  }

  /** Our name as friends are sent it, and our code. */
  profile(): ProfileView {
    return { name: this.#ownName ?? null, code: this.code };
  }

  /** Sets our name: saved (saveName), used in requests from now on, and sent to every friend online now. */
  async setProfileName(name: string): Promise<ProfileView> {
    checkName(name, 'your name');
    await this.#opts.saveName?.(name);
    this.#ownName = name;
    for (const contact of this.#store.contacts.list(['accepted']))
      this.#delivery.sendProfile(contact.publicKey);
    return this.profile();
  }

  async send(codeOrName: string, text: string): Promise<{ id: string; state: MessageState }> {
    checkMessageText(text);
    if (BLANK_TEXT.test(text)) {
      throw new DhtchatError(
        ChatNodeErrorCode.emptyMessage,
        'the message is empty (or only spaces): nothing sent',
      );
    }
    const peer = this.#resolveFriend(codeOrName);
    // Resolves after the group commit that wrote it (store/group-commit.ts): the answer means it is durable.
    const message = await this.#delivery.send(peer, text);
    this.#emitState(peer, message.id, message.state);
    if (this.#sessions.sessionOf(peer) === undefined) {
      this.#sessions.connect(peer);
      this.#relays.want(peer, 'send');
      this.#nat?.punchTowards(peer);
      this.#offline?.schedule(peer, false);
    }
    return { id: message.id.toString('hex'), state: message.state };
  }

  /**
   * The conversation, oldest first: the newest `limit` messages (default and most: MAX_MESSAGES_PER_CALL), or
   * when paging back the newest before a message (`beforeId`, hex) or a time (`beforeMs`, when written).
   */
  messages(
    codeOrName: string,
    opts: { limit?: number; beforeId?: string; beforeMs?: number } = {},
  ): MessageView[] {
    const peer = this.#resolve(codeOrName, false);
    const limit = checkLimit(opts.limit ?? MAX_MESSAGES_PER_CALL);
    let beforeSeq: number | undefined;
    if (opts.beforeId !== undefined) {
      const id = /^[0-9a-f]{32}$/i.test(opts.beforeId) ? Buffer.from(opts.beforeId, 'hex') : undefined;
      beforeSeq = id === undefined ? undefined : this.#store.messages.seqOf(peer, id);
      if (beforeSeq === undefined) {
        throw new DhtchatError(
          ChatStoreErrorCode.unknownMessage,
          `no message ${opts.beforeId} in the conversation with "${codeOrName}"`,
        );
      }
    }
    const paging = { limit, ...(beforeSeq === undefined ? {} : { beforeSeq }) };
    const page = opts.beforeMs === undefined ? paging : { ...paging, beforeMs: opts.beforeMs };
    return this.#store.messages.list(peer, page).map(toView);
  }

  /** Messages containing `query`, ignoring case: the newest `limit` (default 50), oldest first. */
  search(query: string, opts: { with?: string; limit?: number } = {}): FoundMessage[] {
    if (BLANK_TEXT.test(query) || [...query].length > MAX_SEARCH_QUERY_CHARS) {
      throw new DhtchatError(
        ChatNodeErrorCode.badQuery,
        `search text must be 1-${MAX_SEARCH_QUERY_CHARS} characters, not only spaces`,
      );
    }
    const conversation = opts.with === undefined ? undefined : this.#resolve(opts.with, false);
    const limit = checkLimit(opts.limit ?? 50);
    return this.#store.messages
      .search(query, { limit, ...(conversation === undefined ? {} : { conversation }) })
      .map((m) => ({ with: codeOf(m.conversation), ...toView(m) }));
  }

  markRead(codeOrName: string): void {
    this.#delivery.markRead(this.#resolveFriend(codeOrName));
  }

  /** Tells the friend we are (or stopped) typing: sent only while a session is up (typing is never kept). */
  setTyping(codeOrName: string, isTyping: boolean): TypingResult {
    const peer = this.#resolveFriend(codeOrName);
    const isSent = this.#delivery.setTyping(peer, isTyping);
    return { to: this.#view(this.#store.contacts.get(peer) as Contact), isSent };
  }

  /**
   * Offers a file (an absolute path) to a friend: hashed now (FILE_NOT_FOUND, FILE_NOT_A_FILE, FILE_CHANGED),
   * offered on the session now or when one comes up. The same content offered again continues the old offer.
   */
  async sendFile(codeOrName: string, path: string): Promise<FileTransferView> {
    const peer = this.#resolveFriend(codeOrName);
    if (!isAbsolute(path)) throw fileError(FileErrorCode.notFound, `"${path}" is not an absolute path`);
    return this.#files.send(peer, path);
  }

  /**
   * Offers a file (an absolute path) to a group we are a member of (its id or name): hashed now, announced as a
   * signed group message; every member may fetch it from every member who has it.
   */
  async sendFileToGroup(groupTyped: string, path: string): Promise<FileTransferView> {
    const groupId = this.groups.memberGroupId(groupTyped);
    if (!isAbsolute(path)) throw fileError(FileErrorCode.notFound, `"${path}" is not an absolute path`);
    return this.#files.sendToGroup(groupId, path);
  }

  /** Every file transfer, newest first (at most 500). */
  files(): FileTransferView[] {
    return this.#files.list();
  }

  /** Accepts an offered file: into the downloads dir, or `to` (absolute: a directory, or a new file's path). */
  async acceptFile(id: string, opts: { to?: string } = {}): Promise<FileTransferView> {
    const row = this.#files.find(id);
    if (opts.to !== undefined && !isAbsolute(opts.to)) {
      throw fileError(FileErrorCode.target, `"${opts.to}" is not an absolute path`);
    }
    return this.#files.accept(row, opts.to);
  }

  /** Cancels a transfer either way (an offer not yet accepted is declined); the friend is told. */
  async cancelFile(id: string): Promise<FileTransferView> {
    return this.#files.cancel(this.#files.find(id));
  }

  /** Endpoints where a friend may be reached (a LAN hint, a QR link): remembered and dialled now. */
  addEndpoints(codeOrName: string, endpoints: readonly UdpAddress[]): void {
    this.#sessions.addCandidates(this.#resolve(codeOrName, false), endpoints);
  }

  /**
   * Our endpoints changed (a port mapping came, moved or went): republish our records now. Before the DHT
   * services start there is nothing to do: their first publish carries the change.
   */
  endpointsChanged(): void {
    if (this.#areServicesStarted && !this.#isClosed) this.#rendezvous?.endpointsChanged();
    // Our endpoints (a port mapping came or went) are part of what a direct session's path is called.
    for (const { peer } of this.#sessions.activeSessions()) if (this.#isFriend(peer)) this.#notePath(peer);
  }

  /**
   * Our network changed (the daemon saw its interfaces change, or DHT nodes see us at a new public address):
   * every session is probed (a dead one closes within seconds), our records are republished with our new
   * endpoints, every friend is read on the fast schedule, and a punch is wished for with every friend alive
   * (issue 11 §9). Messages queued meanwhile go out once a session is back (the receiver dedupes by id).
   */
  networkChanged(): void {
    if (!this.#areServicesStarted || this.#isClosed) return;
    const peers = [...this.#sessions.activeSessions()].map((s) => s.peer);
    this.#logger.info(
      { event: 'network_changed', sessions: peers.length },
      'network changed: reaching friends anew',
    );
    this.#liveness.probeAll();
    this.#nat
      ?.moved(peers)
      .catch((error) => this.#logger.warn({ error: String(error) }, 'move handling failed'));
  }

  /**
   * The friend's current session: who dialled (the tie-break's outcome), where (the relay, when relayed), and
   * its path (session/path.ts).
   */
  sessionInfo(
    codeOrName: string,
  ): { isInitiator: boolean; remote: UdpAddress; path: SessionPath } | undefined {
    const peer = this.#resolve(codeOrName, false);
    const session = this.#sessions.sessionOf(peer);
    return session === undefined
      ? undefined
      : {
          isInitiator: session.isInitiator,
          remote: session.remoteAddress,
          path: this.#sessionPath(peer, session),
        };
  }

  /**
   * How we reach a friend now (session/path.ts): the session's path; `dht` while they are around without one
   * (presence, or a fresh record); null when offline.
   */
  pathOf(codeOrName: string): ContactPath | null {
    const peer = this.#resolve(codeOrName, false);
    return this.#pathOf(peer, this.#store.contacts.get(peer)?.presence);
  }

  /** True when a session with the friend is up. */
  isConnected(codeOrName: string): boolean {
    return this.#sessions.sessionOf(this.#resolve(codeOrName, false)) !== undefined;
  }

  /** What the NAT traversal knows (the web client's network panel): our introducers, our endpoint as they see it. */
  natView(): { introducers: UdpAddress[]; observedEndpoint: UdpAddress | undefined } {
    const keeper = this.#nat?.introducers;
    return { introducers: keeper?.introducers() ?? [], observedEndpoint: keeper?.observedEndpoint() };
  }

  /** Strangers' sessions (XX handshakes and requests) held now, against their limit: the network panel's view. */
  strangerView(): { active: number; limit: number } {
    return { active: this.#sessions.strangers.active, limit: this.#sessions.strangers.limits.maxConcurrent };
  }

  /** A contact as the API shows it, with the path we reach them on now (and our pending request's status). */
  #view(contact: Contact, request?: 'sent' | 'received'): ContactView {
    return toContactView(contact, { request, path: this.#pathOf(contact.publicKey, contact.presence) });
  }

  #pathOf(peer: Buffer, presence: Presence | undefined): ContactPath | null {
    const session = this.#sessions.sessionOf(peer);
    if (session !== undefined) return this.#sessionPath(peer, session);
    const isAround = presence === 'online' || presence === 'away' || this.#rendezvous?.isAlive(peer) === true;
    return isAround ? 'dht' : null;
  }

  /** A relayed session is `relayed`; a direct one is refined from the friend's record and both NATs (path.ts). */
  #sessionPath(peer: Buffer, session: { path: SessionPath; remoteAddress: UdpAddress }): SessionPath {
    if (session.path === 'relayed') return session.path;
    return directSessionPath(
      session.remoteAddress,
      this.#rendezvous?.latestRecord(peer),
      this.#nat?.natMapping() ?? 'unknown',
      this.#opts.localEndpoints(),
    );
  }

  #isFriend(peer: Buffer): boolean {
    return this.#store.contacts.get(peer)?.state === 'accepted';
  }

  /** Emits `path` when the friend's path differs from the one last announced. */
  #notePath(peer: Buffer): void {
    const key = peer.toString('hex');
    const path = this.#pathOf(peer, this.#store.contacts.get(peer)?.presence);
    if ((this.#paths.get(key) ?? null) === path) return;
    this.#paths.set(key, path);
    this.emit('path', { code: codeOf(peer), path });
  }

  /** K with an accepted friend, for the relay token (derived once per friend and kept). */
  #pairSecret(peer: Buffer): Buffer | undefined {
    if (!this.#canMeetAtRelay(peer)) return undefined;
    const key = peer.toString('hex');
    let secret = this.#pairSecrets.get(key);
    if (secret === undefined) {
      const derived = derivePairSecret(this.#opts.identity, peer);
      if (!derived.ok) return undefined;
      secret = derived.secret;
      this.#pairSecrets.set(key, secret);
    }
    return secret;
  }

  /**
   * A friend, or someone whose daemon has our request (it may accept any time): their acceptance, a session
   * they dial with IK, must reach us also when no direct path can (both NATs randomise), so we meet them at
   * the pair's relay as friends do.
   */
  #canMeetAtRelay(peer: Buffer): boolean {
    const state = this.#store.contacts.get(peer)?.state;
    return (
      state === 'accepted' ||
      (state === 'pending-outgoing' && this.#requests.outgoingStatus(peer) === 'received')
    );
  }

  /** Declined or blocked: a pending request from them is declined too (so it is remembered and not shown). */
  #refuse(peer: Buffer, state: 'declined' | 'blocked'): void {
    this.#store.transaction(() => {
      if (this.#store.requests.get(peer, 'incoming')?.state === 'pending') {
        this.#store.requests.setState(peer, 'incoming', 'declined');
      }
      this.#store.contacts.upsert(peer, state);
    });
  }

  async #accept(peer: Buffer, name?: string): Promise<ContactView> {
    const contact = this.#store.transaction(() => {
      if (this.#store.requests.get(peer, 'incoming') !== undefined) {
        this.#store.requests.setState(peer, 'incoming', 'accepted');
      }
      const suggested = name ?? usableName(this.#store, this.#requests.requestName(peer));
      return this.#store.contacts.upsert(peer, 'accepted', suggested);
    });
    this.#rendezvous?.resetBackoff(peer);
    this.#rendezvous?.publishNow(peer).catch(() => {});
    this.#sessions.connect(peer);
    this.#relays.want(peer, 'accepted');
    return this.#view(contact);
  }

  #onAccepted(peer: Buffer): void {
    // Deferred: the session that told us may be being installed right now; dial only if none came up.
    this.#opts.clock.setTimer(0, () => {
      if (this.#isClosed) return;
      this.#sessions.connect(peer);
      this.#relays.want(peer, 'accepted');
      this.#rendezvous?.resetBackoff(peer);
      this.#rendezvous?.publishNow(peer).catch(() => {});
    });
    const contact = this.#store.contacts.get(peer);
    if (contact !== undefined) this.emit('accepted', this.#view(contact));
  }

  /** A friend's own name (remote input): kept when valid, shown beside ours for them, never picks anyone. */
  #onProfile(peer: Buffer, name: string): void {
    if (!isValidName(name)) {
      this.#logger.debug({ code: codeOf(peer) }, 'profile name refused');
      return;
    }
    try {
      this.#store.contacts.setProfileName(peer, name);
    } catch (error) {
      this.#logger.warn({ error: String(error) }, 'saving a profile name failed');
    }
  }

  /** Our name for profile frames: only a valid one is sent (profile.json may hold anything). */
  #profileName(): string | undefined {
    const name = this.#ownName;
    return name !== undefined && isValidName(name) && Buffer.byteLength(name) <= MAX_PROFILE_NAME_BYTES
      ? name
      : undefined;
  }

  #onPresence(peer: Buffer, presence: Presence): void {
    const contact = this.#store.contacts.get(peer);
    if (contact === undefined) return; // a group member who is not a contact: the groups' views show it
    this.emit('presence', { code: codeOf(peer), presence, lastSeen: contact?.lastSeenMs ?? null });
    this.#notePath(peer);
    if (presence !== 'online') this.#delivery.friendAway(peer);
    if (presence === 'away') {
      this.#rendezvous?.resetBackoff(peer);
      if (this.#store.messages.outbox(peer, 1).length > 0) {
        this.#offline?.cancel(peer); // a longer wait from while they were online: they did not come back
        this.#offline?.schedule(peer, false);
      }
    }
  }

  #emitState(peer: Buffer, id: Buffer, state: MessageState): void {
    this.emit('state', { with: codeOf(peer), id: id.toString('hex'), state });
  }

  /**
   * A contact by code or name (contact-resolver.ts); with anyState also a blocked one, or a pending requester by
   * code or by the name their request suggested.
   */
  #resolve(codeOrName: string, anyState: boolean): Buffer {
    if (!anyState) return resolveWho(this.#store, codeOrName);
    return resolveWho(this.#store, codeOrName, {
      isRequesterAllowed: true,
      isBlockedAllowed: true,
      requesters: () =>
        this.#store.requests
          .list({ direction: 'incoming', state: 'pending' })
          .map((r) => ({ peer: r.publicKey, name: this.#requests.requestName(r.publicKey) })),
    });
  }

  /** Someone `contacts` lists: a friend, or a contact our request is pending with. */
  #resolveContact(codeOrName: string): Buffer {
    const peer = resolveWho(this.#store, codeOrName);
    const state = this.#store.contacts.get(peer)?.state;
    if (state !== 'accepted' && state !== 'pending-outgoing') {
      throw new DhtchatError(ChatStoreErrorCode.unknownFriend, `no contact "${codeOrName}"`);
    }
    return peer;
  }

  #resolveFriend(codeOrName: string): Buffer {
    return resolveFriend(this.#store, codeOrName);
  }
}

/** The longest prefix of text that fits in maxBytes of UTF-8, cut between code points. */
function fitBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const char of text) {
    if (Buffer.byteLength(out + char) > maxBytes) break;
    out += char;
  }
  return out;
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_MESSAGES_PER_CALL) {
    throw new DhtchatError(ChatNodeErrorCode.badQuery, `a limit is 1-${MAX_MESSAGES_PER_CALL}`);
  }
  return limit;
}
