/**
 * The population of a simulated Mainline DHT: real DhtNodes (src/dht, unmodified) on the simulated Internet,
 * each with its own public address, a BEP 42 id for it, and its own random stream forked from the seed.
 *
 * Three kinds of host:
 * - routers: the bootstrap contacts every node joins through (router.bittorrent.com and friends); never leave;
 * - stable hosts (the scenario's own probes: the users whose lookups are measured); never leave;
 * - everyone else: a share of them answer like libtorrent (libtorrent-refusal.ts), and under churn each leaves
 *   silently when its session ends (churn-model.ts) and is replaced at once by a fresh node elsewhere.
 *
 * Nothing here is per-node timers but the nodes' own: a departure is one entry in the scheduler's heap.
 */
import { DhtNode, type DhtNodeOptions, type JoinEvent, nodeIdForHost } from '../src/dht/index.ts';
import type { DatagramTransport, Timer, UdpAddress } from '../src/runtime/index.ts';
import type { ChurnModel } from './churn-model.ts';
import type { Internet } from './internet.ts';
import { type RefusalCounters, refuseDhtchatExtension } from './libtorrent-refusal.ts';
import type { PublicAddresses } from './public-addresses.ts';
import type { SimRandom } from './sim-random.ts';

export type HostRole = 'router' | 'stable' | 'churning';

export interface SimHost {
  readonly index: number;
  readonly role: HostRole;
  readonly node: DhtNode;
  /** The bound endpoint (the node never closes its transport: its owner does). */
  readonly transport: DatagramTransport;
  readonly address: UdpAddress;
  readonly isLibtorrent: boolean;
  readonly joinedAtMs: number;
  /** Position in the live list (swap-remove keeps picking a random live host O(1)). */
  liveIndex: number;
  departure: Timer | undefined;
}

export interface PopulationOptions {
  internet: Internet;
  addresses: PublicAddresses;
  random: SimRandom;
  /** Share of churning hosts that refuse the dhtchat extension like libtorrent. */
  libtorrentShare: number;
  /** Options every DhtNode gets (parameters under test: alpha, timeouts, BEP 42 enforcement). */
  nodeOptions?: Partial<Omit<DhtNodeOptions, 'transport' | 'clock' | 'random' | 'id' | 'bootstrap'>>;
  port?: number;
  /** Every node's join outcomes (joiner.ts), with the host they happened on. */
  onJoinEvent?: (host: SimHost, event: JoinEvent) => void;
}

export interface PopulationCounters {
  spawned: number;
  departed: number;
  refusals: RefusalCounters;
}

export class DhtPopulation {
  readonly routers: SimHost[] = [];
  readonly stable: SimHost[] = [];
  readonly counters: PopulationCounters = { spawned: 0, departed: 0, refusals: { refused: 0 } };
  readonly #options: PopulationOptions;
  readonly #live: SimHost[] = [];
  readonly #routerAddresses: UdpAddress[] = [];
  #churn: ChurnModel | undefined;
  #nextIndex = 0;

  constructor(options: PopulationOptions) {
    this.#options = options;
  }

  /** A bootstrap contact that is not a DhtNode of this population (a bootstrap server): later joins use it. */
  addRouterAddress(address: UdpAddress): void {
    this.#routerAddresses.push(address);
  }

  /** Hosts online now (routers, stable and churning). */
  get liveCount(): number {
    return this.#live.length;
  }

  get routerAddresses(): readonly UdpAddress[] {
    return this.#routerAddresses;
  }

  /**
   * Adds a host and starts its node (joining through the routers); the join runs on the scheduler. wrap sees
   * the node's transport first (a probe's lookup trace).
   */
  spawn(role: HostRole, wrap?: (transport: DatagramTransport) => DatagramTransport): SimHost {
    const { internet, addresses, random } = this.#options;
    const index = this.#nextIndex++;
    const host = addresses.next();
    const nodeRandom = random.fork(`node/${index}`);
    const isLibtorrent = role === 'churning' && nodeRandom.chance(this.#options.libtorrentShare);
    const bound = internet.createTransport({ host, port: this.#options.port ?? 6881 });
    const refusing = isLibtorrent ? refuseDhtchatExtension(bound, this.counters.refusals) : bound;
    const transport = wrap === undefined ? refusing : wrap(refusing);
    const node = new DhtNode({
      ...this.#options.nodeOptions,
      transport,
      clock: internet.scheduler,
      random: nodeRandom,
      id: nodeIdForHost(host, nodeRandom),
      bootstrap: [...this.#routerAddresses],
      onJoinEvent: (event) => this.#options.onJoinEvent?.(simHost, event),
    });
    const simHost: SimHost = {
      index,
      role,
      node,
      transport: bound,
      address: bound.localAddress(),
      isLibtorrent,
      joinedAtMs: internet.scheduler.monotonicMs(),
      liveIndex: this.#live.length,
      departure: undefined,
    };
    this.#live.push(simHost);
    this.counters.spawned++;
    if (role === 'router') {
      this.routers.push(simHost);
      this.#routerAddresses.push(simHost.address);
    }
    if (role === 'stable') this.stable.push(simHost);
    if (role === 'churning' && this.#churn !== undefined) this.#scheduleDeparture(simHost, 'session');
    // A join that reaches nobody retries by itself (joiner.ts); the scenario reads the outcome from the table.
    node.start().catch(() => {});
    return simHost;
  }

  /**
   * Sets the churn level from now on: every churning host gets a new departure time, drawn as the residual of a
   * session at the new rate (the population is then stationary at once), and every replacement a full session.
   */
  setChurn(churn: ChurnModel): void {
    this.#churn = churn;
    for (const host of this.#live) {
      if (host.role !== 'churning') continue;
      host.departure?.cancel();
      host.departure = undefined;
      this.#scheduleDeparture(host, 'residual');
    }
  }

  /** A live host chosen uniformly (from the given random stream). */
  pickLive(random: SimRandom): SimHost {
    return this.#live[random.int(this.#live.length)]!;
  }

  /** Every live host (a copy). */
  liveHosts(): SimHost[] {
    return [...this.#live];
  }

  /** Closes every node (the end of a run). */
  closeAll(): void {
    for (const host of this.#live) {
      host.departure?.cancel();
      host.node.close();
      host.transport.close();
    }
    this.#live.length = 0;
  }

  #scheduleDeparture(host: SimHost, kind: 'session' | 'residual'): void {
    const churn = this.#churn;
    if (churn === undefined || !churn.isActive) return;
    const random = this.#options.random.fork(`churn/${host.index}/${churn.level}`);
    const delayMs = kind === 'session' ? churn.sessionMs(random) : churn.residualMs(random);
    host.departure = this.#options.internet.scheduler.setTimer(delayMs, () => this.#depart(host));
  }

  #depart(host: SimHost): void {
    host.departure = undefined;
    host.node.close();
    host.transport.close();
    this.#options.internet.forgetHost(host.address.host);
    const last = this.#live.pop()!;
    if (last !== host) {
      this.#live[host.liveIndex] = last;
      last.liveIndex = host.liveIndex;
    }
    this.counters.departed++;
    this.spawn('churning');
  }
}
