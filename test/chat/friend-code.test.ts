import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeFriendCode,
  encodeFriendCode,
  FRIEND_CODE_BODY_CHARS,
  FRIEND_CODE_PREFIX,
  parseFriendCode,
} from '../../src/chat/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A naive RFC 4648 base32 (lower case, no padding), written independently of the code under test. */
function naiveBase32(bytes: Uint8Array): string {
  const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i < bits.length; i += 5)
    out += ALPHABET[Number.parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out;
}

function isRejected(code: string): boolean {
  return !parseFriendCode(code).ok;
}

describe('friend codes', () => {
  test('RFC 4648 vectors hold for the naive twin, and the key part of a code is its base32', () => {
    assert.equal(naiveBase32(Buffer.from('foobar')), 'mzxw6ytboi');
    const key = new SeededRandom('fc-vector').bytes(32);
    const code = encodeFriendCode(key);
    assert.ok(code.startsWith(FRIEND_CODE_PREFIX));
    assert.equal(code.length, FRIEND_CODE_PREFIX.length + FRIEND_CODE_BODY_CHARS);
    assert.equal(code.slice(FRIEND_CODE_PREFIX.length, FRIEND_CODE_PREFIX.length + 52), naiveBase32(key));
  });

  test('round trip for any key (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const result = parseFriendCode(encodeFriendCode(key));
        assert.ok(result.ok);
        assert.deepEqual(result.publicKey, Buffer.from(key));
      }),
      { numRuns: 500 },
    );
  });

  test('every single-character substitution of 30 codes is rejected (exhaustive)', () => {
    const random = new SeededRandom('fc-substitutions');
    let variants = 0;
    for (let n = 0; n < 30; n++) {
      const code = encodeFriendCode(random.bytes(32));
      for (let i = FRIEND_CODE_PREFIX.length; i < code.length; i++) {
        for (const c of ALPHABET) {
          if (c === code[i]) continue;
          const typo = code.slice(0, i) + c + code.slice(i + 1);
          assert.ok(isRejected(typo), `accepted ${typo} (from ${code})`);
          variants++;
        }
      }
    }
    assert.equal(variants, 30 * FRIEND_CODE_BODY_CHARS * 31);
  });

  test('every adjacent swap of 200 codes is rejected (exhaustive)', () => {
    const random = new SeededRandom('fc-swaps');
    for (let n = 0; n < 200; n++) {
      const code = encodeFriendCode(random.bytes(32));
      for (let i = FRIEND_CODE_PREFIX.length; i + 1 < code.length; i++) {
        if (code[i] === code[i + 1]) continue;
        const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
        assert.ok(isRejected(swapped), `accepted ${swapped}`);
      }
    }
  });

  test('any two to four substitutions are rejected (property; the BCH code guarantees it)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uniqueArray(fc.nat(FRIEND_CODE_BODY_CHARS - 1), { minLength: 2, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 31 }), { minLength: 4, maxLength: 4 }),
        (key, positions, deltas) => {
          const chars = [...encodeFriendCode(key)];
          positions.forEach((p, k) => {
            const at = FRIEND_CODE_PREFIX.length + p;
            chars[at] = ALPHABET[
              (ALPHABET.indexOf(chars[at] as string) + (deltas[k] as number)) % 32
            ] as string;
          });
          assert.ok(isRejected(chars.join('')));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('specific errors with messages a user understands', () => {
    const code = encodeFriendCode(new SeededRandom('fc-errors').bytes(32));
    const body = code.slice(FRIEND_CODE_PREFIX.length);
    const cases: [string, string, RegExp][] = [
      [body, 'CHAT_FRIEND_CODE_PREFIX', /starts with "dhtchat:"/],
      [`tox:${body}`, 'CHAT_FRIEND_CODE_PREFIX', /starts with/],
      [code.slice(0, -1), 'CHAT_FRIEND_CODE_LENGTH', /this one has 57: 1 missing/],
      [`${code}a`, 'CHAT_FRIEND_CODE_LENGTH', /1 extra/],
      [`${code.slice(0, 10)}0${code.slice(11)}`, 'CHAT_FRIEND_CODE_CHARACTER', /character 11 \("0"\).*"o"\?/],
      [`${code.slice(0, 12)}!${code.slice(13)}`, 'CHAT_FRIEND_CODE_CHARACTER', /character 13 \("!"\)/],
      [`${code.slice(0, -1)}${code.endsWith('a') ? 'b' : 'a'}`, 'CHAT_FRIEND_CODE_CHECKSUM', /typo/],
    ];
    for (const [input, expectedCode, message] of cases) {
      const result = parseFriendCode(input);
      assert.equal(result.ok, false, input);
      if (result.ok) continue;
      assert.equal(result.code, expectedCode, input);
      assert.match(result.message, message);
      assert.throws(
        () => decodeFriendCode(input),
        (err) =>
          err instanceof DhtchatError && err.code === expectedCode && /invalid friend code/.test(err.message),
      );
    }
  });

  test('surrounding spaces and upper case are accepted', () => {
    const key = new SeededRandom('fc-case').bytes(32);
    const code = encodeFriendCode(key);
    assert.deepEqual(decodeFriendCode(`  ${code.toUpperCase()}\n`), key);
  });

  test('a twin checksum (BIP 173 polymod, written here) agrees, and forged non-zero padding is refused', () => {
    const key = new SeededRandom('fc-twin').bytes(32);
    const keyChars = naiveBase32(key);
    assert.equal(encodeFriendCode(key), FRIEND_CODE_PREFIX + keyChars + twinChecksum(keyChars));
    // Set padding bits in the last key character and give it a *valid* checksum: still refused.
    const last = ALPHABET[ALPHABET.indexOf(keyChars[51] as string) | 1] as string;
    const forged = keyChars.slice(0, 51) + last;
    const result = parseFriendCode(FRIEND_CODE_PREFIX + forged + twinChecksum(forged));
    assert.equal(result.ok, false);
    assert.equal(result.ok ? '' : result.code, 'CHAT_FRIEND_CODE_CHECKSUM');
  });

  test('parse never throws on arbitrary text (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const result = parseFriendCode(`dhtchat:${s}`);
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

function twinChecksum(keyChars: string): string {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const label = [...'dhtchat/friend-code/v1'].map((c) => c.charCodeAt(0));
  const values = [
    ...label.map((c) => c >> 5),
    0,
    ...label.map((c) => c & 31),
    ...[...keyChars].map((c) => ALPHABET.indexOf(c)),
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  let chk = 1;
  for (const v of values) {
    const top = Math.floor(chk / 2 ** 25);
    chk = ((chk % 2 ** 25) * 32) ^ v;
    gen.forEach((g, i) => {
      if (Math.floor(top / 2 ** i) % 2 === 1) chk = (chk ^ g) >>> 0;
    });
  }
  const mod = (chk ^ 0x2bc830a3) >>> 0;
  let out = '';
  for (let i = 0; i < 6; i++) out += ALPHABET[Math.floor(mod / 2 ** (5 * (5 - i))) % 32];
  return out;
}
