import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeNatPmpResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  NatPmpDecodeError,
} from '../../../src/net/port-mapping/natpmp-codec.ts';
import { MINIUPNPD_PORT_CONTROL as V } from './fixtures/miniupnpd-2.3.1.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('requests are byte for byte what miniupnpd was sent (RFC 6886 §3.2, §3.3, §3.4)', () => {
  assert.equal(encodeExternalAddressRequest().toString('hex'), V.natpmpExternalAddress.request);
  const map = encodeMapRequest({ internalPort: 38882, suggestedExternalPort: 38882, lifetimeS: 3600 });
  assert.equal(map.toString('hex'), V.natpmpMap.request);
  const remove = encodeMapRequest({ internalPort: 38882, suggestedExternalPort: 0, lifetimeS: 0 });
  assert.equal(remove.toString('hex'), V.natpmpDelete.request);
});

test("miniupnpd's responses decode to their fields", () => {
  assert.deepEqual(decodeNatPmpResponse(hex(V.natpmpExternalAddress.response)), {
    ok: true,
    response: { kind: 'externalAddress', epochS: 0xb61, externalHost: '198.18.0.2' },
  });
  assert.deepEqual(decodeNatPmpResponse(hex(V.natpmpMap.response)), {
    ok: true,
    response: { kind: 'mapping', epochS: 0xb61, internalPort: 38882, externalPort: 38882, lifetimeS: 3600 },
  });
  assert.deepEqual(decodeNatPmpResponse(hex(V.natpmpDelete.response)), {
    ok: true,
    response: { kind: 'mapping', epochS: 0xb62, internalPort: 38882, externalPort: 0, lifetimeS: 0 },
  });
});

test('an error response is 8 bytes or more and carries its result code and epoch (§3.5)', () => {
  assert.deepEqual(decodeNatPmpResponse(hex('0081000200000010')), {
    ok: true,
    response: { kind: 'error', opcode: 'mapUdp', resultCode: 2, epochS: 16 },
  });
  // "Unsupported opcode" echoes the whole request: longer than 8 bytes is fine for an error.
  assert.deepEqual(decodeNatPmpResponse(hex('00800005000000100000')), {
    ok: true,
    response: { kind: 'error', opcode: 'externalAddress', resultCode: 5, epochS: 16 },
  });
});

test('anything else is refused with a reason, one field at a time', () => {
  const good = hex(V.natpmpMap.response);
  const cases: Array<[string, Buffer, string]> = [
    ['too short', good.subarray(0, 7), NatPmpDecodeError.size],
    ['success one byte short', good.subarray(0, 15), NatPmpDecodeError.size],
    ['success one byte long', Buffer.concat([good, Buffer.alloc(1)]), NatPmpDecodeError.size],
    ['external address with a map size', hex(`0080${'00'.repeat(14)}`), NatPmpDecodeError.size],
    ['over 1100 bytes', Buffer.alloc(1101), NatPmpDecodeError.size],
    ['version 2 (a PCP packet)', Buffer.from([2, ...good.subarray(1)]), NatPmpDecodeError.version],
    ['a request, not a response', Buffer.from([0, 1, ...good.subarray(2)]), NatPmpDecodeError.opcode],
    [
      'a TCP mapping (we never ask for one)',
      Buffer.from([0, 130, ...good.subarray(2)]),
      NatPmpDecodeError.opcode,
    ],
  ];
  for (const [name, bytes, code] of cases) {
    assert.deepEqual(decodeNatPmpResponse(bytes), { ok: false, code }, name);
  }
});

test('property: any mapping response a server could send decodes to what it carries', () => {
  fc.assert(
    fc.property(
      fc.nat(0xffffffff),
      fc.integer({ min: 0, max: 65535 }),
      fc.integer({ min: 0, max: 65535 }),
      fc.nat(0xffffffff),
      (epochS, internalPort, externalPort, lifetimeS) => {
        const bytes = Buffer.alloc(16);
        bytes[1] = 129;
        bytes.writeUInt32BE(epochS, 4);
        bytes.writeUInt16BE(internalPort, 8);
        bytes.writeUInt16BE(externalPort, 10);
        bytes.writeUInt32BE(lifetimeS, 12);
        assert.deepEqual(decodeNatPmpResponse(bytes), {
          ok: true,
          response: { kind: 'mapping', epochS, internalPort, externalPort, lifetimeS },
        });
      },
    ),
  );
});

test('fuzz: arbitrary bytes never throw, and only well-sized version-0 responses decode', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), (bytes) => {
      const result = decodeNatPmpResponse(bytes);
      if (result.ok) {
        assert.equal(bytes[0], 0);
        assert.ok(bytes.length >= 8 && bytes.length <= 1100);
      }
    }),
    { numRuns: 2000 },
  );
});
