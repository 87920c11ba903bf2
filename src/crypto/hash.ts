/**
 * The hash functions Noise can name (§4.3, §12.8), with HMAC and Noise's HKDF (§4.3) on node:crypto. dhtchat speaks
 * BLAKE2b; the others are here because the cacophony vectors cover them and the engine is generic.
 */
import { createHash, hkdfSync } from 'node:crypto';

export interface NoiseHash {
  /** The name in a Noise protocol name ("BLAKE2b"). */
  readonly name: string;
  /** HASHLEN (bytes). */
  readonly hashLen: number;
  hash(...parts: Uint8Array[]): Buffer;
  /**
   * HKDF(chainingKey, inputKeyMaterial, outputs) of Noise §4.3: HMAC-based extract-and-expand with empty info,
   * which is exactly RFC 5869, so node's hkdfSync computes it. Returns `outputs` keys of hashLen bytes.
   */
  hkdf(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array, outputs: 2 | 3): Buffer[];
}

function noiseHash(name: string, nodeName: string, hashLen: number): NoiseHash {
  return {
    name,
    hashLen,
    hash(...parts) {
      const h = createHash(nodeName);
      for (const p of parts) h.update(p);
      return h.digest();
    },
    hkdf(chainingKey, inputKeyMaterial, outputs) {
      const okm = Buffer.from(
        hkdfSync(nodeName, inputKeyMaterial, chainingKey, Buffer.alloc(0), hashLen * outputs),
      );
      const keys: Buffer[] = [];
      for (let i = 0; i < outputs; i++) keys.push(okm.subarray(i * hashLen, (i + 1) * hashLen));
      return keys;
    },
  };
}

export const NOISE_HASHES: Readonly<Record<string, NoiseHash>> = {
  BLAKE2b: noiseHash('BLAKE2b', 'blake2b512', 64),
  BLAKE2s: noiseHash('BLAKE2s', 'blake2s256', 32),
  SHA256: noiseHash('SHA256', 'sha256', 32),
  SHA512: noiseHash('SHA512', 'sha512', 64),
};
