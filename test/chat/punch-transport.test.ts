/** PunchTransport on a MemoryNetwork: punch packets apart, routes through a side socket, idle routes closed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PUNCH_PACKET_MAGIC, PunchTransport, ROUTE_IDLE_MS } from '../../src/chat/punch-transport.ts';
import { addressKey, ManualClock, SeededRandom } from '../../src/runtime/index.ts';
import { MemoryNetwork } from '../../sim/memory-network.ts';

test('punch packets go to their own handler; routes carry one remote both ways; idle routes close', () => {
  const clock = new ManualClock();
  const net = new MemoryNetwork(clock, new SeededRandom('punch-transport'));
  const main = new PunchTransport(net.createTransport({ host: '10.0.0.1', port: 7000 }), clock);
  const friend = net.createTransport({ host: '10.0.0.2', port: 7000 });
  const stranger = net.createTransport({ host: '10.0.0.3', port: 7000 });
  const upper: string[] = [];
  const punch: string[] = [];
  const atFriend: string[] = [];
  main.onPacket((bytes, from) => upper.push(`${bytes.toString('latin1')}@${addressKey(from)}`));
  main.onPunchPacket((bytes, from) => punch.push(`${bytes.length}@${addressKey(from)}`));
  friend.onPacket((_bytes, from) => atFriend.push(addressKey(from)));

  friend.send(Buffer.from('d1:ai0ee'), main.localAddress());
  friend.send(Buffer.from([PUNCH_PACKET_MAGIC, 1, 2, 0, 1, 2, 3, 4]), main.localAddress());
  clock.advance(10);
  assert.deepEqual(upper, ['d1:ai0ee@10.0.0.2:7000']);
  assert.deepEqual(punch, ['8@10.0.0.2:7000']);

  const side = net.createTransport({ host: '10.0.0.1', port: 0 });
  assert.ok(main.addRoute(friend.localAddress(), side));
  main.send(Buffer.from('via side'), friend.localAddress());
  main.sendDirect(Buffer.from('direct'), friend.localAddress());
  clock.advance(10);
  assert.deepEqual(atFriend, [addressKey(side.localAddress()), '10.0.0.1:7000']);
  friend.send(Buffer.from('back'), side.localAddress());
  stranger.send(Buffer.from('not routed'), side.localAddress());
  clock.advance(10);
  assert.equal(upper.at(-1), 'back@10.0.0.2:7000', 'what the side socket hears from the friend goes up');
  assert.equal(upper.length, 2, 'others writing to the side socket are not heard');

  clock.advance(ROUTE_IDLE_MS + ROUTE_IDLE_MS / 2);
  assert.equal(main.routeCount(), 0, 'an idle route is closed');
  main.send(Buffer.from('main again'), friend.localAddress());
  clock.advance(10);
  assert.equal(atFriend.at(-1), '10.0.0.1:7000');
  main.close();
});
