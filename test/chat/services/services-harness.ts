/**
 * Shared setup for the chat services tests: a ~10-node in-memory DHT (test/dht/dht-node-harness.ts) on a
 * ManualClock, and users that each have an identity, a real ChatStore in a temp dir and their own DhtNode in
 * that network. A user can go away (node and services closed, store kept) and come back on a new address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, type Identity } from '../../../src/chat/index.ts';
import { OfflineMailbox } from '../../../src/chat/offline-mailbox.ts';
import { RendezvousService } from '../../../src/chat/rendezvous-service.ts';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import { SeededRandom, type UdpAddress } from '../../../src/runtime/index.ts';
import { createSimNet, type SimNet, type SimNode } from '../../dht/dht-node-harness.ts';

export interface User {
  readonly name: string;
  readonly identity: Identity;
  readonly pk: Buffer;
  readonly store: ChatStore;
  readonly random: SeededRandom;
  sim: SimNode;
  rendezvous: RendezvousService;
  mailbox: OfflineMailbox;
  readonly events: { kind: string; ids: string[] }[];
}

export class ServicesWorld {
  readonly net: SimNet;
  readonly users: User[] = [];
  readonly #dirs: string[] = [];
  #hostCounter = 100;

  private constructor(net: SimNet) {
    this.net = net;
  }

  static async create(seed: string, size = 10): Promise<ServicesWorld> {
    return new ServicesWorld(await createSimNet(seed, size));
  }

  /** A user with its store, on a fresh address of the network, DHT node started (services not started). */
  async addUser(name: string): Promise<User> {
    const random = new SeededRandom(`${this.net.seed}/${name}`);
    const identity = generateIdentity(random);
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-services-'));
    this.#dirs.push(dir);
    const store = ChatStore.open({
      path: join(dir, 'chat.sqlite'),
      ownPublicKey: identity.publicKey,
      clock: this.net.clock,
      random,
      lockWaitMs: 50,
    });
    const user = { name, identity, pk: identity.publicKey, store, random, events: [] } as unknown as User;
    await this.bringOnline(user);
    this.users.push(user);
    return user;
  }

  /** A new DhtNode for the user (a new address, as after moving networks) and fresh services on its store. */
  async bringOnline(user: User): Promise<void> {
    const host = `10.1.0.${this.#hostCounter++}`;
    const sim = this.net.add({ host, bootstrap: [this.net.nodes[0]?.address as UdpAddress] });
    await this.net.run(sim.node.start());
    await this.net.run(sim.node.findNode(sim.node.id).catch(() => []));
    user.sim = sim;
    const common = {
      identity: user.identity,
      store: user.store,
      dht: sim.node,
      clock: this.net.clock,
      random: user.random,
    };
    user.rendezvous = new RendezvousService({ ...common, localEndpoints: () => [sim.address] });
    user.mailbox = new OfflineMailbox({
      ...common,
      rendezvous: user.rendezvous,
      onMessages: (_pk, messages) =>
        user.events.push({ kind: 'messages', ids: messages.map((m) => m.id.toString('hex')) }),
      onStateChange: (_pk, ids, state) =>
        user.events.push({ kind: state, ids: ids.map((id) => id.toString('hex')) }),
    });
  }

  /** Closes the user's services and DHT node (the store stays open: it is the user's disk). */
  goAway(user: User): void {
    user.mailbox.close();
    user.rendezvous.close();
    user.sim.node.close();
  }

  befriend(a: User, b: User): void {
    a.store.contacts.upsert(b.pk, 'accepted', b.name);
    b.store.contacts.upsert(a.pk, 'accepted', a.name);
  }

  close(): void {
    for (const user of this.users) {
      user.mailbox.close();
      user.rendezvous.close();
      user.store.close();
    }
    this.net.close();
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}
