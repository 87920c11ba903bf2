/**
 * The DHT services a ChatNode runs when it has a DhtNode (DHT-SERVICES' classes), built and wired to the
 * session layer's callbacks: record endpoints become dial candidates, offline messages and their state changes
 * become ChatNode events, requesters found on our beacon topic are dialled back with XX.
 */
import type { DhtNode } from '../../dht/index.ts';
import type { Clock, Logger, Random, UdpAddress } from '../../runtime/index.ts';
import type { UtpEndpoint } from '../../net/index.ts';
import type { Identity } from '../identity.ts';
import { OfflineMailbox } from '../offline-mailbox.ts';
import { RendezvousService } from '../rendezvous-service.ts';
import { RequestBeacon } from '../request-beacon.ts';
import type { ChatStore } from '../store/chat-store.ts';
import type { MessageState } from '../store/message-state.ts';
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
  onRequester(endpoint: UdpAddress): void;
}

export interface DhtServices {
  rendezvous: RendezvousService;
  mailbox: OfflineMailbox;
  beacon: RequestBeacon;
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
  const rendezvous = new RendezvousService({ ...common, localEndpoints: () => opts.localEndpoints() });
  rendezvous.onRecord((peer, record) => {
    hooks.onRecord(
      peer,
      record.endpoints.map((e) => e.address),
      record.timestampMs,
    );
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
    onRequester: (endpoint) => hooks.onRequester(endpoint),
  });
  return { rendezvous, mailbox, beacon };
}
