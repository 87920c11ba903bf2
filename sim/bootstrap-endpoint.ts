/**
 * The real bootstrap server core (src/bootstrap, the `dhtchat bootstrap` command's engine) driven on the
 * simulator: one simulated UDP endpoint, datagrams in through handlePacket, the server's sends decoded from its
 * compact addresses, and its timer (delayed pings, growth, secret rotation) armed on the event scheduler after
 * every call, as the production driver re-arms one real timer. Counts datagrams and bytes each way.
 */
import { BootstrapServer, type BootstrapStatsSnapshot } from '../src/bootstrap/index.ts';
import { nodeIdForHost } from '../src/dht/index.ts';
import { hostFromBytes, portFromBytes, type Timer, type UdpAddress } from '../src/runtime/index.ts';
import type { Internet } from './internet.ts';
import type { SimRandom } from './sim-random.ts';

export interface EndpointTraffic {
  datagramsIn: number;
  bytesIn: number;
  datagramsOut: number;
  bytesOut: number;
}

export class BootstrapEndpoint {
  readonly address: UdpAddress;
  readonly traffic: EndpointTraffic = { datagramsIn: 0, bytesIn: 0, datagramsOut: 0, bytesOut: 0 };
  readonly #server: BootstrapServer;
  readonly #internet: Internet;
  #timer: Timer | undefined;
  #armedDueMs: number | undefined;

  constructor(internet: Internet, host: string, random: SimRandom) {
    this.#internet = internet;
    const transport = internet.createTransport({ host, port: 6881 });
    this.address = transport.localAddress();
    this.#server = new BootstrapServer({
      sockets: [
        {
          family: 4,
          ownId: nodeIdForHost(host, random),
          send: (bytes, length, addr, offset, addrLength) => {
            const ipLength = addrLength === 6 ? 4 : 16;
            const to = {
              host: hostFromBytes(addr, offset, ipLength),
              port: portFromBytes(addr, offset, ipLength),
            };
            this.traffic.datagramsOut++;
            this.traffic.bytesOut += length;
            transport.send(bytes.subarray(0, length), to);
            return true;
          },
        },
      ],
      masterSecret: random.bytes(32),
      randomBytes: (n) => random.bytes(n),
      // Sized for a simulation, not for the Internet's millions (the defaults preallocate for 10 M nodes).
      nodesCapacity: 200_000,
      pingQueueCapacity: 200_000,
      recentCapacity: 200_000,
    });
    transport.onPacket((bytes, from) => {
      this.traffic.datagramsIn++;
      this.traffic.bytesIn += bytes.length;
      this.#server.handlePacket(bytes, from, internet.scheduler.monotonicMs());
      this.#arm();
    });
    this.#arm();
  }

  snapshot(): BootstrapStatsSnapshot {
    return this.#server.snapshot(this.#internet.scheduler.monotonicMs());
  }

  close(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #arm(): void {
    const dueMs = this.#server.nextTimeoutMs();
    // Most packets leave the next deadline where it was: keep the armed timer then.
    if (dueMs === this.#armedDueMs && this.#timer !== undefined) return;
    this.#armedDueMs = dueMs;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (dueMs === undefined) return;
    const scheduler = this.#internet.scheduler;
    this.#timer = scheduler.setTimer(Math.max(0, dueMs - scheduler.monotonicMs()), () => {
      this.#timer = undefined;
      this.#server.handleTimeout(scheduler.monotonicMs());
      this.#arm();
    });
  }
}
