import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UdpTransport } from '../../src/runtime/index.ts';

function nextPacket(transport: UdpTransport): Promise<{ bytes: Buffer; host: string; port: number }> {
  return new Promise((resolve) => {
    transport.onPacket((bytes, from) => resolve({ bytes, host: from.host, port: from.port }));
  });
}

test('an IPv4 socket sends and receives on 127.0.0.1, reporting plain addresses', async () => {
  const a = await UdpTransport.bind({ host: '127.0.0.1' });
  const b = await UdpTransport.bind({ host: '127.0.0.1' });
  try {
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
  const dual = await UdpTransport.bind({ host: '::' });
  const v4 = await UdpTransport.bind({ host: '127.0.0.1' });
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
