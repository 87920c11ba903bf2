/**
 * Friend codes: `dhtchat:` + 58 characters of RFC 4648 base32 (lower case, no padding) — 52 for the 32-byte
 * Ed25519 public key, then a 6-character checksum.
 *
 * Why not a few bytes of a hash: a hash checksum catches a typo only with high probability (1 − 2^-24 for three
 * bytes), and a code has ~1,800 single-character variants. The checksum here is the BCH code of bech32m (BIP 173,
 * BIP 350) computed over base32 symbol values, which *guarantees* detection of any error touching at most four
 * characters within the 58 — every substitution, every adjacent swap, any two typos — and misses a random
 * garbling with probability about 2^-30. The checksum runs over the label "dhtchat/friend-code/v1" first, so a
 * bech32 string of another application never validates as a friend code.
 *
 * Parsing is the user's input: errors say what is wrong and where, in words a user understands.
 */
import { DhtchatError } from '../runtime/index.ts';
import { LABELS } from './labels.ts';

export const FRIEND_CODE_PREFIX = 'dhtchat:';
export const FRIEND_CODE_KEY_BYTES = 32;
const KEY_CHARS = 52; // ceil(256 / 5)
const CHECKSUM_CHARS = 6;
export const FRIEND_CODE_BODY_CHARS = KEY_CHARS + CHECKSUM_CHARS;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
/** bech32m's constant (BIP 350). */
const CHECKSUM_CONSTANT = 0x2bc830a3;
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3] as const;
/** Characters people type for the ones base32 leaves out. */
const LOOKALIKES: Readonly<Record<string, string>> = { '0': 'o', '1': 'l', '8': 'b', '9': 'g' };

export const FriendCodeError = {
  prefix: 'CHAT_FRIEND_CODE_PREFIX',
  length: 'CHAT_FRIEND_CODE_LENGTH',
  character: 'CHAT_FRIEND_CODE_CHARACTER',
  checksum: 'CHAT_FRIEND_CODE_CHECKSUM',
} as const;
export type FriendCodeErrorCode = (typeof FriendCodeError)[keyof typeof FriendCodeError];

export type FriendCodeResult =
  | { ok: true; publicKey: Buffer }
  | { ok: false; code: FriendCodeErrorCode; message: string };

/** The friend code of a 32-byte Ed25519 public key. */
export function encodeFriendCode(publicKey: Uint8Array): string {
  if (publicKey.length !== FRIEND_CODE_KEY_BYTES) {
    throw new DhtchatError('CRYPTO_BAD_KEY_LENGTH', `a public key is 32 bytes, got ${publicKey.length}`);
  }
  const symbols = bytesToSymbols(publicKey);
  const mod = polymod([...labelSymbols(), ...symbols, 0, 0, 0, 0, 0, 0]) ^ CHECKSUM_CONSTANT;
  for (let i = 0; i < CHECKSUM_CHARS; i++) symbols.push((mod >>> (5 * (CHECKSUM_CHARS - 1 - i))) & 31);
  return FRIEND_CODE_PREFIX + symbols.map((s) => ALPHABET[s]).join('');
}

/** Parses a friend code (surrounding spaces and upper case are accepted). Never throws. */
export function parseFriendCode(text: string): FriendCodeResult {
  const code = text.trim().toLowerCase();
  if (!code.startsWith(FRIEND_CODE_PREFIX)) {
    return fail('prefix', `a friend code starts with "${FRIEND_CODE_PREFIX}"`);
  }
  const body = code.slice(FRIEND_CODE_PREFIX.length);
  if (body.length !== FRIEND_CODE_BODY_CHARS) {
    const what = body.length < FRIEND_CODE_BODY_CHARS ? 'missing' : 'extra';
    return fail(
      'length',
      `a friend code has ${FRIEND_CODE_BODY_CHARS} characters after "${FRIEND_CODE_PREFIX}", this one has ` +
        `${body.length}: ${Math.abs(body.length - FRIEND_CODE_BODY_CHARS)} ${what}`,
    );
  }
  const symbols: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    const value = ALPHABET.indexOf(char);
    if (value < 0) {
      const hint = LOOKALIKES[char] === undefined ? '' : `; did you mean "${LOOKALIKES[char]}"?`;
      return fail(
        'character',
        `character ${FRIEND_CODE_PREFIX.length + i + 1} ("${char}") cannot appear in a friend code ` +
          `(only letters a-z and digits 2-7)${hint}`,
      );
    }
    symbols.push(value);
  }
  const keySymbols = symbols.slice(0, KEY_CHARS);
  // The last key character carries 4 padding bits, which a code we wrote always leaves zero.
  const hasCleanPadding = ((keySymbols[KEY_CHARS - 1] ?? 0) & 0x0f) === 0;
  if (polymod([...labelSymbols(), ...symbols]) !== CHECKSUM_CONSTANT || !hasCleanPadding) {
    return fail(
      'checksum',
      'this friend code has a typo: compare it with the original, character by character',
    );
  }
  return { ok: true, publicKey: symbolsToBytes(keySymbols) };
}

/** parseFriendCode for local input: the public key, or a DhtchatError with the parse error's code and message. */
export function decodeFriendCode(text: string): Buffer {
  const result = parseFriendCode(text);
  if (!result.ok) throw new DhtchatError(result.code, `invalid friend code: ${result.message}`);
  return result.publicKey;
}

function fail(kind: keyof typeof FriendCodeError, message: string): FriendCodeResult {
  return { ok: false, code: FriendCodeError[kind], message };
}

/** BIP 173's checksum polynomial over GF(32). */
function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const value of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ value) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ (GENERATOR[i] as number)) >>> 0;
  }
  return chk;
}

/** The label as bech32 expands its human-readable part: high bits of each character, a 0, then low bits. */
let labelSymbolsCache: number[] | undefined;
function labelSymbols(): number[] {
  if (labelSymbolsCache === undefined) {
    const codes = [...LABELS.friendCode].map((c) => c.charCodeAt(0));
    labelSymbolsCache = [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
  }
  return labelSymbolsCache;
}

function bytesToSymbols(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = ((acc << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

function symbolsToBytes(symbols: readonly number[]): Buffer {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const symbol of symbols) {
    acc = ((acc << 5) | symbol) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
  }
  return Buffer.from(out.slice(0, FRIEND_CODE_KEY_BYTES));
}
