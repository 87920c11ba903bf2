/**
 * The DHT services a ChatNode runs when it has a DhtNode (DHT-SERVICES' classes), built and wired to the
 * session layer's callbacks: record endpoints become dial candidates, offline messages and their state changes
 * become ChatNode events, requesters found on our beacon topic are dialled back with XX. Hole punching is
 * coordinated through the records (punch-coordinator.ts): a friend alive but unreachable, or a message waiting,
 * makes us publish a wish and punch; the friend's wish makes us punch back. The introducer keeper feeds the
 * records (introducers, our endpoint as they see us) and its introducers carry punch notes too (punch-service.ts).
 */
import type { DhtNode } from '../../dht/index.ts';
import type { Clock, DatagramTransport, Logger, Random, UdpAddress } from '../../runtime/index.ts';
import type { UtpEndpoint } from '../../net/index.ts';
import type { Identity } from '../identity.ts';
import { IntroducerKeeper } from '../introducer-keeper.ts';
import { type NatMapping, publicView, recentPublicHost } from '../nat-mapping.ts';
import { BirthdayPuncher } from '../punch-birthday.ts';
import { PunchCoordinator, type WishReason } from '../punch-coordinator.ts';
import { isPublicIpv6, planPunch } from '../punch-plan.ts';
import { relayRole } from '../relay/relay-keys.ts';
import type { PunchTransport } from '../punch-transport.ts';
import { OfflineMailbox } from '../offline-mailbox.ts';
import { PunchService } from '../punch-service.ts';
import { RendezvousService } from '../rendezvous-service.ts';
import { RequestAnswers } from '../request-answer.ts';
import { RequestBeacon } from '../request-beacon.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { MessageState } from '../store/message-state.ts';
import type { SessionManager } from './session-manager.ts';
import type { StoredMessage } from '../store/messages.ts';

export interface DhtServicesOptions {
  identity: Identity;
  store: ChatStore;
  dht: DhtNode;
  utp: UtpEndpoint;
  clock: Clock;
  random: Random;
  logger: Logger;
  localEndpoints(): UdpAddress[];
  /** The birthday technique's seams (punch-birthday.ts): without them, no birthday punching. */
  birthday?: BirthdaySeams | undefined;
}

/** What the birthday technique needs from the socket layer: the chat socket's wrapper and extra sockets. */
export interface BirthdaySeams {
  readonly transport: PunchTransport;
  /** An extra UDP socket on our chat address, on a port the OS picks (undefined: none to be had). */
  openSocket(): Promise<DatagramTransport | undefined>;
}

export interface DhtServicesHooks {
  /** A friend's record: its endpoints and the author's timestamp (evidence it was alive then). */
  onRecord(peer: Buffer, endpoints: UdpAddress[], timestampMs: number): void;
  onOfflineMessages(peer: Buffer, messages: StoredMessage[]): void;
  onOfflineState(peer: Buffer, ids: Buffer[], state: MessageState): void;
  /**
   * Is a session up; dial these endpoints now (a punch note told us where the friend waits); dial a requester
   * found on our beacon topic (XX).
   */
  sessions: Pick<SessionManager, 'sessionOf' | 'addCandidates' | 'connectUnknown'>;
  /** The friend's session failed a liveness probe (session-liveness.ts): treat it as unreachable. */
  isSuspect?(peer: Buffer): boolean;
  /** The nodes that answered lately see us at another public address: we moved (ChatNode.networkChanged). */
  onMoved?(): void;
  /** Ask our friends online to pass a punch note on to this friend (punch-forwarding.ts). */
  friendForward?(peer: Buffer): void;
  /** Send the friend a punch note through our relayed session with it (punch-forwarding.ts); true when sent. */
  noteOverRelay?(peer: Buffer): boolean;
  /** Should our pending request to `peer` still be announced (false once their daemon acknowledged it)? */
  needsAnnouncing?(peer: Buffer): boolean;
  /** A requester announced itself on our request topic at this endpoint (request-relays.ts meets it too). */
  onRequester?(endpoint: UdpAddress): void;
  /** The recipient of our request answered on its answer topic (request-relays.ts: meet it at a relay too). */
  onRequestAnswered?(recipient: Buffer): void;
}

export interface DhtServices {
  rendezvous: RendezvousService;
  mailbox: OfflineMailbox;
  beacon: RequestBeacon;
  nat: NatTraversal;
}

/**
 * Introducers and hole punching, started together with the other DHT services: before our introducers know
 * us, no note can reach us anyway.
 */
export interface NatTraversal {
  introducers: IntroducerKeeper;
  punch: PunchService;
  coordinator: PunchCoordinator;
  /** Friend requests across NATs: the recipient says where it dials back from (request-answer.ts). */
  answers: RequestAnswers;
  /** How our NAT maps us, from the DHT's reports (nat-mapping.ts). */
  natMapping(): NatMapping;
  start(): void;
  /** We want a session with the friend (a message waits, or we moved): wish and punch (punch-coordinator.ts). */
  punchTowards(peer: Buffer, reason?: WishReason): void;
  /** A session with the friend came up. */
  sessionUp(peer: Buffer): void;
  /** A relayed session with the friend came up: punch through it to a direct path (punch-coordinator.ts). */
  relayedUp(peer: Buffer): void;
  /** No direct path can form with the friend: both NATs randomise (punch-plan.ts). */
  isPathless(peer: Buffer): boolean;
  /**
   * We moved (a new public address, new interfaces): refresh how DHT nodes see us, republish every record,
   * poll everyone fast and wish for a session with every friend alive (those in `peers` had a session).
   */
  moved(peers: readonly Buffer[]): Promise<void>;
  close(): void;
}

/** How often the public address DHT nodes report is compared with the last one (a move shows there). */
const MOVE_CHECK_MS = 2000;
/** The same while we have no friend. */
const IDLE_MOVE_CHECK_MS = 5 * 60_000;
/** DHT nodes pinged after a move, so that their reports show where we are now. */
const MOVE_PINGS = 4;
/** Republishing because our public endpoint or NAT mapping changed: at most this often. */
const REPUBLISH_ON_CHANGE_MS = 30_000;

export function createDhtServices(opts: DhtServicesOptions, hooks: DhtServicesHooks): DhtServices {
  const common = {
    identity: opts.identity,
    store: opts.store,
    dht: opts.dht,
    clock: opts.clock,
    random: opts.random,
    logger: opts.logger,
  };
  const isConnected = (peer: Buffer): boolean =>
    hooks.sessions.sessionOf(peer) !== undefined && hooks.isSuspect?.(peer) !== true;
  // Punching stops at a direct session only: under a relayed one it goes on, and a punched session replaces the
  // relayed one (session-manager.ts), while records are read on the slow schedule (messages flow meanwhile).
  const hasDirectSession = (peer: Buffer): boolean =>
    isConnected(peer) && hooks.sessions.sessionOf(peer)?.path !== 'relayed';
  // Created before the rendezvous service it feeds; onChange only fires after start(), once both exist.
  const introducers: IntroducerKeeper = new IntroducerKeeper({
    ...common,
    onChange: () => rendezvous.endpointsChanged(),
  });
  const view = () => publicView((sinceMs) => opts.dht.externalReports(sinceMs), opts.localEndpoints());
  const natMapping = (): NatMapping => view().mapping;
  const hasPublicIpv6 = (): boolean => opts.localEndpoints().some((e) => isPublicIpv6(e.host));
  const rendezvous = new RendezvousService({
    ...common,
    localEndpoints: () => {
      const observed = introducers.observedEndpoint();
      return observed === undefined ? opts.localEndpoints() : [observed, ...opts.localEndpoints()];
    },
    introducers: () => introducers.introducers(),
    natMapping,
    isConnected,
    hasDirectSession,
    publicEndpoint: () => view().endpoint,
  });
  // Created before the coordinator its notes feed; notes only come after start().
  const punch: PunchService = new PunchService({
    ...common,
    // Where the friend should send: as introducers see us, else as the DHT's nodes do (no introducer around).
    observedEndpoint: () => introducers.observedEndpoint() ?? view().endpoint,
    isConnected: hasDirectSession,
    dial: (peer, endpoints) => hooks.sessions.addCandidates(peer, endpoints),
    onNoteAccepted: (peer) => {
      rendezvous.noteAlive(peer);
      coordinator.onNote(peer);
    },
  });
  const birthday =
    opts.birthday === undefined
      ? undefined
      : new BirthdayPuncher({
          transport: opts.birthday.transport,
          openSocket: opts.birthday.openSocket,
          clock: opts.clock,
          random: opts.random,
          logger: opts.logger,
          onPath: (peer, remote) => hooks.sessions.addCandidates(peer, [remote]),
          isConnected: hasDirectSession,
        });
  const coordinator = new PunchCoordinator({
    rendezvous,
    dht: opts.dht,
    clock: opts.clock,
    logger: opts.logger,
    natMapping,
    hasPublicIpv6,
    isConnected: hasDirectSession,
    dial: (peer, endpoints) => hooks.sessions.addCandidates(peer, endpoints),
    friendForward: (peer) => hooks.friendForward?.(peer),
    isRelayed: (peer) => hooks.sessions.sessionOf(peer)?.path === 'relayed',
    ...(hooks.noteOverRelay === undefined ? {} : { noteOverRelay: hooks.noteOverRelay }),
    introducerPunch: (peer, record) => {
      punch.punch(peer, record).catch((error) => opts.logger.warn({ error: String(error) }, 'punch failed'));
    },
    ...(birthday === undefined
      ? {}
      : {
          birthday: (peer, role) => {
            if (role.role === 'prober') birthday.probe(peer, role.host);
            else birthday.listen(peer, role.target);
          },
        }),
  });
  rendezvous.onRecord((peer, record, info) => {
    hooks.onRecord(
      peer,
      record.endpoints.map((e) => e.address),
      record.timestampMs,
    );
    coordinator.onRecord(peer, record, info);
  });
  const mailbox = new OfflineMailbox({
    ...common,
    rendezvous,
    onMessages: (peer, messages) => hooks.onOfflineMessages(peer, messages),
    onStateChange: (peer, ids, state) => hooks.onOfflineState(peer, ids, state),
  });
  // Created before the beacon whose dial-backs it answers; answers only start with the services.
  const answers: RequestAnswers = new RequestAnswers({
    ...common,
    port: () => opts.utp.localAddress().port,
    isUnacknowledged: (peer) => hooks.needsAnnouncing?.(peer) ?? true,
    onAnswer: (peer, endpoints) => {
      hooks.sessions.addCandidates(peer, endpoints);
      hooks.onRequestAnswered?.(peer);
    },
  });
  const beacon = new RequestBeacon({
    ...common,
    port: () => opts.utp.localAddress().port,
    localEndpoints: () => opts.localEndpoints(),
    onRequester: (endpoint) => {
      hooks.sessions.connectUnknown(endpoint);
      answers.answer(endpoint);
      hooks.onRequester?.(endpoint);
    },
    ...(hooks.needsAnnouncing === undefined ? {} : { needsAnnouncing: hooks.needsAnnouncing }),
  });
  let moveTimer: { cancel(): void } | undefined;
  let lastPublicHost: string | undefined;
  const reports = (sinceMs: number) => opts.dht.externalReports(sinceMs);
  let published = '';
  let lastChangeRepublishMs = -Infinity;
  const watchForMoves = (): void => {
    // With no friend there is nobody to tell of a move (and the hourly republish covers the records): check rarely.
    const hasFriends = opts.store.contacts.list(['accepted']).length > 0;
    moveTimer = opts.clock.setTimer(hasFriends ? MOVE_CHECK_MS : IDLE_MOVE_CHECK_MS, () => {
      const host = recentPublicHost(reports);
      if (host !== undefined) {
        if (lastPublicHost !== undefined && host !== lastPublicHost) {
          opts.logger.info({ event: 'moved', from: lastPublicHost, to: host }, 'our public address changed');
          hooks.onMoved?.();
        }
        lastPublicHost = host;
      }
      // What friends punch by (our public endpoint, our NAT's mapping) became known or changed: republish.
      // At start the first records often go out before DHT nodes told us either.
      const now = view();
      // Behind a randomising NAT the port is whichever node answered last: only the host counts.
      const port = now.mapping === 'randomises' ? '' : String(now.endpoint?.port ?? '');
      const seen = `${now.endpoint?.host ?? ''}|${port}|${now.mapping}`;
      const nowMs = opts.clock.monotonicMs();
      // A verdict that flaps (a mix of reports) republishes at most every REPUBLISH_ON_CHANGE_MS.
      if (published !== '' && seen !== published && nowMs - lastChangeRepublishMs >= REPUBLISH_ON_CHANGE_MS) {
        lastChangeRepublishMs = nowMs;
        rendezvous.endpointsChanged();
        published = seen;
      } else if (published === '') published = seen;
      watchForMoves();
    });
  };
  const nat: NatTraversal = {
    introducers,
    punch,
    coordinator,
    answers,
    natMapping,
    punchTowards: (peer, reason = 'message') => coordinator.want(peer, reason),
    sessionUp: (peer) => {
      coordinator.sessionUp(peer);
      birthday?.stop(peer);
    },
    // One side of the pair leads the upgrade (both would punch twice): the relayed session's caller (role 0, the
    // lower key), which both sides agree on.
    relayedUp: (peer) => coordinator.relayedUp(peer, relayRole(opts.identity.publicKey, peer) === 0),
    isPathless: (peer) => {
      const record = rendezvous.latestRecord(peer);
      return record !== undefined && planPunch(natMapping(), record, hasPublicIpv6()).isHopeless;
    },
    moved: async (peers) => {
      // A few answers from where we are now, so the records carry our new public address.
      const nodes = opts.dht.answeringNodes(MOVE_PINGS);
      await Promise.all(nodes.map((n) => opts.dht.ping(n.address).catch(() => undefined)));
      // The watch learns the new address afresh (without reporting this move a second time).
      lastPublicHost = undefined;
      for (const peer of peers) rendezvous.noteAlive(peer);
      rendezvous.moved();
      coordinator.moved(opts.store.contacts.list(['accepted']).map((c) => Buffer.from(c.publicKey)));
    },
    start: () => {
      punch.start();
      introducers.start();
      answers.start();
      watchForMoves();
    },
    close: () => {
      moveTimer?.cancel();
      coordinator.close();
      birthday?.close();
      answers.close();
      introducers.close();
      punch.close();
    },
  };
  return { rendezvous, mailbox, beacon, nat };
}
