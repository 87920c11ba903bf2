import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeLsdAnnounce,
  encodeLsdAnnounce,
  MAX_LSD_INFOHASHES,
  MAX_LSD_MESSAGE_BYTES,
} from '../../src/wire/index.ts';

const HASH = Buffer.from('0123456789abcdef0123456789abcdef01234567', 'hex');

function text(lines: string[]): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n\r\n`, 'latin1');
}

test('an announce as libtorrent writes it (lower-case cookie, one info-hash) decodes', () => {
  const message = text([
    'BT-SEARCH * HTTP/1.1',
    'Host: 239.192.152.143:6771',
    'Port: 6881',
    `Infohash: ${HASH.toString('hex').toUpperCase()}`,
    'cookie: 5e3c0a11',
  ]);
  assert.deepEqual(decodeLsdAnnounce(message), { port: 6881, infohashes: [HASH], cookie: '5e3c0a11' });
});

test('ours round-trips, with several info-hashes and without a cookie', () => {
  const two = { port: 40_000, infohashes: [HASH, Buffer.alloc(20, 0xee)], cookie: 'abc' };
  assert.deepEqual(decodeLsdAnnounce(encodeLsdAnnounce(two)), two);
  const bare = { port: 1, infohashes: [HASH] };
  assert.deepEqual(decodeLsdAnnounce(encodeLsdAnnounce(bare)), bare);
  assert.match(
    encodeLsdAnnounce(bare).toString('latin1'),
    /^BT-SEARCH \* HTTP\/1\.1\r\nHost: 239\.192\.152\.143:6771\r\n/,
  );
  assert.throws(() => encodeLsdAnnounce({ port: 0, infohashes: [HASH] }), RangeError);
  assert.throws(() => encodeLsdAnnounce({ port: 1, infohashes: [] }), RangeError);
  assert.throws(() => encodeLsdAnnounce({ port: 1, infohashes: [Buffer.alloc(19)] }), RangeError);
  assert.throws(() => encodeLsdAnnounce({ port: 1, infohashes: [HASH], cookie: 'a b' }), RangeError);
});

test('anything else is refused, never thrown', () => {
  const hash = `Infohash: ${HASH.toString('hex')}`;
  const bad: Array<[string, Buffer]> = [
    ['another request line', text(['M-SEARCH * HTTP/1.1', 'Port: 1', hash])],
    ['no port', text(['BT-SEARCH * HTTP/1.1', hash])],
    ['port 0', text(['BT-SEARCH * HTTP/1.1', 'Port: 0', hash])],
    ['port 65536', text(['BT-SEARCH * HTTP/1.1', 'Port: 65536', hash])],
    ['a port with a sign', text(['BT-SEARCH * HTTP/1.1', 'Port: +80', hash])],
    ['two ports', text(['BT-SEARCH * HTTP/1.1', 'Port: 1', 'Port: 2', hash])],
    ['no info-hash', text(['BT-SEARCH * HTTP/1.1', 'Port: 1'])],
    ['a short info-hash', text(['BT-SEARCH * HTTP/1.1', 'Port: 1', `Infohash: ${'ab'.repeat(19)}`])],
    ['a non-hex info-hash', text(['BT-SEARCH * HTTP/1.1', 'Port: 1', `Infohash: ${'zz'.repeat(20)}`])],
    [
      'too many info-hashes',
      text([
        'BT-SEARCH * HTTP/1.1',
        'Port: 1',
        ...Array.from({ length: MAX_LSD_INFOHASHES + 1 }, () => hash),
      ]),
    ],
    ['a line without a colon', text(['BT-SEARCH * HTTP/1.1', 'Port: 1', hash, 'junk'])],
    ['a bare LF inside', Buffer.from(`BT-SEARCH * HTTP/1.1\r\nPort: 1\n${hash}\r\n\r\n`, 'latin1')],
    ['no blank line', Buffer.from(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${hash}`, 'latin1')],
    [
      'text after the blank line',
      Buffer.from(`BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n${hash}\r\n\r\nX: y\r\n`, 'latin1'),
    ],
    ['a byte outside printable ASCII', text(['BT-SEARCH * HTTP/1.1', 'Port: 1', hash, 'cookie: \u00e9'])],
    [
      'too long',
      Buffer.concat([
        text(['BT-SEARCH * HTTP/1.1', 'Port: 1', hash]),
        Buffer.alloc(MAX_LSD_MESSAGE_BYTES, 0x20),
      ]),
    ],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [why, message] of bad) assert.equal(decodeLsdAnnounce(message), undefined, why);
});

test('random bytes and mutated announces never throw', () => {
  const seed = encodeLsdAnnounce({ port: 6881, infohashes: [HASH], cookie: 'x' });
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 1600 }),
      fc.nat(seed.length - 1),
      fc.integer({ min: 0, max: 255 }),
      (bytes, at, byte) => {
        decodeLsdAnnounce(bytes);
        const mutated = Buffer.from(seed);
        mutated[at] = byte;
        const decoded = decodeLsdAnnounce(mutated);
        if (decoded !== undefined) assert.ok(decoded.port >= 1 && decoded.port <= 0xffff);
      },
    ),
    { numRuns: 2000, seed: 14 },
  );
});
