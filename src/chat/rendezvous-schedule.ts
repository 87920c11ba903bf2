/**
 * How often a friend's record is read (docs/ARCHITECTURE.md "Fast polls"). Two tiers:
 *
 * - fast: the friend is online as far as we can tell (evidence of life within onlineWindowMs: a record that
 *   changed, a session that just ended, a punch note) but we have no session — an unreachable friend, whose
 *   wish to punch (record-coordinated punching) or whose offline messages and acks (the DHT-only path, issue 11
 *   §7) we must see within seconds; also every friend for startBurstMs after our start or a move, when we do not
 *   know yet who is there. Every fastPollMs, by a cheap read of the record's holders (rendezvous-holders.ts).
 * - back-off: everyone else, 15 s doubling to 5 min (reset when presence changes).
 *
 * Budget: a fast read costs HOLDER_RULES.readNodes (3) queries, so one friend costs 72 queries a minute at
 * 2.5 s; all fast reads together are held to maxFastQueriesPerMin by stretching the interval as the number of
 * fast friends grows (5 friends at 2.5 s; 10 at 5 s). In the first 15 s after our start or a move the interval is
 * 1 s (within the same total), so two friends who start together find each other's first records at once. Alive friends we cannot reach also get our record
 * republished every heartbeatMs (a put to its holders, ~8 queries) so that they keep seeing us alive.
 */
import { HOLDER_RULES } from './rendezvous-holders.ts';

export const POLL_SCHEDULE = {
  fastPollMs: 2500,
  /** ± this share of the interval, so many friends' polls do not fall on the same tick. */
  jitterShare: 0.1,
  onlineWindowMs: 3 * 60_000,
  startBurstMs: 60_000,
  /** Within the burst, its first seconds read every startRushPollMs: a friend that started with us is there now. */
  startRushMs: 15_000,
  startRushPollMs: 1000,
  maxFastQueriesPerMin: 360,
  heartbeatMs: 60_000,
  backoffFirstMs: 15_000,
  backoffMaxMs: 5 * 60_000,
  /** A friend that just became unreachable (its session failed) is read this soon: it may have moved. */
  urgentPollMs: 100,
  /** An unchanged record is handed to the listeners again at most this often (the mailbox retries parts then). */
  unchangedEmitMs: 15_000,
} as const;

export interface FriendLiveness {
  readonly hasSession: boolean;
  /** Last evidence the friend's daemon was running (our clock), if any. */
  readonly aliveMs: number | undefined;
}

/** Is the friend read on the fast schedule? */
export function isFastTier(friend: FriendLiveness, nowMs: number, burstUntilMs: number): boolean {
  if (friend.hasSession) return false;
  if (nowMs < burstUntilMs) return true;
  return isAlive(friend, nowMs);
}

/** Evidence of life within the online window. */
export function isAlive(friend: FriendLiveness, nowMs: number): boolean {
  return friend.aliveMs !== undefined && nowMs - friend.aliveMs <= POLL_SCHEDULE.onlineWindowMs;
}

/**
 * The fast interval with this many friends in the fast tier, before jitter: the total budget stretches it. In the
 * start rush the base is startRushPollMs, under the same total budget.
 */
export function fastPollIntervalMs(fastFriends: number, isRush = false): number {
  const budgetMs = Math.ceil(
    (Math.max(1, fastFriends) * HOLDER_RULES.readNodes * 60_000) / POLL_SCHEDULE.maxFastQueriesPerMin,
  );
  return Math.max(isRush ? POLL_SCHEDULE.startRushPollMs : POLL_SCHEDULE.fastPollMs, budgetMs);
}
