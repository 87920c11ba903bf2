/**
 * Bencode value types and the decoder's result vocabulary (BEP 3 §bencoding).
 *
 * A decoded dict is a null-prototype object whose keys are the raw key bytes read as latin1, so every byte
 * string is a key that round-trips, and `__proto__` or `constructor` are ordinary keys (no prototype traps).
 */

/** A bencoded value: byte string, safe integer, list or dict. */
export type BValue = Buffer | number | BValue[] | BDict;

/** A bencoded dict: null prototype, latin1 keys. */
export interface BDict {
  [key: string]: BValue;
}

/**
 * Limits applied while decoding remote input; every one is checked before the work it bounds. A negative or
 * NaN limit means the default; Infinity means none (maxDepth is still capped at MAX_DEPTH_CAP).
 */
export interface DecodeLimits {
  /** Deepest nesting of lists/dicts (the top-level container is depth 1). Capped at MAX_DEPTH_CAP. */
  maxDepth?: number;
  /** Most values in total (every string, integer, list and dict counts once, the top level included). */
  maxItems?: number;
  /** Largest accepted input, in bytes. */
  maxBytes?: number;
  /**
   * Default true: dict keys must be strictly ascending (BEP 3), so accepted input is canonical and re-encodes
   * byte for byte. false accepts any key order (duplicates are still rejected) for peers that send unsorted
   * dicts; such a value does not round-trip, so never use it where bytes are hashed or signed (BEP 44 `v`).
   */
  isKeyOrderStrict?: boolean;
}

/** Defaults sized for KRPC: a get_peers reply with 8 nodes and 100 peers is ~110 values in ~2 KB. */
export const DEFAULT_DECODE_LIMITS = {
  maxDepth: 32,
  maxItems: 4096,
  maxBytes: 65_536,
} as const;

/** The decoder recurses once per nesting level; this hard cap keeps any caller-given maxDepth stack-safe. */
export const MAX_DEPTH_CAP = 1024;

/** Stable rejection codes (documented in docs/ERRORS.md under "## wire"). */
export const BencodeErrorCode = {
  /** The input ended inside a value, or a string's length runs past the end. */
  truncated: 'WIRE_BENCODE_TRUNCATED',
  /** A byte that cannot start a value (includes `e` where a value is expected). */
  invalidToken: 'WIRE_BENCODE_INVALID_TOKEN',
  /** An integer or string length written with a leading zero (`i03e`, `03:abc`). */
  leadingZero: 'WIRE_BENCODE_LEADING_ZERO',
  /** The integer `i-0e`. */
  negativeZero: 'WIRE_BENCODE_NEGATIVE_ZERO',
  /** An integer without digits (`ie`, `i-e`) or with a non-digit inside. */
  badInteger: 'WIRE_BENCODE_BAD_INTEGER',
  /** A string length with a non-digit before the colon. */
  badLength: 'WIRE_BENCODE_BAD_LENGTH',
  /** An integer outside the JS safe range (±2^53-1). */
  integerRange: 'WIRE_BENCODE_INTEGER_RANGE',
  /** Bytes left over after the top-level value. */
  trailingBytes: 'WIRE_BENCODE_TRAILING_BYTES',
  /** Dict keys not in ascending raw-byte order. */
  unsortedKeys: 'WIRE_BENCODE_UNSORTED_KEYS',
  /** The same dict key twice. */
  duplicateKey: 'WIRE_BENCODE_DUPLICATE_KEY',
  /** A dict key that is not a byte string. */
  nonStringKey: 'WIRE_BENCODE_NON_STRING_KEY',
  /** Nesting deeper than maxDepth. */
  tooDeep: 'WIRE_BENCODE_TOO_DEEP',
  /** More values than maxItems. */
  tooManyItems: 'WIRE_BENCODE_TOO_MANY_ITEMS',
  /** Input longer than maxBytes. */
  tooLarge: 'WIRE_BENCODE_TOO_LARGE',
} as const;

export type BencodeErrorCodeValue = (typeof BencodeErrorCode)[keyof typeof BencodeErrorCode];

/** The thrown code for values encodeBencode cannot represent (a local failure). */
export const WIRE_BENCODE_UNENCODABLE = 'WIRE_BENCODE_UNENCODABLE';

/** On failure, offset is where the problem was found: the start of the offending value, key or byte. */
export type DecodeResult =
  | { readonly ok: true; readonly value: BValue }
  | { readonly ok: false; readonly code: BencodeErrorCodeValue; readonly offset: number };
