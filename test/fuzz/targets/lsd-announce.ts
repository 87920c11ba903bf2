/**
 * BEP 14 announces (src/wire/lsd-message.ts): anyone on the LAN may multicast anything to the discovery port.
 * Properties: never throws; an accepted announce has a port in 1..65535, 1..8 info-hashes of 20 bytes, and
 * re-encodes (with its Host line made canonical) to an announce that decodes to the same thing.
 */
import assert from 'node:assert/strict';
import { decodeLsdAnnounce, encodeLsdAnnounce, MAX_LSD_INFOHASHES } from '../../../src/wire/index.ts';
import type { FuzzRandom } from '../fuzz-random.ts';
import { type FuzzTarget, tokens } from '../fuzz-target.ts';

export const lsdAnnounceTarget: FuzzTarget = {
  name: 'lsd-announce',
  decoders: 'decodeLsdAnnounce',
  weight: 10,
  maxInputBytes: 1600,
  dictionary: tokens(
    'BT-SEARCH * HTTP/1.1\r\n',
    'Host: 239.192.152.143:6771\r\n',
    'Port: ',
    'Infohash: ',
    'cookie: ',
    '\r\n',
    '\r\n\r\n',
    '65535',
    '65536',
    '0',
    'ffffffffffffffffffffffffffffffffffffffff',
  ),
  seeds(random: FuzzRandom): Buffer[] {
    return [
      encodeLsdAnnounce({ port: 6881, infohashes: [random.bytes(20)] }),
      encodeLsdAnnounce({ port: 1, infohashes: [random.bytes(20), random.bytes(20)], cookie: 'c00kie' }),
      encodeLsdAnnounce({
        port: 65535,
        infohashes: Array.from({ length: MAX_LSD_INFOHASHES }, () => random.bytes(20)),
      }),
    ];
  },
  run(input: Buffer): string {
    const announce = decodeLsdAnnounce(input);
    if (announce === undefined) return 'rejected';
    assert.ok(Number.isInteger(announce.port) && announce.port >= 1 && announce.port <= 0xffff);
    assert.ok(announce.infohashes.length >= 1 && announce.infohashes.length <= MAX_LSD_INFOHASHES);
    assert.ok(announce.infohashes.every((h) => h.length === 20));
    assert.deepEqual(decodeLsdAnnounce(encodeLsdAnnounce(announce)), announce);
    return `accepted:${announce.infohashes.length}:${announce.cookie === undefined ? 'no-cookie' : 'cookie'}`;
  },
};
