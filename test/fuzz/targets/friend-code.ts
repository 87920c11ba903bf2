/**
 * Friend codes (src/chat/friend-code.ts): parseFriendCode on any text (the input as UTF-8, or latin1 when the
 * first byte is odd, so every code unit is tried). Properties: never throws; a rejection has one of the four codes
 * and a message; an accepted code is, trimmed and lower-cased, exactly encodeFriendCode of the key it yields (so a
 * code never parses to a key whose code is something else).
 */
import assert from 'node:assert/strict';
import { encodeFriendCode, FriendCodeError, parseFriendCode } from '../../../src/chat/friend-code.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const CODES = new Set<string>(Object.values(FriendCodeError));

export const friendCodeTarget: FuzzTarget = {
  name: 'friend-code',
  decoders: 'parseFriendCode, encodeFriendCode',
  weight: 10,
  maxInputBytes: 256,
  dictionary: [
    ...tokens('dhtchat:', 'DHTCHAT:', ' ', '\t', '\n', '0', '1', '8', '9', 'a', 'q', '7', 'z'),
    Buffer.from('\u212a', 'utf8'), // KELVIN SIGN: lower-cases to "k"
    Buffer.from('\u0130', 'utf8'), // İ: lower-cases to two code points
    Buffer.from('\u00a0', 'utf8'),
    Buffer.from('\ufeff', 'utf8'),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    return [1, 2, 3].map(() => Buffer.from(encodeFriendCode(random.bytes(32)), 'latin1'));
  },
  run(input: Buffer): string {
    const text = (input[0] ?? 0) % 2 === 0 ? input.toString('utf8') : input.toString('latin1');
    const r = parseFriendCode(text);
    if (!r.ok) {
      assert.ok(CODES.has(r.code), `unknown code ${r.code}`);
      assert.ok(r.message.length > 0);
      return r.code;
    }
    assert.equal(r.publicKey.length, 32);
    assert.equal(encodeFriendCode(r.publicKey), text.trim().toLowerCase(), 'the code of the key it yields');
    return 'ok';
  },
};
