/**
 * Byte-level mutations of a corpus entry, after libFuzzer's and AFL's havoc stage: bit flips, interesting byte
 * values, inserts, deletes, duplicated runs, truncation, splices with another corpus entry, length-field tweaks
 * (bencode "<n>:" prefixes and u8/u16/u32 big-endian fields), and dictionary tokens (a target's keys and magic
 * bytes). One to four of them stacked per input. Output is capped at maxBytes.
 */
import type { FuzzRandom } from './fuzz-random.ts';

const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x10, 0x20, 0x30, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x7f, 0x80, 0xfe, 0xff,
];
const INTERESTING_U16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x10000, 0x4000];
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;

export interface MutationContext {
  readonly random: FuzzRandom;
  /** Other inputs to splice from. */
  readonly corpus: readonly Buffer[];
  readonly dictionary: readonly Buffer[];
  readonly maxBytes: number;
}

export function mutate(input: Buffer, ctx: MutationContext): Buffer {
  let out = input;
  const rounds = 1 + ctx.random.int(4);
  for (let i = 0; i < rounds; i++) out = mutateOnce(out, ctx);
  return out.length > ctx.maxBytes ? out.subarray(0, ctx.maxBytes) : out;
}

function mutateOnce(input: Buffer, ctx: MutationContext): Buffer {
  const { random } = ctx;
  const at = random.int(input.length + 1);
  switch (random.int(13)) {
    case 0:
      return withByte(input, at, (b) => b ^ (1 << random.int(8)));
    case 1:
      return withByte(input, at, () => random.pick(INTERESTING_BYTES));
    case 2:
      return withByte(input, at, () => random.int(256));
    case 3:
      return Buffer.concat([input.subarray(0, at), random.bytes(1 + random.int(4)), input.subarray(at)]);
    case 4:
      return Buffer.concat([input.subarray(0, at), input.subarray(at + 1 + random.int(16))]);
    case 5:
      return input.subarray(0, at);
    case 6: {
      const run = input.subarray(at, at + 1 + random.int(64));
      return Buffer.concat([input.subarray(0, at), run, run, input.subarray(at + run.length)]);
    }
    case 7:
    case 8: {
      const other = ctx.corpus.length > 0 ? random.pick(ctx.corpus) : input;
      const from = random.int(other.length + 1);
      const piece = other.subarray(from, from + 1 + random.int(128));
      const cut = random.chance(0.5) ? random.int(32) : 0;
      return Buffer.concat([input.subarray(0, at), piece, input.subarray(at + cut)]);
    }
    case 9:
      return tweakBencodeLength(input, random) ?? tweakBinaryField(input, at, random);
    case 10:
      return tweakBinaryField(input, at, random);
    case 11:
    case 12: {
      if (ctx.dictionary.length === 0) return withByte(input, at, () => random.int(256));
      const token = random.pick(ctx.dictionary);
      const overwrite = random.chance(0.5) ? token.length : 0;
      return Buffer.concat([input.subarray(0, at), token, input.subarray(at + overwrite)]);
    }
    default:
      return input;
  }
}

function withByte(input: Buffer, at: number, change: (b: number) => number): Buffer {
  if (input.length === 0) return input;
  const out = Buffer.from(input);
  const i = at % input.length;
  out[i] = change(out[i] as number) & 0xff;
  return out;
}

/** Changes the number of one "<digits>:" run (a bencode length) by a small or a boundary amount. */
function tweakBencodeLength(input: Buffer, random: FuzzRandom): Buffer | undefined {
  const colons: number[] = [];
  for (let i = 1; i < input.length && colons.length < 64; i++) {
    const before = input[i - 1] as number;
    if (input[i] === COLON && before >= DIGIT_0 && before <= DIGIT_9) colons.push(i);
  }
  if (colons.length === 0) return undefined;
  const colon = random.pick(colons);
  let start = colon;
  while (start > 0 && (input[start - 1] as number) >= DIGIT_0 && (input[start - 1] as number) <= DIGIT_9)
    start--;
  const n = Number(input.subarray(start, colon).toString('latin1'));
  const choices = [n + 1, n - 1, n + 2, 0, n * 2, n + 256, 65_536, 2 ** 31, 2 ** 53 + 1];
  const replacement = Buffer.from(String(Math.max(0, random.pick(choices))), 'latin1');
  return Buffer.concat([input.subarray(0, start), replacement, input.subarray(colon)]);
}

/** Sets a u8, u16 or u32 big-endian field at `at` to a boundary value or nudges it by ±1..16. */
function tweakBinaryField(input: Buffer, at: number, random: FuzzRandom): Buffer {
  const width = random.pick([1, 2, 4] as const);
  if (input.length < width) return input;
  const out = Buffer.from(input);
  const offset = Math.min(at, input.length - width);
  const max = width === 4 ? 0xffffffff : width === 2 ? 0xffff : 0xff;
  const current = out.readUIntBE(offset, width);
  const nudged = current + (random.chance(0.5) ? 1 : -1) * (1 + random.int(16));
  const boundary =
    width === 4
      ? random.pick(INTERESTING_U32)
      : width === 2
        ? random.pick(INTERESTING_U16)
        : random.pick(INTERESTING_BYTES);
  const value = random.chance(0.5) ? boundary : nudged;
  out.writeUIntBE(((value % (max + 1)) + (max + 1)) % (max + 1), offset, width);
  return out;
}
