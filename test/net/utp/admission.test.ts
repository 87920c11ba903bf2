/**
 * uTP admission (issue 10 §1) as a pure policy: per-host and per-subnet caps for strangers, the reserve for our
 * dials and trusted peers, oldest-unproven-first eviction, SYN-ACK budgets, and bounded memory.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AdmissionLimits, subnetOf, UtpAdmission } from '../../../src/net/utp/admission.ts';
import type { UdpAddress } from '../../../src/runtime/index.ts';

/** A stand-in for a connection: proven once the peer acked our data. */
interface Item {
  readonly name: string;
  isProven: boolean;
}

const SMALL: Partial<AdmissionLimits> = {
  maxConnections: 40,
  maxIncoming: 36,
  maxStrangers: 24,
  maxStrangersPerHost: 4,
  maxStrangersPerSubnet: 8,
};

function makeAdmission(limits: Partial<AdmissionLimits> = SMALL, trusted: string[] = []) {
  const admission = new UtpAdmission<Item>((item) => item.isProven, limits);
  admission.setTrust((address) => trusted.includes(address.host));
  let next = 0;
  /** Admits (evicting as told) and records; returns the item and what was evicted, or undefined if refused. */
  const open = (remote: UdpAddress | 'outgoing', isProven = false) => {
    const decision = remote === 'outgoing' ? admission.admitOutgoing() : admission.admitIncoming(remote);
    if (!decision.isAdmitted) return undefined;
    if (decision.evict !== undefined) admission.remove(decision.evict);
    const item: Item = { name: `c${next++}`, isProven };
    admission.add(item, decision.origin, remote === 'outgoing' ? { host: '', port: 0 } : remote);
    return { item, evicted: decision.evict, origin: decision.origin };
  };
  return { admission, open };
}

const at = (host: string, port = 1000): UdpAddress => ({ host, port });

describe('uTP admission', () => {
  test('subnets are /24 for IPv4 and /64 for IPv6', () => {
    assert.equal(subnetOf('203.0.113.9'), subnetOf('203.0.113.200'));
    assert.notEqual(subnetOf('203.0.113.9'), subnetOf('203.0.114.9'));
    assert.equal(subnetOf('2001:db8:1:2::1'), subnetOf('2001:db8:1:2:ffff::9'));
    assert.notEqual(subnetOf('2001:db8:1:2::1'), subnetOf('2001:db8:1:3::1'));
  });

  test('a host holds at most maxStrangersPerHost: a newcomer replaces its oldest unproven, else is refused', () => {
    const { admission, open } = makeAdmission();
    const first = [0, 1, 2, 3].map((port) => open(at('198.51.100.1', port)));
    assert.ok(first.every((r) => r !== undefined && r.evicted === undefined));
    (first[0]?.item as Item).isProven = true;
    const fifth = open(at('198.51.100.1', 4));
    assert.equal(fifth?.evicted, first[1]?.item, 'the oldest unproven, skipping the proven one');
    for (const r of [...first, fifth]) if (r !== undefined) r.item.isProven = true;
    assert.equal(open(at('198.51.100.1', 5)), undefined, 'all proven: refused');
    assert.equal(admission.counts.strangers, 4);
    assert.ok(open(at('198.51.100.2')) !== undefined, 'another host of the subnet still gets in');
  });

  test('a subnet holds at most maxStrangersPerSubnet, whatever its hosts', () => {
    const { admission, open } = makeAdmission();
    for (let h = 1; h <= 8; h++) assert.ok(open(at(`198.51.100.${h}`), true));
    assert.equal(open(at('198.51.100.99')), undefined);
    assert.equal(admission.counts.strangers, 8);
    assert.ok(open(at('198.51.101.1')), 'the next /24 is not touched');
    // IPv6: one /64 is one subnet, however many addresses it spans.
    for (let h = 1; h <= 8; h++) assert.ok(open(at(`2001:db8:0:1::${h.toString(16)}`), true));
    assert.equal(open(at('2001:db8:0:1:ffff::1')), undefined);
    assert.ok(open(at('2001:db8:0:2::1')));
  });

  test('strangers stop at maxStrangers; trusted peers and our dials use the reserve', () => {
    const { admission, open } = makeAdmission(SMALL, ['192.0.2.1']);
    for (let s = 0; s < 24; s++) assert.ok(open(at(`10.${s}.0.1`), true), `stranger ${s}`);
    assert.equal(open(at('10.99.0.1')), undefined, 'the stranger pool is full of proven connections');
    for (let t = 0; t < 12; t++) assert.equal(open(at('192.0.2.1', 2000 + t))?.origin, 'trusted');
    assert.equal(admission.counts.incoming, 36);
    assert.equal(
      open(at('192.0.2.1', 3000))?.evicted?.name,
      'c0',
      'incoming full: trusted evicts a stranger',
    );
    for (let d = 0; d < 4; d++) assert.ok(open('outgoing'));
    assert.equal(admission.counts.all, 40);
    assert.equal(open('outgoing')?.evicted?.name, 'c1', 'table full: our dial evicts the oldest stranger');
  });

  test("one trusted host holds at most maxTrustedPerHost: sharing a friend's address does not crowd out friends", () => {
    const { open } = makeAdmission({ ...SMALL, maxTrustedPerHost: 3 }, ['192.0.2.1', '192.0.2.2']);
    const first = [0, 1, 2].map((port) => open(at('192.0.2.1', port)));
    assert.ok(first.every((r) => r?.origin === 'trusted' && r.evicted === undefined));
    const fourth = open(at('192.0.2.1', 3));
    assert.equal(fourth?.evicted, first[0]?.item, 'the oldest unproven of that host');
    for (const r of [...first, fourth]) if (r !== undefined) r.item.isProven = true;
    assert.equal(open(at('192.0.2.1', 4)), undefined, 'refused once the others are proven');
    assert.equal(open(at('192.0.2.2'))?.origin, 'trusted', 'another friend host is untouched');
  });

  test('with the pool full, the oldest unproven stranger anywhere makes room; proven ones are kept', () => {
    const { admission, open } = makeAdmission();
    const opened = [];
    for (let s = 0; s < 24; s++) opened.push(open(at(`10.${s}.0.1`), s % 2 === 0));
    const late = open(at('10.200.0.1'));
    assert.equal(late?.evicted, opened[1]?.item, 'the oldest unproven (the even ones are proven)');
    const later = open(at('10.201.0.1'));
    assert.equal(later?.evicted, opened[3]?.item);
    assert.equal(admission.counts.strangers, 24);
  });

  test('our dials are refused only when our dials and trusted peers hold every slot', () => {
    const { open } = makeAdmission({ ...SMALL, maxIncoming: 40 }, ['192.0.2.1']);
    for (let t = 0; t < 20; t++) assert.ok(open(at('192.0.2.1', t)));
    for (let d = 0; d < 20; d++) assert.ok(open('outgoing'));
    assert.equal(open('outgoing'), undefined);
  });

  test('SYN-ACK budgets: per host, per subnet across hosts, refilled over time; trusted hosts have their own', () => {
    const limits = { ...SMALL, synAcksPerHostPerSec: 10, synAckHostBurst: 20 };
    const { admission } = makeAdmission({ ...limits, synAcksPerSubnetPerSec: 50, synAckSubnetBurst: 30 }, [
      '198.51.100.77',
    ]);
    const answered = (host: string, count: number, nowMs: number) => {
      let n = 0;
      for (let i = 0; i < count; i++) if (admission.onSyn(at(host, i), nowMs) === 'syn-ack') n++;
      return n;
    };
    assert.equal(answered('198.51.100.1', 100, 0), 20, 'one host: its burst');
    assert.equal(answered('198.51.100.2', 100, 0), 10, 'the subnet has 10 left of its 30');
    assert.equal(answered('198.51.100.3', 100, 0), 0);
    assert.equal(answered('198.51.101.1', 100, 0), 20, 'another subnet is untouched');
    assert.equal(answered('198.51.100.77', 100, 0), 100, 'a trusted host does not spend the subnet');
    assert.equal(answered('198.51.100.1', 100, 1000), 10, 'a second later: 10 more for the host');
  });

  test('all strangers together get at most strangerSynAckBurst SYN-ACKs at once; trusted hosts are not counted', () => {
    const limits = { ...SMALL, strangerSynAcksPerSec: 100, strangerSynAckBurst: 300 };
    const { admission } = makeAdmission(limits, ['192.0.2.1']);
    let answered = 0;
    for (let i = 0; i < 1000; i++) {
      if (admission.onSyn(at(`10.${i >> 8}.${i & 0xff}.1`), 0) === 'syn-ack') answered++;
    }
    assert.equal(answered, 300, 'a flood from 1,000 subnets: the global burst, no more');
    assert.equal(admission.onSyn(at('192.0.2.1'), 0), 'syn-ack', 'a friend still gets its SYN-ACK');
    assert.equal(admission.onSyn(at('10.200.0.1'), 1000), 'syn-ack', 'refilled at strangerSynAcksPerSec');
  });

  test('a SYN is refused (not answered) when no room could be made for it', () => {
    const { admission, open } = makeAdmission();
    for (let p = 0; p < 4; p++) open(at('198.51.100.1', p), true);
    assert.equal(admission.onSyn(at('198.51.100.1', 9), 0), 'refuse');
    assert.equal(admission.onSyn(at('198.51.100.2', 9), 0), 'syn-ack');
  });

  test('memory stays bounded under a flood from 100,000 sources', () => {
    const { admission, open } = makeAdmission({ ...SMALL, maxTrackedSources: 1000 });
    for (let i = 0; i < 100_000; i++) {
      const host = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
      admission.onSyn(at(host, i & 0xffff), i);
      open(at(host, i & 0xffff));
    }
    const counts = admission.counts;
    assert.ok(counts.trackedBudgets <= 3 * 1000, `${JSON.stringify(counts)}`);
    assert.ok(counts.strangers <= 24 && counts.all <= 40, `${JSON.stringify(counts)}`);
    assert.ok(counts.trackedHosts <= 24 && counts.trackedSubnets <= 24, `${JSON.stringify(counts)}`);
  });
});
