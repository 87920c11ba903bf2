/**
 * Bencode encoder (BEP 3): dict keys sorted by raw bytes, so output is canonical and decodeBencode accepts it.
 * Anything that is not a BValue — undefined, null, a non-safe integer, a string, a boolean, a class instance, a
 * key outside latin1, a cycle — is a local bug and throws DhtchatError(WIRE_BENCODE_UNENCODABLE).
 *
 * Writes into one growable buffer (a module scratch buffer reused across calls, since encoding is synchronous),
 * then returns an exact-size copy.
 */
import { DhtchatError } from '../runtime/index.ts';
import { type BValue, WIRE_BENCODE_UNENCODABLE } from './bencode-types.ts';

/** Deeper than any real message; turns a cyclic value into an error instead of a stack overflow. */
const MAX_ENCODE_DEPTH = 512;
const INITIAL_SCRATCH_BYTES = 4096;

/** Buffer's fast latin1 write is public at runtime but missing from @types/node. */
type Latin1Writable = Buffer & { latin1Write(s: string, offset: number): number };

let scratch: Buffer = Buffer.allocUnsafe(INITIAL_SCRATCH_BYTES);
let isScratchInUse = false;

function unencodable(message: string): never {
  throw new DhtchatError(WIRE_BENCODE_UNENCODABLE, message);
}

class Writer {
  buf: Buffer;
  pos = 0;

  constructor(buf: Buffer) {
    this.buf = buf;
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  /** Writes a string whose chars are all ≤ 0xff, one byte each; short strings in JS, long ones in C++. */
  latin1(s: string): void {
    this.reserve(s.length);
    if (s.length > 16) {
      this.pos += (this.buf as Latin1Writable).latin1Write(s, this.pos);
      return;
    }
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) buf[this.pos++] = s.charCodeAt(i);
  }

  /** A non-negative safe integer in decimal ASCII, without building a string. */
  decimal(n: number): void {
    if (n < 10) {
      this.byte(0x30 + n);
      return;
    }
    this.latin1(String(n));
  }

  bytes(b: Uint8Array): void {
    this.decimal(b.length);
    this.byte(0x3a);
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  key(k: string): void {
    for (let i = 0; i < k.length; i++) {
      if (k.charCodeAt(i) > 0xff) unencodable(`dict key is not latin1: ${JSON.stringify(k)}`);
    }
    this.decimal(k.length);
    this.byte(0x3a);
    this.latin1(k);
  }

  value(v: unknown, depth: number): void {
    if (v instanceof Uint8Array) {
      this.bytes(v);
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) unencodable(`not a safe integer: ${v}`);
      this.byte(0x69);
      if (v < 0) {
        this.byte(0x2d);
        this.decimal(-v);
      } else {
        this.decimal(v);
      }
      this.byte(0x65);
      return;
    }
    if (depth >= MAX_ENCODE_DEPTH) unencodable('value nested too deeply (cycle?)');
    if (Array.isArray(v)) {
      this.byte(0x6c);
      for (const item of v) this.value(item, depth + 1);
      this.byte(0x65);
      return;
    }
    if (typeof v === 'object' && v !== null) {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== null && proto !== Object.prototype) unencodable('not a plain object');
      const dict = v as Record<string, unknown>;
      // Keys are latin1 strings, so UTF-16 code-unit order (the default sort) is raw byte order.
      const keys = Object.keys(dict).sort();
      this.byte(0x64);
      for (const k of keys) {
        const item = dict[k];
        if (item === undefined) unencodable(`dict key ${JSON.stringify(k)} is undefined`);
        this.key(k);
        this.value(item, depth + 1);
      }
      this.byte(0x65);
      return;
    }
    unencodable(`cannot bencode a ${v === null ? 'null' : typeof v}`);
  }
}

/** Encodes a BValue canonically. Throws DhtchatError(WIRE_BENCODE_UNENCODABLE) on anything else. */
export function encodeBencode(value: BValue): Buffer {
  // A getter inside the value could re-enter; only the outermost call borrows the scratch buffer.
  const isBorrowing = !isScratchInUse;
  const writer = new Writer(isBorrowing ? scratch : Buffer.allocUnsafe(256));
  if (isBorrowing) isScratchInUse = true;
  try {
    writer.value(value, 0);
    const out = Buffer.allocUnsafe(writer.pos);
    writer.buf.copy(out, 0, 0, writer.pos);
    return out;
  } finally {
    if (isBorrowing) {
      // Keep a grown scratch only up to 64 KB, so one huge encode does not pin memory forever.
      if (writer.buf.length <= 65_536) scratch = writer.buf;
      isScratchInUse = false;
    }
  }
}
