/**
 * Strict bencode decoder for remote input (BEP 3). Index-based recursive descent over one buffer: no regex, no
 * per-byte string building. It never throws: every rejection is a value with a stable code and the byte offset
 * where it was found. By default only the canonical form is accepted, so decode→encode reproduces the input
 * exactly (BEP 44 relies on this for `v`); `isKeyOrderStrict: false` relaxes key order alone.
 *
 * Byte strings: the input is copied once into a private buffer and every decoded byte string is a subarray view
 * of that copy. Values never alias the caller's bytes (a reused receive buffer cannot change them later), and a
 * packet costs one memcpy instead of one allocation per string (measured: views of the caller's bytes would be
 * ~20% faster; per-string copies slower). A view keeps its copy alive — for inputs under 4 KB that is a slot in
 * Node's shared 8 KB pool, exactly as any small Buffer.from() would — so stored values cost little extra.
 */
import {
  BencodeErrorCode,
  type BencodeErrorCodeValue,
  type BDict,
  type BValue,
  DEFAULT_DECODE_LIMITS,
  type DecodeLimits,
  type DecodeResult,
  MAX_DEPTH_CAP,
} from './bencode-types.ts';
import { keyString, type Latin1Sliceable } from './bencode-keys.ts';

const CH_D = 0x64; // 'd'
const CH_E = 0x65; // 'e'
const CH_I = 0x69; // 'i'
const CH_L = 0x6c; // 'l'
const CH_COLON = 0x3a;
const CH_MINUS = 0x2d;
const CH_0 = 0x30;
const CH_9 = 0x39;

class Decoder {
  readonly src: Latin1Sliceable;
  readonly end: number;
  readonly maxDepth: number;
  readonly isKeyOrderStrict: boolean;
  itemsLeft: number;
  pos = 0;
  code: BencodeErrorCodeValue | undefined = undefined;
  errorOffset = 0;

  constructor(src: Buffer, maxDepth: number, maxItems: number, isKeyOrderStrict: boolean) {
    this.src = src as Latin1Sliceable;
    this.end = src.length;
    this.maxDepth = maxDepth;
    this.itemsLeft = maxItems;
    this.isKeyOrderStrict = isKeyOrderStrict;
  }

  fail(code: BencodeErrorCodeValue, offset: number): undefined {
    this.code = code;
    this.errorOffset = offset;
    return undefined;
  }

  /** Reads one value at pos; depth is the nesting level of the value's container (0 at top level). */
  value(depth: number): BValue | undefined {
    if (this.pos >= this.end) return this.fail(BencodeErrorCode.truncated, this.pos);
    if (--this.itemsLeft < 0) return this.fail(BencodeErrorCode.tooManyItems, this.pos);
    const c = this.src[this.pos]!;
    if (c >= CH_0 && c <= CH_9) return this.byteString();
    if (c === CH_I) return this.integer();
    if (c === CH_L) return this.list(depth + 1);
    if (c === CH_D) return this.dict(depth + 1);
    return this.fail(BencodeErrorCode.invalidToken, this.pos);
  }

  /** `<length>:<bytes>`; returns the [start, end) span of the bytes, or -1 (error set). */
  stringSpan(): number {
    const src = this.src;
    const start = this.pos;
    let p = start;
    let length = 0;
    // Lengths are bounded by the buffer, so 10 digits are already far past any possible input.
    while (p < this.end) {
      const c = src[p]!;
      if (c === CH_COLON) break;
      if (c < CH_0 || c > CH_9) {
        this.fail(BencodeErrorCode.badLength, p);
        return -1;
      }
      if (p - start >= 10) {
        this.fail(BencodeErrorCode.truncated, start);
        return -1;
      }
      length = length * 10 + (c - CH_0);
      p++;
    }
    if (p >= this.end) {
      this.fail(BencodeErrorCode.truncated, p);
      return -1;
    }
    if (p - start > 1 && src[start] === CH_0) {
      this.fail(BencodeErrorCode.leadingZero, start);
      return -1;
    }
    p++; // ':'
    if (length > this.end - p) {
      this.fail(BencodeErrorCode.truncated, start);
      return -1;
    }
    this.pos = p + length;
    return p;
  }

  byteString(): Buffer | undefined {
    const start = this.stringSpan();
    if (start < 0) return undefined;
    return this.src.subarray(start, this.pos);
  }

  integer(): number | undefined {
    const src = this.src;
    const start = this.pos;
    let p = start + 1;
    let isNegative = false;
    if (p < this.end && src[p] === CH_MINUS) {
      isNegative = true;
      p++;
    }
    const digitsStart = p;
    let n = 0;
    while (p < this.end) {
      const c = src[p]!;
      if (c === CH_E) break;
      if (c < CH_0 || c > CH_9) return this.fail(BencodeErrorCode.badInteger, p);
      n = n * 10 + (c - CH_0);
      // Checked per digit: once past 2^53 the sum is inexact, but it can only grow, so the test stays right.
      if (n > Number.MAX_SAFE_INTEGER) return this.fail(BencodeErrorCode.integerRange, start);
      p++;
    }
    if (p >= this.end) return this.fail(BencodeErrorCode.truncated, p);
    if (p === digitsStart) return this.fail(BencodeErrorCode.badInteger, start);
    if (src[digitsStart] === CH_0) {
      if (p - digitsStart > 1) return this.fail(BencodeErrorCode.leadingZero, start);
      if (isNegative) return this.fail(BencodeErrorCode.negativeZero, start);
    }
    this.pos = p + 1;
    return isNegative ? -n : n;
  }

  list(depth: number): BValue[] | undefined {
    if (depth > this.maxDepth) return this.fail(BencodeErrorCode.tooDeep, this.pos);
    this.pos++;
    const out: BValue[] = [];
    for (;;) {
      if (this.pos >= this.end) return this.fail(BencodeErrorCode.truncated, this.pos);
      if (this.src[this.pos] === CH_E) {
        this.pos++;
        return out;
      }
      const item = this.value(depth);
      if (item === undefined) return undefined;
      out.push(item);
    }
  }

  dict(depth: number): BDict | undefined {
    if (depth > this.maxDepth) return this.fail(BencodeErrorCode.tooDeep, this.pos);
    const src = this.src;
    this.pos++;
    const out: BDict = Object.create(null);
    let prevStart = -1;
    // Lenient order only: once keys went out of order, duplicates can hide anywhere, so each key is looked up.
    let isDisordered = false;
    let prevEnd = -1;
    for (;;) {
      if (this.pos >= this.end) return this.fail(BencodeErrorCode.truncated, this.pos);
      const c = src[this.pos]!;
      if (c === CH_E) {
        this.pos++;
        return out;
      }
      if (c < CH_0 || c > CH_9) return this.fail(BencodeErrorCode.nonStringKey, this.pos);
      const keyOffset = this.pos;
      const keyStart = this.stringSpan();
      if (keyStart < 0) return undefined;
      const keyEnd = this.pos;
      if (prevStart >= 0) {
        const order = compareSpans(src, prevStart, prevEnd, keyStart, keyEnd);
        if (order === 0) return this.fail(BencodeErrorCode.duplicateKey, keyOffset);
        if (order > 0) {
          if (this.isKeyOrderStrict) return this.fail(BencodeErrorCode.unsortedKeys, keyOffset);
          isDisordered = true;
        }
      }
      prevStart = keyStart;
      prevEnd = keyEnd;
      // A key without a value ("d1:ae") lands in value() as an invalid token or truncation.
      const item = this.value(depth);
      if (item === undefined) return undefined;
      const key = keyString(src, keyStart, keyEnd);
      if (isDisordered && key in out) return this.fail(BencodeErrorCode.duplicateKey, keyOffset);
      out[key] = item;
    }
  }
}

/** Raw-byte comparison of two spans of one buffer (shorter prefix sorts first, as BEP 3 requires). */
function compareSpans(src: Uint8Array, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = src[aStart + i]! - src[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

/** A usable limit (Infinity allowed: no limit), else the default. */
function limitOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value >= 0 ? Math.floor(value) : fallback;
}

/** Decodes exactly one canonical bencoded value spanning all of `bytes`. Never throws. */
export function decodeBencode(bytes: Uint8Array, limits?: DecodeLimits): DecodeResult {
  const maxBytes = limitOr(limits?.maxBytes, DEFAULT_DECODE_LIMITS.maxBytes);
  if (!(bytes instanceof Uint8Array)) return { ok: false, code: BencodeErrorCode.invalidToken, offset: 0 };
  if (bytes.length > maxBytes) return { ok: false, code: BencodeErrorCode.tooLarge, offset: maxBytes };
  const maxDepth = Math.min(limitOr(limits?.maxDepth, DEFAULT_DECODE_LIMITS.maxDepth), MAX_DEPTH_CAP);
  const maxItems = limitOr(limits?.maxItems, DEFAULT_DECODE_LIMITS.maxItems);
  const copy = Buffer.allocUnsafe(bytes.length);
  copy.set(bytes);
  const decoder = new Decoder(copy, maxDepth, maxItems, limits?.isKeyOrderStrict !== false);
  const value = decoder.value(0);
  if (value === undefined) {
    return { ok: false, code: decoder.code ?? BencodeErrorCode.invalidToken, offset: decoder.errorOffset };
  }
  if (decoder.pos !== decoder.end)
    return { ok: false, code: BencodeErrorCode.trailingBytes, offset: decoder.pos };
  return { ok: true, value };
}
