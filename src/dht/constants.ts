/**
 * Every DHT protocol number and default in one place, named as in the BEPs.
 * BEP 5 (KRPC, routing): https://www.bittorrent.org/beps/bep_0005.html
 * BEP 32 (IPv6): https://www.bittorrent.org/beps/bep_0032.html · BEP 43 (read-only): bep_0043.html
 * BEP 44 (items): https://www.bittorrent.org/beps/bep_0044.html · BEP 51 (samples): bep_0051.html
 * Other helpers append their own constants at the end under a heading.
 */

/** BEP 5: bucket size. */
export const K = 8;
/**
 * Lookup parallelism (BEP 5 leaves it open; Kademlia says 3, libtorrent's search_branching is 5). 4 is the knee
 * measured by bench/lookup-alpha.ts: vs 3, p50 latency -15% for +17% messages; past 4 each step buys ~10 ms for
 * ~2.5 more messages per lookup, and slow-query widening already covers dead nodes (docs/BENCHMARKS.md).
 */
export const ALPHA = 4;

/** KRPC error codes (BEP 5 §Errors, BEP 44 §Errors). */
export const KrpcErrorCode = {
  generic: 201,
  server: 202,
  protocol: 203,
  methodUnknown: 204,
  messageTooBig: 205,
  invalidSignature: 206,
  saltTooBig: 207,
  casMismatch: 301,
  seqTooLow: 302,
} as const;
export type KrpcErrorCode = (typeof KrpcErrorCode)[keyof typeof KrpcErrorCode];

/** BEP 32: outgoing packets must fit in 1024 bytes (a minimum IPv6 MTU minus headers, with room to spare). */
export const MAX_OUTGOING_PACKET_BYTES = 1024;
/**
 * A packet carrying a BEP 44 item (a `put` query, a `get` reply with `v`) may be larger: what one UDP datagram
 * carries through a 1,500-byte Ethernet MTU over IPv6 (1500 − 40 − 8). BEP 44 allows a `v` of 1000 bytes, and with
 * `k`, `sig`, `seq`, `salt` and the token such a packet is ~1,250-1,350 bytes, over BEP 32's 1024 (libtorrent sends
 * them too). Every item we accept must be servable; every other packet stays within MAX_OUTGOING_PACKET_BYTES.
 */
export const MAX_ITEM_PACKET_BYTES = 1500 - 40 - 8;
/** Incoming packets above this are dropped unparsed (a full Ethernet MTU plus slack). */
export const MAX_INCOMING_PACKET_BYTES = 1500 + 500;
/** Decoder limits for one KRPC packet. */
export const KRPC_MAX_DEPTH = 16;
export const KRPC_MAX_ITEMS = 1024;

/** Transaction ids we accept from others: BEP 5 says "short"; libtorrent sends 2-4, some clients up to 8. */
export const MAX_TID_BYTES = 16;
/** Our own transaction ids. */
export const OWN_TID_BYTES = 2;
/** Tokens from others are opaque; real ones are 4-20 bytes. */
export const MAX_TOKEN_BYTES = 64;
/** Client version string: 2 letters + 2 bytes of version (BEP 20 style). */
export const MAX_VERSION_BYTES = 16;
/** Our client version: "DC" + major + minor. */
export const CLIENT_VERSION = Buffer.from([0x44, 0x43, 0, 1]);

/** Transactions (rpc-manager). */
export const QUERY_TIMEOUT_MS = 3_000;
export const QUERY_RETRIES = 0;
export const MAX_OUTSTANDING_QUERIES = 512;

/** BEP 44 */
export const BEP44_MAX_V_BYTES = 1000;
export const BEP44_MAX_SALT_BYTES = 64;
export const BEP44_PUBLIC_KEY_BYTES = 32;
export const BEP44_SIGNATURE_BYTES = 64;
/** Items expire after 2 hours; publishers republish hourly. */
export const BEP44_ITEM_LIFETIME_MS = 2 * 60 * 60_000;
export const BEP44_REPUBLISH_MS = 60 * 60_000;

/** BEP 33 bloom filter size. */
export const BEP33_BLOOM_BYTES = 256;

/** Routing maintenance (BEP 5: a node is questionable after 15 minutes of silence; buckets refresh then too). */
export const NODE_QUESTIONABLE_MS = 15 * 60_000;
export const BUCKET_REFRESH_MS = 15 * 60_000;
/** How often the node looks for questionable nodes to ping and buckets to refresh. */
export const MAINTENANCE_TICK_MS = 5_000;
/** At most this many pings per maintenance tick. */
export const MAINTENANCE_PINGS_PER_TICK = 4;
/** At most this many bucket-refresh lookups per maintenance tick. */
export const MAINTENANCE_REFRESHES_PER_TICK = 1;
/** When the table is near empty, re-bootstrap this often. */
export const REBOOTSTRAP_MS = 60_000;
/** A table below this size asks the bootstrap nodes again. */
export const MIN_HEALTHY_TABLE_SIZE = K;

/**
 * Joining and rejoining (joiner.ts). A failed join is retried after 1 s, doubling up to 16 s: a network that
 * comes back is noticed within 16 s plus one attempt (silent contacts end an attempt after QUERY_TIMEOUT_MS),
 * inside the 30 s a user waits before thinking the program hung.
 */
export const JOIN_RETRY_FIRST_MS = 1_000;
export const JOIN_RETRY_MAX_MS = 16_000;
/** Re-resolving the router names may hang on a network whose DNS is down; an attempt goes on without them. */
export const JOIN_RESOLVE_TIMEOUT_MS = 10_000;
/** Joined, with no answer to any query for this long, the node pings a few table nodes each tick to find out. */
export const LIVENESS_PROBE_AFTER_MS = 30_000;
export const LIVENESS_PROBES_PER_TICK = 2;
/** Joined, the DHT is lost when nothing answered for this long and at least this many queries timed out since. */
export const LOST_AFTER_SILENT_MS = 60_000;
export const LOST_AFTER_TIMEOUTS = 8;

/** BEP 42: distinct external-IP voters needed before we re-key. */
export const EXTERNAL_IP_MIN_VOTES = 3;

/** Bytes of a compact node: id + IPv4 address + port, or id + IPv6 address + port. */
export const COMPACT_NODE_V4_BYTES = 26;
export const COMPACT_NODE_V6_BYTES = 38;

// ---- Routing table and lookups (ROUTING helper) ----

/** BEP 5: a node that failed this many queries in a row is bad (one failure for a node that never answered). */
export const NODE_BAD_FAIL_COUNT = 2;
/** Replacement cache size per bucket (libtorrent uses K too). */
export const REPLACEMENT_CACHE_SIZE = K;
/** questionableToPing hands the same node out again only after this long (its ping has timed out by then). */
export const PING_RETRY_MS = 30_000;
/** "one entry per IP, at most 2 nodes of one /24 (/64 for IPv6) per bucket" (issue 2; libtorrent's restrict_routing_ips). */
export const MAX_SUBNET_NODES_PER_BUCKET = 2;
export const SUBNET_PREFIX_BITS = { 4: 24, 6: 64 } as const;
/** A lookup query slower than this stops counting against α (libtorrent's short timeout); the lookup widens. */
export const SLOW_QUERY_MS = 1_000;
/** Hard cap on queries one lookup sends (a hostile network cannot make a lookup run forever). */
export const MAX_LOOKUP_QUERIES = 200;
/** Candidates a lookup keeps, closest first (libtorrent keeps 100). */
export const MAX_LOOKUP_CANDIDATES = 100;
/** Nodes taken from one response per family (a 1500-byte reply holds at most ~57 v4 nodes). */
export const MAX_NODES_PER_RESPONSE = 32;

// ---- storage, tokens, abuse limits (STORAGE helper) ----

/** BEP 5 §announce_peer: tokens up to ten minutes old are accepted — a secret rotating every 5 minutes, the
 * previous one still honoured. Token = first TOKEN_BYTES of SHA-1(secret ‖ ip ‖ target). */
export const TOKEN_ROTATE_MS = 5 * 60_000;
export const TOKEN_BYTES = 8;
export const TOKEN_SECRET_BYTES = 20;

/** BEP 42 §Bootstrapping: external-IP votes are remembered this long, from at most this many distinct voters. */
export const EXTERNAL_IP_WINDOW_MS = 10 * 60_000;
export const EXTERNAL_IP_MAX_VOTERS = 256;

/** Incoming queries per source (token bucket). libtorrent's dos_blocker bans above ~5/s averaged over 10 s;
 * a burst lets a lookup's few queries through at once. */
export const RATE_LIMIT_PER_SEC = 10;
export const RATE_LIMIT_BURST = 40;
export const RATE_LIMIT_MAX_SOURCES = 10_000;

/** BEP 44 store size (libtorrent's dht_max_dht_items is 700). */
export const ITEM_STORE_MAX_ITEMS = 1_000;

/** Peer store bounds (libtorrent: dht_max_torrents 2000, dht_max_peers 500). */
export const PEER_STORE_MAX_INFOHASHES = 2_000;
export const PEER_STORE_MAX_PEERS_PER_INFOHASH = 300;
export const PEER_STORE_MAX_PEERS_TOTAL = 30_000;
/** Entries of one IP (different ports) in one swarm, unless the host is relaxed (loopback tests). */
export const PEER_STORE_MAX_PORTS_PER_IP = 4;
/** A peer expires this long after its last announce (clients re-announce every ~15 min; libtorrent keeps 45). */
export const PEER_TTL_MS = 30 * 60_000;
/** Upper bound on `values` per reply (libtorrent's dht_max_peers_reply, a quarter of it for IPv6); the handler
 * also trims to the 1024-byte budget of BEP 32. */
export const MAX_PEERS_PER_REPLY_V4 = 100;
export const MAX_PEERS_PER_REPLY_V6 = 25;

/** BEP 51: at most this many samples (libtorrent's cap), re-drawn at most every interval (libtorrent's max). */
export const BEP51_MAX_SAMPLES = 20;
export const BEP51_SAMPLE_INTERVAL_SEC = 21_600;
