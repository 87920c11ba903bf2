/**
 * RelayLinks on virtual time against a real RelayServer (test/net/relay/relay-harness.ts): two friends who want
 * each other meet and are handed complementary streams; joins in flight are capped over all friends, the most
 * urgent reason first; a silent relay is left for the next one; a session that comes up withdraws the half.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { type Identity, identityFromSeed } from '../../../src/chat/identity.ts';
import { RelayDirectory } from '../../../src/chat/relay/relay-directory.ts';
import { friendMeeting, rankRelays, relayRankKey } from '../../../src/chat/relay/relay-keys.ts';
import { MAX_JOINS_IN_FLIGHT, RelayLinks } from '../../../src/chat/relay/relay-links.ts';
import type { SessionPath } from '../../../src/chat/session/path.ts';
import type { UtpEndpoint } from '../../../src/net/index.ts';
import { addressKey, type UdpAddress } from '../../../src/runtime/index.ts';
import { createRelayLab, type RelayLab } from '../../net/relay/relay-harness.ts';

interface Side {
  readonly links: RelayLinks;
  readonly matched: Array<{ peer: Buffer; relay: UdpAddress; isInitiator: boolean; stream: Duplex }>;
  readonly paths: Map<string, SessionPath>;
}

function side(
  lab: RelayLab,
  identity: Identity,
  utp: UtpEndpoint,
  secrets: Map<string, Buffer>,
  relays: UdpAddress[],
  isStarted = true,
): Side {
  const matched: Side['matched'] = [];
  const paths = new Map<string, SessionPath>();
  const directory = new RelayDirectory({
    dht: undefined,
    clock: lab.sim.clock,
    allowPrivate: true,
    configured: relays,
    ownAddresses: () => [],
  });
  const links = new RelayLinks({
    identity,
    utp,
    clock: lab.sim.clock,
    directory,
    meeting: (peer, nowMs) => {
      const secret = secrets.get(peer.toString('hex'));
      return secret === undefined ? undefined : friendMeeting(secret, identity.publicKey, peer, nowMs);
    },
    sessionPath: (peer) => paths.get(peer.toString('hex')),
    onMatched: (peer, stream, relay, isInitiator) => matched.push({ peer, relay, isInitiator, stream }),
  });
  if (isStarted) links.start();
  return { links, matched, paths };
}

const alice = identityFromSeed(Buffer.alloc(32, 1));
const bob = identityFromSeed(Buffer.alloc(32, 2));
const secret = Buffer.alloc(32, 0x5e);

describe('RelayLinks (virtual time)', { timeout: 60_000 }, () => {
  test('two friends who want each other meet at the relay, with complementary roles', async () => {
    const lab = createRelayLab('links-meet');
    try {
      const secrets = new Map([
        [alice.publicKey.toString('hex'), secret],
        [bob.publicKey.toString('hex'), secret],
      ]);
      const a = side(lab, alice, lab.client('10.1.0.1'), secrets, [lab.relayAddress]);
      const b = side(lab, bob, lab.client('10.2.0.1'), secrets, [lab.relayAddress]);
      a.links.want(bob.publicKey, 'send');
      await lab.sim.settle(5000);
      assert.equal(a.links.isJoining(bob.publicKey), true, 'Alice waits at the relay');
      b.links.want(alice.publicKey, 'record');
      await lab.sim.until(() => a.matched.length === 1 && b.matched.length === 1, 10_000);
      assert.deepEqual(a.matched[0]?.peer, bob.publicKey);
      assert.equal(addressKey(a.matched[0]?.relay ?? { host: '', port: 0 }), addressKey(lab.relayAddress));
      assert.notEqual(a.matched[0]?.isInitiator, b.matched[0]?.isInitiator);
      assert.equal(a.links.stats().matched, 1);
      a.links.close();
      b.links.close();
    } finally {
      lab.close();
    }
  });

  test(`at most ${MAX_JOINS_IN_FLIGHT} joins in flight; a message sent goes before start-up reasons`, async () => {
    const lab = createRelayLab('links-cap', { waitMs: 5000 });
    try {
      const friends = Array.from({ length: 10 }, (_, i) => identityFromSeed(Buffer.alloc(32, 10 + i)));
      const secrets = new Map(friends.map((f, i) => [f.publicKey.toString('hex'), Buffer.alloc(32, i + 1)]));
      const a = side(lab, alice, lab.client('10.1.0.1'), secrets, [lab.relayAddress]);
      for (const f of friends.slice(0, 9)) a.links.want(f.publicKey, 'start');
      let most = 0;
      const urgent = friends[9] as Identity;
      let urgentJoinedAtMs: number | undefined;
      await lab.sim.settle(2000);
      a.links.want(urgent.publicKey, 'send');
      const startMs = lab.sim.clock.monotonicMs();
      for (let t = 0; t < 30_000; t += 100) {
        await lab.sim.settle(100, 20);
        most = Math.max(most, lab.relay.stats().waiting);
        if (urgentJoinedAtMs === undefined && a.links.isJoining(urgent.publicKey))
          urgentJoinedAtMs = lab.sim.clock.monotonicMs();
      }
      assert.equal(most, MAX_JOINS_IN_FLIGHT, 'the relay held exactly the cap of our halves at most');
      assert.ok(
        urgentJoinedAtMs !== undefined && urgentJoinedAtMs - startMs <= 7000,
        'the sent message went first',
      );
      assert.ok(a.links.stats().joins > MAX_JOINS_IN_FLIGHT * 2, 'waiting friends got their turns');
      a.links.close();
    } finally {
      lab.close();
    }
  });

  test('reasons before start() (the DHT not joined yet) are noted, and acted on once started', async () => {
    const lab = createRelayLab('links-start');
    try {
      const secrets = new Map([[bob.publicKey.toString('hex'), secret]]);
      const a = side(lab, alice, lab.client('10.1.0.1'), secrets, [lab.relayAddress], false);
      a.links.want(bob.publicKey, 'send');
      await lab.sim.settle(5000);
      assert.equal(a.links.stats().joins, 0, 'nothing before start');
      a.links.start();
      await lab.sim.until(() => lab.relay.stats().waiting === 1, 5000);
      a.links.close();
    } finally {
      lab.close();
    }
  });

  test('a relay that does not answer is left for the next; a session withdraws the half', async () => {
    const lab = createRelayLab('links-dead');
    try {
      // A dead address this pair ranks before the live relay: it is tried first.
      const dead = Array.from({ length: 50 }, (_, i) => ({ host: `10.66.0.${i + 1}`, port: 6881 })).find(
        (d) =>
          addressKey(rankRelays(relayRankKey(secret), [d, lab.relayAddress])[0] as UdpAddress) ===
          addressKey(d),
      ) as UdpAddress;
      const secrets = new Map([[bob.publicKey.toString('hex'), secret]]);
      const a = side(lab, alice, lab.client('10.1.0.1'), secrets, [dead, lab.relayAddress]);
      a.links.want(bob.publicKey, 'send');
      await lab.sim.until(() => lab.relay.stats().waiting === 1, 40_000, 50);
      assert.equal(a.links.stats().failures['RELAY_NO_ANSWER'], 1, 'the dead one was tried first, once');
      a.paths.set(bob.publicKey.toString('hex'), 'direct');
      a.links.sessionUp(bob.publicKey);
      await lab.sim.until(() => lab.relay.stats().waiting === 0, 5000);
      assert.equal(a.links.isJoining(bob.publicKey), false);
      a.links.close();
    } finally {
      lab.close();
    }
  });
});
