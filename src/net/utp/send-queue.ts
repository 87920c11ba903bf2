/**
 * Bytes the application wrote that are not yet in a packet. Packets are cut from it only when the window lets
 * one go out, so small writes made while the window is full share a packet.
 */
export class SendQueue {
  #chunks: Buffer[] = [];
  #head = 0;
  #bytes = 0;

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * isOwned: the caller hands the buffer over and will not change it (a Writable stream's chunk, as net.Socket
   * assumes), so it is kept as is instead of copied.
   */
  push(bytes: Uint8Array, isOwned = false): void {
    if (bytes.length === 0) return;
    if (isOwned && Buffer.isBuffer(bytes)) {
      this.#chunks.push(bytes);
      this.#bytes += bytes.length;
      return;
    }
    // A copy: the caller may reuse its buffer, and a packet may be resent long after the write returned.
    // allocUnsafe + set: Buffer.from(Uint8Array) takes a zero-filling, element-wise path (~5 % of a stream's CPU).
    const copy = Buffer.allocUnsafe(bytes.length);
    copy.set(bytes);
    this.#chunks.push(copy);
    this.#bytes += bytes.length;
  }

  /**
   * Removes and returns up to maxBytes in a new buffer with headroomBytes free before it (the packet's header
   * is then written there, not the payload copied behind a header: encodePacket's headroomBytes).
   */
  takeWithHeadroom(maxBytes: number, headroomBytes: number): Buffer {
    const length = Math.min(maxBytes, this.#bytes);
    if (length <= 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(headroomBytes + length);
    let filled = headroomBytes;
    while (filled < out.length) {
      const part = this.#takeFromHead(out.length - filled);
      out.set(part, filled);
      filled += part.length;
    }
    return out.subarray(headroomBytes);
  }

  #takeFromHead(maxBytes: number): Buffer {
    const chunk = this.#chunks[this.#head] as Buffer;
    if (chunk.length > maxBytes) {
      this.#chunks[this.#head] = chunk.subarray(maxBytes);
      this.#bytes -= maxBytes;
      return chunk.subarray(0, maxBytes);
    }
    this.#head++;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
    this.#bytes -= chunk.length;
    return chunk;
  }
}
