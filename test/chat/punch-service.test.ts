/** PunchService with a fake DHT: the caller's side (forwards through introducers) and the friend's (notes). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ChatStore,
  derivePairSecret,
  generateIdentity,
  type Identity,
  punchNoteKey,
} from '../../src/chat/index.ts';
import { sealPunchNote } from '../../src/chat/punch-note.ts';
import { PUNCH_LIMITS, PunchService } from '../../src/chat/punch-service.ts';
import type { RendezvousRecord } from '../../src/chat/record-body.ts';
import type { IncomingNote, NoteListener } from '../../src/dht/index.ts';
import { ManualClock, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CALLER_ENDPOINT = { host: '10.200.0.2', port: 40001 };
const INTRODUCER_SAW = { host: '10.200.0.2', port: 40001 };

function fakeDht() {
  const listeners: NoteListener[] = [];
  const pings: UdpAddress[] = [];
  const forwards: Array<{ introducer: UdpAddress; to: UdpAddress; note: Buffer }> = [];
  return {
    pings,
    forwards,
    deliver: (n: IncomingNote) => {
      for (const l of listeners) l(n);
    },
    dht: {
      ping: async (a: UdpAddress) => {
        pings.push(a);
        return { id: Buffer.alloc(20), address: a };
      },
      forwardNote: async (introducer: UdpAddress, to: UdpAddress, note: Buffer) => {
        forwards.push({ introducer, to, note });
        if (to.host !== '10.200.0.3') throw new Error('203 target has not queried us recently');
        return {};
      },
      onNote: (l: NoteListener) => {
        listeners.push(l);
        return () => listeners.splice(listeners.indexOf(l), 1);
      },
    },
  };
}

function user(name: string, clock: ManualClock, friends: Identity[], me?: Identity) {
  const random = new SeededRandom(`punch/${name}`);
  const identity = me ?? generateIdentity(random);
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-punch-'));
  dirs.push(dir);
  const store = ChatStore.open({
    path: join(dir, 'chat.sqlite'),
    ownPublicKey: identity.publicKey,
    clock,
    random,
  });
  for (const f of friends) store.contacts.upsert(f.publicKey, 'accepted', `f${f.publicKey[0]}`);
  const fake = fakeDht();
  const dials: Array<{ peer: Buffer; endpoints: UdpAddress[] }> = [];
  const service = new PunchService({
    identity,
    store,
    dht: fake.dht,
    clock,
    random,
    observedEndpoint: () => CALLER_ENDPOINT,
    isConnected: () => false,
    dial: (peer, endpoints) => dials.push({ peer, endpoints }),
  });
  service.start();
  return { identity, store, fake, dials, service };
}

function record(introducers: UdpAddress[], timestampMs: number): RendezvousRecord {
  return {
    timestampMs,
    endpoints: [
      { kind: 'lan', address: { host: '10.200.0.3', port: 40002 } },
      { kind: 'lan', address: { host: '192.168.102.2', port: 40002 } },
    ],
    introducers,
    pendingOffline: [],
    ackedOffline: [],
  };
}

function noteFrom(sender: Identity, receiver: Identity, timestampMs: number, random: SeededRandom): Buffer {
  const k = derivePairSecret(sender, receiver.publicKey);
  assert.ok(k.ok);
  const parties = {
    key: punchNoteKey(k.secret, sender.publicKey),
    senderPk: sender.publicKey,
    receiverPk: receiver.publicKey,
  };
  return sealPunchNote(parties, { timestampMs, endpoint: CALLER_ENDPOINT }, random);
}

/** When the friend wrote its record (the tests' clocks start there). */
const T0 = 1_000_000;

describe('punch service', () => {
  test('a caller pings the friend and asks every introducer to forward to every record endpoint', async () => {
    const clock = new ManualClock(T0);
    const bobId = generateIdentity(new SeededRandom('bob'));
    const alice = user('alice', clock, [bobId]);
    const introducers = [
      { host: '10.200.0.1', port: 1 },
      { host: '10.200.0.1', port: 2 },
    ];
    const acked = await alice.service.punch(bobId.publicKey, record(introducers, T0));
    assert.equal(acked, 2, 'one endpoint per introducer is a recent querier');
    assert.equal(alice.fake.forwards.length, 4);
    assert.deepEqual(alice.fake.pings.map((p) => p.host).sort(), ['10.200.0.3', '192.168.102.2']);
    // Throttled: a second punch right away sends nothing.
    assert.equal(await alice.service.punch(bobId.publicKey, record(introducers, T0)), 0);
    assert.equal(alice.fake.forwards.length, 4);
    clock.advance(PUNCH_LIMITS.minIntervalMs);
    assert.equal(
      await alice.service.punch(bobId.publicKey, record([], T0)),
      0,
      'no introducers: nothing to do',
    );
    clock.advance(PUNCH_LIMITS.recordFreshMs);
    assert.equal(
      await alice.service.punch(bobId.publicKey, record(introducers, T0)),
      0,
      'stale record: away',
    );
    assert.equal(alice.fake.forwards.length, 4);
    alice.store.close();
  });

  test('the friend opens the forwarded note, pings the caller and dials it', async () => {
    const clock = new ManualClock(T0);
    const random = new SeededRandom('notes');
    const aliceId = generateIdentity(random);
    const carolId = generateIdentity(random);
    const bob = user('bob', clock, [carolId, aliceId]);
    const alice = user('alice', clock, [bob.identity], aliceId);
    await alice.service.punch(bob.identity.publicKey, record([{ host: '10.200.0.1', port: 1 }], T0));
    const forwarded = alice.fake.forwards.find((f) => f.to.host === '10.200.0.3');
    assert.ok(forwarded);
    const via = { host: '10.200.0.1', port: 1 };
    bob.fake.deliver({ note: forwarded.note, from: INTRODUCER_SAW, via });
    assert.equal(bob.dials.length, 1);
    assert.ok(bob.dials[0]!.peer.equals(aliceId.publicKey));
    assert.deepEqual(bob.dials[0]!.endpoints, [CALLER_ENDPOINT]);
    clock.runUntilIdle();
    assert.equal(bob.fake.pings.length, PUNCH_LIMITS.pings);
    assert.equal(bob.service.counters.notesAccepted, 1);
    // The same note again (an introducer replaying it): dropped.
    clock.advance(PUNCH_LIMITS.minIntervalMs);
    bob.fake.deliver({ note: forwarded.note, from: INTRODUCER_SAW, via });
    assert.equal(bob.service.counters.notesReplayed, 1);
    assert.equal(bob.dials.length, 1);
    alice.store.close();
    bob.store.close();
  });

  test('stale, foreign, garbage and empty notes are dropped without dialling or throwing', () => {
    const clock = new ManualClock(T0 + 10_000_000);
    const random = new SeededRandom('drops');
    const aliceId = generateIdentity(random);
    const mallory = generateIdentity(random);
    const bob = user('bob2', clock, [aliceId]);
    const via = { host: '10.200.0.1', port: 1 };
    const deliver = (note: Buffer) => bob.fake.deliver({ note, from: INTRODUCER_SAW, via });
    deliver(noteFrom(aliceId, bob.identity, clock.wallMs() - PUNCH_LIMITS.noteFreshMs - 1, random));
    deliver(noteFrom(aliceId, bob.identity, clock.wallMs() + PUNCH_LIMITS.noteFreshMs + 1, random));
    deliver(noteFrom(mallory, bob.identity, clock.wallMs(), random));
    deliver(Buffer.alloc(0));
    for (let i = 0; i < 10; i++) deliver(random.bytes(random.int(120)));
    assert.equal(bob.dials.length, 0);
    assert.equal(bob.service.counters.notesStale, 2);
    assert.equal(bob.service.counters.notesUnopened, 11);
    // A flood is cut at notesPerSec opened per second.
    for (let i = 0; i < 50; i++) deliver(random.bytes(60));
    assert.ok(bob.service.counters.notesThrottled >= 50 - PUNCH_LIMITS.notesPerSec);
    bob.store.close();
  });
});
