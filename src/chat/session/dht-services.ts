/**
 * The DHT services a ChatNode runs when it has a DhtNode (DHT-SERVICES' classes), built and wired to the
 * session layer's callbacks: record endpoints become dial candidates, offline messages and their state changes
 * become ChatNode events, requesters found on our beacon topic are dialled back with XX. The introducer keeper
 * feeds the records (introducers, our endpoint as they see us); a friend's record with introducers makes us ask
 * them for a hole punch (punch-service.ts) while we dial.
 */
import type { DhtNode } from '../../dht/index.ts';
import type { Clock, Logger, Random, UdpAddress } from '../../runtime/index.ts';
import type { UtpEndpoint } from '../../net/index.ts';
import type { Identity } from '../identity.ts';
import { IntroducerKeeper } from '../introducer-keeper.ts';
import { OfflineMailbox } from '../offline-mailbox.ts';
import { PunchService } from '../punch-service.ts';
import { RendezvousService } from '../rendezvous-service.ts';
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
  /** Should our pending request to `peer` still be announced (false once their daemon acknowledged it)? */
  needsAnnouncing?(peer: Buffer): boolean;
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
  start(): void;
  /** Dialling a friend without a session: ask the introducers of its latest record for a hole punch too. */
  punchTowards(peer: Buffer): void;
  close(): void;
}

export function createDhtServices(opts: DhtServicesOptions, hooks: DhtServicesHooks): DhtServices {
  const common = {
    identity: opts.identity,
    store: opts.store,
    dht: opts.dht,
    clock: opts.clock,
    random: opts.random,
    logger: opts.logger,
  };
  const isConnected = (peer: Buffer): boolean => hooks.sessions.sessionOf(peer) !== undefined;
  // Created before the rendezvous service it feeds; onChange only fires after start(), once both exist.
  const introducers: IntroducerKeeper = new IntroducerKeeper({
    ...common,
    onChange: () => rendezvous.endpointsChanged(),
  });
  const rendezvous = new RendezvousService({
    ...common,
    localEndpoints: () => {
      const observed = introducers.observedEndpoint();
      return observed === undefined ? opts.localEndpoints() : [observed, ...opts.localEndpoints()];
    },
    introducers: () => introducers.introducers(),
    isConnected,
  });
  const punch = new PunchService({
    ...common,
    observedEndpoint: () => introducers.observedEndpoint(),
    isConnected,
    dial: (peer, endpoints) => hooks.sessions.addCandidates(peer, endpoints),
  });
  rendezvous.onRecord((peer, record) => {
    hooks.onRecord(
      peer,
      record.endpoints.map((e) => e.address),
      record.timestampMs,
    );
    // The record's endpoints are being dialled now: if the friend is behind a NAT, its introducers can tell it
    // to punch towards us at the same time.
    if (record.introducers.length > 0 && !isConnected(peer)) void punch.punch(peer, record);
  });
  const mailbox = new OfflineMailbox({
    ...common,
    rendezvous,
    onMessages: (peer, messages) => hooks.onOfflineMessages(peer, messages),
    onStateChange: (peer, ids, state) => hooks.onOfflineState(peer, ids, state),
  });
  const beacon = new RequestBeacon({
    ...common,
    port: () => opts.utp.localAddress().port,
    localEndpoints: () => opts.localEndpoints(),
    onRequester: (endpoint) => hooks.sessions.connectUnknown(endpoint),
    ...(hooks.needsAnnouncing === undefined ? {} : { needsAnnouncing: hooks.needsAnnouncing }),
  });
  const nat: NatTraversal = {
    introducers,
    punch,
    punchTowards: (peer) => {
      const record = rendezvous.latestRecord(peer);
      if (record === undefined || isConnected(peer)) return;
      punch.punch(peer, record).catch((error) => opts.logger.warn({ error: String(error) }, 'punch failed'));
    },
    start: () => {
      punch.start();
      introducers.start();
    },
    close: () => {
      introducers.close();
      punch.close();
    },
  };
  return { rendezvous, mailbox, beacon, nat };
}
