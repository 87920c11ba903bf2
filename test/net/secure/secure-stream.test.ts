/** SecureStream as a Duplex over an in-process pipe: sessions, then tamper, replay, reorder, truncation, keys. */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { ed25519FromSeed, ed25519SeedToX25519 } from '../../../src/crypto/index.ts';
import { SecureStream, type SecureStreamOptions } from '../../../src/net/secure/index.ts';
import { jsonLinesLogger, ManualClock, SeededRandom } from '../../../src/runtime/index.ts';
import { type ChunkHook, createDuplexPair } from './duplex-pair.ts';

const random = new SeededRandom('secure-stream');
const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const mallory = ed25519FromSeed(Buffer.alloc(32, 0x66));

/** Deterministic filler, fast at megabyte sizes (SeededRandom is built for keys, not bulk data). */
function filler(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (Math.imul(i + seed, 2654435761) >>> 24) & 0xff;
  return out;
}

/**
 * Everything the stream delivers until its end. Events rather than for-await: the async iterator destroys the
 * stream when the readable side ends, which would cut our own direction while it is still being flushed.
 */
function readAll(stream: Duplex): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
    stream.on('close', () => reject(new Error('closed before its end')));
  });
}

function open(
  initiatorExtra: Partial<SecureStreamOptions> = {},
  responderExtra: Partial<SecureStreamOptions> = {},
  hookAtoB?: ChunkHook,
): [SecureStream, SecureStream] {
  const [a, b] = createDuplexPair(hookAtoB === undefined ? {} : { hookAtoB });
  return [
    new SecureStream(a, { isInitiator: true, identity: alice, random, ...initiatorExtra }),
    new SecureStream(b, { isInitiator: false, identity: bob, random, ...responderExtra }),
  ];
}

/** Rejects with the stream's error; resolves to undefined if it ends cleanly. */
async function errorCodeOf(stream: Duplex): Promise<string | undefined> {
  try {
    await readAll(stream);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('SecureStream over an in-process pipe', () => {
  for (const [name, extra] of [
    ['IK', { remoteIdentityPublicKey: bob.publicKey }],
    ['XX', {}],
  ] as const) {
    test(`${name}: 1 MiB each way byte-exact, writes before the handshake kept, clean close`, async () => {
      const [a, b] = open(extra);
      const toBob = filler(1 << 20, 1);
      const toAlice = filler(1 << 20, 2);
      a.write('early ');
      a.end(toBob);
      b.end(toAlice);
      const [atB, atA, peerOfA, peerOfB] = await Promise.all([
        readAll(b),
        readAll(a),
        a.handshake,
        b.handshake,
      ]);
      assert.deepEqual(atB, Buffer.concat([Buffer.from('early '), toBob]));
      assert.deepEqual(atA, toAlice);
      assert.deepEqual(peerOfA.identityPublicKey, bob.publicKey);
      assert.deepEqual(peerOfB.identityPublicKey, alice.publicKey);
      assert.deepEqual(a.remoteIdentityPublicKey, bob.publicKey);
      assert.deepEqual(b.remoteStaticPublicKey, peerOfB.staticPublicKey);
      assert.equal(peerOfA.pattern, name);
    });
  }

  const afterHandshake = (n: number, change: (chunk: Buffer) => Buffer[]): ChunkHook => {
    let index = 0;
    let held: Buffer | undefined;
    return (chunk) => {
      index++;
      if (index !== n && held === undefined) return [chunk];
      if (index === n) {
        const out = change(chunk);
        if (out.length === 0) held = chunk; // "reorder": deliver it after the next one
        return out;
      }
      const late = held;
      held = undefined;
      return late === undefined ? [chunk] : [chunk, late];
    };
  };

  for (const [name, hook] of [
    ['tampered', afterHandshake(3, (c) => [Buffer.from(c.map((byte, i) => (i === 5 ? byte ^ 1 : byte)))])],
    ['replayed', afterHandshake(2, (c) => [c, c])],
    ['reordered', afterHandshake(2, () => [])],
  ] as const) {
    test(`a ${name} frame destroys the reader with NOISE_DECRYPT_FAILED`, async () => {
      const [a, b] = open({ remoteIdentityPublicKey: bob.publicKey }, {}, hook);
      const codeOfB = errorCodeOf(b);
      const codeOfA = errorCodeOf(a);
      for (const word of ['one', 'two', 'three', 'four']) a.write(word);
      a.end();
      assert.equal(await codeOfB, 'NOISE_DECRYPT_FAILED');
      assert.equal(await codeOfA, 'SECURE_STREAM_TRUNCATED', 'the writer sees its transport go');
      assert.equal(b.destroyed, true);
    });
  }

  test('a transport cut without the CLOSE frame is SECURE_STREAM_TRUNCATED', async () => {
    const [pipeA, pipeB] = createDuplexPair();
    const a = new SecureStream(pipeA, { isInitiator: true, identity: alice, random });
    const b = new SecureStream(pipeB, { isInitiator: false, identity: bob, random });
    await a.handshake;
    const codeOfB = errorCodeOf(b);
    await new Promise<void>((resolve) => a.write('partial', () => resolve()));
    a.on('error', () => {});
    pipeA.destroy();
    assert.equal(await codeOfB, 'SECURE_STREAM_TRUNCATED');
  });

  test('IK to the wrong key: the real responder refuses message 1; the initiator fails too', async () => {
    const [a, b] = open({ remoteIdentityPublicKey: mallory.publicKey });
    const [codeA, codeB] = await Promise.all([errorCodeOf(a), errorCodeOf(b)]);
    assert.equal(codeB, 'NOISE_DECRYPT_FAILED');
    assert.equal(codeA, 'SECURE_STREAM_TRUNCATED');
    await assert.rejects(a.handshake, { code: 'SECURE_STREAM_TRUNCATED' });
  });

  test('XX expecting mallory but reaching bob: the initiator rejects the key', async () => {
    const [a, b] = open({ remoteIdentityPublicKey: mallory.publicKey, pattern: 'XX' });
    const [codeA] = await Promise.all([errorCodeOf(a), errorCodeOf(b)]);
    assert.equal(codeA, 'SECURE_STREAM_WRONG_REMOTE_KEY');
    await assert.rejects(a.handshake, { code: 'SECURE_STREAM_WRONG_REMOTE_KEY' });
  });

  test('no answer: SECURE_STREAM_HANDSHAKE_TIMEOUT on the injected clock', async () => {
    const clock = new ManualClock();
    const [pipeA] = createDuplexPair();
    const a = new SecureStream(pipeA, {
      isInitiator: true,
      identity: alice,
      random,
      clock,
      handshakeTimeoutMs: 5000,
    });
    const code = errorCodeOf(a);
    clock.advance(4999);
    assert.equal(a.destroyed, false);
    clock.advance(1);
    assert.equal(await code, 'SECURE_STREAM_HANDSHAKE_TIMEOUT');
  });

  test('a slow reader pauses the transport instead of buffering without bound', async () => {
    const [pipeA, pipeB] = createDuplexPair();
    const a = new SecureStream(pipeA, { isInitiator: true, identity: alice, random });
    const b = new SecureStream(pipeB, { isInitiator: false, identity: bob, random });
    await b.handshake;
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 64; i++) a.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(b.readableLength <= 4 * b.readableHighWaterMark + 128 * 1024, `buffered ${b.readableLength}`);
    a.end();
    b.end();
    const [atB] = await Promise.all([readAll(b), readAll(a)]);
    assert.equal(atB.length, 64 * chunk.length);
  });

  test('logs carry events and codes, never key material', async () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger((line) => lines.push(line), 'debug');
    const [a, b] = open({ logger }, { logger });
    a.end('secret text');
    b.end();
    await Promise.all([readAll(a), readAll(b)]);
    const [c, d] = open({ logger, remoteIdentityPublicKey: mallory.publicKey }, { logger });
    await Promise.all([errorCodeOf(c), errorCodeOf(d)]);
    const log = lines.join('');
    assert.match(log, /secure stream established/);
    assert.match(log, /NOISE_DECRYPT_FAILED/);
    for (const secret of [
      alice.seed,
      bob.seed,
      ed25519SeedToX25519(alice.seed),
      ed25519SeedToX25519(bob.seed),
    ]) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        assert.ok(!log.includes(secret.toString(encoding)), `a secret appears in the log (${encoding})`);
      }
    }
    assert.ok(!log.includes('secret text'));
  });

  test('local misuse throws at construction, before the transport is touched', () => {
    const [pipeA] = createDuplexPair();
    assert.throws(
      () => new SecureStream(pipeA, { isInitiator: true, identity: alice, random, pattern: 'IK' }),
      {
        code: 'SECURE_STREAM_BAD_IDENTITY',
      },
    );
    assert.equal(pipeA.listenerCount('data'), 0);
    pipeA.destroy();
  });
});
