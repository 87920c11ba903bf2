import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { generateIdentity, hourEpoch, requestTopic } from '../../src/chat/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';

test('request topics: 20 bytes, per recipient and hour, as documented', () => {
  const random = new SeededRandom('request-topic');
  const bob = generateIdentity(random).publicKey;
  const carol = generateIdentity(random).publicKey;
  const hour = hourEpoch(Date.UTC(2026, 10, 25, 14));
  const topic = requestTopic(bob, hour);
  assert.equal(topic.length, 20);
  const hourBytes = Buffer.alloc(4);
  hourBytes.writeUInt32BE(hour);
  const expected = createHash('sha1')
    .update(Buffer.concat([Buffer.from('dhtchat/request/v1\0'), bob, hourBytes]))
    .digest();
  assert.deepEqual(topic, expected);
  assert.notDeepEqual(requestTopic(bob, hour + 1), topic);
  assert.notDeepEqual(requestTopic(carol, hour), topic);
});
