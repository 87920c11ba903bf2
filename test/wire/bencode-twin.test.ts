/**
 * Differential test: the fast decoder against a deliberately naive twin (regexes over a latin1 string, written
 * for obviousness, not speed). Both must agree on accept/reject and on the decoded value, for generated
 * canonical values, random noise, and edited encodings.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type BDict, type BValue, decodeBencode, encodeBencode } from '../../src/wire/index.ts';

const MAX_DEPTH = 32;
const MAX_ITEMS = 4096;

/** Returns the decoded value, or undefined for anything the strict rules reject. */
function naiveDecode(bytes: Uint8Array): BValue | undefined {
  const s = Buffer.from(bytes).toString('latin1');
  let items = 0;
  const parse = (i: number, depth: number): [BValue, number] => {
    if (++items > MAX_ITEMS) throw new Error('items');
    const int = /i(-?)(\d+)e/y;
    int.lastIndex = i;
    const m = int.exec(s);
    if (m) {
      const [, sign, digits] = m as unknown as [string, string, string];
      if (digits.length > 1 && digits.startsWith('0')) throw new Error('leading zero');
      if (sign === '-' && digits === '0') throw new Error('-0');
      const n = Number(sign + digits);
      if (!Number.isSafeInteger(n)) throw new Error('range');
      return [n, int.lastIndex];
    }
    const str = /(\d+):/y;
    str.lastIndex = i;
    const sm = str.exec(s);
    if (sm) {
      const digits = sm[1]!;
      if (digits.length > 1 && digits.startsWith('0')) throw new Error('leading zero');
      const length = Number(digits);
      const start = str.lastIndex;
      if (start + length > s.length) throw new Error('truncated');
      return [Buffer.from(s.slice(start, start + length), 'latin1'), start + length];
    }
    if (s[i] === 'l' || s[i] === 'd') {
      if (depth + 1 > MAX_DEPTH) throw new Error('deep');
      const isDict = s[i] === 'd';
      const list: BValue[] = [];
      const dict: BDict = Object.create(null);
      let lastKey: string | undefined;
      let p = i + 1;
      while (s[p] !== 'e') {
        if (p >= s.length) throw new Error('truncated');
        if (isDict) {
          if (!/\d/.test(s[p]!)) throw new Error('key');
          const [key, afterKey] = parse(p, depth + 1);
          const k = (key as Buffer).toString('latin1');
          if (lastKey !== undefined && !(lastKey < k)) throw new Error('order');
          lastKey = k;
          const [v, next] = parse(afterKey, depth + 1);
          dict[k] = v;
          p = next;
        } else {
          const [v, next] = parse(p, depth + 1);
          list.push(v);
          p = next;
        }
      }
      return [isDict ? dict : list, p + 1];
    }
    throw new Error('token');
  };
  try {
    const [v, end] = parse(0, 0);
    return end === s.length ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The twin counts dict keys as items too (they go through parse); the fast decoder does not. Keep generated
 * inputs well under the item limit so the two rules cannot disagree.
 */
function agree(bytes: Uint8Array): void {
  const fast = decodeBencode(bytes);
  const naive = naiveDecode(bytes);
  const shown = Buffer.from(bytes).toString('latin1').slice(0, 80);
  assert.equal(fast.ok, naive !== undefined, `accept/reject differ for ${JSON.stringify(shown)}`);
  if (fast.ok) assert.deepEqual(fast.value, naive);
}

const alphabet = fc.constantFrom(...'ilde:-0123456789xa'.split('').map((c) => c.charCodeAt(0)));

test('fast decoder and naive twin agree on bencode-alphabet noise', () => {
  fc.assert(
    fc.property(fc.array(alphabet, { maxLength: 40 }), (codes) => agree(Buffer.from(codes))),
    {
      numRuns: 10_000,
    },
  );
});

test('fast decoder and naive twin agree on random bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), (a) => agree(a)),
    { numRuns: 5_000 },
  );
});

test('fast decoder and naive twin agree on edited canonical encodings', () => {
  const value = fc.letrec<{ v: BValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.array(fc.tuple(fc.string({ maxLength: 3 }), tie('v')), { maxLength: 4 }).map((entries) => {
        const d: BDict = Object.create(null);
        for (const [k, v] of entries) d[Buffer.from(k).toString('latin1')] = v;
        return d;
      }),
    ),
  })).v;
  fc.assert(
    fc.property(value, fc.nat(), alphabet, (v, at, byte) => {
      const bytes = Buffer.from(encodeBencode(v));
      agree(bytes);
      bytes[at % bytes.length] = byte;
      agree(bytes);
    }),
    { numRuns: 5_000 },
  );
});

test('the twin agrees on the depth limit boundary', () => {
  agree(Buffer.from(`${'l'.repeat(32)}${'e'.repeat(32)}`));
  agree(Buffer.from(`${'l'.repeat(33)}${'e'.repeat(33)}`));
});
