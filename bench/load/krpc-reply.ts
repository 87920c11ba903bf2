/**
 * The per-packet work of the reference responder: a plain KRPC answer with no DHT behind it. Decode the query
 * (the project's strict decoder), check t, y, q and a 20-byte a.id, answer ping with our id and find_node /
 * get_peers with 16 fixed compact nodes, the requester's address in "ip" (BEP 42). Anything else: no answer.
 * It is the yardstick "what a Node server that decodes and replies costs", for the bootstrap and DHT node benches.
 */
import { randomBytes } from 'node:crypto';
import { type BDict, decodeBencode, ipv4ToBytes } from '../../src/wire/index.ts';

const NODES_PER_REPLY = 16;
const latin1 = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The fixed parts of every reply, keys in bencode order: ip, r (id, nodes), t, y. */
export class KrpcReplier {
  readonly #ipPrefix = latin1('d2:ip6:');
  readonly #idPart: Buffer;
  readonly #nodesPart: Buffer;
  readonly #bodyEnd = latin1('e');
  readonly #replyEnd = latin1('1:y1:re');

  constructor(ownId: Buffer = randomBytes(20)) {
    this.#idPart = Buffer.concat([latin1('1:rd2:id20:'), ownId]);
    this.#nodesPart = Buffer.concat([
      latin1(`5:nodes${NODES_PER_REPLY * 26}:`),
      randomBytes(NODES_PER_REPLY * 26),
    ]);
  }

  /** The reply to one packet from host:port, or undefined when it is not a query we answer. */
  reply(packet: Buffer, host: string, port: number): Buffer | undefined {
    const decoded = decodeBencode(packet);
    if (!decoded.ok || !isDict(decoded.value)) return undefined;
    const { t: tid, y: kind, q: method, a: args } = decoded.value;
    if (!Buffer.isBuffer(tid) || !Buffer.isBuffer(kind) || kind.toString('latin1') !== 'q') return undefined;
    if (!Buffer.isBuffer(method) || !isDict(args)) return undefined;
    const id = args['id'];
    if (!Buffer.isBuffer(id) || id.length !== 20) return undefined;
    const name = method.toString('latin1');
    const hasNodes = name === 'find_node' || name === 'get_peers';
    if (!hasNodes && name !== 'ping') return undefined;
    const address = ipv4ToBytes(host);
    if (address === undefined) return undefined;
    const compact = Buffer.allocUnsafe(6);
    address.copy(compact, 0);
    compact.writeUInt16BE(port, 4);
    const parts = [this.#ipPrefix, compact, this.#idPart];
    if (hasNodes) parts.push(this.#nodesPart);
    parts.push(this.#bodyEnd, latin1(`1:t${tid.length}:`), tid, this.#replyEnd);
    return Buffer.concat(parts);
  }
}

function isDict(value: unknown): value is BDict {
  return typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Array.isArray(value);
}
