/**
 * Outstanding KRPC transactions (BEP 5 §KRPC): each query we send gets a random transaction id and waits for the
 * response with that tid *from the address we sent it to* — a response with a known tid from any other address is
 * ignored, so nobody can answer for a node they are not. Timeouts come from the injected Clock, with an optional
 * single resend. The number of queries in flight is bounded; excess ones wait in a bounded queue and beyond that
 * are rejected (DHT_TOO_MANY_QUERIES), so a burst of lookups cannot flood the network or grow memory.
 * This is the QuerySender the lookups (traversal.ts) use.
 */
import {
  MAX_ITEM_PACKET_BYTES,
  MAX_OUTGOING_PACKET_BYTES,
  MAX_OUTSTANDING_QUERIES,
  OWN_TID_BYTES,
  QUERY_RETRIES,
  QUERY_TIMEOUT_MS,
} from './constants.ts';
import type { UdpAddress } from './dht-types.ts';
import { encodeKrpc } from './krpc-codec.ts';
import type { KrpcError, KrpcQuery, KrpcResponse, OutgoingQuery } from './krpc-message.ts';
import {
  addressKey,
  type Clock,
  DhtchatError,
  type Random,
  routineError,
  type Timer,
} from '../runtime/index.ts';

/** Sends a query and resolves with the response; rejects with a DhtchatError on timeout or KRPC error. */
export interface QuerySender {
  query(to: UdpAddress, q: OutgoingQuery): Promise<KrpcResponse>;
}

/** A KRPC error answer (`y: e`) to one of our queries. `krpcCode` is the remote code (201-204, 205-207, 301-302). */
export class KrpcRemoteError extends DhtchatError {
  readonly krpcCode: number;
  readonly remoteMessage: string;

  constructor(krpcCode: number, remoteMessage: string, method: string) {
    super('DHT_QUERY_ERROR', `${method} answered with KRPC error ${krpcCode}: ${remoteMessage.slice(0, 80)}`);
    this.krpcCode = krpcCode;
    this.remoteMessage = remoteMessage;
  }
}

export interface RpcManagerOptions {
  clock: Clock;
  random: Random;
  /** Puts one datagram on the wire. */
  send(bytes: Buffer, to: UdpAddress): void;
  /** Completes an outgoing query with our id, `ro`, `want` and version for the given tid. */
  complete(q: OutgoingQuery, tid: Buffer): KrpcQuery;
  timeoutMs?: number;
  /** Resends after a timeout: 0 (default) or 1. */
  retries?: number;
  maxOutstanding?: number;
  /** Queries waiting for a free slot; beyond this, query() rejects with DHT_TOO_MANY_QUERIES. */
  maxQueued?: number;
  /** 2 (default) or 4. */
  tidBytes?: 2 | 4;
  /** Called when a query to `to` timed out for good (the node marks it failed in the routing table). */
  onTimeout?(to: UdpAddress, q: OutgoingQuery): void;
}

export interface RpcStats {
  sent: number;
  resent: number;
  responses: number;
  errors: number;
  timeouts: number;
  /** Responses/errors whose (tid, address) matched nothing: late, spoofed or duplicated. */
  unmatched: number;
  rejectedBusy: number;
  bytesSent: number;
}

interface Pending {
  readonly key: string;
  readonly to: UdpAddress;
  readonly q: OutgoingQuery;
  /** Kept only while a resend is left (none by default): a pending query then holds no packet. */
  readonly bytes: Buffer | undefined;
  readonly resolve: (r: KrpcResponse) => void;
  readonly reject: (e: Error) => void;
  triesLeft: number;
  timer: Timer;
}

interface Queued {
  readonly to: UdpAddress;
  readonly q: OutgoingQuery;
  readonly resolve: (r: KrpcResponse) => void;
  readonly reject: (e: Error) => void;
}

const MAX_TID_ATTEMPTS = 8;

export class RpcManager implements QuerySender {
  readonly #opts: RpcManagerOptions;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #maxOutstanding: number;
  readonly #maxQueued: number;
  readonly #tidBytes: number;
  readonly #pending = new Map<string, Pending>();
  readonly #queue: Queued[] = [];
  #isClosed = false;
  readonly stats: RpcStats = {
    sent: 0,
    resent: 0,
    responses: 0,
    errors: 0,
    timeouts: 0,
    unmatched: 0,
    rejectedBusy: 0,
    bytesSent: 0,
  };

  constructor(opts: RpcManagerOptions) {
    this.#opts = opts;
    this.#timeoutMs = opts.timeoutMs ?? QUERY_TIMEOUT_MS;
    this.#retries = Math.max(0, Math.min(1, opts.retries ?? QUERY_RETRIES));
    this.#maxOutstanding = opts.maxOutstanding ?? MAX_OUTSTANDING_QUERIES;
    this.#maxQueued = opts.maxQueued ?? this.#maxOutstanding * 4;
    this.#tidBytes = opts.tidBytes ?? OWN_TID_BYTES;
  }

  get outstandingCount(): number {
    return this.#pending.size;
  }

  get queuedCount(): number {
    return this.#queue.length;
  }

  query(to: UdpAddress, q: OutgoingQuery): Promise<KrpcResponse> {
    return new Promise<KrpcResponse>((resolve, reject) => {
      if (this.#isClosed) {
        reject(routineError('DHT_CLOSED', 'the DHT node is closed'));
        return;
      }
      if (this.#pending.size < this.#maxOutstanding) {
        this.#start({ to, q, resolve, reject });
        return;
      }
      if (this.#queue.length >= this.#maxQueued) {
        this.stats.rejectedBusy++;
        reject(
          new DhtchatError('DHT_TOO_MANY_QUERIES', `more than ${this.#maxOutstanding} queries in flight`),
        );
        return;
      }
      this.#queue.push({ to, q, resolve, reject });
    });
  }

  /**
   * Matches a response or error against the outstanding transactions. Returns the method of the query it
   * answered, or undefined when it matched nothing (and was ignored).
   */
  handleAnswer(message: KrpcResponse | KrpcError, from: UdpAddress): OutgoingQuery | undefined {
    const key = transactionKey(message.tid, from);
    const pending = this.#pending.get(key);
    if (pending === undefined) {
      this.stats.unmatched++;
      return undefined;
    }
    this.#finish(pending);
    if (message.kind === 'response') {
      this.stats.responses++;
      pending.resolve(message);
    } else {
      this.stats.errors++;
      pending.reject(new KrpcRemoteError(message.code, message.message, pending.q.method));
    }
    return pending.q;
  }

  /** Rejects everything in flight or queued with DHT_CLOSED. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const closed = () => routineError('DHT_CLOSED', 'the DHT node is closed');
    for (const p of [...this.#pending.values()]) {
      this.#finish(p);
      p.reject(closed());
    }
    for (const q of this.#queue.splice(0)) q.reject(closed());
  }

  #start(item: Queued): void {
    const tid = this.#newTid(item.to);
    if (tid === undefined) {
      item.reject(new DhtchatError('DHT_TOO_MANY_QUERIES', 'no free transaction id for this address'));
      return;
    }
    let bytes: Buffer;
    try {
      bytes = encodeKrpc(this.#opts.complete(item.q, tid));
    } catch (err) {
      item.reject(new DhtchatError('DHT_BAD_QUERY', `cannot encode ${item.q.method} query`, { cause: err }));
      return;
    }
    // A put carries a BEP 44 item: v of 1000 bytes with a 64-byte salt does not fit 1024 (constants.ts).
    const maxBytes = item.q.method === 'put' ? MAX_ITEM_PACKET_BYTES : MAX_OUTGOING_PACKET_BYTES;
    if (bytes.length > maxBytes) {
      item.reject(
        new DhtchatError(
          'DHT_PACKET_TOO_BIG',
          `${item.q.method} query is ${bytes.length} bytes (max ${maxBytes})`,
        ),
      );
      return;
    }
    const key = transactionKey(tid, item.to);
    const pending: Pending = {
      key,
      to: item.to,
      q: item.q,
      bytes: this.#retries > 0 ? bytes : undefined,
      resolve: item.resolve,
      reject: item.reject,
      triesLeft: this.#retries,
      timer: this.#opts.clock.setTimer(this.#timeoutMs, () => this.#onTimer(key)),
    };
    this.#pending.set(key, pending);
    this.stats.sent++;
    this.stats.bytesSent += bytes.length;
    this.#opts.send(bytes, item.to);
  }

  #onTimer(key: string): void {
    const pending = this.#pending.get(key);
    if (pending === undefined) return;
    if (pending.triesLeft > 0 && pending.bytes !== undefined) {
      pending.triesLeft--;
      pending.timer = this.#opts.clock.setTimer(this.#timeoutMs, () => this.#onTimer(key));
      this.stats.resent++;
      this.stats.bytesSent += pending.bytes.length;
      this.#opts.send(pending.bytes, pending.to);
      return;
    }
    this.#finish(pending);
    this.stats.timeouts++;
    this.#opts.onTimeout?.(pending.to, pending.q);
    pending.reject(routineError('DHT_QUERY_TIMEOUT', `${pending.q.method} query timed out`));
  }

  /** Removes a transaction and lets the next queued query take its slot. */
  #finish(pending: Pending): void {
    pending.timer.cancel();
    this.#pending.delete(pending.key);
    while (!this.#isClosed && this.#pending.size < this.#maxOutstanding) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      this.#start(next);
    }
  }

  #newTid(to: UdpAddress): Buffer | undefined {
    for (let i = 0; i < MAX_TID_ATTEMPTS; i++) {
      const tid = this.#opts.random.bytes(this.#tidBytes);
      if (!this.#pending.has(transactionKey(tid, to))) return tid;
    }
    return undefined;
  }
}

function transactionKey(tid: Buffer, from: UdpAddress): string {
  return `${tid.toString('hex')}|${addressKey(from)}`;
}
