import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DEFAULT_SCRYPT,
  decodeIdentityFile,
  encodeIdentityFile,
  generateIdentity,
  IDENTITY_FILE_NAME,
  identityFromSeed,
  inspectIdentityFile,
  publicKeyCheck,
  readIdentityFile,
  writeIdentityFile,
} from '../../src/chat/index.ts';
import {
  chachaPolyEncrypt,
  ed25519Sign,
  ed25519Verify,
  x25519Dh,
  x25519Generate,
} from '../../src/crypto/index.ts';
import { DhtchatError, SeededRandom } from '../../src/runtime/index.ts';
import { decodeBencode, encodeBencode } from '../../src/wire/index.ts';

/** Cheap scrypt for tests (2^10); one test uses the real default. */
const FAST = { logN: 10, r: 8, p: 1 };
const random = new SeededRandom('identity-tests');

function hasCode(code: string) {
  return (err: unknown) => err instanceof DhtchatError && err.code === code;
}

describe('identity', () => {
  test('a generated identity signs, and its X25519 half does DH', () => {
    const id = generateIdentity(random);
    const sig = ed25519Sign(id.signing, Buffer.from('hello'));
    assert.ok(ed25519Verify(id.publicKey, Buffer.from('hello'), sig));
    const other = x25519Generate(random);
    assert.deepEqual(x25519Dh(id.x25519, other.publicKey), x25519Dh(other, id.x25519.publicKey));
    assert.deepEqual(identityFromSeed(id.signing.seed).publicKey, id.publicKey);
  });

  test('plain file round trip', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random });
    assert.deepEqual(inspectIdentityFile(bytes), {
      publicKey: id.publicKey,
      isProtected: false,
      isPublicKeyVerified: true,
    });
    const back = await decodeIdentityFile(bytes);
    assert.deepEqual(back.signing.seed, id.signing.seed);
    assert.deepEqual((await decodeIdentityFile(bytes, 'ignored')).publicKey, id.publicKey);
  });

  test('passphrase round trip; the seed is not in the file', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random, passphrase: 'correct horse', scrypt: FAST });
    assert.equal(bytes.indexOf(id.signing.seed), -1);
    assert.deepEqual(inspectIdentityFile(bytes), {
      publicKey: id.publicKey,
      isProtected: true,
      isPublicKeyVerified: true,
    });
    assert.deepEqual((await decodeIdentityFile(bytes, 'correct horse')).signing.seed, id.signing.seed);
  });

  test('the passphrase is NFC-normalised (é composed or decomposed)', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random, passphrase: 'caf\u00e9', scrypt: FAST });
    assert.deepEqual((await decodeIdentityFile(bytes, 'cafe\u0301')).publicKey, id.publicKey);
  });

  test('wrong, missing and empty passphrases', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random, passphrase: 'right', scrypt: FAST });
    await assert.rejects(decodeIdentityFile(bytes, 'wrong'), hasCode('CHAT_IDENTITY_WRONG_PASSPHRASE'));
    await assert.rejects(decodeIdentityFile(bytes), hasCode('CHAT_IDENTITY_PASSPHRASE_REQUIRED'));
    await assert.rejects(
      encodeIdentityFile(id, { random, passphrase: '' }),
      hasCode('CHAT_IDENTITY_EMPTY_PASSPHRASE'),
    );
  });

  test('the default scrypt cost works (N = 2^17, r = 8: needs maxmem above node’s 32 MiB default)', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random, passphrase: 'p' });
    const kdf = (decodeBencode(bytes) as { ok: true; value: Record<string, Record<string, number>> }).value[
      'kdf'
    ];
    assert.equal(kdf?.['logN'], DEFAULT_SCRYPT.logN);
    assert.deepEqual((await decodeIdentityFile(bytes, 'p')).publicKey, id.publicKey);
  });

  test('corrupt files: truncated, not bencode, wrong format, mismatched key, edited header', async () => {
    const id = generateIdentity(random);
    const plain = await encodeIdentityFile(id, { random });
    const corrupt = hasCode('CHAT_IDENTITY_CORRUPT');
    await assert.rejects(decodeIdentityFile(plain.subarray(0, plain.length - 1)), corrupt);
    await assert.rejects(decodeIdentityFile(Buffer.from('hello')), corrupt);
    await assert.rejects(decodeIdentityFile(Buffer.alloc(0)), corrupt);
    assert.throws(() => inspectIdentityFile(Buffer.from('de')), corrupt);
    const edit = (bytes: Buffer, fn: (d: Record<string, unknown>) => void): Buffer => {
      const d = (decodeBencode(bytes) as { ok: true; value: Record<string, unknown> }).value;
      fn(d);
      return encodeBencode(d as never);
    };
    await assert.rejects(decodeIdentityFile(edit(plain, (d) => (d['f'] = Buffer.from('x')))), corrupt);
    await assert.rejects(decodeIdentityFile(edit(plain, (d) => (d['v'] = 3))), corrupt);
    await assert.rejects(decodeIdentityFile(edit(plain, (d) => (d['extra'] = 1))), corrupt);
    const otherPk = generateIdentity(random).publicKey;
    await assert.rejects(decodeIdentityFile(edit(plain, (d) => (d['pk'] = otherPk))), corrupt);

    const sealed = await encodeIdentityFile(id, { random, passphrase: 'pw', scrypt: FAST });
    // Another public key fails its checksum; with a matching checksum too, the authenticated header refuses it.
    await assert.rejects(
      decodeIdentityFile(
        edit(sealed, (d) => (d['pk'] = otherPk)),
        'pw',
      ),
      corrupt,
    );
    const forged = edit(sealed, (d) => {
      d['pk'] = otherPk;
      d['pkck'] = publicKeyCheck(otherPk);
    });
    assert.deepEqual(inspectIdentityFile(forged).publicKey, otherPk, 'a recomputed checksum passes id');
    await assert.rejects(decodeIdentityFile(forged, 'pw'), hasCode('CHAT_IDENTITY_WRONG_PASSPHRASE'));
    const weaker = edit(sealed, (d) => ((d['kdf'] as Record<string, number>)['r'] = 1));
    await assert.rejects(decodeIdentityFile(weaker, 'pw'), hasCode('CHAT_IDENTITY_WRONG_PASSPHRASE'));
    // Parameters that would allocate gigabytes are refused before any work.
    const huge = edit(sealed, (d) => ((d['kdf'] as Record<string, number>)['logN'] = 30));
    await assert.rejects(decodeIdentityFile(huge, 'pw'), corrupt);
    const flipped = Buffer.from(sealed);
    const inSealed = sealed.indexOf('6:sealed48:') + 20;
    flipped[inSealed] = (flipped[inSealed] ?? 0) ^ 1;
    await assert.rejects(decodeIdentityFile(flipped, 'pw'), hasCode('CHAT_IDENTITY_WRONG_PASSPHRASE'));
  });

  test('every single-byte corruption of a file fails with a code, never another error', async () => {
    const id = generateIdentity(random);
    const bytes = await encodeIdentityFile(id, { random, passphrase: 'pw', scrypt: FAST });
    const codes = new Set<string>();
    for (let i = 0; i < bytes.length; i += 3) {
      const bad = Buffer.from(bytes);
      bad[i] = (bad[i] ?? 0) ^ 0x41;
      try {
        await decodeIdentityFile(bad, 'pw');
        assert.fail(`byte ${i} flipped and the file still opened`);
      } catch (err) {
        assert.ok(err instanceof DhtchatError, String(err));
        codes.add(err.code);
      }
    }
    assert.ok(
      [...codes].every((c) => c.startsWith('CHAT_IDENTITY_')),
      [...codes].join(),
    );
  });
});

describe('identity: the public key is checked on every load (issue 9 §4)', () => {
  const corrupt = hasCode('CHAT_IDENTITY_CORRUPT');
  const edit = (bytes: Buffer, fn: (d: Record<string, unknown>) => void): Buffer => {
    const d = (decodeBencode(bytes) as { ok: true; value: Record<string, unknown> }).value;
    fn(d);
    return encodeBencode(d as never);
  };
  const flipPkByte = (bytes: Buffer): Buffer => {
    const out = Buffer.from(bytes);
    const at = out.indexOf('2:pk32:') + 7 + 5;
    out[at] = (out[at] ?? 0) ^ 0x01;
    return out;
  };

  test('plain file: a flipped public-key byte, or a key and checksum both replaced, is refused', async () => {
    const id = generateIdentity(random);
    const plain = await encodeIdentityFile(id, { random });
    assert.throws(() => inspectIdentityFile(flipPkByte(plain)), corrupt);
    const other = generateIdentity(random).publicKey;
    const swapped = edit(plain, (d) => {
      d['pk'] = other;
      d['pkck'] = publicKeyCheck(other);
    });
    assert.throws(() => inspectIdentityFile(swapped), /does not match the secret key/);
    await assert.rejects(decodeIdentityFile(swapped), corrupt);
  });

  test('protected file: a flipped public-key byte is refused without the passphrase', async () => {
    const id = generateIdentity(random);
    const sealed = await encodeIdentityFile(id, { random, passphrase: 'pw', scrypt: FAST });
    assert.throws(() => inspectIdentityFile(flipPkByte(sealed)), /does not match its checksum/);
    await assert.rejects(decodeIdentityFile(flipPkByte(sealed), 'pw'), corrupt);
  });

  test('version 1 files (no checksum) stay readable; a protected one is verified only with the passphrase', async () => {
    const id = generateIdentity(random);
    const plainV1 = edit(await encodeIdentityFile(id, { random }), (d) => {
      d['v'] = 1;
      delete d['pkck'];
    });
    assert.deepEqual(inspectIdentityFile(plainV1), {
      publicKey: id.publicKey,
      isProtected: false,
      isPublicKeyVerified: true,
    });
    assert.throws(() => inspectIdentityFile(flipPkByte(plainV1)), corrupt);

    const protectedV1 = sealV1(id.publicKey, id.signing.seed, 'pw');
    assert.deepEqual(inspectIdentityFile(protectedV1), {
      publicKey: id.publicKey,
      isProtected: true,
      isPublicKeyVerified: false,
    });
    assert.deepEqual((await decodeIdentityFile(protectedV1, 'pw')).signing.seed, id.signing.seed);
    // Without the passphrase nothing tells an edited v1 key; with it, the AEAD does.
    assert.equal(inspectIdentityFile(flipPkByte(protectedV1)).isPublicKeyVerified, false);
    await assert.rejects(
      decodeIdentityFile(flipPkByte(protectedV1), 'pw'),
      hasCode('CHAT_IDENTITY_WRONG_PASSPHRASE'),
    );
  });
});

/** A version 1 protected identity file, built as version 1 wrote it (no `pkck`; AAD over {f, v, pk, kdf}). */
function sealV1(publicKey: Buffer, seed: Buffer, passphrase: string): Buffer {
  const kdf = { name: Buffer.from('scrypt'), logN: FAST.logN, r: FAST.r, p: FAST.p, salt: random.bytes(16) };
  const header = { f: Buffer.from('dhtchat-identity'), v: 1, pk: publicKey, kdf };
  const key = scryptSync(Buffer.from(passphrase), kdf.salt, 32, { N: 2 ** FAST.logN, r: FAST.r, p: FAST.p });
  const nonce = random.bytes(12);
  const aad = Buffer.concat([Buffer.from('dhtchat/identity-file/v1'), encodeBencode(header as never)]);
  const sealed = chachaPolyEncrypt(key, nonce, aad, seed);
  return encodeBencode({ ...header, nonce, sealed } as never);
}

describe('identity file on disk', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  async function tempPath(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'dhtchat-identity-'));
    dirs.push(dir);
    return join(dir, IDENTITY_FILE_NAME);
  }

  test('created 0600, never clobbered, replaced on request', async () => {
    const path = await tempPath();
    const first = await encodeIdentityFile(generateIdentity(random), { random });
    const second = await encodeIdentityFile(generateIdentity(random), { random });
    await writeIdentityFile(path, first);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await assert.rejects(writeIdentityFile(path, second), hasCode('CHAT_IDENTITY_EXISTS'));
    const read = await readIdentityFile(path);
    assert.deepEqual(read.bytes, first);
    assert.equal(read.isPrivate, true);
    await writeIdentityFile(path, second, { isReplace: true });
    assert.deepEqual((await readIdentityFile(path)).bytes, second);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  test('missing file, unreadable directory, and a file others can read', async () => {
    const path = await tempPath();
    await assert.rejects(readIdentityFile(path), hasCode('CHAT_IDENTITY_NOT_FOUND'));
    await assert.rejects(
      writeIdentityFile(join(path, 'nope', 'x'), Buffer.from('x')),
      hasCode('CHAT_IDENTITY_IO'),
    );
    await writeIdentityFile(path, Buffer.from('x'));
    await chmod(path, 0o644);
    assert.equal((await readIdentityFile(path)).isPrivate, false);
  });
});
