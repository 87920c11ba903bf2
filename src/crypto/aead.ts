/**
 * ChaCha20-Poly1305 (RFC 8439) as Noise's ChaChaPoly cipher (§12.3): a 96-bit nonce of 32 zero bits followed by
 * the 64-bit little-endian counter n. Decryption is remote input: failure is a value (undefined), never a throw.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { NOISE_TAG_BYTES } from './labels.ts';

const ALGORITHM = 'chacha20-poly1305';

/** The 12-byte ChaChaPoly nonce of a counter (≤ 2^64 − 1; counters above 2^53 are given as a bigint). */
export function chachaPolyNonce(n: number | bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(BigInt(n), 4);
  return nonce;
}

/** ENCRYPT(k, n, ad, plaintext) → ciphertext ‖ 16-byte tag. */
export function chachaPolyEncrypt(
  key: Uint8Array,
  nonce: Buffer,
  ad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  return Buffer.concat(chachaPolyEncryptParts(key, nonce, ad, [plaintext]));
}

/**
 * ENCRYPT over a plaintext given in parts, returned in parts (the ciphertext of each, then the tag): a framer can
 * then hand them to a writev without copying 64 KiB per frame, which costs about as much as the cipher itself.
 */
export function chachaPolyEncryptParts(
  key: Uint8Array,
  nonce: Buffer,
  ad: Uint8Array,
  parts: readonly Uint8Array[],
): Buffer[] {
  const plaintextLength = parts.reduce((sum, p) => sum + p.length, 0);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: NOISE_TAG_BYTES });
  cipher.setAAD(ad, { plaintextLength });
  const out = parts.map((part) => cipher.update(part));
  cipher.final();
  out.push(cipher.getAuthTag());
  return out;
}

/**
 * DECRYPT over a ciphertext ‖ tag given in parts (as they arrived: a frame spread over datagrams), returned in
 * parts (the plaintext of each, empty ones left out), or undefined if it is shorter than a tag or fails to
 * verify. Nothing is returned before the tag is checked. Saves gathering the parts first: a copy per byte.
 */
export function chachaPolyDecryptParts(
  key: Uint8Array,
  nonce: Buffer,
  ad: Uint8Array,
  parts: readonly Uint8Array[],
): Buffer[] | undefined {
  let totalBytes = 0;
  for (const part of parts) totalBytes += part.length;
  if (totalBytes < NOISE_TAG_BYTES) return undefined;
  const bodyLength = totalBytes - NOISE_TAG_BYTES;
  // The body's parts (views), and the tag: a view when the last part holds it whole, else gathered (16 bytes).
  const body: Uint8Array[] = [];
  let tag: Uint8Array = Buffer.allocUnsafe(0);
  let offset = 0;
  for (const part of parts) {
    const bodyEnd = Math.max(0, Math.min(part.length, bodyLength - offset));
    if (bodyEnd > 0) body.push(bodyEnd === part.length ? part : part.subarray(0, bodyEnd));
    if (bodyEnd < part.length) {
      const tagPart = part.subarray(bodyEnd);
      tag = tag.length === 0 ? tagPart : Buffer.concat([tag, tagPart]);
    }
    offset += part.length;
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: NOISE_TAG_BYTES });
    decipher.setAuthTag(tag);
    decipher.setAAD(ad, { plaintextLength: bodyLength });
    const out: Buffer[] = [];
    for (const part of body) {
      const plain = decipher.update(part);
      if (plain.length > 0) out.push(plain);
    }
    decipher.final();
    return out;
  } catch {
    return undefined;
  }
}

/** DECRYPT(k, n, ad, ciphertext ‖ tag) → plaintext, or undefined if it is shorter than a tag or fails to verify. */
export function chachaPolyDecrypt(
  key: Uint8Array,
  nonce: Buffer,
  ad: Uint8Array,
  ciphertext: Uint8Array,
): Buffer | undefined {
  if (ciphertext.length < NOISE_TAG_BYTES) return undefined;
  const bodyLength = ciphertext.length - NOISE_TAG_BYTES;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: NOISE_TAG_BYTES });
    decipher.setAuthTag(ciphertext.subarray(bodyLength));
    decipher.setAAD(ad, { plaintextLength: bodyLength });
    const body = decipher.update(ciphertext.subarray(0, bodyLength));
    decipher.final();
    return body;
  } catch {
    return undefined;
  }
}
