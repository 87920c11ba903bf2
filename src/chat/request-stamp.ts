/**
 * The proof of work a friend request carries (issue 10 §3): a hashcash stamp that costs a requester about a
 * second of CPU per recipient and hour, and the recipient a few µs to check. A real person sends a handful of
 * requests and never notices; someone who makes up a fresh identity per request to get past the per-key limits
 * pays that second for every one of them.
 *
 *   part i = SHA-256(label ‖ 0x00 ‖ recipientPk ‖ requesterPk ‖ hour (u32 BE) ‖ i (u8) ‖ nonce_i (8 bytes))
 *   valid  ⇔ each of the STAMP_PARTS parts starts with ≥ bits zero bits, and hour is the recipient's current or
 *            previous hour epoch
 *
 * Sixteen small puzzles instead of one big one of the same total work: one puzzle's solve time is exponential
 * (1 in 100 requesters would wait 4.6× the mean), the sum of sixteen is nearly constant (1 in 100 waits 1.7×),
 * so "about a second" holds for everyone. The index in each part keeps one nonce from serving twice.
 *
 * Binding both keys means a stamp cannot be reused for another identity or another recipient; binding the hour
 * means it cannot be mined in advance for more than the hour it names and the next one. The previous hour is
 * accepted because a request solved just before the hour turned is still in flight after it.
 *
 * Solving is a loop of hashes done in slices of SOLVE_SLICE_ATTEMPTS (a few ms each) with the caller's `yieldNow`
 * between them, so the daemon's event loop keeps serving friends meanwhile (protocol code has no timers of its
 * own: the caller yields through its injected clock).
 *
 * What this does not do: a native or GPU miner hashes SHA-256 10-100× faster than Node does one hash at a time,
 * so a determined attacker's cost per identity is that much lower. The per-source limits (request-budget.ts)
 * are what bound one machine; the stamp makes each extra identity cost something instead of nothing.
 */
import { createHash, hash } from 'node:crypto';
import { hourEpoch } from './epoch.ts';
import { LABELS } from './labels.ts';

/**
 * Leading zero bits each part needs. 16 parts × 2^15 hashes = 2^19 on average, ~0.8 s on the reference machine
 * (Node 20, one 2.8 GHz Xeon core, ~640k SHA-256/s): bench/request-pow.bench.ts, docs/BENCHMARKS.md.
 */
export const REQUEST_STAMP_BITS = 15;
export const STAMP_PARTS = 16;
export const STAMP_NONCE_BYTES = 8;
/** The nonces of all parts, in order: what the request frame carries after the hour. */
export const STAMP_NONCES_BYTES = STAMP_PARTS * STAMP_NONCE_BYTES;
/** Hashes per slice of a solve (~3 ms here) before yielding to the event loop. */
export const SOLVE_SLICE_ATTEMPTS = 2048;

const KEY_BYTES = 32;
const LABEL = Buffer.from(`${LABELS.requestStamp}\0`, 'ascii');
const HOUR_OFFSET = LABEL.length + 2 * KEY_BYTES;
const INDEX_OFFSET = HOUR_OFFSET + 4;
const NONCE_OFFSET = INDEX_OFFSET + 1;
const INPUT_BYTES = NONCE_OFFSET + STAMP_NONCE_BYTES;

export interface RequestStamp {
  readonly hour: number;
  /** STAMP_NONCES_BYTES: part i's nonce at i × 8. */
  readonly nonces: Buffer;
}

export interface StampParties {
  readonly recipientPk: Uint8Array;
  readonly requesterPk: Uint8Array;
}

export type StampCheck = 'valid' | 'stale' | 'short';

/** crypto.hash (Node ≥ 20.12) is one call instead of three; older Node falls back to createHash. */
const sha256: (data: Buffer) => Buffer =
  typeof hash === 'function'
    ? (data) => hash('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest();

function stampInput(parties: StampParties, hour: number): Buffer {
  if (parties.recipientPk.length !== KEY_BYTES || parties.requesterPk.length !== KEY_BYTES) {
    throw new RangeError('stamp keys are 32 bytes');
  }
  const input = Buffer.alloc(INPUT_BYTES);
  LABEL.copy(input, 0);
  input.set(parties.recipientPk, LABEL.length);
  input.set(parties.requesterPk, LABEL.length + KEY_BYTES);
  input.writeUInt32BE(hour >>> 0, HOUR_OFFSET);
  return input;
}

/** Leading zero bits of a digest (at most 32 are counted: more than any difficulty used). */
function leadingZeroBits(digest: Buffer): number {
  return Math.clz32(digest.readUInt32BE(0));
}

/** The least work among the stamp's parts, in leading zero bits (0 for a malformed stamp). */
export function stampWork(parties: StampParties, stamp: RequestStamp): number {
  if (stamp.nonces.length !== STAMP_NONCES_BYTES) return 0;
  const input = stampInput(parties, stamp.hour);
  let least = 32;
  for (let i = 0; i < STAMP_PARTS && least > 0; i++) {
    input[INDEX_OFFSET] = i;
    stamp.nonces.copy(input, NONCE_OFFSET, i * STAMP_NONCE_BYTES, (i + 1) * STAMP_NONCE_BYTES);
    least = Math.min(least, leadingZeroBits(sha256(input)));
  }
  return least;
}

/** Sixteen hashes: is this stamp for these parties, this hour or the last one, with `bits` in every part? */
export function checkStamp(
  parties: StampParties,
  stamp: RequestStamp,
  nowMs: number,
  bits: number = REQUEST_STAMP_BITS,
): StampCheck {
  const current = hourEpoch(nowMs);
  if (stamp.hour !== current && stamp.hour !== current - 1) return 'stale';
  return stampWork(parties, stamp) >= bits ? 'valid' : 'short';
}

export interface SolveOptions {
  readonly bits?: number;
  /** Where each part's nonces start (random, so two solves for the same parties do not repeat each other). */
  readonly startNonce: Buffer;
  /** Called between slices; resolves when the solver may go on. */
  yieldNow(): Promise<void>;
  /** Checked between slices: true stops the solve (it resolves undefined). */
  isCancelled?(): boolean;
}

/** Solves each part in turn, nonces counting up from startNonce; undefined when cancelled. */
export async function solveStamp(
  parties: StampParties,
  hour: number,
  opts: SolveOptions,
): Promise<RequestStamp | undefined> {
  const bits = opts.bits ?? REQUEST_STAMP_BITS;
  if (opts.startNonce.length !== STAMP_NONCE_BYTES) throw new RangeError('a stamp nonce is 8 bytes');
  const input = stampInput(parties, hour);
  const nonces = Buffer.alloc(STAMP_NONCES_BYTES);
  let sliceLeft = SOLVE_SLICE_ATTEMPTS;
  for (let part = 0; part < STAMP_PARTS; part++) {
    input[INDEX_OFFSET] = part;
    opts.startNonce.copy(input, NONCE_OFFSET);
    // The nonce is a 64-bit counter; its low 32 bits count here and carry into the high 32.
    let high = input.readUInt32BE(NONCE_OFFSET);
    let low = input.readUInt32BE(NONCE_OFFSET + 4);
    while (leadingZeroBits(sha256(input)) < bits) {
      low = (low + 1) >>> 0;
      if (low === 0) {
        high = (high + 1) >>> 0;
        input.writeUInt32BE(high, NONCE_OFFSET);
      }
      input.writeUInt32BE(low, NONCE_OFFSET + 4);
      if (--sliceLeft === 0) {
        await opts.yieldNow();
        if (opts.isCancelled?.() === true) return undefined;
        sliceLeft = SOLVE_SLICE_ATTEMPTS;
      }
    }
    input.copy(nonces, part * STAMP_NONCE_BYTES, NONCE_OFFSET);
  }
  return { hour, nonces };
}
