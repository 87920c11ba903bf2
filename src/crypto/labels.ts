/**
 * Every crypto constant of dhtchat, once, named as in the specs: the DER wrappers node:crypto needs for raw keys,
 * the Noise protocol framework's sizes (https://noiseprotocol.org/noise.html, revision 34) and dhtchat's labels.
 */

/** PKCS#8 v1 PrivateKeyInfo for Ed25519 (RFC 8410 §7) up to the 32-byte seed. */
export const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** PKCS#8 for X25519 (OID 1.3.101.110) up to the 32-byte private key. */
export const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
// Public keys are imported as JWKs, not SPKI DER (see x25519PublicKeyObject): no prefix needed for them.

/** Curve25519 field prime p = 2^255 − 19 (RFC 7748 §4.1), for the Edwards→Montgomery map. */
export const CURVE25519_P = (1n << 255n) - 19n;

/** Noise §5.1: DHLEN for 25519, and the 32-byte cipher key. */
export const NOISE_DHLEN = 32;
export const NOISE_KEY_BYTES = 32;
/** ChaChaPoly's 16-byte authentication tag (Noise §5.1, RFC 8439). */
export const NOISE_TAG_BYTES = 16;
/** Noise §3: every Noise message, handshake or transport, is at most 65535 bytes. */
export const NOISE_MAX_MESSAGE_BYTES = 65535;
/** Noise §5.1: the nonce 2^64 − 1 is reserved (used by Rekey); we stop far earlier, at 2^53 − 1 (a JS integer). */
export const NOISE_MAX_NONCE = Number.MAX_SAFE_INTEGER;
/** Noise §9: a pre-shared key is 32 bytes. */
export const NOISE_PSK_BYTES = 32;

/** The Noise suite dhtchat speaks: Noise_<pattern>_25519_ChaChaPoly_BLAKE2b. */
export const DHTCHAT_NOISE_SUITE = '25519_ChaChaPoly_BLAKE2b';
/** The prologue names the application protocol and its version: a peer of another version fails the handshake. */
export const DHTCHAT_PROLOGUE = Buffer.from('dhtchat/1', 'ascii');
