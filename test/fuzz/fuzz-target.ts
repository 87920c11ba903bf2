/**
 * One fuzz target per decoder (test/fuzz/targets/*.ts). A target turns bytes into a call of its decoder and checks
 * the properties every decoder owes (STYLE.md "every decoder rejects rather than throws, within limits"):
 *   - it returns a value or a rejection, never throws (or throws only its documented error type);
 *   - where an encoder exists, what it accepts survives decode(encode(x)) == x;
 *   - nothing it returns is larger than its limits allow.
 * A violated property throws; the engine records it as a crash with the seed and the input.
 */
import type { FuzzRandom } from './fuzz-random.ts';

export interface FuzzTarget {
  readonly name: string;
  /** The decoder(s) it drives, for the report. */
  readonly decoders: string;
  /** Share of a run's inputs, relative to the other targets (cheap decoders get more, DH-bound ones less). */
  readonly weight: number;
  /** Inputs longer than this are cut (a little over the decoder's own limit, so the limit itself is tried). */
  readonly maxInputBytes: number;
  /** Valid inputs made by the codec's own encoder: where mutation starts. */
  seeds(random: FuzzRandom): Buffer[];
  /** Tokens worth inserting: field names, magic bytes, boundary numbers. */
  readonly dictionary: readonly Buffer[];
  /**
   * Runs one input through the decoder and checks its properties; throws only when one is violated. Returns an
   * outcome key (which rule accepted or rejected it): an input with a key not seen before joins the corpus.
   */
  run(input: Buffer): string;
}

/** Tokens as latin1 bytes. */
export function tokens(...words: string[]): Buffer[] {
  return words.map((w) => Buffer.from(w, 'latin1'));
}
