/** Loopback integration: SecureStream over real TCP sockets on 127.0.0.1 (port 0). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { ed25519FromSeed } from '../../../src/crypto/index.ts';
import { SecureStream } from '../../../src/net/secure/index.ts';

const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));

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

/** An echo server: every accepted socket becomes a responder SecureStream piped to itself. */
async function echoServer(): Promise<{ server: net.Server; port: number; peers: SecureStream[] }> {
  const peers: SecureStream[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const secure = new SecureStream(socket, { isInitiator: false, identity: bob });
    peers.push(secure);
    secure.on('error', () => {});
    secure.pipe(secure);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { server, port: address.port, peers };
}

// Every socket and server is torn down after each test, pass or fail, so a failure cannot hang the run.
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

describe('SecureStream over TCP on 127.0.0.1', () => {
  for (const [name, remoteIdentityPublicKey] of [
    ['IK', bob.publicKey],
    ['XX', undefined],
  ] as const) {
    test(`${name}: 4 MiB echoed byte-exact, identities checked, clean close on both sides`, async () => {
      const { server, port, peers } = await echoServer();
      const socket = net.connect(port, '127.0.0.1');
      sockets.push(socket);
      const client = new SecureStream(socket, {
        isInitiator: true,
        identity: alice,
        ...(remoteIdentityPublicKey === undefined ? {} : { remoteIdentityPublicKey }),
      });
      const payload = Buffer.alloc(4 << 20);
      for (let i = 0; i < payload.length; i += 4) payload.writeUInt32LE(i, i);
      const echoed = readAll(client);
      for (let offset = 0; offset < payload.length; offset += 100_000) {
        client.write(payload.subarray(offset, offset + 100_000));
      }
      client.end();
      assert.deepEqual(await echoed, payload);
      const peer = await client.handshake;
      assert.deepEqual(peer.identityPublicKey, bob.publicKey);
      assert.equal(peer.pattern, name);
      assert.deepEqual(peers[0]?.remoteIdentityPublicKey, alice.publicKey);
      await once(socket, 'close');
      server.close();
      await once(server, 'close');
    });
  }

  test('a plain-text client is refused and the server side errors cleanly', async () => {
    const errors: string[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      const secure = new SecureStream(socket, { isInitiator: false, identity: bob });
      secure.on('error', (error: { code?: string }) => errors.push(error.code ?? '?'));
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const socket = net.connect(address.port, '127.0.0.1');
    sockets.push(socket);
    socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'close');
    server.close();
    await once(server, 'close');
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /^SECURE_STREAM_(UNKNOWN_PATTERN|TRUNCATED|FRAME_TOO_LARGE)$/);
  });
});
