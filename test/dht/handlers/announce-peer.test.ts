import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { handleAnnouncePeer } from '../../../src/dht/handlers/announce-peer.ts';
import type { AnnouncePeerQuery } from '../../../src/dht/krpc-message.ts';
import { TOKEN_ROTATE_MS } from '../../../src/dht/constants.ts';
import { errorOf, exampleQuery, type Fixture, makeFixture, okBody, V4_FROM, V6_FROM } from './fixture.ts';

/** The BEP 5 example (implied_port 1, port 6881, token "aoeusnth") with a token this node really issued. */
function validAnnounce(f: Fixture, from = V4_FROM): AnnouncePeerQuery {
  const example = exampleQuery('announce_peer_query', 'announce_peer');
  return { ...example, token: f.tokens.issue(from.host, example.infoHash) };
}

const stored = (f: Fixture, q: AnnouncePeerQuery, family: 4 | 6 = 4) =>
  f.peers.getPeers(q.infoHash, family, {
    maxCount: 100,
    noSeed: false,
    nowMs: f.clock.monotonicMs(),
    random: f.ctx.random,
  });

test('BEP 5 example with implied_port stores the UDP source port', () => {
  const f = makeFixture();
  const q = validAnnounce(f);
  assert.deepEqual(okBody(handleAnnouncePeer(q, { host: '1.2.3.4', port: 5555 }, f.ctx)), {});
  assert.deepEqual(stored(f, q), [{ host: '1.2.3.4', port: 5555 }]);
});

test('without implied_port the port argument is stored; seed flag kept', () => {
  const f = makeFixture();
  const q = { ...validAnnounce(f), impliedPort: false, port: 7000, seed: true };
  okBody(handleAnnouncePeer(q, V4_FROM, f.ctx));
  assert.deepEqual(stored(f, q), [{ host: '1.2.3.4', port: 7000 }]);
  assert.equal(
    f.peers.getPeers(q.infoHash, 4, {
      maxCount: 9,
      noSeed: true,
      nowMs: f.clock.monotonicMs(),
      random: f.ctx.random,
    }).length,
    0,
  );
});

test('IPv6 announce stores an IPv6 peer', () => {
  const f = makeFixture();
  const q = validAnnounce(f, V6_FROM);
  okBody(handleAnnouncePeer(q, V6_FROM, f.ctx));
  assert.deepEqual(stored(f, q, 6), [V6_FROM]);
  assert.deepEqual(stored(f, q, 4), []);
});

test('one field at a time: the exact code', () => {
  const f = makeFixture();
  const q = validAnnounce(f);
  const cases: Array<[string, AnnouncePeerQuery, { host: string; port: number }, string]> = [
    ['info_hash 19 bytes', { ...q, infoHash: Buffer.alloc(19) }, V4_FROM, 'BAD_INFO_HASH'],
    ['the example token (never issued)', { ...q, token: Buffer.from('aoeusnth') }, V4_FROM, 'BAD_TOKEN'],
    ['token from another IP', q, { host: '1.2.3.5', port: 6881 }, 'BAD_TOKEN'],
    ['token for another info-hash', { ...q, infoHash: Buffer.alloc(20, 1) }, V4_FROM, 'BAD_TOKEN'],
    ['port 0', { ...q, impliedPort: false, port: 0 }, V4_FROM, 'BAD_PORT'],
    ['port 65536', { ...q, impliedPort: false, port: 65_536 }, V4_FROM, 'BAD_PORT'],
    ['implied port with source port 0', q, { host: '1.2.3.4', port: 0 }, 'BAD_PORT'],
  ];
  for (const [name, query, from, reason] of cases) {
    assert.deepEqual(errorOf(handleAnnouncePeer(query, from, f.ctx)), { code: 203, reason }, name);
  }
  assert.equal(f.peers.peerCount, 0, 'nothing was stored by a refused announce');
});

test('tokens stay valid across one rotation, not two', () => {
  const f = makeFixture();
  const q = validAnnounce(f);
  f.clock.advance(TOKEN_ROTATE_MS);
  okBody(handleAnnouncePeer(q, V4_FROM, f.ctx));
  f.clock.advance(2 * TOKEN_ROTATE_MS);
  assert.equal(errorOf(handleAnnouncePeer(q, V4_FROM, f.ctx)).reason, 'BAD_TOKEN');
});

test('a full swarm still answers success but stores nothing new', () => {
  const f = makeFixture({ peers: { maxPeersPerInfoHash: 1 } });
  const first = validAnnounce(f, { host: '5.5.5.5', port: 1 });
  okBody(handleAnnouncePeer(first, { host: '5.5.5.5', port: 1 }, f.ctx));
  okBody(handleAnnouncePeer(validAnnounce(f), V4_FROM, f.ctx));
  assert.deepEqual(stored(f, first), [{ host: '5.5.5.5', port: 1 }]);
});

test('property: no input throws', () => {
  const f = makeFixture();
  const q = validAnnounce(f);
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 30 }),
      fc.uint8Array({ maxLength: 30 }),
      fc.integer({ min: -5, max: 70_000 }),
      fc.boolean(),
      fc.constantFrom('1.2.3.4', '::1', 'junk', ''),
      fc.integer({ min: 0, max: 65_535 }),
      (infoHash, token, port, impliedPort, host, fromPort) => {
        const query = { ...q, infoHash: Buffer.from(infoHash), token: Buffer.from(token), port, impliedPort };
        const reply = handleAnnouncePeer(query, { host, port: fromPort }, f.ctx);
        assert.ok(reply.kind === 'response' || reply.code === 203);
      },
    ),
    { numRuns: 1000 },
  );
});
