/**
 * GET /v1/network: what the daemon knows about its place in the network, for the web client's network panel.
 * Only what the daemon knows today; the shapes have room for more (a `punched` or `relayed` path, a NAT type
 * from a real test) without breaking a client.
 *
 *   { "dht": { "nodes", "nodesV4", "nodesV6", "externalAddress", "udpPort",
 *              "queriesSent", "queriesResent", "queriesReceived", "lookups" },
 *     "nat": { "behaviour", "observedEndpoint", "introducers": ["ip:port", ...] },
 *     "friends": [{ "code", "name", "presence", "path", "remote", "isInitiator" }] }
 *
 * NAT behaviour, as far as it can be told from here: `none` when the address the world sees us at is one of
 * this machine's own; `port-kept` when a NAT rewrites the address but keeps our UDP port (friends can usually
 * punch through); `port-changed` when the port differs too (punching may fail); `unknown` before anyone told us.
 * A friend's path: `direct` while a session is up (dialled or accepted; a hole-punched session is not told apart
 * yet), `dht` without one (messages wait in the DHT). `punched` and `relayed` are reserved.
 */
import { networkInterfaces } from 'node:os';
import type { ChatNode } from '../../chat/index.ts';
import type { DhtNode } from '../../dht/index.ts';
import type { UdpAddress } from '../../runtime/index.ts';

export type NatBehaviour = 'none' | 'port-kept' | 'port-changed' | 'unknown';
/** How we reach a friend (src/chat/session/path.ts): a session's path, else the DHT. */
export type FriendPath = 'direct' | 'punched' | 'mapped' | 'relayed' | 'dht';

export interface NetworkView {
  readonly dht: {
    readonly nodes: number;
    readonly nodesV4: number;
    readonly nodesV6: number;
    readonly externalAddress: string | null;
    readonly udpPort: number;
    /**
     * Since the daemon started: KRPC queries we sent (first tries; every lookup, ping, announce and put is made
     * of them), tries sent again after a timeout, valid queries others sent us, and lookups we ran. What an idle
     * daemon costs the network (bench/idle-daemon.bench.ts divides them per friend and hour).
     */
    readonly queriesSent: number;
    readonly queriesResent: number;
    readonly queriesReceived: number;
    readonly lookups: number;
  };
  readonly nat: {
    readonly behaviour: NatBehaviour;
    readonly observedEndpoint: string | null;
    readonly introducers: string[];
  };
  /** Strangers' sessions held now (handshakes, friend requests) and the most the daemon holds at once. */
  readonly strangers: { readonly active: number; readonly limit: number };
  readonly friends: FriendNetworkView[];
}

export interface FriendNetworkView {
  readonly code: string;
  readonly name: string;
  readonly presence: string;
  readonly path: FriendPath;
  /** The session's remote endpoint while one is up. */
  readonly remote: string | null;
  /** Who dialled the session: true when we did. */
  readonly isInitiator: boolean | null;
}

export interface NetworkSources {
  readonly chat: Pick<ChatNode, 'contacts' | 'sessionInfo' | 'natView' | 'strangerView'>;
  readonly dht: Pick<DhtNode, 'stats' | 'externalAddress'>;
  readonly udpPort: number;
  /** This machine's addresses (default: its network interfaces). */
  readonly ownHosts?: () => readonly string[];
}

export function networkView(sources: NetworkSources): NetworkView {
  const stats = sources.dht.stats();
  const nodesV4 = stats.routingTable[4] ?? 0;
  const nodesV6 = stats.routingTable[6] ?? 0;
  const external = sources.dht.externalAddress();
  const nat = sources.chat.natView();
  const seen = nat.observedEndpoint ?? external;
  const ownHosts = (sources.ownHosts ?? interfaceHosts)();
  return {
    dht: {
      nodes: nodesV4 + nodesV6,
      nodesV4,
      nodesV6,
      externalAddress: external === undefined ? null : addressText(external),
      udpPort: sources.udpPort,
      queriesSent: stats.rpc.sent,
      queriesResent: stats.rpc.resent,
      queriesReceived: sum(stats.queriesIn),
      lookups: sum(stats.lookups),
    },
    nat: {
      behaviour: natBehaviour(seen, sources.udpPort, ownHosts),
      observedEndpoint: nat.observedEndpoint === undefined ? null : addressText(nat.observedEndpoint),
      introducers: nat.introducers.map(addressText),
    },
    strangers: sources.chat.strangerView(),
    friends: sources.chat.contacts().map((contact) => {
      const session = sessionOf(sources.chat, contact.code);
      return {
        code: contact.code,
        name: contact.name,
        presence: contact.presence,
        path: session === undefined ? 'dht' : session.path,
        remote: session === undefined ? null : addressText(session.remote),
        isInitiator: session === undefined ? null : session.isInitiator,
      };
    }),
  };
}

export function natBehaviour(
  seen: UdpAddress | undefined,
  udpPort: number,
  ownHosts: readonly string[],
): NatBehaviour {
  if (seen === undefined) return 'unknown';
  if (ownHosts.includes(seen.host)) return 'none';
  return seen.port === udpPort ? 'port-kept' : 'port-changed';
}

/** The session's details; none for a contact the chat node no longer resolves (removed meanwhile). */
function sessionOf(chat: NetworkSources['chat'], code: string): ReturnType<ChatNode['sessionInfo']> {
  try {
    return chat.sessionInfo(code);
  } catch {
    return undefined;
  }
}

function sum(counts: Readonly<Record<string, number>>): number {
  let total = 0;
  for (const n of Object.values(counts)) total += n;
  return total;
}

function interfaceHosts(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
}

function addressText(address: UdpAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
