/**
 * ChatNodes on a MemoryNetwork under a ManualClock (the DHT tests' SimNet: it owns the clock and the run/settle
 * helpers that interleave virtual time with the event loop). Each user is a chat host (src/chat/chat-host.ts, as
 * the daemon's) on one memory UDP port: a DatagramDemux between an optional DhtNode and a UtpEndpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatHost, type ChatHostOptions, createChatHost } from '../../../src/chat/chat-host.ts';
import type { ChatNode } from '../../../src/chat/chat-node.ts';
import { type Identity, identityFromSeed } from '../../../src/chat/identity.ts';
import { hourEpoch } from '../../../src/chat/epoch.ts';
import { type RequestStamp, solveStamp } from '../../../src/chat/request-stamp.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import type { DhtNode } from '../../../src/dht/index.ts';
import type { DatagramDemux, UtpEndpoint } from '../../../src/net/index.ts';
import { SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import { SimNet } from '../../dht/dht-node-harness.ts';

/** The stamp work in-process users ask and do (the daemon's is REQUEST_STAMP_BITS). */
export const TEST_STAMP_BITS = 4;

/** What a test may set of a user's chat host: the ChatNode's options (the harness wires the rest). */
export type UserOptions = Partial<
  Omit<ChatHostOptions, 'transport' | 'store' | 'identity' | 'clock' | 'random' | 'dht' | 'openSideSocket'>
>;

export interface ChatUser {
  readonly label: string;
  readonly identity: Identity;
  readonly address: UdpAddress;
  host: ChatHost;
  node: ChatNode;
  store: ChatStore;
  utp: UtpEndpoint;
  dht: DhtNode | undefined;
  demux: DatagramDemux;
}

export class ChatSim {
  readonly sim: SimNet;
  readonly dir = mkdtempSync(join(tmpdir(), 'dhtchat-chat-'));
  readonly users: ChatUser[] = [];
  #counter = 0;
  dhtBootstrap: UdpAddress | undefined;

  constructor(seed: string) {
    this.sim = new SimNet(seed);
  }

  get clock() {
    return this.sim.clock;
  }

  /** A small DHT of `size` plain nodes (10.9.0.x) that chat users bootstrap from. */
  async startDht(size: number): Promise<void> {
    const first = this.sim.add({ host: '10.9.0.1' });
    for (let i = 1; i < size; i++) this.sim.add({ host: `10.9.0.${i + 1}`, bootstrap: [first.address] });
    await this.sim.startAll();
    this.dhtBootstrap = first.address;
  }

  user(label: string, seedByte: number, extra: UserOptions = {}): ChatUser {
    const identity = identityFromSeed(Buffer.alloc(32, seedByte));
    const address = { host: `10.1.0.${seedByte}`, port: 7000 };
    const parts = this.#wire(label, identity, address, extra);
    const user: ChatUser = { label, identity, address, ...parts };
    this.users.push(user);
    return user;
  }

  /** Closes everything of a user (as a killed daemon: nothing is said to the peers) and starts again. */
  async restart(user: ChatUser, extra: UserOptions = {}): Promise<void> {
    this.stop(user);
    Object.assign(user, this.#wire(user.label, user.identity, user.address, extra));
  }

  stop(user: ChatUser): void {
    user.host.drop();
  }

  async startAll(): Promise<void> {
    for (const u of this.users) await this.startUser(u);
    await this.sim.settle(50);
  }

  /** Joins the user's DHT node (when there is a DHT), then starts the chat node. */
  async startUser(user: ChatUser): Promise<void> {
    await this.sim.run(user.host.join());
    await user.host.start();
  }

  /** Steps virtual time until cond() holds (or throws after maxMs). Returns the virtual ms it took. */
  async until(cond: () => boolean, maxMs = 60_000, stepMs = 5): Promise<number> {
    const start = this.clock.monotonicMs();
    for (let t = 0; t <= maxMs; t += stepMs) {
      if (cond()) return this.clock.monotonicMs() - start;
      await this.sim.settle(stepMs, stepMs);
    }
    throw new Error(`condition not met within ${maxMs} ms of virtual time (seed ${this.sim.seed})`);
  }

  close(): void {
    for (const u of this.users) {
      try {
        this.stop(u);
      } catch {
        // already stopped
      }
    }
    this.sim.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  #wire(
    label: string,
    identity: Identity,
    address: UdpAddress,
    extra: UserOptions,
  ): Omit<ChatUser, 'label' | 'identity' | 'address'> {
    const clock = this.clock;
    const random = new SeededRandom(`${this.sim.seed}/${label}/${this.#counter++}`);
    const store = ChatStore.open({
      path: join(this.dir, `${label}.sqlite`),
      ownPublicKey: identity.publicKey,
      clock,
      random,
      // No fsync per commit: these tests stop nodes in-process (the OS keeps every write); store crash tests
      // cover FULL durability.
      synchronous: 'NORMAL',
    });
    const host = createChatHost({
      transport: this.sim.network.createTransport(address),
      store,
      identity,
      clock,
      random,
      // A fresh DHT node at every (re)start, as before the routing table was kept.
      dht:
        this.dhtBootstrap === undefined
          ? false
          : { allowPrivate: true, bootstrap: [this.dhtBootstrap], isRoutingTableKept: false },
      localEndpoints: () => [address],
      name: label,
      // Friend-request stamps at a few µs instead of ~1 s of real CPU each: virtual time does not cover CPU.
      // Tests about stamps set their own (request-dos.test.ts uses the product's where it matters).
      requestStampBits: TEST_STAMP_BITS,
      ...extra,
    });
    return { host, node: host.chat, store, utp: host.utp, dht: host.dht, demux: host.demux };
  }
}

/** Alice adds Bob with an endpoint hint, Bob accepts: both are friends with a session up. */
export async function befriend(sim: ChatSim, a: ChatUser, b: ChatUser): Promise<void> {
  await a.node.addFriend(b.node.code, {
    name: b.label,
    message: `hi from ${a.label}`,
    endpoints: [b.address],
  });
  await sim.until(() => b.node.requests().some((r) => r.code === a.node.code));
  await b.node.accept(a.node.code);
  await sim.until(() => a.node.isConnected(b.node.code) && b.node.isConnected(a.node.code));
}

/** Alice (seed byte 1) and Bob (2) started on the sim and made friends (befriend): the usual opening scene. */
export async function startFriends(sim: ChatSim): Promise<{ alice: ChatUser; bob: ChatUser }> {
  const alice = sim.user('alice', 1);
  const bob = sim.user('bob', 2);
  await sim.startAll();
  await befriend(sim, alice, bob);
  return { alice, bob };
}

/**
 * The admin creates a group and invites the others, who accept one by one; returns once everyone lists every
 * member (and, with `isOnline`, sees every other member online: their sessions are up).
 */
export async function formGroup(
  sim: ChatSim,
  admin: ChatUser,
  others: ChatUser[],
  opts: { name?: string; isOnline?: boolean } = {},
): Promise<string> {
  const group = admin.node.groups.create(opts.name ?? 'club').id;
  for (const other of others) {
    admin.node.groups.invite(group, other.label);
    await sim.until(() => other.node.groups.invites().some((i) => i.group === group), 30_000);
    other.node.groups.accept(group);
    await sim.until(
      () => other.node.groups.list().some((g) => g.id === group && g.state === 'member'),
      30_000,
    );
  }
  const everyone = [admin, ...others];
  await sim.until(
    () =>
      everyone.every((u) => {
        const members = u.node.groups.members(group);
        return (
          members.length === everyone.length && (opts.isOnline !== true || members.every((m) => m.isOnline))
        );
      }),
    30_000,
  );
  return group;
}

/** A stamp for a request from requesterPk to recipientPk in the hour of nowMs, at `bits` of work. */
export async function testStamp(
  recipientPk: Buffer,
  requesterPk: Buffer,
  nowMs: number,
  bits = TEST_STAMP_BITS,
): Promise<RequestStamp> {
  const stamp = await solveStamp({ recipientPk, requesterPk }, hourEpoch(nowMs), {
    bits,
    startNonce: Buffer.alloc(8),
    yieldNow: async () => {},
  });
  if (stamp === undefined) throw new Error('unreachable: the solve was not cancelled');
  return stamp;
}
