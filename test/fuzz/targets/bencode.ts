/**
 * decodeBencode (src/wire): strict, canonical, bounded. Properties: never throws; a rejection has a known code and
 * an offset inside the input; an accepted value is well formed (safe integers, null-prototype dicts, depth and
 * item counts within the limits it was given) and re-encodes to exactly the input (canonical form). Half the
 * inputs decode under tight limits so the limit checks themselves are tried.
 */
import assert from 'node:assert/strict';
import {
  type BDict,
  BencodeErrorCode,
  type BValue,
  decodeBencode,
  encodeBencode,
} from '../../../src/wire/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const KNOWN_CODES = new Set<string>(Object.values(BencodeErrorCode));
const TIGHT = { maxDepth: 3, maxItems: 12, maxBytes: 200 };

const dict = (o: Record<string, BValue>): BDict => Object.assign(Object.create(null), o);

/** Container nesting depth (a top-level list is 1, as the decoder counts) and number of values of a tree. */
function measure(v: BValue, depth: number, out: { depth: number; items: number }): void {
  out.items++;
  if (Buffer.isBuffer(v)) return;
  if (typeof v === 'number') {
    assert.ok(Number.isSafeInteger(v), 'integers are safe');
    return;
  }
  out.depth = Math.max(out.depth, depth + 1);
  if (Array.isArray(v)) {
    for (const item of v) measure(item, depth + 1, out);
    return;
  }
  assert.equal(Object.getPrototypeOf(v), null, 'dicts have a null prototype');
  for (const item of Object.values(v)) measure(item, depth + 1, out);
}

export const bencodeTarget: FuzzTarget = {
  name: 'bencode',
  decoders: 'decodeBencode',
  weight: 20,
  maxInputBytes: 4096,
  dictionary: tokens(
    'd',
    'e',
    'l',
    'i',
    '0:',
    '1:',
    '20:',
    'i-0e',
    'i00e',
    'i-1e',
    'i9007199254740992e',
    'ie',
    '4294967296:',
    'de',
    'le',
    '1:a',
    '1:b',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    const values: BValue[] = [
      dict({
        a: dict({ id: random.bytes(20) }),
        q: Buffer.from('ping'),
        t: Buffer.from('aa'),
        y: Buffer.from('q'),
      }),
      dict({
        r: dict({ id: random.bytes(20), nodes: random.bytes(26 * 8), token: random.bytes(8) }),
        t: Buffer.from('ab'),
        y: Buffer.from('r'),
      }),
      dict({ e: [201, Buffer.from('A Generic Error')], t: Buffer.from('ac'), y: Buffer.from('e') }),
      [1, -2, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Buffer.alloc(0), [], dict({})],
      dict({ v: dict({ m: Buffer.from('hello'), n: [1, [2, [3, [4]]]] }), z: Buffer.from('é', 'utf8') }),
      Buffer.from('just a string'),
      42,
    ];
    return values.map((v) => encodeBencode(v));
  },
  run(input: Buffer): string {
    const isTight = input.length > 0 && (input[input.length - 1] as number) % 2 === 1;
    const limits = isTight ? TIGHT : undefined;
    const r = decodeBencode(input, limits);
    if (!r.ok) {
      assert.ok(KNOWN_CODES.has(r.code), `unknown code ${r.code}`);
      assert.ok(
        Number.isInteger(r.offset) && r.offset >= 0 && r.offset <= input.length,
        `offset ${r.offset}`,
      );
      return `${isTight ? 'tight' : 'default'}:${r.code}`;
    }
    const shape = { depth: 0, items: 0 };
    measure(r.value, 0, shape);
    if (isTight) {
      assert.ok(
        shape.depth <= TIGHT.maxDepth && shape.items <= TIGHT.maxItems && input.length <= TIGHT.maxBytes,
      );
    }
    assert.ok(encodeBencode(r.value).equals(input), 'an accepted input re-encodes to itself');
    return `${isTight ? 'tight' : 'default'}:ok:${typeOf(r.value)}:${shape.depth}`;
  },
};

function typeOf(v: BValue): string {
  if (Buffer.isBuffer(v)) return 's';
  if (typeof v === 'number') return 'i';
  return Array.isArray(v) ? 'l' : 'd';
}
