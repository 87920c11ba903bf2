/**
 * decodePacket (src/net/utp/header.ts): the 20-byte BEP 29 header and its extension chain (SACK, the dhtchat
 * packet-size extension, unknown ones skipped). Properties: never throws; a rejection is one of the four errors;
 * an accepted packet's views lie inside the datagram; encodePacket of what was decoded decodes to the same fields.
 */
import assert from 'node:assert/strict';
import { decodePacket, encodePacket, type PacketType } from '../../../src/net/index.ts';
import {
  EXTENSION_DHTCHAT_PACKET_SIZE,
  EXTENSION_NONE,
  EXTENSION_SACK,
} from '../../../src/net/utp/header.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

const ERRORS = new Set(['too-short', 'bad-version', 'bad-type', 'bad-extension']);

export const utpHeaderTarget: FuzzTarget = {
  name: 'utp-header',
  decoders: 'decodePacket, encodePacket (uTP header + extensions)',
  weight: 15,
  maxInputBytes: 1600,
  dictionary: [
    ...tokens('\x01', '\x11', '\x21', '\x31', '\x41', '\x51'),
    Buffer.from([0x00, 0x04, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x01, 0x04, 0x00, 0x00, 0x00, 0x01]),
    Buffer.from([0xdc, 0x02, 0x05, 0xdc]),
    Buffer.from([0x00, 0x02, 0x05, 0xdc]),
    Buffer.from([0x02, 0xff]),
  ],
  seeds(random: FuzzRandom): Buffer[] {
    const base = (type: number) => ({
      type: type as PacketType,
      connectionId: random.int(0x10000),
      timestampUs: random.u32(),
      timestampDiffUs: random.u32(),
      wndSize: random.u32(),
      seqNr: random.int(0x10000),
      ackNr: random.int(0x10000),
    });
    return [
      encodePacket(base(4)),
      encodePacket({ ...base(4), largePacketBytes: 1400 }),
      encodePacket({ ...base(2), sack: random.bytes(4) }),
      encodePacket({ ...base(2), sack: random.bytes(8), largePacketBytes: 1200 }),
      encodePacket({ ...base(0), payload: random.bytes(100) }),
      encodePacket({ ...base(0), sack: random.bytes(4), payload: random.bytes(40) }),
      encodePacket(base(1)),
      encodePacket(base(3)),
    ];
  },
  run(input: Buffer): string {
    const r = decodePacket(input);
    if (!r.ok) {
      assert.ok(ERRORS.has(r.error), `unknown error ${r.error}`);
      return `reject:${r.error}`;
    }
    const p = r.packet;
    assert.ok(p.payload.length <= input.length - 20, 'the payload lies inside the datagram');
    if (p.sack !== undefined) assert.ok(p.sack.length > 0 && p.sack.length <= 255);
    const again = decodePacket(encodePacket(p));
    assert.ok(again.ok, 'what we decoded encodes to a packet we accept');
    const { extension: _a, ...fields } = p;
    const { extension: _b, ...fieldsAgain } = again.packet;
    assert.deepEqual(fieldsAgain, fields, 'decode(encode(p)) == p');
    // Whether the first extension is one we know, not its value (256 values would each look new).
    const extension = [EXTENSION_NONE, EXTENSION_SACK, EXTENSION_DHTCHAT_PACKET_SIZE].includes(p.extension)
      ? p.extension
      : 'other';
    return `ok:${p.type}:${extension}:${p.sack === undefined ? 0 : 1}:${p.largePacketBytes === undefined ? 0 : 1}`;
  },
};
