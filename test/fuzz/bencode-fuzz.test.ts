/**
 * Fuzz target for decodeBencode: 100,000+ inputs — random bytes, bencode-alphabet noise, and mutations (bit
 * flips, truncation, insertion, deletion, splices) of valid KRPC-like messages. Every result must be a
 * well-formed value (never a throw), and anything accepted must re-encode to the exact input (canonical form).
 * Seeded (mulberry32) so a failure reproduces: the seed and case index are in the assertion message.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type BDict,
  BencodeErrorCode,
  type BValue,
  decodeBencode,
  encodeBencode,
} from '../../src/wire/index.ts';

const SEED = 0x5eed_b0de;
const CASES = 120_000;
const KNOWN_CODES = new Set<string>(Object.values(BencodeErrorCode));

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dict = (o: Record<string, BValue>): BDict => Object.assign(Object.create(null), o);
const bytesOf = (n: number, seed: number): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + seed) & 0xff));
const s = (text: string): Buffer => Buffer.from(text, 'latin1');

/** Valid messages of each KRPC shape the DHT sees. */
const CORPUS: Buffer[] = [
  dict({ a: dict({ id: bytesOf(20, 1) }), q: s('ping'), t: s('aa'), y: s('q') }),
  dict({
    a: dict({ id: bytesOf(20, 2), target: bytesOf(20, 3), want: [s('n4'), s('n6')] }),
    q: s('find_node'),
    t: s('ab'),
    y: s('q'),
  }),
  dict({
    ip: bytesOf(6, 4),
    r: dict({ id: bytesOf(20, 5), nodes: bytesOf(26 * 8, 6), token: bytesOf(8, 7) }),
    t: s('ac'),
    y: s('r'),
  }),
  dict({
    r: dict({
      id: bytesOf(20, 8),
      token: bytesOf(20, 9),
      values: Array.from({ length: 12 }, (_, i) => bytesOf(6, i)),
    }),
    t: s('ad'),
    y: s('r'),
  }),
  dict({
    a: dict({
      id: bytesOf(20, 10),
      implied_port: 1,
      info_hash: bytesOf(20, 11),
      port: 6881,
      token: bytesOf(8, 12),
    }),
    q: s('announce_peer'),
    t: s('ae'),
    y: s('q'),
  }),
  dict({
    a: dict({
      cas: 3,
      id: bytesOf(20, 13),
      k: bytesOf(32, 14),
      salt: s('foobar'),
      seq: 4,
      sig: bytesOf(64, 15),
      token: bytesOf(8, 16),
      v: dict({ m: s('hello'), n: [1, -2, dict({ x: s('') })] }),
    }),
    q: s('put'),
    t: s('af'),
    y: s('q'),
  }),
  dict({ e: [201, s('A Generic Error Ocurred')], t: s('ag'), y: s('e') }),
  dict({
    r: dict({
      id: bytesOf(20, 17),
      interval: 21600,
      nodes6: bytesOf(38 * 2, 18),
      num: 1234,
      samples: bytesOf(20 * 5, 19),
    }),
    t: s('ah'),
    y: s('r'),
  }),
].map((m) => encodeBencode(m));

function assertWellFormedValue(v: unknown, depth: number): void {
  assert.ok(depth <= 33, 'depth');
  if (Buffer.isBuffer(v)) return;
  if (typeof v === 'number') {
    assert.ok(Number.isSafeInteger(v));
    return;
  }
  if (Array.isArray(v)) {
    for (const item of v) assertWellFormedValue(item, depth + 1);
    return;
  }
  assert.ok(typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === null, 'null-prototype dict');
  for (const item of Object.values(v)) assertWellFormedValue(item, depth + 1);
}

function mutate(rand: () => number, pick: (n: number) => number): Buffer {
  const base = CORPUS[pick(CORPUS.length)]!;
  let out = Buffer.from(base);
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const at = pick(out.length + 1);
    switch (pick(6)) {
      case 0: // bit flip
        if (out.length > 0) out[at % out.length]! ^= 1 << pick(8);
        break;
      case 1: // truncation
        out = out.subarray(0, at);
        break;
      case 2: // insertion of a structural or random byte
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from([rand() < 0.5 ? s('ilde:-0123456789')[pick(16)]! : pick(256)]),
          out.subarray(at),
        ]);
        break;
      case 3: // deletion of a run
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + pick(8))]);
        break;
      case 4: {
        // splice: a slice of another message
        const other = CORPUS[pick(CORPUS.length)]!;
        const from = pick(other.length);
        out = Buffer.concat([
          out.subarray(0, at),
          other.subarray(from, from + 1 + pick(40)),
          out.subarray(at + pick(40)),
        ]);
        break;
      }
      default: // overwrite a digit, to stress lengths and integers
        if (out.length > 0) out[at % out.length] = 0x30 + pick(10);
    }
  }
  return out;
}

test(`decodeBencode survives ${CASES.toLocaleString('en-US')} fuzzed inputs (seed ${SEED})`, () => {
  const rand = mulberry32(SEED);
  const pick = (n: number): number => Math.floor(rand() * n);
  const alphabet = s('ilde:-0123456789');
  let accepted = 0;
  const codesSeen = new Set<string>();
  for (let i = 0; i < CASES; i++) {
    let input: Buffer;
    const kind = i % 10;
    if (kind === 0) input = Buffer.from(Array.from({ length: pick(64) }, () => pick(256)));
    else if (kind === 1)
      input = Buffer.from(Array.from({ length: pick(48) }, () => alphabet[pick(alphabet.length)]!));
    else input = mutate(rand, pick);
    const where = (): string => `case ${i}, seed ${SEED}, input ${input.toString('hex').slice(0, 200)}`;
    let r: ReturnType<typeof decodeBencode>;
    try {
      r = decodeBencode(input);
    } catch (e) {
      assert.fail(`decodeBencode threw (${where()}): ${String(e)}`);
    }
    if (r.ok) {
      accepted++;
      assertWellFormedValue(r.value, 0);
      if (!encodeBencode(r.value).equals(input)) assert.fail(`accepted input is not canonical (${where()})`);
    } else {
      codesSeen.add(r.code);
      if (!KNOWN_CODES.has(r.code)) assert.fail(`unknown code ${r.code} (${where()})`);
      if (!(Number.isInteger(r.offset) && r.offset >= 0 && r.offset <= input.length)) {
        assert.fail(`offset ${r.offset} out of range (${where()})`);
      }
    }
  }
  // The mix really exercises both paths and most rejection rules.
  assert.ok(accepted > 100, `only ${accepted} inputs were accepted`);
  assert.ok(codesSeen.size >= 10, `only saw codes ${[...codesSeen].join(', ')}`);
});

test('every corpus message decodes and re-encodes exactly', () => {
  for (const m of CORPUS) {
    const r = decodeBencode(m);
    assert.ok(r.ok);
    assert.deepEqual(encodeBencode(r.value), m);
  }
});
