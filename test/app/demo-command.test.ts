/**
 * `dhtchat demo` as a newcomer runs it (`npm run demo`): three users on a loopback DHT, set up with something to
 * see (Carol's request waiting at Alice, Alice and Bob friends with a message each, a message that waited in the
 * DHT for Bob), a working one-time login link each, and everything stopped and removed on SIGTERM.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import type { MessageView, RequestView } from '../../src/app/chat-api-types.ts';
import { type JsonLinesProcess, startJsonLines, stopAll } from '../e2e/chat-processes.ts';

const running: JsonLinesProcess[] = [];
after(() => stopAll(running));

interface DemoUser {
  name: string;
  url: string;
  dataDir: string;
}

test('the demo sets up three users with a request, a chat and an offline message, then stops cleanly', {
  timeout: 240_000,
}, async () => {
  const demo = startJsonLines(['demo', '--json']);
  running.push(demo);
  const ready = await demo.waitFor((l) => Array.isArray(l['users']), 180_000);
  const users = ready['users'] as DemoUser[];
  assert.deepEqual(
    users.map((u) => u.name),
    ['Alice', 'Bob', 'Carol'],
  );
  const [alice, bob, carol] = users as [DemoUser, DemoUser, DemoUser];
  const carolCode = ((await callDaemon(carol.dataDir, 'GET', '/v1/id')) as { code: string }).code;
  const bobCode = ((await callDaemon(bob.dataDir, 'GET', '/v1/id')) as { code: string }).code;
  const requests = (await callDaemon(alice.dataDir, 'GET', '/v1/requests')) as RequestView[];
  assert.deepEqual(
    requests.map((r) => [r.code, r.name]),
    [[carolCode, 'Carol']],
  );
  const chat = (await callDaemon(bob.dataDir, 'GET', `/v1/messages?with=Alice`)) as MessageView[];
  assert.equal(chat.length, 3);
  assert.match(chat[2]?.text ?? '', /waited in the DHT/);
  assert.ok((await callDaemon(alice.dataDir, 'GET', `/v1/messages?with=${bobCode}`)) !== undefined);

  for (const user of users) {
    const first = await fetch(user.url, { redirect: 'manual' });
    assert.equal(first.status, 303, `${user.name}'s link logs in`);
    assert.match(first.headers.get('set-cookie') ?? '', /HttpOnly/);
    assert.equal((await fetch(user.url, { redirect: 'manual' })).status, 403, 'and only once');
  }

  assert.equal(await demo.stop('SIGTERM'), 0);
  for (const user of users) assert.equal(existsSync(user.dataDir), false, `${user.name}'s data dir removed`);
});
