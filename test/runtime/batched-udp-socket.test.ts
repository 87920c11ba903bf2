/**
 * The dgram-batch addon through BatchedUdpSocket (skipped when the addon was not built: then UdpTransport uses
 * node:dgram, covered in udp-transport.test.ts). What the C side must hold: bounds on every ring access, the
 * source as compact bytes and integers, truncated datagrams dropped and counted, a full send ring dropping
 * rather than overwriting, SO_REUSEPORT spreading one port over several sockets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchedUdpSocket } from '../../src/runtime/batched-udp-socket.ts';
import { loadDgramBatch } from '../../src/runtime/native-dgram-batch.ts';

const skip = BatchedUdpSocket.isAvailable() ? false : 'the dgram-batch addon is not built';

function open(options: Partial<Parameters<typeof BatchedUdpSocket.open>[0]> = {}): BatchedUdpSocket {
  const socket = BatchedUdpSocket.open({ host: '127.0.0.1', port: 0, ...options });
  assert.ok(socket);
  return socket;
}

/** Collects received datagrams (copied) until count arrived or the deadline passed. */
function collect(
  socket: BatchedUdpSocket,
  count: number,
  deadlineMs = 5000,
): Promise<Array<{ bytes: Buffer; port: number; ipv4: number; addr: Buffer; family: number }>> {
  const got: Array<{ bytes: Buffer; port: number; ipv4: number; addr: Buffer; family: number }> = [];
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(got), deadlineMs);
    socket.onReceive((n) => {
      for (let i = 0; i < n; i++) {
        const length = socket.receiveLength(i);
        if (length < 0) continue;
        got.push({
          bytes: Buffer.from(
            socket.receiveViews[socket.receiveSlot(i)]!.subarray(
              socket.receiveOffset(i),
              socket.receiveOffset(i) + length,
            ),
          ),
          port: socket.receivePort(i),
          ipv4: socket.receiveIpv4(i),
          addr: Buffer.from(socket.receiveAddr.subarray(i * 18, i * 18 + 18)),
          family: socket.receiveFamily(i),
        });
      }
      if (got.length >= count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

describe('BatchedUdpSocket', { skip }, () => {
  test('a received datagram comes with its source as integers and compact bytes', async () => {
    const a = open();
    const b = open();
    try {
      const got = collect(b, 1);
      assert.equal(a.sendToHost(Buffer.from('abc'), 0, 3, '127.0.0.1', b.localPort()), true);
      const [first] = await got;
      assert.ok(first);
      assert.equal(first.bytes.toString(), 'abc');
      assert.equal(first.family, 4);
      assert.equal(first.port, a.localPort());
      assert.equal(first.ipv4, 0x7f000001);
      assert.deepEqual(
        [...first.addr.subarray(0, 6)],
        [127, 0, 0, 1, a.localPort() >> 8, a.localPort() & 0xff],
      );
    } finally {
      a.close();
      b.close();
    }
  });

  test('sendToIpv4 and sendToCompact address the same peer; offsets and lengths are honoured', async () => {
    const a = open();
    const b = open();
    try {
      const got = collect(b, 2);
      const bytes = Buffer.from('xxHELLOyy');
      a.sendToIpv4(bytes, 2, 5, 0x7f000001, b.localPort());
      const compact = Buffer.from([0, 127, 0, 0, 1, b.localPort() >> 8, b.localPort() & 0xff]);
      a.sendToCompact(bytes, 0, 2, compact, 1, 6);
      const packets = await got;
      assert.deepEqual(packets.map((p) => p.bytes.toString()).sort(), ['HELLO', 'xx']);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a datagram bigger than a receive slot is dropped and counted, the next one arrives', async () => {
    const a = open();
    const b = open({ slotBytes: 256 });
    try {
      const got = collect(b, 1);
      a.sendToHost(Buffer.alloc(1000, 1), 0, 1000, '127.0.0.1', b.localPort());
      a.sendToHost(Buffer.alloc(200, 2), 0, 200, '127.0.0.1', b.localPort());
      const packets = await got;
      assert.equal(packets.length, 1);
      assert.equal(packets[0]!.bytes.length, 200);
      assert.equal(b.receiveErrors, 1);
    } finally {
      a.close();
      b.close();
    }
  });

  test('a full send ring drops and counts; queued datagrams are never overwritten', async () => {
    const a = open({ sendSlots: 8, sendRingBytes: 8 * 100 });
    const b = open();
    try {
      // Nothing flushes before this synchronous loop ends except the ring filling up: 8 slots, 100 bytes each.
      const got = collect(b, 20, 2000);
      let accepted = 0;
      for (let i = 0; i < 20; i++)
        if (a.sendToHost(Buffer.alloc(100, i), 0, 100, '127.0.0.1', b.localPort())) accepted++;
      const packets = await got;
      assert.equal(accepted + a.sendsDropped, 20);
      assert.equal(packets.length, accepted);
      for (const p of packets) assert.ok(p.bytes.every((v) => v === p.bytes[0]));
    } finally {
      a.close();
      b.close();
    }
  });

  test('the send ring wraps around with datagrams of mixed sizes', async () => {
    const a = open({ sendSlots: 16, sendRingBytes: 4096 });
    const b = open();
    try {
      const sizes = Array.from({ length: 200 }, (_, i) => 1 + ((i * 397) % 1500));
      const got = collect(b, sizes.length);
      for (let i = 0; i < sizes.length; i++) {
        a.sendToHost(Buffer.alloc(sizes[i]!, i & 0xff), 0, sizes[i]!, '127.0.0.1', b.localPort());
        if (i % 3 === 2) await new Promise((r) => setImmediate(r)); // let flushes run between bursts
      }
      const packets = await got;
      assert.equal(packets.length + a.sendsDropped, sizes.length);
      assert.ok(packets.length > sizes.length / 2);
      for (const p of packets)
        assert.ok(
          p.bytes.every((v) => v === p.bytes[0]),
          'intact',
        );
    } finally {
      a.close();
      b.close();
    }
  });

  for (const isGro of [false, true]) {
    test(`a burst of equal datagrams to one peer (sent as UDP GSO segments) arrives as separate datagrams${isGro ? ', split out of GRO receives' : ''}`, async () => {
      const a = open();
      const b = open(isGro ? { isGro, slotBytes: 65536 } : {});
      try {
        // 100 full segments and a shorter last one: one GSO message holds at most 64 and 65,000 bytes.
        const sizes = [...Array.from({ length: 100 }, () => 1000), 500];
        const got = collect(b, sizes.length);
        for (const [i, size] of sizes.entries()) {
          a.sendToHost(Buffer.alloc(size, i), 0, size, '127.0.0.1', b.localPort());
        }
        const packets = await got;
        assert.deepEqual(
          packets.map((p) => p.bytes.length),
          sizes,
        );
        assert.deepEqual(
          packets.map((p) => p.bytes[0]),
          sizes.map((_, i) => i),
          'in order, each its own datagram',
        );
        assert.equal(a.sendErrors, 0);
      } finally {
        a.close();
        b.close();
      }
    });
  }

  test('SO_REUSEPORT: two sockets share one port and the kernel spreads sources over them', async () => {
    const first = open({ isReusePort: true });
    const port = first.localPort();
    const second = open({ port, isReusePort: true });
    const senders = Array.from({ length: 16 }, () => open());
    try {
      let toFirst = 0;
      let toSecond = 0;
      first.onReceive((n) => {
        toFirst += n;
      });
      second.onReceive((n) => {
        toSecond += n;
      });
      for (const s of senders)
        for (let i = 0; i < 4; i++) s.sendToHost(Buffer.from('q'), 0, 1, '127.0.0.1', port);
      const deadline = Date.now() + 5000;
      while (toFirst + toSecond < 64 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(toFirst + toSecond, 64);
      assert.ok(toFirst > 0 && toSecond > 0, `both sockets got sources (${toFirst} / ${toSecond})`);
      // Without SO_REUSEPORT the port is taken.
      assert.throws(
        () => open({ port }),
        (error: Error & { code?: string }) => error.code === 'EADDRINUSE',
      );
    } finally {
      first.close();
      second.close();
      for (const s of senders) s.close();
    }
  });

  test('the addon rejects rings that do not match their sizes and hosts of the wrong family', () => {
    const binding = loadDgramBatch()!;
    const rings = {
      family: 4 as const,
      host: '127.0.0.1',
      port: 0,
      isReusePort: false,
      isV6Only: false,
      isGro: false,
      bufferBytes: 0,
      slotBytes: 2048,
      recvSlots: 4,
      recvEntries: 4,
      recvData: Buffer.alloc(4 * 2048),
      recvMeta: new Int32Array(32),
      recvAddr: Buffer.alloc(4 * 18),
      sendSlots: 4,
      sendData: Buffer.alloc(1024),
      sendMeta: new Int32Array(32),
      sendAddr: Buffer.alloc(64),
      status: new Int32Array(new ArrayBuffer(64)),
    };
    assert.throws(() => binding.open({ ...rings, recvData: Buffer.alloc(100) }), /ring buffers/);
    assert.throws(() => binding.open({ ...rings, sendMeta: new Int32Array(4) }), /ring buffers/);
    assert.throws(() => binding.open({ ...rings, host: '::1' }), /IP literal/);
    const handle = binding.open(rings);
    try {
      assert.throws(() => binding.flush(handle, 4, 1), /within the send ring/);
      assert.throws(() => binding.flush(handle, 0, 5), /within the send ring/);
      // A slot whose meta points outside the data ring is consumed as an error, never read.
      rings.sendMeta.set([10, 4, 9, 0x7f000001, 1020, 0, 0, 0], 0);
      rings.sendMeta.set([10, 5, 9, 0x7f000001, 0, 0, 0, 0], 8);
      assert.equal(binding.flush(handle, 0, 2), 2);
      assert.equal(rings.status[0], 2);
    } finally {
      binding.close(handle);
      binding.close(handle);
    }
  });
});
