/**
 * BEP 44 item arithmetic: targets, the signable buffer, and the mutable-item signature check.
 * https://www.bittorrent.org/beps/bep_0044.html §Signature Verification
 *
 * Everything here works on the exact bencoded bytes of `v` as they appeared in the message (vBytes): BEP 44
 * warns that decoding and re-encoding is not necessarily an identity, so nothing is ever re-encoded here.
 */
import { createHash } from 'node:crypto';
import { ed25519Verify } from '../crypto/index.ts';

function sha1(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Immutable items live at SHA-1 of the bencoded value. */
export function immutableTarget(vBytes: Uint8Array): Buffer {
  return sha1(vBytes);
}

/** Mutable items live at SHA-1(k ‖ salt); an empty or absent salt adds nothing. */
export function mutableTarget(publicKey: Uint8Array, salt?: Uint8Array): Buffer {
  return salt === undefined ? sha1(publicKey) : sha1(publicKey, salt);
}

export interface SignableFields {
  readonly salt?: Uint8Array | undefined;
  readonly seq: number;
  readonly vBytes: Uint8Array;
}

/**
 * `[4:salt<len>:<salt>]3:seqi<seq>e1:v<vBytes>` — the salt part only when the salt is non-empty (BEP 44: "if
 * salt is specified and an empty string, it is as if it was not specified").
 */
export function signableBuffer(fields: SignableFields): Buffer {
  const parts: Buffer[] = [];
  if (fields.salt !== undefined && fields.salt.length > 0) {
    parts.push(Buffer.from(`4:salt${fields.salt.length}:`, 'latin1'), Buffer.from(fields.salt));
  }
  parts.push(Buffer.from(`3:seqi${fields.seq}e1:v`, 'latin1'), Buffer.from(fields.vBytes));
  return Buffer.concat(parts);
}

export interface MutableSignatureFields extends SignableFields {
  readonly k: Uint8Array;
  readonly sig: Uint8Array;
}

/** True when sig is k's Ed25519 signature over the signable buffer. Never throws (remote input). */
export function verifyMutableSignature(fields: MutableSignatureFields): boolean {
  if (!Number.isSafeInteger(fields.seq)) return false;
  return ed25519Verify(fields.k, signableBuffer(fields), fields.sig);
}
