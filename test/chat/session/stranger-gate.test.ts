/** The stranger XX ration: per-source concurrency and rates, the overall room, and who is displaced when full. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sourcePrefix } from '../../../src/chat/source-prefix.ts';
import {
  STRANGER_LIMITS,
  StrangerGate,
  type StrangerTicket,
} from '../../../src/chat/session/stranger-gate.ts';
import { ManualClock } from '../../../src/runtime/index.ts';

const at = (host: string, port = 6881) => ({ host, port });
const noop = () => {};

describe('stranger gate', () => {
  test('prefixes: IPv4 /24, IPv6 /64 however the address is written', () => {
    assert.equal(sourcePrefix('203.0.113.7'), '203.0.113/24');
    assert.equal(sourcePrefix('203.0.113.250'), '203.0.113/24');
    assert.equal(sourcePrefix('2001:db8:1:2::5'), sourcePrefix('2001:0db8:0001:0002:ffff::1'));
    assert.notEqual(sourcePrefix('2001:db8:1:2::5'), sourcePrefix('2001:db8:1:3::5'));
    assert.equal(sourcePrefix('not-an-ip'), 'not-an-ip');
  });

  test('one host holds at most maxPerHost at once, one network maxPerPrefix; a release frees a place', () => {
    const gate = new StrangerGate(new ManualClock());
    const fromHost = Array.from({ length: STRANGER_LIMITS.maxPerHost }, () =>
      gate.tryAdmit(at('10.0.0.1'), noop),
    );
    assert.ok(fromHost.every((t) => t !== undefined));
    assert.equal(gate.tryAdmit(at('10.0.0.1', 9), noop), undefined, 'another port of the same host');
    const fromNet: (StrangerTicket | undefined)[] = [];
    for (let i = 2; fromNet.length < STRANGER_LIMITS.maxPerPrefix - STRANGER_LIMITS.maxPerHost; i++) {
      fromNet.push(gate.tryAdmit(at(`10.0.0.${i}`), noop));
    }
    assert.ok(fromNet.every((t) => t !== undefined));
    assert.equal(gate.tryAdmit(at('10.0.0.99'), noop), undefined, 'the /24 is full');
    assert.ok(gate.tryAdmit(at('10.0.1.1'), noop) !== undefined, 'the next /24 is not');
    assert.equal(gate.stats.refused.busy, 2);
    fromHost[0]?.release();
    fromHost[0]?.release(); // idempotent
    assert.ok(gate.tryAdmit(at('10.0.0.99'), noop) !== undefined);
    assert.equal(gate.active, STRANGER_LIMITS.maxPerPrefix + 1);
  });

  test('rates: a host gets its burst then one a second; the network and overall buckets cap the rest', () => {
    const clock = new ManualClock();
    const gate = new StrangerGate(clock, { maxPerHost: 1000, maxPerPrefix: 1000, maxConcurrent: 1000 });
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      const ticket = gate.tryAdmit(at('10.0.0.1'), noop);
      if (ticket !== undefined) admitted++;
      ticket?.release();
    }
    assert.equal(admitted, STRANGER_LIMITS.perHostBurst);
    clock.advance(1000);
    assert.ok(gate.tryAdmit(at('10.0.0.1'), noop) !== undefined);
    assert.equal(gate.tryAdmit(at('10.0.0.1'), noop), undefined);
    // Many hosts of one /24: the network's burst is the cap.
    const network = new StrangerGate(clock, { maxPerHost: 1000, maxPerPrefix: 1000, maxConcurrent: 1000 });
    let fromNetwork = 0;
    for (let i = 1; i < 200; i++) if (network.tryAdmit(at(`10.0.5.${i}`), noop) !== undefined) fromNetwork++;
    assert.equal(fromNetwork, STRANGER_LIMITS.perPrefixBurst);
    // Many networks: the overall burst, then overallPerSec.
    const overall = new StrangerGate(clock, { maxPerHost: 1000, maxPerPrefix: 1000, maxConcurrent: 1000 });
    let all = 0;
    for (let i = 0; i < 1000; i++)
      if (overall.tryAdmit(at(`10.${i >> 8}.${i & 255}.1`), noop) !== undefined) all++;
    assert.equal(all, STRANGER_LIMITS.overallBurst);
    clock.advance(1000);
    for (let i = 0; i < 1000; i++)
      if (overall.tryAdmit(at(`11.${i >> 8}.${i & 255}.1`), noop) !== undefined) all++;
    assert.equal(all, STRANGER_LIMITS.overallBurst + STRANGER_LIMITS.overallPerSec);
  });

  test('full: a newcomer from a quieter network displaces the busiest network’s oldest; never its own', () => {
    const clock = new ManualClock();
    const gate = new StrangerGate(clock, { maxConcurrent: 8, maxPerHost: 8, maxPerPrefix: 9 });
    const evicted: number[] = [];
    for (let i = 0; i < 8; i++) assert.ok(gate.tryAdmit(at('10.6.6.6', i), () => evicted.push(i)));
    assert.equal(gate.tryAdmit(at('10.6.6.7'), noop), undefined, 'the same network does not displace itself');
    assert.equal(gate.stats.refused.full, 1);
    // Newcomers from other networks each take the place of the flooder's oldest session.
    for (let n = 1; n <= 3; n++) assert.ok(gate.tryAdmit(at(`192.0.2.${n}`), noop));
    assert.deepEqual(evicted, [0, 1, 2]);
    assert.equal(gate.active, 8);
    assert.equal(gate.stats.evicted, 3);
    // Balanced (each holds no more than one above the newcomer's network): nobody is displaced.
    const balanced = new StrangerGate(clock, { maxConcurrent: 4, maxPerHost: 8, maxPerPrefix: 8 });
    for (const host of ['10.1.1.1', '10.2.2.1', '10.3.3.1', '10.4.4.1'])
      assert.ok(balanced.tryAdmit(at(host), noop));
    assert.equal(balanced.tryAdmit(at('10.5.5.5'), noop), undefined);
  });
});
