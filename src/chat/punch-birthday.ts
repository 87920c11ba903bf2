/**
 * The birthday technique (docs/ARCHITECTURE.md "Birthday punching"), for a friend pair where one NAT keeps one
 * port for all destinations and the other draws a new random port for each (punch-plan.ts decides who is who):
 *
 * - The listener (behind the randomising NAT) opens BIRTHDAY.listenerSockets extra sockets, each sending a
 *   hello to the prober's one public endpoint: its NAT makes that many mappings towards it, on random ports.
 * - The prober (port-keeping NAT) sends BIRTHDAY.probes probes from its chat socket to random ports of the
 *   listener's public host: each opens its own NAT for that host and port.
 * - A probe that lands on one of those mappings reaches a listener socket; the listener acks through it, the ack
 *   passes the prober's NAT (it probed that very port), and both know the pair of ports that works. The
 *   listener routes the friend through that socket (punch-transport.ts) and both dial: the session runs there.
 *   A prober whose NAT lets hellos in (not port-restricted) answers the hello directly: the same end.
 *
 * Odds: with m mappings among the 64,512 ports a NAT draws from and n probes, P(hit) = 1 − (1 − m/64512)^n:
 * 87 % for 256 sockets × 512 probes (64 % for 256 × 256). The two sides' rounds start a few seconds apart (the
 * record polls), so the listener holds its sockets 12 s and the prober spreads its probes over 8 s: the probes
 * fall while the mappings exist. Bounds: ≤ 256 sockets for ≤ 12 s, 4 hellos each (1,024 datagrams of 8 bytes,
 * ~37 KB with headers), ≤ 512 probes (~18 KB) per round; one attempt per friend per role at a time,
 * one listening attempt at once in all (256 file descriptors) and two probing, none sooner than minIntervalMs
 * after the last one to that friend. Punch
 * packets are answered only from the friend's own host (prober) or endpoint (listener); the session that follows
 * is authenticated by Noise like any other.
 *
 *   packet = 0xDC ‖ version 1 ‖ type (1 hello, 2 probe, 3 ack) ‖ 0 ‖ token (4 random bytes; an ack echoes it)
 */
import {
  addressKey,
  type Clock,
  type DatagramTransport,
  type Logger,
  nullLogger,
  type Random,
  type Timer,
  type UdpAddress,
} from '../runtime/index.ts';
import { PUNCH_PACKET_MAGIC, type PunchTransport } from './punch-transport.ts';

export const BIRTHDAY = {
  listenerSockets: 256,
  listenerHelloAtMs: [0, 3000, 6000, 9000],
  listenerHoldMs: 12_000,
  probes: 512,
  probeSpreadMs: 8000,
  probeBatchMs: 125,
  /** Listening attempts at once (each holds up to 256 sockets: file descriptors), and probing ones. */
  maxListens: 1,
  maxProbes: 2,
  minIntervalMs: 8000,
  /** The ports a NAT draws from (Linux without --to-ports: 1024–65535). */
  firstPort: 1024,
  lastPort: 65_535,
} as const;

const PACKET_BYTES = 8;
const VERSION = 1;
const PacketType = { hello: 1, probe: 2, ack: 3 } as const;

export interface BirthdayOptions {
  readonly transport: PunchTransport;
  /** An extra socket on our chat address, on a port the OS picks (undefined when none can be had). */
  openSocket(): Promise<DatagramTransport | undefined>;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger?: Logger;
  /** A working path to the friend was found: dial it there. */
  onPath(peer: Buffer, remote: UdpAddress): void;
  /**
   * A session with the friend is up: a late hit is ignored (routing the friend's endpoint through another
   * socket would take the running session's packets to another NAT mapping, which the friend does not know).
   */
  isConnected(peer: Buffer): boolean;
}

export interface BirthdayCounters {
  listens: number;
  probeRounds: number;
  socketsOpened: number;
  hellosSent: number;
  probesSent: number;
  hits: number;
}

interface Attempt {
  readonly peer: Buffer;
  readonly role: 'listener' | 'prober';
  readonly token: Buffer;
  readonly timers: Timer[];
  readonly sockets: DatagramTransport[];
  /** Prober: its friend's host, and the ports probed. */
  readonly host?: string;
  readonly probed?: Set<number>;
  /** Listener: the friend's endpoint. */
  readonly target?: UdpAddress;
  isDone: boolean;
}

export class BirthdayPuncher {
  readonly #opts: BirthdayOptions;
  readonly #log: Logger;
  readonly #attempts = new Map<string, Attempt>();
  readonly #lastStartMs = new Map<string, number>();
  readonly counters: BirthdayCounters = {
    listens: 0,
    probeRounds: 0,
    socketsOpened: 0,
    hellosSent: 0,
    probesSent: 0,
    hits: 0,
  };

  constructor(opts: BirthdayOptions) {
    this.#opts = opts;
    this.#log = (opts.logger ?? nullLogger).child({ component: 'birthday' });
    opts.transport.onPunchPacket((bytes, from) => this.#onMainPacket(bytes, from));
  }

  /** We are behind the randomising NAT: many sockets towards the friend's one endpoint, waiting for a probe. */
  listen(peer: Buffer, target: UdpAddress): void {
    const attempt = this.#begin(peer, 'listener', { target });
    if (attempt === undefined) return;
    this.counters.listens++;
    void Promise.all(
      Array.from({ length: BIRTHDAY.listenerSockets }, () => this.#opts.openSocket().catch(() => undefined)),
    ).then((sockets) => {
      for (const socket of sockets) {
        if (socket === undefined) continue;
        this.counters.socketsOpened++;
        // Opened after the attempt ended (found, or closed): not needed.
        if (attempt.isDone) {
          socket.close();
          continue;
        }
        attempt.sockets.push(socket);
        socket.onPacket((bytes, from) => this.#onListenerPacket(attempt, socket, bytes, from));
      }
      if (!attempt.isDone) this.#sendHellos(attempt, target);
    });
  }

  #sendHellos(attempt: Attempt, target: UdpAddress): void {
    const hello = this.#packet(PacketType.hello, attempt.token);
    for (const atMs of BIRTHDAY.listenerHelloAtMs) {
      attempt.timers.push(
        this.#opts.clock.setTimer(atMs, () => {
          if (attempt.isDone) return;
          for (const socket of attempt.sockets) {
            this.counters.hellosSent++;
            socket.send(hello, target);
          }
        }),
      );
    }
    attempt.timers.push(this.#opts.clock.setTimer(BIRTHDAY.listenerHoldMs, () => this.#end(attempt)));
    this.#log.debug(
      { friend: shortHex(attempt.peer), sockets: attempt.sockets.length },
      'birthday: listening',
    );
  }

  /** We keep one port: probe random ports of the friend's public host from our chat socket. */
  probe(peer: Buffer, host: string): void {
    const probed = new Set<number>();
    const attempt = this.#begin(peer, 'prober', { host, probed });
    if (attempt === undefined) return;
    this.counters.probeRounds++;
    const span = BIRTHDAY.lastPort - BIRTHDAY.firstPort + 1;
    const batches = Math.ceil(BIRTHDAY.probeSpreadMs / BIRTHDAY.probeBatchMs);
    const perBatch = Math.ceil(BIRTHDAY.probes / batches);
    const packet = this.#packet(PacketType.probe, attempt.token);
    for (let b = 0; b < batches; b++) {
      attempt.timers.push(
        this.#opts.clock.setTimer(b * BIRTHDAY.probeBatchMs, () => {
          for (let i = 0; i < perBatch && !attempt.isDone && probed.size < BIRTHDAY.probes; i++) {
            let port = BIRTHDAY.firstPort + this.#opts.random.int(span);
            while (probed.has(port)) port = BIRTHDAY.firstPort + this.#opts.random.int(span);
            probed.add(port);
            this.counters.probesSent++;
            this.#opts.transport.sendDirect(packet, { host, port });
          }
        }),
      );
    }
    // Acks may come a round trip after the last probe.
    attempt.timers.push(this.#opts.clock.setTimer(BIRTHDAY.probeSpreadMs + 2000, () => this.#end(attempt)));
  }

  /** A session with the friend came up: its attempts end (sockets closed). */
  stop(peer: Buffer): void {
    for (const attempt of [...this.#attempts.values()]) if (attempt.peer.equals(peer)) this.#end(attempt);
  }

  close(): void {
    for (const attempt of [...this.#attempts.values()]) this.#end(attempt);
  }

  #begin(
    peer: Buffer,
    role: Attempt['role'],
    fields: Pick<Attempt, 'host' | 'probed' | 'target'>,
  ): Attempt | undefined {
    const key = `${role}:${peer.toString('hex')}`;
    const nowMs = this.#opts.clock.monotonicMs();
    const running = [...this.#attempts.values()].filter((a) => a.role === role).length;
    const max = role === 'listener' ? BIRTHDAY.maxListens : BIRTHDAY.maxProbes;
    if (this.#attempts.has(key) || running >= max) return undefined;
    if (nowMs - (this.#lastStartMs.get(key) ?? -Infinity) < BIRTHDAY.minIntervalMs) return undefined;
    this.#lastStartMs.set(key, nowMs);
    if (this.#lastStartMs.size > 1024) this.#lastStartMs.clear();
    const attempt: Attempt = {
      peer,
      role,
      token: this.#opts.random.bytes(4),
      timers: [],
      sockets: [],
      isDone: false,
      ...fields,
    };
    this.#attempts.set(key, attempt);
    return attempt;
  }

  #end(attempt: Attempt, keep?: DatagramTransport): void {
    if (attempt.isDone) return;
    attempt.isDone = true;
    for (const timer of attempt.timers) timer.cancel();
    for (const socket of attempt.sockets) if (socket !== keep) socket.close();
    this.#attempts.delete(`${attempt.role}:${attempt.peer.toString('hex')}`);
  }

  /** Listener side: a probe (or the prober's ack to our hello) from the friend's endpoint reached one socket. */
  #onListenerPacket(attempt: Attempt, socket: DatagramTransport, bytes: Buffer, from: UdpAddress): void {
    const target = attempt.target;
    if (attempt.isDone || target === undefined || addressKey(from) !== addressKey(target)) return;
    const type = parsePacket(bytes);
    if (type !== PacketType.probe && type !== PacketType.ack) return;
    if (this.#opts.isConnected(attempt.peer)) {
      this.#end(attempt);
      return;
    }
    if (type === PacketType.probe) socket.send(this.#packet(PacketType.ack, bytes.subarray(4, 8)), from);
    this.counters.hits++;
    this.#end(attempt, socket);
    this.#opts.transport.addRoute(target, socket);
    this.#log.info(
      { friend: shortHex(attempt.peer), via: socket.localAddress().port },
      'birthday: path found',
    );
    this.#opts.onPath(attempt.peer, target);
  }

  /** Prober side: an ack to one of our probes, or a listener's hello our NAT let in. */
  #onMainPacket(bytes: Buffer, from: UdpAddress): void {
    const type = parsePacket(bytes);
    if (type === undefined) return;
    for (const attempt of this.#attempts.values()) {
      if (attempt.role !== 'prober' || attempt.isDone || attempt.host !== from.host) continue;
      const isAck = type === PacketType.ack && attempt.probed?.has(from.port) === true;
      const isHello = type === PacketType.hello;
      if (!isAck && !isHello) continue;
      if (this.#opts.isConnected(attempt.peer)) {
        this.#end(attempt);
        return;
      }
      if (isHello) this.#opts.transport.sendDirect(this.#packet(PacketType.ack, bytes.subarray(4, 8)), from);
      this.counters.hits++;
      this.#end(attempt);
      this.#log.info({ friend: shortHex(attempt.peer), port: from.port }, 'birthday: path found');
      this.#opts.onPath(attempt.peer, from);
      return;
    }
  }

  #packet(type: number, token: Buffer): Buffer {
    const out = Buffer.alloc(PACKET_BYTES);
    out[0] = PUNCH_PACKET_MAGIC;
    out[1] = VERSION;
    out[2] = type;
    token.copy(out, 4, 0, 4);
    return out;
  }
}

/** The packet's type, or undefined when it is not a birthday packet of ours. */
function parsePacket(bytes: Buffer): number | undefined {
  if (bytes.length !== PACKET_BYTES || bytes[0] !== PUNCH_PACKET_MAGIC || bytes[1] !== VERSION)
    return undefined;
  const type = bytes[2];
  return type === PacketType.hello || type === PacketType.probe || type === PacketType.ack ? type : undefined;
}

function shortHex(pk: Buffer): string {
  return pk.toString('hex').slice(0, 16);
}
