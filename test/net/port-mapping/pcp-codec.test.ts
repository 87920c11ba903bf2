import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodePcpResponse,
  encodeMapRequest,
  PcpDecodeError,
} from '../../../src/net/port-mapping/pcp-codec.ts';
import { MINIUPNPD_PORT_CONTROL as V } from './fixtures/miniupnpd-2.3.1.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const NONCE = hex('0102030405060708090a0b0c');

test('the MAP request is byte for byte what miniupnpd was sent (RFC 6887 §7.1, §11.1)', () => {
  const map = encodeMapRequest({
    clientHost: '192.168.77.2',
    nonce: NONCE,
    internalPort: 38883,
    suggestedExternalPort: 38883,
    lifetimeS: 3600,
  });
  assert.equal(map?.toString('hex'), V.pcpMap.request);
  const remove = encodeMapRequest({
    clientHost: '192.168.77.2',
    nonce: NONCE,
    internalPort: 38883,
    suggestedExternalPort: 0,
    lifetimeS: 0,
  });
  assert.equal(remove?.toString('hex'), V.pcpDelete.request);
});

test('IPv6 clients carry their address as is and "no preference" is :: (§11.1)', () => {
  const map = encodeMapRequest({
    clientHost: '2001:db8::2',
    nonce: NONCE,
    internalPort: 1,
    suggestedExternalPort: 0,
    lifetimeS: 1,
  });
  assert.equal(map?.subarray(8, 24).toString('hex'), '20010db8000000000000000000000002');
  assert.equal(map?.subarray(44, 60).toString('hex'), '00'.repeat(16));
});

test('a request that cannot be encoded is undefined, not a throw', () => {
  const base = { nonce: NONCE, internalPort: 1, suggestedExternalPort: 0, lifetimeS: 1 };
  assert.equal(encodeMapRequest({ ...base, clientHost: 'router.local' }), undefined);
  assert.equal(encodeMapRequest({ ...base, clientHost: '10.0.0.2', nonce: Buffer.alloc(11) }), undefined);
  assert.equal(encodeMapRequest({ ...base, clientHost: '10.0.0.2', suggestedExternalHost: 'x' }), undefined);
});

test("miniupnpd's MAP responses decode to their fields", () => {
  assert.deepEqual(decodePcpResponse(hex(V.pcpMap.response)), {
    ok: true,
    response: {
      kind: 'map',
      resultCode: 0,
      lifetimeS: 3600,
      epochS: 0xb62,
      nonce: NONCE,
      protocol: 17,
      internalPort: 38883,
      externalPort: 38883,
      externalHost: '198.18.0.2',
    },
  });
  const removed = decodePcpResponse(hex(V.pcpDelete.response));
  assert.ok(removed.ok && removed.response.kind === 'map');
  assert.equal(removed.response.lifetimeS, 0);
  const mismatch = decodePcpResponse(hex(V.pcpAddressMismatch.response));
  assert.ok(mismatch.ok && mismatch.response.kind === 'map');
  assert.equal(mismatch.response.resultCode, 12);
});

test('version negotiation: a NAT-PMP server (version 0) or an old draft answers UNSUPP_VERSION (§9)', () => {
  // RFC 6886 §3.5: vers 0, op 128 + 1, result 1 (16 bits), epoch.
  assert.deepEqual(decodePcpResponse(hex('0081000100000010')), {
    ok: true,
    response: { kind: 'unsupportedVersion', serverVersion: 0 },
  });
  assert.deepEqual(decodePcpResponse(hex(`01810001${'00'.repeat(20)}`)), {
    ok: true,
    response: { kind: 'unsupportedVersion', serverVersion: 1 },
  });
});

test('an error answer too short for the MAP fields is still an answer; a short success is not', () => {
  assert.deepEqual(decodePcpResponse(hex(`02810003000000780000abcd${'00'.repeat(12)}`)), {
    ok: true,
    response: { kind: 'mapError', resultCode: 3, lifetimeS: 120, epochS: 0xabcd },
  });
  assert.deepEqual(decodePcpResponse(hex(`02810000${'00'.repeat(20)}`)), {
    ok: false,
    code: PcpDecodeError.size,
  });
});

test('options are skipped only when their lengths add up (§7.3)', () => {
  const good = hex(V.pcpMap.response);
  // PREFER_FAILURE (2) with no data; THIRD_PARTY (1) with 16 bytes.
  const withOptions = Buffer.concat([good, hex('02000000'), hex(`01000010${'00'.repeat(16)}`)]);
  assert.equal(decodePcpResponse(withOptions).ok, true);
  const overrun = Buffer.concat([good, hex(`01000014${'00'.repeat(16)}`)]);
  assert.deepEqual(decodePcpResponse(overrun), { ok: false, code: PcpDecodeError.option });
});

test('anything else is refused with a reason, one field at a time', () => {
  const good = hex(V.pcpMap.response);
  const with1 = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(good);
    copy[offset] = value;
    return copy;
  };
  const cases: Array<[string, Buffer, string]> = [
    ['3 bytes', good.subarray(0, 3), PcpDecodeError.size],
    ['over 1100 bytes', Buffer.concat([good, Buffer.alloc(1044)]), PcpDecodeError.size],
    ['not a multiple of 4', Buffer.concat([good, Buffer.alloc(2)]), PcpDecodeError.size],
    ['version 3', with1(0, 3), PcpDecodeError.version],
    ['a request (R bit clear)', with1(1, 1), PcpDecodeError.notResponse],
    ['a PEER response', with1(1, 0x82), PcpDecodeError.opcode],
    ['an ANNOUNCE response', with1(1, 0x80), PcpDecodeError.opcode],
  ];
  for (const [name, bytes, code] of cases)
    assert.deepEqual(decodePcpResponse(bytes), { ok: false, code }, name);
});

test('property: any MAP response a server could send decodes to what it carries', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(0xffffffff),
      fc.integer({ min: 0, max: 65535 }),
      fc.ipV4(),
      (nonce, resultCode, lifetimeS, externalPort, externalHost) => {
        const bytes = Buffer.alloc(60);
        bytes[0] = 2;
        bytes[1] = 0x81;
        bytes[3] = resultCode;
        bytes.writeUInt32BE(lifetimeS, 4);
        Buffer.from(nonce).copy(bytes, 24);
        bytes[36] = 17;
        bytes.writeUInt16BE(externalPort, 42);
        bytes.writeUInt16BE(0xffff, 54);
        Buffer.from(externalHost.split('.').map(Number)).copy(bytes, 56);
        const result = decodePcpResponse(bytes);
        assert.ok(result.ok && result.response.kind === 'map');
        assert.deepEqual(result.response.nonce, Buffer.from(nonce));
        assert.equal(result.response.resultCode, resultCode);
        assert.equal(result.response.lifetimeS, lifetimeS);
        assert.equal(result.response.externalPort, externalPort);
        assert.equal(result.response.externalHost, externalHost);
      },
    ),
  );
});

test('fuzz: arbitrary bytes never throw; what decodes is bounded in size', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 1200 }), (bytes) => {
      const result = decodePcpResponse(bytes);
      if (result.ok) assert.ok(bytes.length >= 8 && bytes.length <= 1100);
    }),
    { numRuns: 2000 },
  );
  // Mutations of a real answer reach deeper than random bytes do.
  const good = hex(V.pcpMap.response);
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(80), (at, value, extra) => {
      const mutated = Buffer.concat([good, Buffer.alloc(extra, value)]);
      mutated[at] = value;
      decodePcpResponse(mutated);
    }),
    { numRuns: 2000 },
  );
});
