/**
 * The simulated NAT (sim/nat.ts) against RFC 4787's definitions: what each mapping and filtering behaviour lets
 * through, port preservation, timeouts, hairpin, LAN, stacked NATs, and a roaming socket.
 *
 *   inside 192.168.1.10:5000 ── SimNat 100.64.0.1 ── outside (MemoryNetwork): 8.8.0.1:7000, 8.8.0.2:7000
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryNetwork } from '../../sim/memory-network.ts';
import { NAT_KINDS, type NatBehaviour, SimNat } from '../../sim/nat.ts';
import { RoamingTransport } from '../../sim/roaming-transport.ts';
import {
  addressKey,
  type DatagramTransport,
  ManualClock,
  SeededRandom,
  type UdpAddress,
} from '../../src/runtime/index.ts';

interface Received {
  bytes: string;
  from: string;
}

function listen(t: DatagramTransport): Received[] {
  const got: Received[] = [];
  t.onPacket((bytes, from) => got.push({ bytes: bytes.toString(), from: addressKey(from) }));
  return got;
}

function world(behaviour: NatBehaviour, seed = 'nat') {
  const clock = new ManualClock();
  const net = new MemoryNetwork(clock, new SeededRandom(`${seed}/net`), { latencyMs: 5 });
  const nat = new SimNat({
    outside: net,
    publicHost: '100.64.0.1',
    clock,
    random: new SeededRandom(`${seed}/nat`),
    behaviour,
  });
  const inside = nat.createTransport({ host: '192.168.1.10', port: 5000 });
  const insideGot = listen(inside);
  const s1 = net.createTransport({ host: '8.8.0.1', port: 7000 });
  const s2 = net.createTransport({ host: '8.8.0.2', port: 7000 });
  const s1b = net.createTransport({ host: '8.8.0.1', port: 7001 });
  const got1 = listen(s1);
  const got2 = listen(s2);
  const got1b = listen(s1b);
  const tick = (ms = 20) => clock.advance(ms);
  return { clock, net, nat, inside, insideGot, s1, s2, s1b, got1, got2, got1b, tick };
}

const to = (host: string, port: number): UdpAddress => ({ host, port });

describe('SimNat mapping', () => {
  test('endpoint-independent, port preserving: one external port (the inside one) for every destination', () => {
    const w = world(NAT_KINDS.portRestricted);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.inside.send(Buffer.from('b'), w.s2.localAddress());
    w.tick();
    assert.deepEqual(w.got1, [{ bytes: 'a', from: '100.64.0.1:5000' }]);
    assert.deepEqual(w.got2, [{ bytes: 'b', from: '100.64.0.1:5000' }]);
    assert.equal(w.nat.mappings().length, 1);
  });

  test('symmetric: a random external port per destination', () => {
    const w = world(NAT_KINDS.symmetric);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.inside.send(Buffer.from('b'), w.s2.localAddress());
    w.inside.send(Buffer.from('c'), w.s1b.localAddress());
    w.tick();
    const ports = [w.got1[0]?.from, w.got2[0]?.from, w.got1b[0]?.from];
    assert.equal(new Set(ports).size, 3, `three mappings: ${ports.join(' ')}`);
    assert.ok(!ports.includes('100.64.0.1:5000'), 'ports are drawn, not kept');
    assert.equal(w.nat.mappings().length, 3);
  });

  test('a port taken by another inside host is not preserved', () => {
    const w = world(NAT_KINDS.portRestricted);
    const other = w.nat.createTransport({ host: '192.168.1.11', port: 5000 });
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    other.send(Buffer.from('b'), w.s1.localAddress());
    w.tick();
    assert.equal(w.got1[0]?.from, '100.64.0.1:5000');
    assert.notEqual(w.got1[1]?.from, '100.64.0.1:5000');
  });
});

describe('SimNat filtering', () => {
  test('nothing gets in before the inside host sent', () => {
    const w = world(NAT_KINDS.fullCone);
    w.s1.send(Buffer.from('x'), to('100.64.0.1', 5000));
    w.tick();
    assert.equal(w.insideGot.length, 0);
    assert.equal(w.net.counters.unroutable, 1, 'no mapping: nothing listens at that public port');
  });

  test('full cone: anyone, once the mapping exists', () => {
    const w = world(NAT_KINDS.fullCone);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.tick();
    w.s2.send(Buffer.from('x'), to('100.64.0.1', 5000));
    w.tick();
    assert.deepEqual(w.insideGot, [{ bytes: 'x', from: '8.8.0.2:7000' }]);
  });

  test('address-dependent: any port of a host we sent to, no other host', () => {
    const w = world({ ...NAT_KINDS.portRestricted, filtering: 'address-dependent' });
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.tick();
    w.s1b.send(Buffer.from('same host'), to('100.64.0.1', 5000));
    w.s2.send(Buffer.from('other host'), to('100.64.0.1', 5000));
    w.tick();
    assert.deepEqual(
      w.insideGot.map((r) => r.bytes),
      ['same host'],
    );
  });

  test('port-restricted: only the exact address we sent to', () => {
    const w = world(NAT_KINDS.portRestricted);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.tick();
    w.s1b.send(Buffer.from('other port'), to('100.64.0.1', 5000));
    w.s1.send(Buffer.from('answer'), to('100.64.0.1', 5000));
    w.tick();
    assert.deepEqual(
      w.insideGot.map((r) => r.bytes),
      ['answer'],
    );
  });

  test('symmetric: an answer comes back through the mapping made for it, not through another', () => {
    const w = world(NAT_KINDS.symmetric);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.inside.send(Buffer.from('b'), w.s2.localAddress());
    w.tick();
    const port1 = Number(w.got1[0]?.from.split(':')[1]);
    const port2 = Number(w.got2[0]?.from.split(':')[1]);
    w.s2.send(Buffer.from('wrong mapping'), to('100.64.0.1', port1));
    w.s1.send(Buffer.from('right mapping'), to('100.64.0.1', port1));
    w.s2.send(Buffer.from('right too'), to('100.64.0.1', port2));
    w.tick();
    assert.deepEqual(w.insideGot.map((r) => r.bytes).sort(), ['right mapping', 'right too']);
  });
});

describe('SimNat timeouts, hairpin, LAN, stacking', () => {
  test('an idle mapping times out; traffic both ways keeps it', () => {
    const w = world(NAT_KINDS.portRestricted);
    w.inside.send(Buffer.from('a'), w.s1.localAddress());
    w.tick();
    // An answer every 20 s holds the flow (inbound refreshes it, as conntrack does).
    for (let i = 0; i < 4; i++) {
      w.clock.advance(20_000);
      w.s1.send(Buffer.from(`keep ${i}`), to('100.64.0.1', 5000));
      w.tick();
    }
    assert.equal(w.insideGot.length, 4);
    w.clock.advance(31_000);
    w.s1.send(Buffer.from('late'), to('100.64.0.1', 5000));
    w.tick();
    assert.equal(w.insideGot.length, 4, 'the mapping expired');
    assert.equal(w.nat.counters.mappingsExpired, 1);
  });

  test('hairpin on: an inside host reaches another through the public address; off: dropped', () => {
    for (const hairpin of [true, false]) {
      const w = world({ ...NAT_KINDS.fullCone, hairpin });
      const other = w.nat.createTransport({ host: '192.168.1.11', port: 6000 });
      const otherGot = listen(other);
      other.send(Buffer.from('open'), w.s1.localAddress());
      w.tick();
      w.inside.send(Buffer.from('via public'), to('100.64.0.1', 6000));
      w.tick();
      if (hairpin) assert.deepEqual(otherGot, [{ bytes: 'via public', from: '100.64.0.1:5000' }]);
      else {
        assert.equal(otherGot.length, 0);
        assert.equal(w.nat.counters.droppedHairpin, 1);
      }
    }
  });

  test('LAN: inside hosts reach each other on their inside addresses, no mapping made', () => {
    const w = world(NAT_KINDS.symmetric);
    const other = w.nat.createTransport({ host: '192.168.1.11', port: 6000 });
    const otherGot = listen(other);
    w.inside.send(Buffer.from('lan'), other.localAddress());
    w.tick();
    assert.deepEqual(otherGot, [{ bytes: 'lan', from: '192.168.1.10:5000' }]);
    assert.equal(w.nat.mappings().length, 0);
  });

  test('stacked NATs (carrier-grade): the outside sees the outer NAT, answers come all the way back', () => {
    const w = world(NAT_KINDS.portRestricted);
    const home = new SimNat({
      outside: w.nat,
      publicHost: '100.64.7.7',
      clock: w.clock,
      random: new SeededRandom('home'),
      behaviour: NAT_KINDS.portRestricted,
    });
    const laptop = home.createTransport({ host: '10.0.0.2', port: 9000 });
    const laptopGot = listen(laptop);
    laptop.send(Buffer.from('out'), w.s1.localAddress());
    w.tick();
    assert.deepEqual(w.got1, [{ bytes: 'out', from: '100.64.0.1:9000' }]);
    w.s1.send(Buffer.from('back'), to('100.64.0.1', 9000));
    w.tick();
    assert.deepEqual(laptopGot, [{ bytes: 'back', from: '8.8.0.1:7000' }]);
  });

  test('a roaming socket moved to another NAT goes out from the new public address only', () => {
    const w = world(NAT_KINDS.portRestricted);
    const cafe = new SimNat({
      outside: w.net,
      publicHost: '100.64.0.9',
      clock: w.clock,
      random: new SeededRandom('cafe'),
      behaviour: NAT_KINDS.portRestricted,
    });
    const socket = new RoamingTransport(w.nat.createTransport({ host: '192.168.1.20', port: 5555 }));
    const got = listen(socket);
    socket.send(Buffer.from('home'), w.s1.localAddress());
    w.tick();
    socket.moveTo(cafe.createTransport({ host: '10.5.0.3', port: 5555 }));
    socket.send(Buffer.from('cafe'), w.s1.localAddress());
    w.s1.send(Buffer.from('to the old place'), to('100.64.0.1', 5555));
    w.tick();
    assert.deepEqual(
      w.got1.map((r) => r.from),
      ['100.64.0.1:5555', '100.64.0.9:5555'],
    );
    assert.equal(got.length, 0, 'the old mapping is gone with the old network');
    assert.deepEqual(socket.localAddress(), { host: '10.5.0.3', port: 5555 });
  });
});
