/** The crypto layer's public surface: raw-key Ed25519/X25519, Noise, and the AEAD/hash helpers they use. */
export {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SEED_BYTES,
  ED25519_SIGNATURE_BYTES,
  type Ed25519KeyPair,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
} from './ed25519.ts';
export {
  chachaPolyDecrypt,
  chachaPolyDecryptParts,
  chachaPolyEncrypt,
  chachaPolyEncryptParts,
  chachaPolyNonce,
} from './aead.ts';
export { CipherState } from './cipher-state.ts';
export {
  HandshakeState,
  type HandshakeOptions,
  type NoiseReadResult,
  type NoiseTransport,
} from './handshake-state.ts';
export { NOISE_HASHES, type NoiseHash } from './hash.ts';
export {
  DHTCHAT_NOISE_SUITE,
  DHTCHAT_PROLOGUE,
  NOISE_MAX_MESSAGE_BYTES,
  NOISE_TAG_BYTES,
} from './labels.ts';
export {
  type HandshakePattern,
  handshakePattern,
  type NoiseProtocol,
  type NoiseToken,
  parseProtocolName,
} from './noise-patterns.ts';
export {
  ed25519PublicToX25519,
  ed25519SeedToX25519,
  type X25519KeyPair,
  x25519Dh,
  x25519FromPrivate,
  x25519Generate,
  x25519PublicKeyObject,
} from './x25519.ts';
