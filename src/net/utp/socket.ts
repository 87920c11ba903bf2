/**
 * The application's handle on one uTP connection: commands go to the sans-I/O connection, then the endpoint
 * drains its polls; events come back through onEvent(). UtpStream (stream.ts) wraps this as a Node Duplex;
 * tests and the simulator may use it directly, without streams, on virtual time.
 */
import { DhtchatError, type UdpAddress } from '../../runtime/index.ts';
import type { UtpConnection, UtpEvent } from './connection.ts';
import type { UtpEndpoint } from './endpoint.ts';
import { UtpErrorCode } from './errors.ts';

export class UtpSocket {
  readonly remoteAddress: UdpAddress;
  readonly #endpoint: UtpEndpoint;
  readonly #connection: UtpConnection;
  #handler: ((event: UtpEvent) => void) | undefined;
  readonly #held: UtpEvent[] = [];
  #isDispatching = false;
  #isEnded = false;
  #isDetached = false;
  #abortCode: UtpErrorCode | undefined;

  constructor(endpoint: UtpEndpoint, connection: UtpConnection, remoteAddress: UdpAddress) {
    this.#endpoint = endpoint;
    this.#connection = connection;
    this.remoteAddress = remoteAddress;
  }

  get connection(): UtpConnection {
    return this.#connection;
  }

  get isConnected(): boolean {
    return this.#connection.state === 'connected';
  }

  get isClosed(): boolean {
    return this.#connection.state === 'closed' || this.#abortCode !== undefined;
  }

  get errorCode(): UtpErrorCode | undefined {
    return this.#abortCode ?? this.#connection.errorCode;
  }

  /** end() was called: no more writes. */
  get isEnded(): boolean {
    return this.#isEnded;
  }

  get sendQueueBytes(): number {
    return this.#connection.sendQueueBytes;
  }

  /** Sets the event handler; events raised before it was set are delivered now, in order. */
  onEvent(handler: (event: UtpEvent) => void): void {
    this.#handler = handler;
    while (this.#held.length > 0) handler(this.#held.shift() as UtpEvent);
    this.dispatchEvents();
  }

  /** isOwned: see UtpConnection.write (UtpStream hands over its chunks, as Writable callers expect). */
  write(bytes: Uint8Array, isOwned = false): void {
    if (this.#isEnded || this.isClosed) {
      throw new DhtchatError(UtpErrorCode.WRITE_AFTER_END, 'write on an ended or closed uTP connection');
    }
    this.#connection.write(bytes, this.#endpoint.monotonicMs(), isOwned);
    this.#endpoint.service(this.#connection, this.remoteAddress);
  }

  read(maxBytes?: number): Buffer | undefined {
    const chunk = this.#connection.read(this.#endpoint.monotonicMs(), maxBytes);
    this.#endpoint.service(this.#connection, this.remoteAddress);
    return chunk;
  }

  /** Sends ST_FIN after the queued bytes; the connection closes once both sides have finished. */
  end(): void {
    if (this.#isEnded || this.isClosed) return;
    this.#isEnded = true;
    this.#connection.end(this.#endpoint.monotonicMs());
    this.#endpoint.service(this.#connection, this.remoteAddress);
  }

  /**
   * Hands the connection to the endpoint to finish in the background (like closing a TCP socket after
   * shutdown): queued bytes and our FIN still go out, anything still arriving is read and dropped, and no more
   * events are delivered.
   */
  detach(): void {
    this.#isDetached = true;
    this.#handler = undefined;
    this.#held.length = 0;
    this.end();
    while (this.read() !== undefined);
  }

  /** Aborts with ST_RESET. */
  reset(): void {
    this.#connection.reset(this.#endpoint.monotonicMs());
    this.#endpoint.service(this.#connection, this.remoteAddress);
  }

  /** @internal The endpoint closed under us. */
  abort(code: UtpErrorCode): void {
    if (this.#abortCode !== undefined || this.#connection.state === 'closed') return;
    this.#abortCode = code;
    this.#deliver({ type: 'closed', errorCode: code });
  }

  /** @internal Delivers the connection's pending events (re-entrant calls fold into the outer loop). */
  dispatchEvents(): void {
    if (this.#isDispatching) return;
    this.#isDispatching = true;
    try {
      for (
        let event = this.#connection.pollEvent();
        event !== undefined;
        event = this.#connection.pollEvent()
      ) {
        if (this.#abortCode !== undefined) continue;
        if (this.#isDetached) {
          if (event.type === 'readable')
            while (this.#connection.read(this.#endpoint.monotonicMs()) !== undefined);
          continue;
        }
        this.#deliver(event);
      }
    } finally {
      this.#isDispatching = false;
    }
  }

  #deliver(event: UtpEvent): void {
    if (this.#handler === undefined) {
      this.#held.push(event);
      return;
    }
    while (this.#held.length > 0) this.#handler(this.#held.shift() as UtpEvent);
    this.#handler(event);
  }
}
