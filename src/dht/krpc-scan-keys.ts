/**
 * The dictionaries krpc-scan.ts reads in one pass: their known keys in canonical (byte) order, each with the one
 * kind of value it may hold, and the rank constants the scanner indexes its slots by. A key outside a table, or
 * a value of another kind, sends the packet to the generic decoder.
 */
/** Value kinds a known key may hold; any other kind sends the packet to the generic path. */
export const STR = 0;
export const INT = 1;
export const LIST = 2;

/** A dictionary's known keys in canonical (byte) order, each with the one kind of value it may hold. */
export interface KeyTable {
  readonly names: readonly string[];
  readonly kinds: readonly number[];
  /** Indexed by length * 256 + first byte: candidate ranks. */
  readonly byHead: ReadonlyArray<readonly number[] | undefined>;
}

export const MAX_KEY_BYTES = 16;

function keyTable(spec: string): KeyTable {
  const entries = spec.split(' ').map((e) => e.split(':') as [string, string]);
  const names = entries.map(([n]) => n);
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (sorted.join() !== names.join()) throw new Error(`key table not in canonical order: ${spec}`);
  const byHead: Array<number[] | undefined> = new Array(MAX_KEY_BYTES * 256).fill(undefined);
  names.forEach((n, rank) => {
    const head = n.length * 256 + n.charCodeAt(0);
    byHead[head] = [...(byHead[head] ?? []), rank];
  });
  return { names, kinds: entries.map(([, k]) => (k === 's' ? STR : k === 'i' ? INT : LIST)), byHead };
}

// Ranks below are positions in these strings; the order is the canonical key order.
export const TOP = keyTable('a:d ip:s q:s r:d ro:i t:s v:s y:s');
export const T_A = 0;
export const T_IP = 1;
export const T_Q = 2;
export const T_R = 3;
export const T_RO = 4;
export const T_T = 5;
export const T_V = 6;
export const T_Y = 7;
export const ARGS = keyTable(
  'id:s implied_port:i info_hash:s noseed:i port:i scrape:i seed:i seq:i target:s token:s want:l',
);
export const A_ID = 0;
export const A_IMPLIED = 1;
export const A_INFO_HASH = 2;
export const A_NOSEED = 3;
export const A_PORT = 4;
export const A_SCRAPE = 5;
export const A_SEED = 6;
export const A_SEQ = 7;
export const A_TARGET = 8;
export const A_TOKEN = 9;
export const A_WANT = 10;
export const RESP = keyTable(
  'BFpe:s BFsd:s id:s interval:i k:s nodes:s nodes6:s num:i samples:s seq:i sig:s token:s values:l',
);
export const R_BFPE = 0;
export const R_BFSD = 1;
export const R_ID = 2;
export const R_INTERVAL = 3;
export const R_K = 4;
export const R_NODES = 5;
export const R_NODES6 = 6;
export const R_NUM = 7;
export const R_SAMPLES = 8;
export const R_SEQ = 9;
export const R_SIG = 10;
export const R_TOKEN = 11;
export const R_VALUES = 12;

export const METHODS = [
  'ping',
  'find_node',
  'get_peers',
  'announce_peer',
  'get',
  'sample_infohashes',
] as const;
export type FastMethod = (typeof METHODS)[number];
