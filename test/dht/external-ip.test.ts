import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPublicHost } from '../../src/dht/address-class.ts';
import { ExternalIpVoter } from '../../src/dht/external-ip.ts';

const me = (host: string, port = 6881) => ({ host, port });
const voter = (i: number) => `8.${(i >> 8) & 255}.${i & 255}.1`;

test('a change needs minVotes distinct voters and a majority', () => {
  const changes: string[] = [];
  const v = new ExternalIpVoter({
    minVotes: 3,
    isEligibleVoter: isPublicHost,
    onChange: (h) => changes.push(h),
  });
  assert.equal(v.vote(voter(1), me('1.1.1.1'), 0), undefined);
  assert.equal(v.vote(voter(2), me('1.1.1.1'), 0), undefined);
  assert.equal(v.current(), undefined);
  assert.equal(v.vote(voter(3), me('1.1.1.1', 7000), 0), '1.1.1.1');
  assert.equal(v.current(), '1.1.1.1');
  assert.deepEqual(v.currentAddress(), { host: '1.1.1.1', port: 7000 });
  assert.deepEqual(changes, ['1.1.1.1']);
  // Three votes for another address tie 3:3 — no majority, no change.
  for (let i = 4; i <= 6; i++) assert.equal(v.vote(voter(i), me('2.2.2.2'), 0), undefined);
  assert.equal(v.current(), '1.1.1.1');
  // A fourth makes it 4 of 7.
  assert.equal(v.vote(voter(7), me('2.2.2.2'), 0), '2.2.2.2');
  assert.deepEqual(changes, ['1.1.1.1', '2.2.2.2']);
});

test('one voter repeating itself counts once', () => {
  const v = new ExternalIpVoter({ minVotes: 3, isEligibleVoter: isPublicHost });
  for (let i = 0; i < 50; i++) v.vote('9.9.9.9', me('1.1.1.1'), i);
  assert.equal(v.current(), undefined);
  assert.equal(v.voterCount(), 1);
});

test('a voter changing its mind moves its vote', () => {
  const v = new ExternalIpVoter({ minVotes: 2, isEligibleVoter: isPublicHost });
  v.vote(voter(1), me('1.1.1.1'), 0);
  v.vote(voter(1), me('2.2.2.2'), 0);
  assert.equal(v.vote(voter(2), me('2.2.2.2'), 0), '2.2.2.2');
  assert.equal(v.voterCount(), 2);
});

test('private and loopback voters are ignored unless eligible by configuration', () => {
  const strict = new ExternalIpVoter({ minVotes: 1, isEligibleVoter: isPublicHost });
  for (const host of ['10.0.0.1', '127.0.0.1', '192.168.1.1', '::1', 'garbage'])
    strict.vote(host, me('1.1.1.1'), 0);
  assert.equal(strict.current(), undefined);
  const relaxed = new ExternalIpVoter({ minVotes: 2, isEligibleVoter: () => true });
  relaxed.vote('127.0.0.1', me('127.0.0.1'), 0);
  assert.equal(relaxed.vote('127.0.0.2', me('127.0.0.1'), 0), '127.0.0.1');
});

test('reports that are unspecified, multicast, junk or of the other family are ignored', () => {
  const v = new ExternalIpVoter({ minVotes: 1, isEligibleVoter: () => true });
  assert.equal(v.vote('8.8.8.8', me('0.0.0.0'), 0), undefined);
  assert.equal(v.vote('8.8.8.8', me('224.0.0.1'), 0), undefined);
  assert.equal(v.vote('8.8.8.8', me('not-an-ip'), 0), undefined);
  assert.equal(v.vote('8.8.8.8', me('2001:db8::1'), 0), undefined);
  assert.equal(v.voterCount(), 0);
  assert.equal(v.vote('2001:4860::1', me('2001:db8::1'), 0), '2001:db8::1');
});

test('old votes expire after the window', () => {
  const v = new ExternalIpVoter({ minVotes: 2, isEligibleVoter: isPublicHost, windowMs: 1000 });
  v.vote(voter(1), me('1.1.1.1'), 0);
  assert.equal(v.vote(voter(2), me('1.1.1.1'), 1000), undefined, 'the first vote has expired');
  assert.equal(v.voterCount(), 1);
  assert.equal(v.vote(voter(3), me('1.1.1.1'), 1500), '1.1.1.1');
});

test('memory is bounded by maxVoters', () => {
  const v = new ExternalIpVoter({ minVotes: 3, isEligibleVoter: isPublicHost, maxVoters: 16 });
  for (let i = 0; i < 5000; i++) v.vote(voter(i), me(`3.3.${(i >> 8) & 255}.${i & 255}`), i);
  assert.equal(v.voterCount(), 16);
  assert.equal(v.current(), undefined, 'no address ever had 3 voters');
  // A flood of liars does not outvote a confirmed address unless they are the majority of recent voters.
  const w = new ExternalIpVoter({ minVotes: 3, isEligibleVoter: isPublicHost, maxVoters: 16 });
  for (let i = 0; i < 10; i++) w.vote(voter(i), me('1.1.1.1'), 0);
  for (let i = 10; i < 15; i++) w.vote(voter(i), me('6.6.6.6'), 0);
  assert.equal(w.current(), '1.1.1.1');
});

test('on a loopback network voters can be told apart by port', () => {
  const v = new ExternalIpVoter({
    minVotes: 3,
    isEligibleVoter: () => true,
    isDistinctByPort: (h) => h === '127.0.0.1',
  });
  assert.equal(v.vote('127.0.0.1', me('127.0.0.1'), 0, 1001), undefined);
  assert.equal(v.vote('127.0.0.1', me('127.0.0.1'), 0, 1001), undefined, 'the same host:port counts once');
  assert.equal(v.vote('127.0.0.1', me('127.0.0.1'), 0, 1002), undefined);
  assert.equal(v.vote('127.0.0.1', me('127.0.0.1'), 0, 1003), '127.0.0.1');
  // Without the port, or for other hosts, one vote per host.
  const w = new ExternalIpVoter({ minVotes: 2, isEligibleVoter: () => true, isDistinctByPort: () => false });
  w.vote('8.8.8.8', me('1.1.1.1'), 0, 1);
  assert.equal(w.vote('8.8.8.8', me('1.1.1.1'), 0, 2), undefined);
});
