/**
 * What two friends derive to meet at a relay: hourly tokens (and the neighbour's near a boundary), roles, the
 * relay ranking both compute alike, and the relay topic's days.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HOUR_EPOCH_MS } from '../../../src/chat/epoch.ts';
import { identityFromSeed } from '../../../src/chat/identity.ts';
import { derivePairSecret } from '../../../src/chat/pair-secret.ts';
import {
  RELAY_TOKEN_SKEW_MS,
  rankRelays,
  relayRankKey,
  relayRole,
  relayToken,
  relayTokensAt,
} from '../../../src/chat/relay/relay-keys.ts';
import { RELAY_TOPIC_OVERLAP_MS, relayTopic, relayTopicDays } from '../../../src/chat/relay/relay-topic.ts';

const alice = identityFromSeed(Buffer.alloc(32, 1));
const bob = identityFromSeed(Buffer.alloc(32, 2));
const secretOf = (me: typeof alice, friend: typeof alice): Buffer => {
  const r = derivePairSecret(me, friend.publicKey);
  assert.ok(r.ok);
  return r.secret;
};
const K = secretOf(alice, bob);
const HOUR = 480_000;

describe('relay keys', () => {
  test('both friends derive the same token; it changes every hour and with the pair', () => {
    assert.deepEqual(relayToken(secretOf(bob, alice), HOUR), relayToken(K, HOUR));
    assert.equal(relayToken(K, HOUR).length, 32);
    assert.notDeepEqual(relayToken(K, HOUR + 1), relayToken(K, HOUR));
    const carol = identityFromSeed(Buffer.alloc(32, 3));
    assert.notDeepEqual(relayToken(secretOf(alice, carol), HOUR), relayToken(K, HOUR));
  });

  test("the neighbouring hour's token goes too within the skew of a boundary, and only then", () => {
    const start = HOUR * HOUR_EPOCH_MS;
    assert.deepEqual(relayTokensAt(K, start + HOUR_EPOCH_MS / 2), [relayToken(K, HOUR)]);
    assert.deepEqual(relayTokensAt(K, start + 1000), [relayToken(K, HOUR), relayToken(K, HOUR - 1)]);
    assert.deepEqual(relayTokensAt(K, start + HOUR_EPOCH_MS - 1000), [
      relayToken(K, HOUR),
      relayToken(K, HOUR + 1),
    ]);
    assert.equal(relayTokensAt(K, start + RELAY_TOKEN_SKEW_MS).length, 1);
    // Two clocks 14 minutes apart across a boundary still share a token.
    const early = relayTokensAt(K, start - 7 * 60_000).map((t) => t.toString('hex'));
    const late = relayTokensAt(K, start + 7 * 60_000).map((t) => t.toString('hex'));
    assert.ok(early.some((t) => late.includes(t)));
  });

  test('roles: the lower key is 0, the other 1', () => {
    assert.notEqual(relayRole(alice.publicKey, bob.publicKey), relayRole(bob.publicKey, alice.publicKey));
  });

  test('the ranking is the same for both friends, and a relay leaving only moves the pairs that ranked it first', () => {
    const relays = Array.from({ length: 20 }, (_, i) => ({ host: `198.51.100.${i + 1}`, port: 6881 }));
    const fromAlice = rankRelays(relayRankKey(K), relays);
    const fromBob = rankRelays(relayRankKey(secretOf(bob, alice)), [...relays].reverse());
    assert.deepEqual(fromAlice, fromBob);
    const withoutLast = rankRelays(
      relayRankKey(K),
      relays.filter((r) => r !== fromAlice[19]),
    );
    assert.deepEqual(withoutLast, fromAlice.slice(0, 19));
    assert.equal(rankRelays(relayRankKey(K), [...relays, ...relays]).length, 20, 'duplicates dropped');
  });
});

describe('relay topic', () => {
  test('one info-hash a day; both days near midnight', () => {
    assert.equal(relayTopic(20_000).length, 20);
    assert.notDeepEqual(relayTopic(20_000), relayTopic(20_001));
    const midnight = 20_001 * 86_400_000;
    assert.deepEqual(relayTopicDays(midnight + 12 * 3_600_000), [20_001]);
    assert.deepEqual(relayTopicDays(midnight + 1000), [20_001, 20_000]);
    assert.deepEqual(relayTopicDays(midnight - 1000), [20_000, 20_001]);
    assert.deepEqual(relayTopicDays(midnight + RELAY_TOPIC_OVERLAP_MS), [20_001]);
  });
});
