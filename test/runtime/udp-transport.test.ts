import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { BatchedUdpSocket } from '../../src/runtime/batched-udp-socket.ts';
import { UdpTransport } from '../../src/runtime/index.ts';

function nextPacket(transport: UdpTransport): Promise<{ bytes: Buffer; host: string; port: number }> {
  return new Promise((resolve) => {
    transport.onPacket((bytes, from) => resolve({ bytes, host: from.host, port: from.port }));
  });
}

// The same contract on both backends: the batched addon (when built) and the node:dgram fallback.
const backends = BatchedUdpSocket.isAvailable() ? [true, false] : [false];

for (const isBatchingAllowed of backends) {
  describe(isBatchingAllowed ? 'batched backend' : 'node:dgram backend', () => {
    test('an IPv4 socket sends and receives on 127.0.0.1, reporting plain addresses', async () => {
      const a = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      const b = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      try {
        assert.equal(a.backend, isBatchingAllowed ? 'batched' : 'dgram');
        const got = nextPacket(b);
        a.send(Buffer.from('hello'), b.localAddress());
        const packet = await got;
        assert.equal(packet.bytes.toString(), 'hello');
        assert.deepEqual({ host: packet.host, port: packet.port }, a.localAddress());
      } finally {
        a.close();
        b.close();
      }
    });

    test('a dual-stack socket bound to :: reaches an IPv4 peer and sees it as a dotted quad', async () => {
      const dual = await UdpTransport.bind({ host: '::', isBatchingAllowed });
      const v4 = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      try {
        const toV4 = nextPacket(v4);
        dual.send(Buffer.from('ping'), v4.localAddress());
        const first = await toV4;
        assert.equal(first.bytes.toString(), 'ping');
        assert.equal(first.host, '127.0.0.1');

        const toDual = nextPacket(dual);
        v4.send(Buffer.from('pong'), { host: '127.0.0.1', port: dual.localAddress().port });
        const second = await toDual;
        assert.equal(second.bytes.toString(), 'pong');
        assert.equal(second.host, '127.0.0.1', 'IPv4-mapped sources are normalised');
        assert.equal(dual.sendErrors, 0);
      } finally {
        dual.close();
        v4.close();
      }
    });

    test('IPv6 loopback: packets both ways, the source as a compressed literal', async () => {
      const a = await UdpTransport.bind({ host: '::1', isBatchingAllowed });
      const b = await UdpTransport.bind({ host: '::1', isBatchingAllowed });
      try {
        const got = nextPacket(b);
        a.send(Buffer.from('six'), b.localAddress());
        const packet = await got;
        assert.equal(packet.bytes.toString(), 'six');
        assert.deepEqual(
          { host: packet.host, port: packet.port },
          { host: '::1', port: a.localAddress().port },
        );
      } finally {
        a.close();
        b.close();
      }
    });

    test('every datagram of a burst arrives intact and in its own Buffer a handler may keep', async () => {
      const a = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      const b = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      try {
        const count = 500;
        const kept: Buffer[] = [];
        const done = new Promise<void>((resolve) => {
          b.onPacket((bytes) => {
            kept.push(bytes);
            if (kept.length === count) resolve();
          });
        });
        for (let i = 0; i < count; i++) a.send(Buffer.alloc(1200, i & 0xff), b.localAddress());
        await done;
        kept.sort((x, y) => x[0]! - y[0]!);
        const seen = new Set(kept.map((k) => k[0]));
        assert.equal(seen.size, 256);
        for (const k of kept) {
          assert.equal(k.length, 1200);
          assert.ok(
            k.every((v) => v === k[0]),
            'no datagram was overwritten by a later one',
          );
        }
      } finally {
        a.close();
        b.close();
      }
    });

    test('a port in use is refused with EADDRINUSE', async () => {
      const a = await UdpTransport.bind({ host: '127.0.0.1', isBatchingAllowed });
      try {
        await assert.rejects(
          UdpTransport.bind({ host: '127.0.0.1', port: a.localAddress().port, isBatchingAllowed }),
          (error: Error & { code?: string }) => error.code === 'EADDRINUSE',
        );
      } finally {
        a.close();
      }
    });
  });
}

test('DHTCHAT_DGRAM_BATCHING=off forces the node:dgram fallback', () => {
  const script =
    "import { UdpTransport } from './src/runtime/index.ts';" +
    "const t = await UdpTransport.bind({ host: '127.0.0.1' }); console.log(t.backend); t.close();";
  const run = (env: NodeJS.ProcessEnv): string =>
    execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, ...env },
    })
      .toString()
      .trim();
  assert.equal(run({ DHTCHAT_DGRAM_BATCHING: 'off' }), 'dgram');
  assert.equal(run({ DHTCHAT_DGRAM_BATCHING: '' }), BatchedUdpSocket.isAvailable() ? 'batched' : 'dgram');
});
