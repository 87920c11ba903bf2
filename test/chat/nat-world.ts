/**
 * ChatNodes behind simulated NATs (sim/nat.ts) on an in-memory Internet under a ManualClock: the deterministic
 * twin of the network-namespace lab (test/lab). By default the Internet's DHT nodes do not speak the dhtchat
 * extension (like libtorrent, the real DHT): nobody forwards punch notes, so whatever connects two users is the
 * record-coordinated punching between the two of them.
 *
 *            DHT nodes 10.9.0.1-12 (the Internet)
 *              │
 *   ┌──────────┼──────────────┐
 *   NAT 10.200.1.1           NAT 10.200.2.1          (one per user unless shared; kinds from NAT_KINDS)
 *   alice 192.168.1.2:7000   bob 192.168.2.2:7000
 *
 * A user's socket is a RoamingTransport, so moveTo() puts it behind another NAT (issue 11 §9) without
 * restarting the daemon; the ChatNode is told (networkChanged) as the daemon would be by its interface watch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatHost, createChatHost } from '../../src/chat/chat-host.ts';
import type { ChatNode } from '../../src/chat/chat-node.ts';
import { identityFromSeed } from '../../src/chat/identity.ts';
import { ChatStore } from '../../src/chat/store/chat-store.ts';
import { DhtNode } from '../../src/dht/index.ts';
import {
  type DatagramTransport,
  type Logger,
  nullLogger,
  SeededRandom,
  type UdpAddress,
} from '../../src/runtime/index.ts';
import { type NatBehaviour, type PacketNetwork, SimNat } from '../../sim/nat.ts';
import { RoamingTransport } from '../../sim/roaming-transport.ts';
import { SimNet } from '../dht/dht-node-harness.ts';

export const CHAT_PORT = 7000;

export interface NatUser {
  readonly name: string;
  readonly host: ChatHost<DhtNode>;
  readonly node: ChatNode;
  readonly dht: DhtNode;
  readonly store: ChatStore;
  readonly socket: RoamingTransport;
  readonly publicKey: Buffer;
  nat: SimNat | undefined;
  inside: UdpAddress;
  close(): void;
}

export interface WorldOptions {
  /** DHT nodes on the Internet (default 12). */
  dhtNodes?: number;
  /** Let the Internet's nodes forward punch notes (today's dhtchat introducers); default false (libtorrent). */
  hasIntroducers?: boolean;
}

export class NatWorld {
  readonly sim: SimNet;
  readonly users: NatUser[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), 'dhtchat-nat-world-'));
  #natCount = 0;
  #bootstrap: UdpAddress[] = [];

  private constructor(seed: string) {
    this.sim = new SimNet(seed, { latencyMs: 15 });
  }

  static async create(seed: string, opts: WorldOptions = {}): Promise<NatWorld> {
    const world = new NatWorld(seed);
    const count = opts.dhtNodes ?? 12;
    const first = { host: '10.9.0.1', port: 6881 };
    for (let i = 0; i < count; i++) {
      const address = { host: `10.9.0.${i + 1}`, port: 6881 };
      const raw = world.sim.network.createTransport(address);
      const transport = opts.hasIntroducers === true ? raw : withoutNoteForwards(raw);
      const node = new DhtNode({
        transport,
        clock: world.sim.clock,
        random: new SeededRandom(`${seed}/dht${i}`),
        logger: nullLogger,
        allowPrivate: true,
        ...(i === 0 ? {} : { bootstrap: [first] }),
      });
      world.sim.nodes.push({ node, address, transport });
    }
    await world.sim.startAll();
    await world.sim.run(Promise.all(world.sim.nodes.map((n) => n.node.findNode(n.node.id).catch(() => []))));
    world.#bootstrap = [first];
    return world;
  }

  /** A router of this kind on the Internet (public host 10.200.n.1). */
  nat(behaviour: NatBehaviour): SimNat {
    const n = ++this.#natCount;
    return new SimNat({
      outside: this.sim.network,
      publicHost: `10.200.${n}.1`,
      clock: this.sim.clock,
      random: new SeededRandom(`${this.sim.seed}/nat${n}`),
      behaviour,
    });
  }

  /** Binds a socket for a user behind `nat` (or on the Internet itself: a public host) at a fresh inside host. */
  #bind(nat: SimNat | undefined, hostIndex: number): { network: PacketNetwork; inside: UdpAddress } {
    if (nat === undefined)
      return { network: this.sim.network, inside: { host: `10.8.0.${hostIndex}`, port: CHAT_PORT } };
    const net = nat.publicHost.split('.')[2];
    return { network: nat, inside: { host: `192.168.${net}.${hostIndex}`, port: CHAT_PORT } };
  }

  /**
   * A user behind nat (undefined: a public host), not started. With hasBirthday (default true) its chat socket
   * is wrapped in a PunchTransport and it may open extra sockets (the birthday technique), as the daemon does;
   * canIntroduce false: its DHT node ignores dhtchat_forward, as a libtorrent node would.
   */
  async addUser(
    name: string,
    nat: SimNat | undefined,
    opts: {
      hasBirthday?: boolean;
      logger?: Logger;
      canIntroduce?: boolean;
      /** Friend-request proof of work (ChatNodeOptions.requestStampBits): low keeps requests cheap here. */
      requestStampBits?: number;
    } = {},
  ): Promise<NatUser> {
    const index = this.users.length + 2;
    const { network, inside } = this.#bind(nat, index);
    const clock = this.sim.clock;
    const random = new SeededRandom(`${this.sim.seed}/${name}`);
    const identity = identityFromSeed(Buffer.alloc(32, index));
    const socket = new RoamingTransport(network.createTransport(inside));
    const store = ChatStore.open({
      path: join(this.#dir, `${name}.sqlite`),
      ownPublicKey: identity.publicKey,
      clock,
      random,
      synchronous: 'NORMAL',
    });
    const host = createChatHost({
      // A user's own DHT node speaks the extension: on a public host it becomes others' introducer, unless not.
      transport: opts.canIntroduce === false ? withoutNoteForwards(socket) : socket,
      store,
      identity,
      clock,
      random,
      dht: { allowPrivate: true, bootstrap: this.#bootstrap, isRoutingTableKept: false },
      // The birthday technique's extra sockets: on the user's inside host, behind the NAT it is behind now.
      ...(opts.hasBirthday === false
        ? {}
        : {
            openSideSocket: async () =>
              (user.nat ?? this.sim.network).createTransport({ host: user.inside.host, port: 0 }),
          }),
      localEndpoints: () => [user.inside],
      name,
      ...(opts.logger === undefined ? {} : { logger: opts.logger }),
      ...(opts.requestStampBits === undefined ? {} : { requestStampBits: opts.requestStampBits }),
    });
    const user: NatUser = {
      name,
      host,
      publicKey: identity.publicKey,
      node: host.chat,
      dht: host.dht,
      store,
      socket,
      nat,
      inside,
      close: () => host.drop(),
    };
    this.users.push(user);
    return user;
  }

  /** Starts the users' DHT nodes and chat nodes together (both "ready" at the same moment, as in the lab). */
  async start(...users: NatUser[]): Promise<void> {
    await this.sim.run(Promise.all(users.map((u) => u.host.join())));
    for (const u of users) await u.host.start();
  }

  befriend(a: NatUser, b: NatUser): void {
    a.store.contacts.upsert(b.publicKey, 'accepted', b.name);
    b.store.contacts.upsert(a.publicKey, 'accepted', a.name);
  }

  /** Moves the user's socket behind another NAT: a new inside address, the old NAT forgets it. */
  moveTo(user: NatUser, nat: SimNat): void {
    const index = this.users.indexOf(user) + 2;
    const { network, inside } = this.#bind(nat, index);
    user.socket.moveTo(network.createTransport(inside));
    user.nat = nat;
    user.inside = inside;
  }

  /** Runs virtual time until cond holds; returns the ms it took; throws after maxMs. */
  until(cond: () => boolean, maxMs: number, stepMs = 20): Promise<number> {
    return this.sim.until(cond, maxMs, stepMs);
  }

  close(): void {
    for (const u of this.users) u.close();
    this.sim.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** The node ignores dhtchat_forward queries, as libtorrent (203) and other DHTs do: it is never an introducer. */
function withoutNoteForwards(transport: DatagramTransport): DatagramTransport {
  return {
    send: (bytes, to) => transport.send(bytes, to),
    onPacket: (handler) =>
      transport.onPacket((bytes, from) => {
        if (!bytes.includes('dhtchat_forward')) handler(bytes, from);
      }),
    localAddress: () => transport.localAddress(),
    close: () => transport.close(),
  };
}
