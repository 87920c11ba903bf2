/**
 * The published test vectors the unit tests replay, read from test/vectors/ (their sources are in
 * test/vectors/README.md). Kept as copies in the repository so a clone tests on its own.
 */
import { readFileSync } from 'node:fs';

/** The vector files under test/vectors/. */
export type VectorFile = 'bep-vectors.json' | 'noise-cacophony-25519-chachapoly.json';

/** bep-vectors.json: the BEP 5, 33, 42 and 44 vectors and the CRC32C check value. Hex unless named _ascii. */
export interface BepVectors {
  crc32c: { input_ascii: string; crc: string };
  bep42: {
    cases: Array<{ ip: string; rand: number; node_id: string; crc?: string }>;
    exempt_v4: string[];
  };
  bep44: {
    public_key: string;
    mutable: Array<{
      v_bencoded_ascii: string;
      salt_ascii: string;
      seq: number;
      signed_buffer_ascii: string;
      target: string;
      sig: string;
    }>;
    immutable: Array<{ v_bencoded_ascii: string; target: string }>;
  };
  bep33: { bloom: string; estimate: number; estimate_tolerance: number };
  bep5_examples_ascii: Record<string, string>;
}

/** Parses one vector file; the caller names the shape it reads. */
export function readVectors<T>(file: VectorFile): T {
  return JSON.parse(readFileSync(new URL(`../vectors/${file}`, import.meta.url), 'utf8')) as T;
}

/** The BEP vectors, typed. */
export function readBepVectors(): BepVectors {
  return readVectors<BepVectors>('bep-vectors.json');
}
