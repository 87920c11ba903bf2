/**
 * Precomputed KRPC templates for everything the bootstrap server sends: the reply to ping / find_node /
 * get_peers / get, the SYN-cookie ping, and the cross-pollination find_node. The constant parts (own id,
 * version, key names) are built once; per packet only the requester's address, the nodes and the transaction id
 * are patched into a caller-owned output buffer. Keys are written in sorted order, as bencoding requires.
 *
 * Reply:  d 2:ip <addr> 1:r d 2:id 20:<id> [5:nodes <v4>] [6:nodes6 <v6>] e 1:t <tid> [1:v 4:<ver>] 1:y 1:r e
 */
import { DhtchatError } from '../runtime/index.ts';

const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Room needed for the largest packet written here (a reply is capped by the server well below this). */
export const MAX_PACKET_BYTES = 1500;

export class ResponseWriter {
  readonly ownId: Buffer;
  readonly #replyHead4: Buffer;
  readonly #replyHead6: Buffer;
  readonly #replyId: Buffer;
  readonly #replyTail: Buffer;
  readonly #pingHead: Buffer;
  readonly #pingTail: Buffer;
  readonly #findNodeHead: Buffer;
  readonly #findNodeTail: Buffer;

  /** ownId: 20 bytes; version: the 4-byte BEP 5 `v` (client id and version) or undefined to omit it. */
  constructor(ownId: Buffer, version?: Buffer) {
    if (ownId.length !== 20) throw new DhtchatError('BOOTSTRAP_BAD_OPTION', 'own id must be 20 bytes');
    this.ownId = Buffer.from(ownId);
    const v = version === undefined ? latin1('') : Buffer.concat([latin1('1:v4:'), version.subarray(0, 4)]);
    this.#replyHead4 = latin1('d2:ip6:');
    this.#replyHead6 = latin1('d2:ip18:');
    this.#replyId = Buffer.concat([latin1('1:rd2:id20:'), this.ownId]);
    this.#replyTail = Buffer.concat([v, latin1('1:y1:re')]);
    this.#pingHead = Buffer.concat([latin1('d1:ad2:id20:'), this.ownId, latin1('e2:ip')]);
    this.#pingTail = Buffer.concat([v, latin1('1:y1:qe')]);
    this.#findNodeHead = Buffer.concat([latin1('d1:ad2:id20:'), this.ownId, latin1('6:target20:')]);
    this.#findNodeTail = Buffer.concat([v, latin1('1:y1:qe')]);
  }

  /** Bytes of a reply without nodes and with a tid of tidLength, for an address of addrLength (6 or 18). */
  replyOverheadBytes(addrLength: number, tidLength: number): number {
    return (
      (addrLength === 6 ? 7 : 8) +
      addrLength +
      this.#replyId.length +
      4 +
      decimalLength(tidLength) +
      1 +
      tidLength +
      this.#replyTail.length
    );
  }

  /** Writes `d2:ip<addr>1:rd2:id20:<id>` at out[0]; returns the position after it. */
  beginReply(out: Buffer, addr: Uint8Array, addrOffset: number, addrLength: number): number {
    const head = addrLength === 6 ? this.#replyHead4 : this.#replyHead6;
    let pos = copyInto(head, out, 0);
    for (let k = 0; k < addrLength; k++) out[pos + k] = addr[addrOffset + k]!;
    pos += addrLength;
    return pos + copyInto(this.#replyId, out, pos);
  }

  /** Writes the `5:nodes<n>:` or `6:nodes6<n>:` key and length prefix; the caller copies the entries after. */
  writeNodesKey(out: Buffer, pos: number, isV6: boolean, byteLength: number): number {
    if (isV6) {
      pos = writeAscii(out, pos, '6:nodes6');
    } else {
      pos = writeAscii(out, pos, '5:nodes');
    }
    pos = writeDecimal(out, pos, byteLength);
    out[pos] = 0x3a;
    return pos + 1;
  }

  /** Closes `r` and writes the tid (copied from src) and the tail; returns the total length. */
  finishReply(out: Buffer, pos: number, src: Uint8Array, tidOffset: number, tidLength: number): number {
    out[pos++] = 0x65; // e (end of r)
    out[pos++] = 0x31; // 1
    out[pos++] = 0x3a; // :
    out[pos++] = 0x74; // t
    pos = writeDecimal(out, pos, tidLength);
    out[pos++] = 0x3a;
    for (let k = 0; k < tidLength; k++) out[pos + k] = src[tidOffset + k]!;
    pos += tidLength;
    return pos + copyInto(this.#replyTail, out, pos);
  }

  /** The SYN-cookie ping: `d1:ad2:id20:<id>e2:ip<addr>1:q4:ping1:t4:<cookie>[v]1:y1:qe`. Returns its length. */
  writePing(
    out: Buffer,
    addr: Uint8Array,
    addrOffset: number,
    addrLength: number,
    cookie: Uint8Array,
  ): number {
    let pos = copyInto(this.#pingHead, out, 0);
    pos = writeDecimal(out, pos, addrLength);
    out[pos++] = 0x3a;
    for (let k = 0; k < addrLength; k++) out[pos + k] = addr[addrOffset + k]!;
    pos += addrLength;
    pos = writeAscii(out, pos, '1:q4:ping1:t4:');
    for (let k = 0; k < 4; k++) out[pos + k] = cookie[k]!;
    pos += 4;
    return pos + copyInto(this.#pingTail, out, pos);
  }

  /** find_node for cross-pollination, asking for both families, with a cookie tid. Returns its length. */
  writeFindNode(out: Buffer, target: Uint8Array, cookie: Uint8Array): number {
    let pos = copyInto(this.#findNodeHead, out, 0);
    for (let k = 0; k < 20; k++) out[pos + k] = target[k]!;
    pos += 20;
    pos = writeAscii(out, pos, '4:wantl2:n42:n6ee1:q9:find_node1:t4:');
    for (let k = 0; k < 4; k++) out[pos + k] = cookie[k]!;
    pos += 4;
    return pos + copyInto(this.#findNodeTail, out, pos);
  }
}

/** Copies all of src to out[pos] with a plain loop: Buffer#copy allocates a view per call in Node 20. */
function copyInto(src: Uint8Array, out: Uint8Array, pos: number): number {
  const n = src.length;
  for (let k = 0; k < n; k++) out[pos + k] = src[k]!;
  return n;
}

function writeAscii(out: Buffer, pos: number, text: string): number {
  for (let k = 0; k < text.length; k++) out[pos + k] = text.charCodeAt(k);
  return pos + text.length;
}

function decimalLength(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

/** Writes a non-negative integer in decimal; returns the position after it. */
function writeDecimal(out: Buffer, pos: number, n: number): number {
  const digits = decimalLength(n);
  for (let k = digits - 1; k >= 0; k--) {
    out[pos + k] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  }
  return pos + digits;
}
