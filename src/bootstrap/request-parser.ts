/**
 * An allocation-free KRPC scanner for what the bootstrap server reads: the four queries it answers (ping,
 * find_node, get_peers, get) and the pongs to its own pings. It walks the whole datagram once, checking the
 * bencoding is well formed (no leading zeros, no `-0`, lengths in range, no trailing bytes, at most 5 levels and
 * 100 tokens, like the reference's bdecode limits), and records offsets of the fields it needs into a reused
 * ParsedMessage. Anything it cannot parse is reported as invalid; the server counts and ignores it.
 *
 * Deliberately lenient where real clients differ: dictionary key order is not checked, unknown keys are skipped.
 * Strict where it matters to us: `t` non-empty and at most 64 bytes, `y` present and consistent with `q`/`r`,
 * `id` exactly 20 bytes, no duplicate interesting keys.
 */

export const MessageKind = { invalid: 0, query: 1, response: 2, error: 3 } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

export const QueryMethod = { other: 0, ping: 1, findNode: 2, getPeers: 3, get: 4 } as const;
export type QueryMethod = (typeof QueryMethod)[keyof typeof QueryMethod];

export const MAX_TID_BYTES = 64;
const MAX_DEPTH = 5;
const MAX_TOKENS = 100;

/** Field offsets of one parsed datagram; one instance is reused for every packet. */
export class ParsedMessage {
  kind: MessageKind = MessageKind.invalid;
  method: QueryMethod = QueryMethod.other;
  tidOffset = -1;
  tidLength = 0;
  /** Offset of the 20-byte node id in `a` (query) or `r` (response), or -1. */
  idOffset = -1;
  hasWant = false;
  wantsV4 = false;
  wantsV6 = false;
  isReadOnly = false;
  nodesOffset = -1;
  nodesLength = 0;
  nodes6Offset = -1;
  nodes6Length = 0;

  reset(): void {
    this.kind = MessageKind.invalid;
    this.method = QueryMethod.other;
    this.tidOffset = -1;
    this.tidLength = 0;
    this.idOffset = -1;
    this.hasWant = false;
    this.wantsV4 = false;
    this.wantsV6 = false;
    this.isReadOnly = false;
    this.nodesOffset = -1;
    this.nodesLength = 0;
    this.nodes6Offset = -1;
    this.nodes6Length = 0;
  }
}

// Scanner state, module-level so a parse allocates nothing. Parsing is synchronous, so sharing is safe.
let src: Uint8Array = new Uint8Array(0);
let end = 0;
let tokens = 0;
/** Set by readString: where the last string's bytes start and how long it is. */
let strStart = 0;
let strLength = 0;
let intValue = 0;

/** Parses bytes[0..length) into out. Returns out.kind (MessageKind.invalid when malformed). */
export function parseMessage(bytes: Uint8Array, length: number, out: ParsedMessage): MessageKind {
  out.reset();
  src = bytes;
  end = Math.min(length, bytes.length);
  tokens = 0;
  const finish = parseTop(out);
  src = EMPTY;
  if (finish !== end) out.kind = MessageKind.invalid;
  return out.kind;
}

const EMPTY = new Uint8Array(0);

const C_D = 0x64; // d
const C_L = 0x6c; // l
const C_I = 0x69; // i
const C_E = 0x65; // e

function parseTop(out: ParsedMessage): number {
  if (end < 2 || src[0] !== C_D) return -1;
  let pos = 1;
  let y = 0;
  let methodSeen = false;
  let bodySeen = 0; // 1 = a, 2 = r
  tokens++;
  while (pos < end && src[pos] !== C_E) {
    pos = readString(pos);
    if (pos < 0) return -1;
    const keyStart = strStart;
    const keyLength = strLength;
    const k0 = src[keyStart]!;
    if (keyLength === 1 && k0 === 0x74 /* t */) {
      if (out.tidOffset >= 0 || src[pos] === C_D || src[pos] === C_L || src[pos] === C_I) return -1;
      pos = readString(pos);
      if (pos < 0 || strLength === 0 || strLength > MAX_TID_BYTES) return -1;
      out.tidOffset = strStart;
      out.tidLength = strLength;
    } else if (keyLength === 1 && k0 === 0x79 /* y */) {
      if (y !== 0 || !isStringAt(pos)) return -1;
      pos = readString(pos);
      if (pos < 0 || strLength !== 1) return -1;
      y = src[strStart]!;
    } else if (keyLength === 1 && k0 === 0x71 /* q */) {
      if (methodSeen || !isStringAt(pos)) return -1;
      pos = readString(pos);
      if (pos < 0) return -1;
      methodSeen = true;
      out.method = methodOf(strStart, strLength);
    } else if (keyLength === 1 && (k0 === 0x61 /* a */ || k0 === 0x72) /* r */ && src[pos] === C_D) {
      if (bodySeen !== 0) return -1;
      bodySeen = k0 === 0x61 ? 1 : 2;
      pos = parseBody(pos, out);
    } else if (keyLength === 2 && k0 === 0x72 && src[keyStart + 1] === 0x6f /* ro */ && src[pos] === C_I) {
      pos = readInt(pos);
      out.isReadOnly = pos >= 0 && intValue !== 0;
    } else {
      pos = skipValue(pos, 1);
    }
    if (pos < 0) return -1;
  }
  if (pos >= end || out.tidOffset < 0) return -1;
  if (y === 0x71 /* q */) {
    if (!methodSeen || bodySeen !== 1 || out.idOffset < 0) return -1;
    out.kind = MessageKind.query;
  } else if (y === 0x72 /* r */) {
    if (methodSeen || bodySeen !== 2 || out.idOffset < 0) return -1;
    out.kind = MessageKind.response;
  } else if (y === C_E) {
    out.kind = MessageKind.error;
  } else {
    return -1;
  }
  return pos + 1;
}

/** Parses the `a` or `r` dictionary at pos, noting id, want and nodes. */
function parseBody(pos: number, out: ParsedMessage): number {
  if (++tokens > MAX_TOKENS) return -1;
  pos++;
  while (pos < end && src[pos] !== C_E) {
    pos = readString(pos);
    if (pos < 0) return -1;
    const keyStart = strStart;
    const keyLength = strLength;
    if (keyLength === 2 && src[keyStart] === 0x69 && src[keyStart + 1] === 0x64 /* id */) {
      if (out.idOffset >= 0 || !isStringAt(pos)) return -1;
      pos = readString(pos);
      if (pos < 0 || strLength !== 20) return -1;
      out.idOffset = strStart;
    } else if (keyLength === 4 && isKey(keyStart, WANT) && src[pos] === C_L) {
      if (out.hasWant) return -1;
      pos = parseWant(pos, out);
    } else if (keyLength === 5 && isKey(keyStart, NODES) && isStringAt(pos)) {
      pos = readString(pos);
      out.nodesOffset = strStart;
      out.nodesLength = strLength;
    } else if (keyLength === 6 && isKey(keyStart, NODES6) && isStringAt(pos)) {
      pos = readString(pos);
      out.nodes6Offset = strStart;
      out.nodes6Length = strLength;
    } else {
      pos = skipValue(pos, 2);
    }
    if (pos < 0) return -1;
  }
  return pos < end ? pos + 1 : -1;
}

/** BEP 32 `want`: a list of strings; "n4" and "n6" are the ones we know, others are ignored. */
function parseWant(pos: number, out: ParsedMessage): number {
  if (++tokens > MAX_TOKENS) return -1;
  out.hasWant = true;
  pos++;
  while (pos < end && src[pos] !== C_E) {
    if (!isStringAt(pos)) {
      pos = skipValue(pos, 3);
    } else {
      pos = readString(pos);
      if (pos >= 0 && strLength === 2 && src[strStart] === 0x6e /* n */) {
        if (src[strStart + 1] === 0x34) out.wantsV4 = true;
        else if (src[strStart + 1] === 0x36) out.wantsV6 = true;
      }
    }
    if (pos < 0) return -1;
  }
  return pos < end ? pos + 1 : -1;
}

/** Validates and skips one value at pos, depth levels deep. Returns the position after it, or -1. */
function skipValue(pos: number, depth: number): number {
  if (pos >= end) return -1;
  const c = src[pos]!;
  if (c === C_I) return readInt(pos);
  if (c === C_L || c === C_D) {
    if (depth >= MAX_DEPTH || ++tokens > MAX_TOKENS) return -1;
    pos++;
    while (pos < end && src[pos] !== C_E) {
      if (c === C_D) {
        pos = readString(pos);
        if (pos < 0) return -1;
      }
      pos = skipValue(pos, depth + 1);
      if (pos < 0) return -1;
    }
    return pos < end ? pos + 1 : -1;
  }
  return readString(pos);
}

function isStringAt(pos: number): boolean {
  const c = src[pos];
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** Reads `<len>:<bytes>` at pos into strStart/strLength; returns the position after it, or -1. */
function readString(pos: number): number {
  if (++tokens > MAX_TOKENS) return -1;
  let length = 0;
  const start = pos;
  while (pos < end) {
    const c = src[pos]!;
    if (c === 0x3a) break;
    if (c < 0x30 || c > 0x39) return -1;
    if (pos > start && length === 0) return -1; // leading zero
    length = length * 10 + (c - 0x30);
    if (length > end) return -1;
    pos++;
  }
  if (pos === start || pos >= end) return -1;
  pos++;
  if (pos + length > end) return -1;
  strStart = pos;
  strLength = length;
  return pos + length;
}

/** Reads `i<digits>e` at pos into intValue; returns the position after it, or -1. */
function readInt(pos: number): number {
  if (++tokens > MAX_TOKENS) return -1;
  pos++;
  let isNegative = false;
  if (src[pos] === 0x2d) {
    isNegative = true;
    pos++;
  }
  const start = pos;
  let value = 0;
  while (pos < end && src[pos] !== C_E) {
    const c = src[pos]!;
    if (c < 0x30 || c > 0x39) return -1;
    if (pos > start && value === 0) return -1; // leading zero
    if (pos - start >= 16) return -1; // keep it a safe integer
    value = value * 10 + (c - 0x30);
    pos++;
  }
  if (pos === start || pos >= end) return -1;
  if (isNegative && value === 0) return -1; // -0
  intValue = isNegative ? -value : value;
  return pos + 1;
}

const WANT = bytesOf('want');
const NODES = bytesOf('nodes');
const NODES6 = bytesOf('nodes6');
const PING = bytesOf('ping');
const FIND_NODE = bytesOf('find_node');
const GET_PEERS = bytesOf('get_peers');
const GET = bytesOf('get');

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

function isKey(start: number, key: Uint8Array): boolean {
  for (let k = 0; k < key.length; k++) if (src[start + k] !== key[k]) return false;
  return true;
}

function methodOf(start: number, length: number): QueryMethod {
  if (length === 4 && isKey(start, PING)) return QueryMethod.ping;
  if (length === 9 && isKey(start, FIND_NODE)) return QueryMethod.findNode;
  if (length === 9 && isKey(start, GET_PEERS)) return QueryMethod.getPeers;
  if (length === 3 && isKey(start, GET)) return QueryMethod.get;
  return QueryMethod.other;
}
