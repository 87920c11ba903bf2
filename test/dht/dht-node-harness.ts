/**
 * Many DhtNodes on a MemoryNetwork under a ManualClock, for the dht-node*.test.ts files. Virtual time moves
 * only in run()/settle(), in small steps with the microtask queue drained between them, so lookups (promises)
 * and packet delivery (clock timers) interleave as on a real network, reproducibly from the seed.
 * Every transport is wrapped to record the largest packet sent (BEP 32: ≤ 1024 bytes).
 */
import { DhtNode, type DhtNodeOptions, decodeKrpc, encodeKrpc } from '../../src/dht/index.ts';
import {
  type DatagramTransport,
  ManualClock,
  nullLogger,
  SeededRandom,
  type UdpAddress,
} from '../../src/runtime/index.ts';
import { MemoryNetwork } from '../../sim/memory-network.ts';

export interface SimNode {
  node: DhtNode;
  address: UdpAddress;
  address6?: UdpAddress;
  transport: DatagramTransport;
}

export interface AddNodeOptions extends Partial<Omit<DhtNodeOptions, 'transport' | 'transport6' | 'clock'>> {
  host: string;
  host6?: string;
  port?: number;
}

const STEP_MS = 5;

export class SimNet {
  readonly seed: string;
  readonly clock = new ManualClock();
  readonly network: MemoryNetwork;
  readonly nodes: SimNode[] = [];
  maxPacketBytes = 0;
  #counter = 0;

  constructor(seed: string, link: { latencyMs?: number; lossRate?: number } = {}) {
    this.seed = seed;
    this.network = new MemoryNetwork(this.clock, new SeededRandom(`${seed}/net`), { latencyMs: 5, ...link });
  }

  /**
   * A raw endpoint (for sending hand-made packets), recording what it receives. With answerPings it answers
   * every ping (so nodes treat its address as verified) and does not record them.
   */
  raw(
    address: UdpAddress,
    opts: { answerPings?: boolean } = {},
  ): { transport: DatagramTransport; received: Array<{ bytes: Buffer; from: UdpAddress }> } {
    const transport = this.network.createTransport(address);
    const received: Array<{ bytes: Buffer; from: UdpAddress }> = [];
    transport.onPacket((bytes, from) => {
      const d = opts.answerPings === true ? decodeKrpc(bytes) : undefined;
      if (d?.ok && d.message.kind === 'query' && d.message.method === 'ping') {
        transport.send(
          encodeKrpc({ kind: 'response', tid: d.message.tid, id: Buffer.alloc(20, 0x77) }),
          from,
        );
        return;
      }
      received.push({ bytes, from });
    });
    return { transport, received };
  }

  add(opts: AddNodeOptions): SimNode {
    const { host, host6, port, ...rest } = opts;
    const transport = this.#recording(this.network.createTransport({ host, port: port ?? 6881 }));
    const transport6 =
      host6 === undefined
        ? undefined
        : this.#recording(this.network.createTransport({ host: host6, port: port ?? 6881 }));
    const node = new DhtNode({
      transport,
      ...(transport6 === undefined ? {} : { transport6 }),
      clock: this.clock,
      random: new SeededRandom(`${this.seed}/${this.#counter++}`),
      logger: nullLogger,
      allowPrivate: true,
      ...rest,
    });
    const sim: SimNode = {
      node,
      address: transport.localAddress(),
      transport,
      ...(transport6 === undefined ? {} : { address6: transport6.localAddress() }),
    };
    this.nodes.push(sim);
    return sim;
  }

  /** Runs virtual time until p settles (or maxMs of virtual time passed: then it throws). */
  async run<T>(p: Promise<T>, maxMs = 120_000): Promise<T> {
    let isDone = false;
    p.then(
      () => {
        isDone = true;
      },
      () => {
        isDone = true;
      },
    );
    await flush();
    for (let t = 0; t < maxMs && !isDone; t += STEP_MS) {
      this.clock.advance(STEP_MS);
      await flush();
    }
    if (!isDone) throw new Error(`did not settle within ${maxMs} ms of virtual time (seed ${this.seed})`);
    return p;
  }

  /** Lets ms of virtual time pass (in steps of stepMs: large steps are fast but slow every round trip down). */
  async settle(ms: number, stepMs = STEP_MS): Promise<void> {
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(stepMs);
      await flush();
    }
  }

  /**
   * Runs virtual time until isDone() holds; returns the virtual ms that took. Throws after maxMs. Steps of stepMs
   * (coarser steps are faster but delay every packet to the next step).
   */
  async until(isDone: () => boolean, maxMs: number, stepMs = STEP_MS): Promise<number> {
    const startMs = this.clock.monotonicMs();
    await flush();
    while (!isDone()) {
      if (this.clock.monotonicMs() - startMs >= maxMs) {
        throw new Error(`condition not met within ${maxMs} ms of virtual time (seed ${this.seed})`);
      }
      this.clock.advance(stepMs);
      await flush();
    }
    return this.clock.monotonicMs() - startMs;
  }

  /** Starts every node not started yet, a few at a time, each bootstrapping from its own contacts. */
  async startAll(concurrency = 8): Promise<void> {
    for (let i = 0; i < this.nodes.length; i += concurrency) {
      await this.run(Promise.all(this.nodes.slice(i, i + concurrency).map((n) => n.node.start())));
    }
  }

  close(): void {
    for (const n of this.nodes) n.node.close();
  }

  #recording(transport: DatagramTransport): DatagramTransport {
    return {
      send: (bytes, to) => {
        this.maxPacketBytes = Math.max(this.maxPacketBytes, bytes.length);
        transport.send(bytes, to);
      },
      onPacket: (h) => transport.onPacket(h),
      localAddress: () => transport.localAddress(),
      close: () => transport.close(),
    };
  }
}

async function flush(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A small network: node 0 is the bootstrap contact of all others; everyone started. */
export async function createSimNet(
  seed: string,
  size: number,
  nodeOptions: (i: number) => AddNodeOptions = (i) => ({ host: `10.0.${(i + 1) >> 8}.${(i + 1) & 255}` }),
): Promise<SimNet> {
  const net = new SimNet(seed);
  const first = net.add(nodeOptions(0));
  for (let i = 1; i < size; i++) {
    const opts = nodeOptions(i);
    net.add({ bootstrap: [first.address, ...(first.address6 ? [first.address6] : [])], ...opts });
  }
  await net.startAll();
  // Early joiners met only the bootstrap node: one more self-lookup each evens the tables out.
  await net.run(Promise.all(net.nodes.map((n) => n.node.findNode(n.node.id).catch(() => []))));
  return net;
}
