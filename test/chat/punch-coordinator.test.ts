/** PunchCoordinator with fakes on a ManualClock: wishes, answers (once per wish), rounds, back-off, plans. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NatMapping } from '../../src/chat/nat-mapping.ts';
import { PUNCH_ROUND, PunchCoordinator } from '../../src/chat/punch-coordinator.ts';
import { planPunch } from '../../src/chat/punch-plan.ts';
import type { RendezvousRecord } from '../../src/chat/record-body.ts';
import { ManualClock, type UdpAddress } from '../../src/runtime/index.ts';

const FRIEND = Buffer.alloc(32, 0xbb);
const record = (patch: Partial<RendezvousRecord> = {}): RendezvousRecord => ({
  timestampMs: 1_700_000_000_000,
  endpoints: [
    { kind: 'public', address: { host: '203.0.113.5', port: 7000 } },
    { kind: 'lan', address: { host: '192.168.2.5', port: 7000 } },
  ],
  introducers: [],
  pendingOffline: [],
  ackedOffline: [],
  ...patch,
});

function setup(opts: { mapping?: NatMapping; latest?: RendezvousRecord; isAlive?: boolean } = {}) {
  const clock = new ManualClock();
  const wishes: number[] = [];
  const pings: UdpAddress[] = [];
  const dials: UdpAddress[][] = [];
  const birthdays: string[] = [];
  let isConnected = false;
  let isRelayed = false;
  let takesNotes = true;
  const notes: number[] = [];
  let wantSince: number | undefined;
  const latest = opts.latest ?? record();
  const coordinator = new PunchCoordinator({
    rendezvous: {
      wantSession: async () => {
        wantSince = clock.wallMs();
        wishes.push(clock.monotonicMs());
      },
      wantSince: () => wantSince,
      latestRecord: () => latest,
      isAlive: () => opts.isAlive ?? true,
    },
    dht: {
      ping: async (a: UdpAddress) => {
        pings.push(a);
        return { id: Buffer.alloc(20), address: a };
      },
    },
    clock,
    natMapping: () => opts.mapping ?? 'keeps',
    isConnected: () => isConnected,
    dial: (_peer, endpoints) => dials.push([...endpoints]),
    birthday: (_peer, role) => birthdays.push(role.role),
    isRelayed: () => isRelayed,
    noteOverRelay: () => {
      if (!takesNotes) return false;
      notes.push(clock.monotonicMs());
      return true;
    },
  });
  return {
    clock,
    coordinator,
    wishes,
    pings,
    dials,
    birthdays,
    notes,
    connect: () => {
      isConnected = true;
    },
    relay: (is: boolean) => {
      isRelayed = is;
    },
    takeNotes: (is: boolean) => {
      takesNotes = is;
    },
  };
}

const info = (isNew: boolean) => ({ epoch: 1, seq: 1, isNew });

describe('punch coordinator', () => {
  test('an alive friend without a session: a wish is published and a round pings and dials every endpoint', () => {
    const s = setup();
    s.coordinator.onRecord(FRIEND, record(), info(true));
    assert.equal(s.wishes.length, 1);
    assert.equal(s.dials.length, 1);
    assert.equal(s.dials[0]?.length, 2);
    s.clock.advance(PUNCH_ROUND.roundMs);
    assert.equal(s.pings.length, PUNCH_ROUND.pingAtMs.length * 2);
    assert.equal(s.dials.length, 2, 'a second dial mid-round');
  });

  test("the friend's wish is answered once: a round and our own wish; its next record does not answer again", () => {
    const s = setup();
    const theirs = record({ wantSinceMs: 1_700_000_000_000 });
    s.coordinator.onRecord(FRIEND, theirs, info(true));
    assert.equal(s.coordinator.counters.answers, 1);
    assert.equal(s.wishes.length, 1, 'we publish ours: the friend learns we punch too');
    s.clock.advance(3000);
    s.coordinator.onRecord(FRIEND, theirs, info(false));
    s.coordinator.onRecord(FRIEND, theirs, info(true));
    assert.equal(s.coordinator.counters.answers, 1, 'the same wish is answered once');
    // A later wish of theirs, during our round: punch again, but no second wish of ours (no ping-pong).
    s.coordinator.onRecord(FRIEND, record({ wantSinceMs: 1_700_000_003_000 }), info(true));
    assert.equal(s.coordinator.counters.answers, 2);
    assert.equal(s.wishes.length, 1);
  });

  test('wishes back off while rounds fail, and start over once a session came up', () => {
    const s = setup();
    const wishAt: number[] = [];
    for (let t = 0; t < 600_000; t += 1000) {
      const before = s.wishes.length;
      s.coordinator.want(FRIEND, 'alive');
      if (s.wishes.length > before) wishAt.push(t);
      s.clock.advance(1000);
    }
    const gaps = wishAt.slice(1).map((t, i) => t - (wishAt[i] ?? 0));
    assert.deepEqual(gaps.slice(0, 5), [15_000, 30_000, 60_000, 120_000, 300_000]);
    assert.ok(gaps.every((g) => g <= 300_000));
    s.coordinator.sessionUp(FRIEND);
    s.coordinator.want(FRIEND, 'alive');
    assert.equal(s.wishes.length, wishAt.length + 1, 'after a session: at once');
  });

  test('a waiting message wishes again after 10 s whatever the back-off; a connected friend never', () => {
    const s = setup();
    for (let i = 0; i < 4; i++) {
      s.coordinator.want(FRIEND, 'alive');
      s.clock.advance(60_000);
    }
    const before = s.wishes.length;
    s.clock.advance(PUNCH_ROUND.messageWishMs);
    s.coordinator.want(FRIEND, 'message');
    assert.equal(s.wishes.length, before + 1);
    s.connect();
    s.clock.advance(400_000);
    s.coordinator.want(FRIEND, 'message');
    s.coordinator.onRecord(FRIEND, record({ wantSinceMs: 1 }), info(true));
    assert.equal(s.wishes.length, before + 1);
  });

  test('both NATs randomise: no wish, no packets (the DHT path carries the messages)', () => {
    const s = setup({ mapping: 'randomises', latest: record({ natMapping: 'randomises' }) });
    s.coordinator.onRecord(FRIEND, record({ natMapping: 'randomises' }), info(true));
    s.clock.advance(PUNCH_ROUND.roundMs);
    assert.equal(s.wishes.length, 0);
    assert.equal(s.pings.length + s.dials.length, 0);
    assert.ok(s.coordinator.counters.hopeless > 0);
  });

  test('one side randomising: the birthday technique joins the round, the right role on each side', () => {
    const prober = setup({ mapping: 'keeps', latest: record({ natMapping: 'randomises' }) });
    prober.coordinator.want(FRIEND, 'message');
    assert.deepEqual(prober.birthdays, ['prober']);
    const listener = setup({ mapping: 'randomises', latest: record({ natMapping: 'keeps' }) });
    listener.coordinator.want(FRIEND, 'message');
    assert.deepEqual(listener.birthdays, ['listener']);
  });
});

describe('punch plan', () => {
  const r = (natMapping: NatMapping) => record({ natMapping });
  test('the table of docs/ARCHITECTURE.md', () => {
    assert.equal(planPunch('keeps', r('keeps')).birthday, undefined);
    assert.equal(planPunch('none', r('randomises')).birthday, undefined, 'we are public: they reach us');
    assert.equal(planPunch('randomises', r('none')).birthday, undefined, 'they are public: we reach them');
    assert.deepEqual(planPunch('keeps', r('randomises')).birthday, { role: 'prober', host: '203.0.113.5' });
    assert.deepEqual(planPunch('unknown', r('randomises')).birthday, { role: 'prober', host: '203.0.113.5' });
    assert.deepEqual(planPunch('randomises', r('keeps')).birthday, {
      role: 'listener',
      target: { host: '203.0.113.5', port: 7000 },
    });
    assert.equal(planPunch('randomises', r('randomises')).isHopeless, true);
    const withV6 = (mapping: NatMapping): RendezvousRecord =>
      record({
        natMapping: mapping,
        endpoints: [
          { kind: 'public', address: { host: '203.0.113.5', port: 7000 } },
          { kind: 'public', address: { host: '2001:db8:5::10', port: 7000 } },
          { kind: 'lan', address: { host: '192.168.2.5', port: 7000 } },
        ],
      });
    assert.deepEqual(
      planPunch('randomises', withV6('randomises'), true),
      { targets: [{ host: '2001:db8:5::10', port: 7000 }], birthday: undefined, isHopeless: false },
      'two randomising IPv4 NATs: IPv6 is still punched plainly',
    );
    assert.equal(
      planPunch('randomises', withV6('randomises'), false).isHopeless,
      true,
      'not without our own IPv6',
    );
    assert.deepEqual(
      planPunch('keeps', withV6('keeps'), true).targets.map((a) => a.host),
      ['2001:db8:5::10', '203.0.113.5', '192.168.2.5'],
      'IPv6 first',
    );
    assert.deepEqual(planPunch('keeps', withV6('randomises'), true).birthday, {
      role: 'prober',
      host: '203.0.113.5',
    });
    assert.equal(planPunch('keeps', r('keeps')).targets.length, 2);
  });
});

describe('upgrading a relayed session', () => {
  test('a relayed session: the leader sends a note through it and punches at once, then backs off', () => {
    const s = setup();
    const startMs = s.clock.monotonicMs();
    s.relay(true);
    s.coordinator.relayedUp(FRIEND, true);
    s.clock.advance(PUNCH_ROUND.upgradeBackoffMs[0]);
    assert.deepEqual(
      s.notes.map((t) => t - startMs),
      [PUNCH_ROUND.upgradeBackoffMs[0]],
      'a note once the hello had time to come',
    );
    assert.equal(s.dials.length, 1, 'and a round at the same moment');
    assert.equal(s.wishes.length, 0, 'no DHT put: the note said it');
    s.clock.advance(PUNCH_ROUND.upgradeBackoffMs[1]);
    assert.equal(s.notes.length, 2);
    const times = [...s.notes];
    s.clock.advance(10 * 60_000);
    const gaps = s.notes.slice(1).map((t, i) => t - (s.notes[i] ?? 0));
    assert.ok(
      gaps.every((g, i) => i === 0 || g >= (gaps[i - 1] ?? 0)),
      `gaps grow: ${gaps}`,
    );
    assert.ok(s.notes.length < 12, `bounded: ${s.notes.length} notes in ~10 min`);
    assert.deepEqual(s.notes.slice(0, 2), times);
    s.coordinator.sessionUp(FRIEND);
    const before = s.notes.length;
    s.clock.advance(10 * 60_000);
    assert.equal(s.notes.length, before, 'direct: no more attempts');
    assert.equal(s.coordinator.counters.upgrades, before);
  });

  test('a relayed session: the other side waits for notes; attempts stop when the session is no longer relayed', () => {
    const s = setup();
    s.relay(true);
    s.coordinator.relayedUp(FRIEND, false);
    s.clock.advance(60_000);
    assert.deepEqual(s.notes, [], 'only the leader sends');
    s.coordinator.relayedUp(FRIEND, true);
    s.clock.advance(PUNCH_ROUND.upgradeBackoffMs[0]);
    assert.equal(s.notes.length, 1);
    s.relay(false);
    s.clock.advance(10 * 60_000);
    assert.equal(s.notes.length, 1, 'the relayed session went: nothing to upgrade');
  });

  test('a friend whose session does not take the note: no round, tried again on the back-off', () => {
    const s = setup({ mapping: 'keeps' });
    s.relay(true);
    s.takeNotes(false);
    s.coordinator.relayedUp(FRIEND, true);
    s.clock.advance(PUNCH_ROUND.upgradeBackoffMs[0]);
    assert.equal(s.dials.length, 0);
    s.takeNotes(true);
    s.clock.advance(PUNCH_ROUND.upgradeBackoffMs[1]);
    assert.equal(s.notes.length, 1);
    assert.equal(s.dials.length, 1);
  });

  test('a relayed session between two randomising NATs: no note, no round (nothing direct can work)', () => {
    const s = setup({ mapping: 'randomises', latest: record({ natMapping: 'randomises' }) });
    s.relay(true);
    s.coordinator.relayedUp(FRIEND, true);
    s.clock.advance(60_000);
    assert.deepEqual(s.notes, []);
    assert.equal(s.dials.length, 0);
  });
});
