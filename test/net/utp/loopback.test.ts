/** Loopback tier: UtpStream over real UDP sockets on 127.0.0.1, driven by the system clock. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { UtpEndpoint, UtpStream } from '../../../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../../src/runtime/index.ts';
import { patternBytes } from './sim-harness.ts';

async function endpoints(): Promise<{ client: UtpEndpoint; server: UtpEndpoint }> {
  const [a, b] = await Promise.all([
    UdpTransport.bind({ host: '127.0.0.1' }),
    UdpTransport.bind({ host: '127.0.0.1' }),
  ]);
  return {
    client: new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom }),
    server: new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom }),
  };
}

describe('uTP streams over loopback UDP', { timeout: 30_000 }, () => {
  test('8 MiB each way through UtpStream arrives intact, then both ends close cleanly', async () => {
    const { client, server } = await endpoints();
    const upload = patternBytes(8 * 1024 * 1024, 21);
    const download = patternBytes(8 * 1024 * 1024, 22);
    const serverDone = new Promise<Buffer>((resolve, reject) => {
      server.listen((socket) => {
        const stream = new UtpStream(socket);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => resolve(Buffer.concat(chunks)));
        stream.end(download);
      });
    });
    const stream = new UtpStream(client.connect(server.localAddress()));
    await once(stream, 'connect');
    const received: Buffer[] = [];
    stream.on('data', (c: Buffer) => received.push(c));
    const clientEnded = once(stream, 'end');
    const clientClosed = once(stream, 'close');
    stream.end(upload);
    const atServer = await serverDone;
    await clientEnded;
    await clientClosed;
    const sha = (b: Buffer) => createHash('sha1').update(b).digest('hex');
    assert.equal(sha(atServer), sha(upload));
    assert.equal(sha(Buffer.concat(received)), sha(download));
    client.close();
    server.close();
  });

  test('destroy() right after end() still delivers every written byte, then the FIN', async () => {
    const { client, server } = await endpoints();
    const received = new Promise<Buffer>((resolve, reject) => {
      server.listen((socket) => {
        const stream = new UtpStream(socket);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('end', () => resolve(Buffer.concat(chunks)));
      });
    });
    const data = patternBytes(4 * 1024 * 1024, 23);
    const stream = new UtpStream(client.connect(server.localAddress()));
    await once(stream, 'connect');
    for (let i = 0; i < data.length; i += 256 * 1024) stream.write(data.subarray(i, i + 256 * 1024));
    stream.end();
    assert.ok(stream.writableLength > 0, 'some writes are still buffered in the Writable');
    stream.destroy();
    const got = await received;
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data));
    client.close();
    server.close();
  });

  test('half-close: after our end() the peer can still answer, and finish comes when our FIN is acked', async () => {
    const { client, server } = await endpoints();
    server.listen((socket) => {
      const stream = new UtpStream(socket, { allowHalfOpen: true });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => stream.end(`got ${Buffer.concat(chunks).toString()}`));
    });
    const stream = new UtpStream(client.connect(server.localAddress()), { allowHalfOpen: true });
    await once(stream, 'connect');
    const finished = once(stream, 'finish');
    stream.end('question');
    await finished;
    const reply: Buffer[] = [];
    stream.on('data', (c: Buffer) => reply.push(c));
    await once(stream, 'end');
    assert.equal(Buffer.concat(reply).toString(), 'got question');
    client.close();
    server.close();
  });

  test('resetAndDestroy() on one side errors the other with UTP_RESET; destroy() alone ends it cleanly', async () => {
    const { client, server } = await endpoints();
    const accepted = new Promise<UtpStream>((resolve) =>
      server.listen((socket) => resolve(new UtpStream(socket))),
    );
    const stream = new UtpStream(client.connect(server.localAddress()));
    await once(stream, 'connect');
    stream.write('ping');
    const peer = await accepted;
    const [first] = (await once(peer, 'data')) as [Buffer];
    assert.equal(first.toString(), 'ping');
    const error = once(stream, 'error');
    peer.resetAndDestroy();
    const [err] = (await error) as [Error & { code: string }];
    assert.equal(err.code, 'UTP_RESET');
    // A second connection: destroy() without an error is a graceful close, the other side just sees the end.
    const accepted2 = new Promise<UtpStream>((resolve) =>
      server.listen((socket) => resolve(new UtpStream(socket))),
    );
    const stream2 = new UtpStream(client.connect(server.localAddress()));
    await once(stream2, 'connect');
    stream2.write('bye');
    const peer2 = await accepted2;
    const [bye] = (await once(peer2, 'data')) as [Buffer];
    assert.equal(bye.toString(), 'bye');
    peer2.write('last words');
    peer2.destroy();
    const got: Buffer[] = [];
    stream2.on('data', (c: Buffer) => got.push(c));
    await once(stream2, 'end');
    assert.equal(Buffer.concat(got).toString(), 'last words');
    client.close();
    server.close();
  });
});
