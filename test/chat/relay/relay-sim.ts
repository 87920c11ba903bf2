/**
 * Users behind simulated NATs and volunteer relays on a MemoryNetwork under a ManualClock, around a small DHT of
 * plain nodes (SimNet). What a NAT does here is what matters for relays:
 *   - `symmetric`: a new external port for every destination, and only that destination gets in through it
 *     (Linux `masquerade fully-random`); nobody can reach the user unasked, and punching is hopeless;
 *   - `open`: one external port, anyone gets in (a port mapping, or a NAT a punch has opened): a plain dial works.
 * A NAT can be switched from one to the other mid-test (a path that opens later). The real thing, with Linux NATs
 * in network namespaces, is test/lab.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatHost, createChatHost } from '../../../src/chat/chat-host.ts';
import type { ChatNode } from '../../../src/chat/chat-node.ts';
import { type Identity, identityFromSeed } from '../../../src/chat/identity.ts';
import { RelayHost } from '../../../src/chat/relay/relay-host.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import type { DhtNode } from '../../../src/dht/index.ts';
import type { DatagramDemux, UtpEndpoint } from '../../../src/net/index.ts';
import {
  addressKey,
  type DatagramTransport,
  jsonLinesLogger,
  nullLogger,
  type PacketHandler,
  SeededRandom,
  type UdpAddress,
} from '../../../src/runtime/index.ts';
import { SimNet } from '../../dht/dht-node-harness.ts';

export type SimNatKind = 'symmetric' | 'open';
const OPEN_PORT = 7000;

/** A NAT in front of one user: a DatagramTransport for the user's side, bound on the network at publicHost. */
export class SimNat implements DatagramTransport {
  readonly publicHost: string;
  kind: SimNatKind;
  dropped = 0;
  readonly #sim: SimNet;
  readonly #internal: UdpAddress;
  /** symmetric: one external transport per destination. */
  readonly #byDestination = new Map<string, DatagramTransport>();
  #open: DatagramTransport | undefined;
  #handler: PacketHandler = () => {};
  #isClosed = false;

  constructor(sim: SimNet, publicHost: string, internal: UdpAddress, kind: SimNatKind) {
    this.#sim = sim;
    this.publicHost = publicHost;
    this.#internal = internal;
    this.kind = kind;
    if (kind === 'open') this.#openPort();
  }

  /** Where a stranger reaches the user while the NAT is open. */
  get openEndpoint(): UdpAddress {
    return { host: this.publicHost, port: OPEN_PORT };
  }

  /** From now on, one port open to anyone (existing symmetric mappings keep working). */
  open(): void {
    this.kind = 'open';
    this.#openPort();
  }

  send(bytes: Uint8Array, to: UdpAddress): void {
    if (this.#isClosed) return;
    if (this.kind === 'open') {
      this.#openPort().send(bytes, to);
      return;
    }
    const key = addressKey(to);
    let mapping = this.#byDestination.get(key);
    if (mapping === undefined) {
      const created = this.#sim.network.createTransport({ host: this.publicHost, port: 0 });
      created.onPacket((packet, from) => {
        if (addressKey(from) === key) this.#handler(packet, from);
        else this.dropped++;
      });
      this.#byDestination.set(key, created);
      mapping = created;
    }
    mapping.send(bytes, to);
  }

  onPacket(handler: PacketHandler): void {
    this.#handler = handler;
  }

  localAddress(): UdpAddress {
    return this.#internal;
  }

  close(): void {
    this.#isClosed = true;
    for (const t of this.#byDestination.values()) t.close();
    this.#open?.close();
  }

  #openPort(): DatagramTransport {
    if (this.#open === undefined) {
      const transport = this.#sim.network.createTransport({ host: this.publicHost, port: OPEN_PORT });
      transport.onPacket((packet, from) => this.#handler(packet, from));
      this.#open = transport;
    }
    return this.#open;
  }
}

export interface NatUser {
  readonly label: string;
  readonly identity: Identity;
  readonly nat: SimNat;
  readonly host: ChatHost<DhtNode>;
  readonly node: ChatNode;
  readonly store: ChatStore;
  readonly utp: UtpEndpoint;
  readonly dht: DhtNode;
  readonly demux: DatagramDemux;
}

export interface SimRelay {
  readonly address: UdpAddress;
  readonly host: RelayHost;
  /** Kills it as kill -9 would: its socket goes away, nobody is told. */
  kill(): void;
}

export class RelaySim {
  readonly sim: SimNet;
  readonly dir = mkdtempSync(join(tmpdir(), 'dhtchat-relay-sim-'));
  readonly users: NatUser[] = [];
  readonly relays: SimRelay[] = [];
  #bootstrap: UdpAddress | undefined;

  constructor(seed: string) {
    this.sim = new SimNet(seed);
  }

  get clock() {
    return this.sim.clock;
  }

  async startDht(size: number): Promise<void> {
    const first = this.sim.add({ host: '10.9.0.1' });
    for (let i = 1; i < size; i++) this.sim.add({ host: `10.9.0.${i + 1}`, bootstrap: [first.address] });
    await this.sim.startAll();
    this.#bootstrap = first.address;
  }

  /** A volunteer relay (`dhtchat relay`) at host: joins the DHT and announces itself on the relay topic. */
  async addRelay(host: string): Promise<SimRelay> {
    const address = { host, port: 6881 };
    const transport = this.sim.network.createTransport(address);
    let isAnnounced = false;
    const relayHost = new RelayHost({
      transport,
      clock: this.clock,
      random: new SeededRandom(`${this.sim.seed}/relay/${host}`),
      logger: nullLogger,
      bootstrap: this.#bootstrap === undefined ? [] : [this.#bootstrap],
      allowPrivate: true,
      onAnnounced: (result) => {
        isAnnounced ||= result.stored > 0;
      },
    });
    await this.sim.run(relayHost.start());
    // Volunteer relays have been up a while when users look for one.
    await this.sim.until(() => isAnnounced, 30_000);
    const relay: SimRelay = {
      address,
      host: relayHost,
      kill: () => {
        transport.close();
        relayHost.close();
      },
    };
    this.relays.push(relay);
    return relay;
  }

  /** A user behind its own NAT (public address 10.20.0.<n>). */
  user(label: string, seedByte: number, kind: SimNatKind, opts: { requestStampBits?: number } = {}): NatUser {
    const clock = this.clock;
    const identity = identityFromSeed(Buffer.alloc(32, seedByte));
    const random = new SeededRandom(`${this.sim.seed}/${label}`);
    const nat = new SimNat(
      this.sim,
      `10.20.0.${seedByte}`,
      { host: `192.168.${seedByte}.10`, port: 7000 },
      kind,
    );
    const store = ChatStore.open({
      path: join(this.dir, `${label}.sqlite`),
      ownPublicKey: identity.publicKey,
      clock,
      random,
      synchronous: 'NORMAL',
    });
    const host = createChatHost({
      transport: nat,
      store,
      identity,
      clock,
      random,
      dht: {
        allowPrivate: true,
        bootstrap: this.#bootstrap === undefined ? [] : [this.#bootstrap],
        isRoutingTableKept: false,
      },
      localEndpoints: () => [nat.localAddress()],
      name: label,
      allowPrivateRelays: true,
      ...(opts.requestStampBits === undefined ? {} : { requestStampBits: opts.requestStampBits }),
      ...(process.env['DHTCHAT_TEST_DUMP'] === '1'
        ? {
            logger: jsonLinesLogger(
              (line) => process.stderr.write(`${label} ${line}`),
              'debug',
              () => clock.wallMs(),
            ),
          }
        : {}),
    });
    const { chat: node, utp, dht, demux } = host;
    const user: NatUser = { label, identity, nat, host, node, store, utp, dht, demux };
    this.users.push(user);
    return user;
  }

  /** Friends already (the request flow is not the subject here). */
  befriend(a: NatUser, b: NatUser): void {
    a.store.contacts.upsert(b.identity.publicKey, 'accepted', b.label);
    b.store.contacts.upsert(a.identity.publicKey, 'accepted', a.label);
  }

  /** Starts users together: their DHT joins, then their chat nodes (services start with the join). */
  async start(...users: NatUser[]): Promise<void> {
    await this.sim.run(Promise.all(users.map((u) => u.host.join())));
    for (const u of users) await u.host.start();
  }

  until(cond: () => boolean, maxMs: number, stepMs = 20): Promise<number> {
    return this.sim.until(cond, maxMs, stepMs);
  }

  async close(): Promise<void> {
    for (const u of this.users) await u.host.close();
    for (const r of this.relays) r.kill();
    this.sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
