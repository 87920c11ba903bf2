/** The uTP trust policy the chat layer supplies: friends' hosts, answered from a set rebuilt every few seconds. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FRIEND_HOSTS_REFRESH_MS, FriendHosts } from '../../../src/chat/session/friend-hosts.ts';
import { ManualClock, type UdpAddress } from '../../../src/runtime/index.ts';

test('friend hosts: any port of a listed host, refreshed lazily, the last set kept when the store fails', () => {
  const clock = new ManualClock();
  let endpoints: UdpAddress[] = [{ host: '192.0.2.1', port: 6881 }];
  let isBroken = false;
  let reads = 0;
  const hosts = new FriendHosts(clock, () => {
    reads++;
    if (isBroken) throw new Error('store closed');
    return endpoints;
  });
  assert.ok(hosts.has('192.0.2.1'), 'a restarted friend comes from a new port');
  assert.equal(hosts.has('192.0.2.2'), false);
  endpoints = [{ host: '192.0.2.2', port: 1 }];
  for (let i = 0; i < 1000; i++) hosts.has('198.51.100.1');
  assert.equal(reads, 1, 'one read per refresh period, however many questions');
  assert.equal(hosts.has('192.0.2.2'), false, 'not before the refresh');
  clock.advance(FRIEND_HOSTS_REFRESH_MS);
  assert.ok(hosts.has('192.0.2.2'));
  assert.equal(hosts.has('192.0.2.1'), false, 'a forgotten endpoint is no longer trusted');
  isBroken = true;
  clock.advance(FRIEND_HOSTS_REFRESH_MS);
  assert.ok(hosts.has('192.0.2.2'), 'kept through a failed read');
});
