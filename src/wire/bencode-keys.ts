/**
 * Dict keys as strings, fast. KRPC keys come from a small vocabulary; returning a constant string for them skips
 * a latin1 slice per key, the largest single cost in decoding a typical packet (measured: ~460k → ~650k
 * get_peers replies/s). Any other key is sliced as latin1, so the result is the same either way.
 */

/** Buffer's fast latin1 slice is public at runtime but missing from @types/node. */
export type Latin1Sliceable = Buffer & { latin1Slice(start: number, end: number): string };

/** KRPC (BEP 5, 32, 33, 42, 44, 51) and dhtchat record keys; extending this list changes speed only. */
const KNOWN_KEYS: readonly string[] = (
  'a e id ip k q r t v y ro BFpe BFsd cas info_hash implied_port interval name nodes nodes6 noseed num port ' +
  'salt samples scrape seed seq sig target token values want n4 n6 p m c'
).split(' ');

const MAX_KNOWN_KEY_BYTES = 16;

/** Indexed by length * 256 + first byte: the known keys with that length and first byte. */
const KNOWN_KEY_TABLE: ReadonlyArray<readonly string[] | undefined> = (() => {
  const table: Array<string[] | undefined> = new Array(MAX_KNOWN_KEY_BYTES * 256);
  for (const key of KNOWN_KEYS) {
    const slot = key.length * 256 + key.charCodeAt(0);
    const bucket = table[slot] ?? [];
    bucket.push(key);
    table[slot] = bucket;
  }
  return table;
})();

/** The key bytes src[start, end) as a latin1 string. */
export function keyString(src: Latin1Sliceable, start: number, end: number): string {
  const length = end - start;
  if (length > 0 && length < MAX_KNOWN_KEY_BYTES) {
    const candidates = KNOWN_KEY_TABLE[length * 256 + src[start]!];
    if (candidates !== undefined) {
      for (const key of candidates) {
        let i = 1;
        while (i < length && key.charCodeAt(i) === src[start + i]) i++;
        if (i === length) return key;
      }
    }
  }
  return src.latin1Slice(start, end);
}
