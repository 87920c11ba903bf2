/**
 * The client side of every port-mapping exchange over UDP (PCP, NAT-PMP, SSDP): one request, sent again on a
 * schedule until an acceptable answer arrives or the schedule runs out. One exchange at a time per socket, so
 * an answer is never matched to the wrong question; later ones wait their turn. Packets nobody is waiting for,
 * and packets the current exchange does not accept (another sender, another request's answer, garbage), are
 * counted and dropped.
 *
 * The socket is our own ephemeral one, not the chat socket: PCP and NAT-PMP name the port to map inside the
 * request (our chat port), take the internal address from the request's source address (RFC 6887 §8.1, RFC 6886
 * §3.3), and answer to the port the request came from — so which port asks does not matter, and the chat
 * socket's demultiplexer never sees port-control traffic.
 */
import type { Clock, DatagramTransport, Timer, UdpAddress } from '../../runtime/index.ts';

export interface ExchangeRequest<T> {
  to: UdpAddress;
  bytes: Uint8Array;
  /**
   * The wait after each send: one send per entry, so [250, 500, 1000, 2000] sends 4 times and gives up 3.75 s
   * after the first.
   */
  waitsMs: readonly number[];
  /** The answer, or undefined to keep waiting (not from the right sender, not for this request). */
  accept(bytes: Buffer, from: UdpAddress): T | undefined;
}

export interface ExchangeCounters {
  sent: number;
  accepted: number;
  /** Arrived while nothing was asked, or not accepted by the exchange under way. */
  ignored: number;
}

interface Pending {
  accept(bytes: Buffer, from: UdpAddress): boolean;
}

export class UdpExchange {
  readonly counters: ExchangeCounters = { sent: 0, accepted: 0, ignored: 0 };
  readonly #transport: DatagramTransport;
  readonly #clock: Clock;
  #queue: Promise<unknown> = Promise.resolve();
  #pending: Pending | undefined;
  #cancelPending: (() => void) | undefined;
  #isClosed = false;

  constructor(transport: DatagramTransport, clock: Clock) {
    this.#transport = transport;
    this.#clock = clock;
    transport.onPacket((bytes, from) => {
      if (this.#pending?.accept(bytes, from) === true) this.counters.accepted++;
      else this.counters.ignored++;
    });
  }

  /** The socket we ask from (its host is the source address the gateway sees when bound to one). */
  localAddress(): UdpAddress {
    return this.#transport.localAddress();
  }

  /** Resolves with the accepted answer, or undefined when the schedule ran out or the exchange was closed. */
  run<T>(request: ExchangeRequest<T>): Promise<T | undefined> {
    const turn = this.#queue.then(() => this.#runNow(request));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  /** Ends the exchange under way (it resolves undefined), refuses later ones, closes the socket. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#cancelPending?.();
    this.#transport.close();
  }

  #runNow<T>(request: ExchangeRequest<T>): Promise<T | undefined> {
    if (this.#isClosed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let timer: Timer | undefined;
      let sends = 0;
      const finish = (answer: T | undefined): void => {
        timer?.cancel();
        this.#pending = undefined;
        this.#cancelPending = undefined;
        resolve(answer);
      };
      const sendNext = (): void => {
        const waitMs = request.waitsMs[sends];
        if (waitMs === undefined) {
          finish(undefined);
          return;
        }
        sends++;
        this.counters.sent++;
        this.#transport.send(request.bytes, request.to);
        timer = this.#clock.setTimer(waitMs, sendNext);
      };
      this.#pending = {
        accept: (bytes, from) => {
          const answer = request.accept(bytes, from);
          if (answer === undefined) return false;
          finish(answer);
          return true;
        },
      };
      this.#cancelPending = () => finish(undefined);
      sendNext();
    });
  }
}
