/**
 * Counters of one DhtNode (hot-path numbers are counters, never log lines). DhtNode.stats() returns a snapshot:
 * these counters plus the rpc-manager's and the sizes of the tables and stores.
 */
import type { KrpcMethod } from './krpc-message.ts';

export interface DhtCounters {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Valid queries received, by method ('unknown' for methods we do not know). */
  queriesIn: Record<KrpcMethod, number>;
  responsesSent: number;
  /** KRPC errors we sent, by code. */
  errorsSent: Record<string, number>;
  /** Responses and errors received that answered one of our queries. */
  answersIn: number;
  /** Answers we had to trim to fit the size budget (1024 bytes, or 3x the query for unverified senders). */
  repliesTrimmed: number;
  /** Replies that left out a BEP 44 item too big for an unverified address's budget (query-dispatch.ts). */
  itemsWithheld: number;
  dropped: {
    /** Over the per-source rate limit. */
    rateLimited: number;
    /** Not a valid KRPC message (see malformedByCode). */
    malformed: number;
    /** Answers matching no outstanding transaction (late, duplicated or spoofed). */
    unmatched: number;
    /** Queries not answered because we are read-only (BEP 43). */
    readOnly: number;
    /** From port 0, our own address, or an unusable host. */
    badSource: number;
    /** Replies that could not be fitted into 1024 bytes. */
    replyTooBig: number;
    /** Handlers that threw (a bug; answered with 202). */
    handlerFailures: number;
  };
  malformedByCode: Record<string, number>;
  lookups: Record<string, number>;
  lookupQueries: number;
  rekeys: number;
  republished: number;
}

export function createCounters(): DhtCounters {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    queriesIn: {
      ping: 0,
      find_node: 0,
      get_peers: 0,
      announce_peer: 0,
      get: 0,
      put: 0,
      sample_infohashes: 0,
      dhtchat_forward: 0,
      dhtchat_note: 0,
      unknown: 0,
    },
    responsesSent: 0,
    errorsSent: Object.create(null) as Record<string, number>,
    answersIn: 0,
    repliesTrimmed: 0,
    itemsWithheld: 0,
    dropped: {
      rateLimited: 0,
      malformed: 0,
      unmatched: 0,
      readOnly: 0,
      badSource: 0,
      replyTooBig: 0,
      handlerFailures: 0,
    },
    malformedByCode: Object.create(null) as Record<string, number>,
    lookups: Object.create(null) as Record<string, number>,
    lookupQueries: 0,
    rekeys: 0,
    republished: 0,
  };
}

export function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
