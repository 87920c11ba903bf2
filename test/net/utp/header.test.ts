/** Unit tier: the BEP 29 header codec, sequence arithmetic, selective ACK masks and the receive buffer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodePacket,
  encodePacket,
  HEADER_BYTES,
  PacketType,
  seqAdd,
  seqDiff,
  timestampMicros,
} from '../../../src/net/utp/header.ts';
import { ReceiveBuffer } from '../../../src/net/utp/receive-buffer.ts';
import { buildSack, forEachSacked } from '../../../src/net/utp/sack.ts';
import { SendQueue } from '../../../src/net/utp/send-queue.ts';

describe('uTP header codec', () => {
  test('a payload with free headroom gets its header written in place, the same bytes as a fresh packet', () => {
    const queue = new SendQueue();
    queue.push(Buffer.from('first write '), true);
    queue.push(Buffer.from('second write'), true);
    const payload = queue.takeWithHeadroom(18, HEADER_BYTES + 4);
    assert.equal(payload.toString(), 'first write second');
    assert.equal(queue.bytes, 6);
    const fields = {
      type: PacketType.ST_DATA,
      connectionId: 7,
      timestampUs: 1234,
      timestampDiffUs: 5,
      wndSize: 65_536,
      seqNr: 9,
      ackNr: 3,
      payload,
      largePacketBytes: 32_000,
    } as const;
    const fresh = encodePacket(fields);
    const inPlace = encodePacket({ ...fields, headroomBytes: HEADER_BYTES + 4 });
    assert.deepEqual(inPlace, fresh);
    assert.equal(inPlace.buffer, payload.buffer, 'no copy: the header went into the headroom');
    assert.equal(inPlace.byteOffset + inPlace.length, payload.byteOffset + payload.length);
    assert.equal(payload.toString(), 'first write second', 'the payload is untouched');
    // Without room for the header (a SACK makes it longer than the headroom) it is a fresh buffer.
    const withSack = encodePacket({ ...fields, sack: Buffer.alloc(4), headroomBytes: HEADER_BYTES + 4 });
    assert.equal(decodePacket(withSack).ok, true);
    withSack.fill(0);
    assert.deepEqual(inPlace, fresh, 'a packet of its own: the first one and its payload untouched');
  });

  test('encodes the BEP 29 layout byte for byte', () => {
    const bytes = encodePacket({
      type: PacketType.ST_DATA,
      connectionId: 0x1234,
      timestampUs: 0xdeadbeef,
      timestampDiffUs: 0x01020304,
      wndSize: 0x00100000,
      seqNr: 0xfffe,
      ackNr: 0x0001,
      payload: Buffer.from('hi'),
    });
    assert.equal(
      bytes.toString('hex'),
      '0100' +
        '1234' +
        'deadbeef' +
        '01020304' +
        '00100000' +
        'fffe' +
        '0001' +
        Buffer.from('hi').toString('hex'),
    );
  });

  test('round-trips every field, a selective ACK and the payload', () => {
    fc.assert(
      fc.property(
        fc.record({
          type: fc.integer({ min: 0, max: 4 }),
          connectionId: fc.integer({ min: 0, max: 0xffff }),
          timestampUs: fc.integer({ min: 0, max: 0xffffffff }),
          timestampDiffUs: fc.integer({ min: 0, max: 0xffffffff }),
          wndSize: fc.integer({ min: 0, max: 0xffffffff }),
          seqNr: fc.integer({ min: 0, max: 0xffff }),
          ackNr: fc.integer({ min: 0, max: 0xffff }),
          sackWords: fc.integer({ min: 0, max: 4 }),
          payload: fc.uint8Array({ maxLength: 64 }),
        }),
        (f) => {
          const sack = f.sackWords === 0 ? undefined : Buffer.alloc(f.sackWords * 4, 0xa5);
          const bytes = encodePacket({ ...f, type: f.type as PacketType, sack, payload: f.payload });
          const d = decodePacket(bytes);
          assert.ok(d.ok);
          const p = d.packet;
          assert.deepEqual(
            [p.type, p.connectionId, p.timestampUs, p.timestampDiffUs, p.wndSize, p.seqNr, p.ackNr],
            [f.type, f.connectionId, f.timestampUs, f.timestampDiffUs, f.wndSize, f.seqNr, f.ackNr],
          );
          assert.deepEqual(p.sack, sack);
          assert.deepEqual(new Uint8Array(p.payload), f.payload);
        },
      ),
    );
  });

  test('rejects short, wrong-version, unknown-type and broken-extension packets with a value', () => {
    const good = encodePacket({
      type: 0,
      connectionId: 1,
      timestampUs: 1,
      timestampDiffUs: 0,
      wndSize: 0,
      seqNr: 1,
      ackNr: 0,
    });
    assert.deepEqual(decodePacket(good.subarray(0, HEADER_BYTES - 1)), { ok: false, error: 'too-short' });
    assert.deepEqual(decodePacket(Buffer.from([0x02, ...good.subarray(1)])), {
      ok: false,
      error: 'bad-version',
    });
    assert.deepEqual(decodePacket(Buffer.from([0x51, ...good.subarray(1)])), {
      ok: false,
      error: 'bad-type',
    });
    const ext = Buffer.from(good);
    ext[1] = 1; // says a SACK follows, but nothing does
    assert.deepEqual(decodePacket(ext), { ok: false, error: 'bad-extension' });
    const badLen = Buffer.concat([ext, Buffer.from([0, 9, 1, 2, 3])]); // SACK says 9 bytes, only 3 follow
    assert.deepEqual(decodePacket(badLen), { ok: false, error: 'bad-extension' });
    // libtorrent sends masks that are not a multiple of 4 bytes (the BEP asks for one): accepted as they are.
    const odd = decodePacket(Buffer.concat([ext, Buffer.from([0, 5, 1, 2, 3, 4, 5])]));
    assert.ok(odd.ok && odd.packet.sack?.length === 5);
    const unknown = Buffer.concat([good, Buffer.from([0, 2, 9, 9]), Buffer.from('data')]);
    unknown[1] = 3; // libtorrent's close-reason extension: skipped
    const d = decodePacket(unknown);
    assert.ok(d.ok && d.packet.payload.toString() === 'data' && d.packet.sack === undefined);
  });

  test('sequence numbers compare and add across the 16-bit wrap', () => {
    assert.equal(seqDiff(2, 0xfffe), 4);
    assert.equal(seqDiff(0xfffe, 2), -4);
    assert.equal(seqAdd(0xffff, 1), 0);
    assert.equal(seqAdd(0, -1), 0xffff);
    assert.equal(timestampMicros(0), 1, '0 means "no timestamp" on the wire');
    assert.equal(timestampMicros(4_294_967.297), 1);
  });
});

describe('selective ACK', () => {
  test('bit i of the mask is ack_nr + 2 + i, least significant bit first, across the wrap', () => {
    const ackNr = 0xfffd;
    const held = new Map<number, unknown>([
      [seqAdd(ackNr, 2), 1],
      [seqAdd(ackNr, 9), 1],
      [seqAdd(ackNr, 40), 1],
    ]);
    const mask = buildSack(ackNr, held, 1000);
    assert.equal(mask?.toString('hex'), '8100000040000000');
    const seen: number[] = [];
    forEachSacked(ackNr, mask as Buffer, (s) => seen.push(s));
    assert.deepEqual(seen, [seqAdd(ackNr, 2), seqAdd(ackNr, 9), seqAdd(ackNr, 40)]);
    assert.equal(buildSack(ackNr, new Map(), 1000), undefined);
  });
});

describe('ReceiveBuffer', () => {
  test('delivers in order, holds early packets, and never holds more than its capacity', () => {
    const rb = new ReceiveBuffer(10, 100);
    rb.ackNr = 0xfffe;
    assert.equal(rb.accept(0x0000, Buffer.from('cc'), false), 'out-of-order');
    assert.equal(rb.accept(0x0001, Buffer.from('ddddddddd'), false), 'refused', 'window would overflow');
    assert.equal(rb.accept(0xffff, Buffer.from('bb'), false), 'in-order');
    assert.equal(rb.ackNr, 0);
    assert.equal(rb.accept(0xffff, Buffer.from('bb'), false), 'duplicate');
    assert.equal(rb.read()?.toString(), 'bb');
    assert.equal(rb.read()?.toString(), 'cc');
    assert.equal(rb.windowBytes, 10);
    assert.equal(rb.accept(200, Buffer.from('x'), false), 'refused', 'too far ahead');
  });

  test('the FIN marks the end; nothing past it is taken', () => {
    const rb = new ReceiveBuffer(100, 100);
    rb.ackNr = 10;
    assert.equal(rb.accept(12, Buffer.alloc(0), true), 'out-of-order');
    assert.equal(rb.accept(13, Buffer.from('late'), false), 'refused');
    assert.equal(rb.isEofReached, false);
    assert.equal(rb.accept(11, Buffer.from('last'), false), 'in-order');
    assert.equal(rb.isEofReached, true);
    assert.equal(rb.ackNr, 12);
  });
});
