/**
 * Which pieces of a transfer we hold verified: one bit per piece, most significant bit first (piece 0 is the top
 * bit of byte 0), the spare bits of the last byte zero. The store keeps these bytes, so a restarted transfer
 * resumes from exactly the pieces that were verified and written (see download.ts for when they are saved).
 */
export class Bitfield {
  readonly pieceCount: number;
  readonly #bytes: Buffer;
  #count = 0;

  constructor(pieceCount: number) {
    this.pieceCount = pieceCount;
    this.#bytes = Buffer.alloc(Math.ceil(pieceCount / 8));
  }

  /** The bitfield these bytes encode, or undefined if they are not one for pieceCount (length, spare bits). */
  static fromBytes(pieceCount: number, bytes: Uint8Array): Bitfield | undefined {
    const field = new Bitfield(pieceCount);
    if (bytes.length !== field.#bytes.length) return undefined;
    const spareBits = field.#bytes.length * 8 - pieceCount;
    if (spareBits > 0 && ((bytes[bytes.length - 1] as number) & ((1 << spareBits) - 1)) !== 0)
      return undefined;
    field.#bytes.set(bytes);
    for (const byte of field.#bytes) field.#count += popCount(byte);
    return field;
  }

  static full(pieceCount: number): Bitfield {
    const field = new Bitfield(pieceCount);
    for (let i = 0; i < pieceCount; i++) field.set(i);
    return field;
  }

  get count(): number {
    return this.#count;
  }

  get isComplete(): boolean {
    return this.#count === this.pieceCount;
  }

  has(index: number): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return false;
    return (((this.#bytes[index >> 3] as number) >> (7 - (index & 7))) & 1) === 1;
  }

  /** Sets a piece; false if it was already set (or out of range). */
  set(index: number): boolean {
    if (this.has(index) || !Number.isInteger(index) || index < 0 || index >= this.pieceCount) return false;
    this.#bytes[index >> 3] = (this.#bytes[index >> 3] as number) | (0x80 >> (index & 7));
    this.#count++;
    return true;
  }

  /** The lowest piece at or after from that is not set, or undefined. */
  nextMissing(from = 0): number | undefined {
    for (let i = Math.max(0, from); i < this.pieceCount; i++) {
      if ((i & 7) === 0 && this.#bytes[i >> 3] === 0xff) {
        i += 7;
        continue;
      }
      if (!this.has(i)) return i;
    }
    return undefined;
  }

  /** A copy of the bytes. */
  toBytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  clone(): Bitfield {
    return Bitfield.fromBytes(this.pieceCount, this.#bytes) as Bitfield;
  }
}

function popCount(byte: number): number {
  let n = 0;
  for (let b = byte; b !== 0; b &= b - 1) n++;
  return n;
}
