/**
 * Friend requests, both directions, and the bookkeeping that rate-limits them. A declined incoming request stays
 * as a row in state `declined`: that is how declines are remembered, so the same stranger asking again is
 * dropped without bothering the user (docs/PROTOCOL.md "Friend requests"). Only the user un-declines, by adding the
 * key themselves (saveOutgoing).
 */
import { DhtchatError } from '../../runtime/index.ts';
import { checkMessageText } from './message-state.ts';
import type { SqlRow } from './sqlite.ts';
import { checkPublicKey, optionalNumber, type StoreContext } from './store-context.ts';
import { badArgument, ChatStoreErrorCode } from './store-errors.ts';

export const RequestDirection = { incoming: 'incoming', outgoing: 'outgoing' } as const;
export type RequestDirection = (typeof RequestDirection)[keyof typeof RequestDirection];

export const RequestState = { pending: 'pending', accepted: 'accepted', declined: 'declined' } as const;
export type RequestState = (typeof RequestState)[keyof typeof RequestState];

export interface FriendRequest {
  readonly publicKey: Buffer;
  readonly direction: RequestDirection;
  readonly message: string;
  readonly state: RequestState;
  readonly createdMs: number;
  readonly updatedMs: number;
  /** Outgoing: announcements made; incoming: times the requester asked. */
  readonly attempts: number;
  readonly lastAttemptMs: number | undefined;
}

export interface IncomingRequestResult {
  /** True the first time this key asks (or asks again after an accept): the user should be told. */
  readonly isNew: boolean;
  /** True when the user declined this key before: the caller drops the request silently. */
  readonly isDeclined: boolean;
  readonly request: FriendRequest;
}

export interface RateDecision {
  readonly isAllowed: boolean;
  /** Events counted in the current window, including this one when allowed. */
  readonly count: number;
}

export class FriendRequests {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  /** Our request to `publicKey` (the user typed their code): pending, whatever happened before. */
  saveOutgoing(publicKey: Uint8Array, message: string): FriendRequest {
    const key = checkPublicKey(publicKey);
    checkMessageText(message);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('saving a friend request', () => {
      this.#ctx.db
        .prepare(
          `INSERT INTO friend_requests (public_key, direction, message, state, created_ms, updated_ms)
           VALUES (@key, 'outgoing', @message, 'pending', @now, @now)
           ON CONFLICT (public_key, direction) DO UPDATE SET message = excluded.message, state = 'pending',
             updated_ms = excluded.updated_ms`,
        )
        .run({ key, message, now });
      // Adding someone is the user's word that their earlier decline no longer stands.
      this.#ctx.db
        .prepare(
          `DELETE FROM friend_requests WHERE public_key = ? AND direction = 'incoming' AND state = 'declined'`,
        )
        .run(key);
      return this.#mustGet(key, 'outgoing');
    });
  }

  /** Counts one announcement of our outgoing request. */
  noteOutgoingAttempt(publicKey: Uint8Array): void {
    const key = checkPublicKey(publicKey);
    const now = this.#ctx.clock.wallMs();
    this.#ctx.write('counting a request attempt', () => {
      this.#ctx.db
        .prepare(
          `UPDATE friend_requests SET attempts = attempts + 1, last_attempt_ms = ?
           WHERE public_key = ? AND direction = 'outgoing'`,
        )
        .run(now, key);
    });
  }

  /** A request arrived (after Noise XX authenticated the key). Declined keys are counted but stay declined. */
  receiveIncoming(publicKey: Uint8Array, message: string): IncomingRequestResult {
    const key = checkPublicKey(publicKey);
    checkMessageText(message);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('saving a friend request', () => {
      const before = this.#get(key, 'incoming');
      this.#ctx.db
        .prepare(
          `INSERT INTO friend_requests (public_key, direction, message, state, created_ms, updated_ms, attempts,
             last_attempt_ms)
           VALUES (@key, 'incoming', @message, 'pending', @now, @now, 1, @now)
           ON CONFLICT (public_key, direction) DO UPDATE SET attempts = attempts + 1, last_attempt_ms = @now,
             message = CASE WHEN state = 'declined' THEN message ELSE excluded.message END,
             state = CASE WHEN state = 'accepted' THEN 'pending' ELSE state END,
             updated_ms = CASE WHEN state = 'declined' THEN updated_ms ELSE @now END`,
        )
        .run({ key, message, now });
      const request = this.#mustGet(key, 'incoming');
      return {
        isNew: before === undefined || before.state === 'accepted',
        isDeclined: request.state === 'declined',
        request,
      };
    });
  }

  setState(publicKey: Uint8Array, direction: RequestDirection, state: RequestState): FriendRequest {
    const key = checkPublicKey(publicKey);
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('updating a friend request', () => {
      this.#ctx.db
        .prepare(
          'UPDATE friend_requests SET state = ?, updated_ms = ? WHERE public_key = ? AND direction = ?',
        )
        .run(state, now, key, direction);
      return this.#mustGet(key, direction);
    });
  }

  isDeclined(publicKey: Uint8Array): boolean {
    return this.get(publicKey, 'incoming')?.state === 'declined';
  }

  get(publicKey: Uint8Array, direction: RequestDirection): FriendRequest | undefined {
    const key = checkPublicKey(publicKey);
    return this.#ctx.read('reading a friend request', () => this.#get(key, direction));
  }

  /** Requests, oldest first, optionally filtered. */
  list(filter: { direction?: RequestDirection; state?: RequestState } = {}): FriendRequest[] {
    return this.#ctx.read('listing friend requests', () =>
      this.#ctx.db
        .prepare(
          `SELECT * FROM friend_requests WHERE (@direction IS NULL OR direction = @direction) AND (@state IS NULL OR state = @state)
           ORDER BY created_ms, public_key`,
        )
        .all({ direction: filter.direction ?? null, state: filter.state ?? null })
        .map(toRequest),
    );
  }

  /**
   * Fixed-window rate limiting that survives restarts (a stranger cannot reset our limit by crashing us):
   * counts one event in `bucket` (e.g. 'incoming' or 'incoming/<key hex>') and says whether it is within
   * `maxPerWindow` for the window of `windowMs` that started with the bucket's first event.
   */
  takeRateSlot(bucket: string, windowMs: number, maxPerWindow: number): RateDecision {
    if (windowMs <= 0 || maxPerWindow < 0) throw badArgument('a rate window must be positive');
    const now = this.#ctx.clock.wallMs();
    return this.#ctx.write('rate limiting', () => {
      const db = this.#ctx.db;
      const row = db.prepare('SELECT window_start_ms, count FROM request_rate WHERE bucket = ?').get(bucket);
      const isSameWindow = row !== undefined && now - Number(row['window_start_ms']) < windowMs;
      const count = isSameWindow ? Number(row['count']) : 0;
      if (count >= maxPerWindow) return { isAllowed: false, count };
      db.prepare(
        `INSERT INTO request_rate (bucket, window_start_ms, count) VALUES (@bucket, @start, @count)
         ON CONFLICT (bucket) DO UPDATE SET window_start_ms = @start, count = @count`,
      ).run({ bucket, start: isSameWindow ? Number(row['window_start_ms']) : now, count: count + 1 });
      return { isAllowed: true, count: count + 1 };
    });
  }

  /** How many incoming requests wait for the user's answer. */
  countPendingIncoming(): number {
    return this.#ctx.read('counting friend requests', () =>
      Number(
        this.#ctx.db
          .prepare(
            `SELECT count(*) AS n FROM friend_requests WHERE direction = 'incoming' AND state = 'pending'`,
          )
          .get()?.['n'],
      ),
    );
  }

  /** Keys of pending incoming requests last asked before `beforeMs` (all when omitted), oldest first. */
  pendingIncomingKeys(limit: number, beforeMs = Number.MAX_SAFE_INTEGER): Buffer[] {
    return this.#ctx.read('listing friend requests', () =>
      this.#ctx.db
        .prepare(
          `SELECT public_key FROM friend_requests WHERE direction = 'incoming' AND state = 'pending'
             AND updated_ms < ? ORDER BY updated_ms, public_key LIMIT ?`,
        )
        .all(beforeMs, limit)
        .map((row) => row['public_key'] as Buffer),
    );
  }

  /**
   * Forgets a stranger's pending request as if it never came: the request row and the pending-incoming contact
   * it created (with its endpoints). Used to keep what strangers can store bounded; the user never answered it.
   */
  forgetIncoming(publicKey: Uint8Array): void {
    const key = checkPublicKey(publicKey);
    this.#ctx.write('forgetting a friend request', () => {
      this.#ctx.db
        .prepare(
          `DELETE FROM friend_requests WHERE public_key = ? AND direction = 'incoming' AND state = 'pending'`,
        )
        .run(key);
      this.#ctx.db
        .prepare(`DELETE FROM contacts WHERE public_key = ? AND state = 'pending-incoming'`)
        .run(key);
    });
  }

  /**
   * Drops declined incoming requests answered before `olderThanMs`. The key stays refused: the contact row in
   * state `declined` is what turns it away at the handshake; this row only kept the message.
   */
  pruneDeclined(olderThanMs: number): number {
    return this.#ctx.write(
      'pruning declined requests',
      () =>
        this.#ctx.db
          .prepare(
            `DELETE FROM friend_requests WHERE direction = 'incoming' AND state = 'declined' AND updated_ms < ?`,
          )
          .run(olderThanMs).changes,
    );
  }

  /** How many rate buckets are stored (each is one row). */
  countRateBuckets(): number {
    return this.#ctx.read('counting rate buckets', () =>
      Number(this.#ctx.db.prepare('SELECT count(*) AS n FROM request_rate').get()?.['n']),
    );
  }

  /** Drops rate buckets whose window ended before `olderThanMs` (housekeeping). */
  pruneRateBuckets(olderThanMs: number): number {
    return this.#ctx.write(
      'pruning rate buckets',
      () =>
        this.#ctx.db.prepare('DELETE FROM request_rate WHERE window_start_ms < ?').run(olderThanMs).changes,
    );
  }

  #get(key: Buffer, direction: RequestDirection): FriendRequest | undefined {
    const row = this.#ctx.db
      .prepare('SELECT * FROM friend_requests WHERE public_key = ? AND direction = ?')
      .get(key, direction);
    return row === undefined ? undefined : toRequest(row);
  }

  #mustGet(key: Buffer, direction: RequestDirection): FriendRequest {
    const request = this.#get(key, direction);
    if (request === undefined) {
      throw new DhtchatError(
        ChatStoreErrorCode.unknownRequest,
        `no ${direction} friend request from/to that key`,
      );
    }
    return request;
  }
}

function toRequest(row: SqlRow): FriendRequest {
  return {
    publicKey: row['public_key'] as Buffer,
    direction: row['direction'] as RequestDirection,
    message: String(row['message']),
    state: row['state'] as RequestState,
    createdMs: Number(row['created_ms']),
    updatedMs: Number(row['updated_ms']),
    attempts: Number(row['attempts']),
    lastAttemptMs: optionalNumber(row['last_attempt_ms']),
  };
}
