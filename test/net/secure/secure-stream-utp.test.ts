/** Loopback integration: full IK and XX secure sessions over uTP (UtpStream on real UDP sockets, 127.0.0.1). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../../src/crypto/index.ts';
import { SecureStream, UtpEndpoint, UtpStream } from '../../../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../../src/runtime/index.ts';

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

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

function filler(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = (Math.imul(i + seed, 2654435761) >>> 24) & 0xff;
  return out;
}

// Endpoints are closed after each test, pass, fail or timeout, so a failure cannot keep the process alive.
const endpoints: UtpEndpoint[] = [];
afterEach(() => {
  for (const endpoint of endpoints.splice(0)) endpoint.close();
});

/** The error's code, with its cause's code when the transport failed (to tell uTP failures apart). */
function describeError(error: unknown): string {
  const e = error as { code?: string; cause?: { code?: string; message?: string } };
  return `${e.code ?? String(error)}${e.cause === undefined ? '' : ` (cause: ${e.cause.code ?? e.cause.message})`}`;
}

describe('SecureStream over uTP on 127.0.0.1', { timeout: 30_000 }, () => {
  for (const [name, remoteIdentityPublicKey] of [
    ['IK', bob.publicKey],
    ['XX', undefined],
  ] as const) {
    test(`${name}: 2 MiB each way byte-exact, identities checked, clean close`, async () => {
      const [a, b] = await Promise.all([
        UdpTransport.bind({ host: '127.0.0.1' }),
        UdpTransport.bind({ host: '127.0.0.1' }),
      ]);
      const client = new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom });
      const server = new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom });
      endpoints.push(client, server);
      try {
        const upload = filler(2 << 20, 1);
        const download = filler(2 << 20, 2);
        const atServer = new Promise<{ bytes: Buffer; peer: SecureStream }>((resolve, reject) => {
          server.listen((socket) => {
            const secure = new SecureStream(new UtpStream(socket), { isInitiator: false, identity: bob });
            secure.end(download);
            readAll(secure).then((bytes) => resolve({ bytes, peer: secure }), reject);
          });
        });
        const secure = new SecureStream(new UtpStream(client.connect(server.localAddress())), {
          isInitiator: true,
          identity: alice,
          ...(remoteIdentityPublicKey === undefined ? {} : { remoteIdentityPublicKey }),
        });
        secure.end(upload);
        const [atClient, fromServer, peer] = await Promise.all([readAll(secure), atServer, secure.handshake]);
        assert.equal(sha1(fromServer.bytes), sha1(upload));
        assert.equal(sha1(atClient), sha1(download));
        assert.equal(peer.pattern, name);
        assert.deepEqual(peer.identityPublicKey, bob.publicKey);
        assert.deepEqual(fromServer.peer.remoteIdentityPublicKey, alice.publicKey);
      } catch (error) {
        assert.fail(describeError(error));
      }
    });
  }
});
