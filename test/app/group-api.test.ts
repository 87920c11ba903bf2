/**
 * The group calls of the local API (src/app/chat-api-server.ts) against a recording fake of the group service:
 * each route reaches the right method with the right arguments, answers its JSON, maps errors, and the group
 * events stream like the others. The service itself is tested in test/chat/groups/.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import type { ChatService, GroupApi, GroupView } from '../../src/app/chat-api-types.ts';
import { DhtchatError } from '../../src/runtime/index.ts';

const TOKEN = 'ab'.repeat(32);
const ID = 'cd'.repeat(32);
const calls: string[] = [];
const view: GroupView = { id: ID, name: 'club', state: 'member', role: 'admin', members: 2, unread: 0 };
const member = { code: 'dhtchat:x', name: null, role: 'member' as const, isSelf: false, isOnline: true };
const message = {
  id: 'ee'.repeat(32),
  group: ID,
  from: 'dhtchat:me',
  text: 'hi',
  ts: 1,
  state: 'queued' as const,
  delivered: 0,
  read: 0,
  members: 1,
};

/** Notes a call, returns what the route answers. */
function record<T>(what: string, answer: T): T {
  calls.push(what);
  return answer;
}

const groups: GroupApi = {
  list: () => [view],
  invites: () => [{ group: ID, name: 'club', from: 'dhtchat:y', receivedAt: 5 }],
  create: (name) => record(`create ${name}`, view),
  invite: (g, who) => record(`invite ${g} ${who}`, view),
  accept: (g) => record(`accept ${g}`, view),
  decline: (g) => void calls.push(`decline ${g}`),
  leave: (g) => record(`leave ${g}`, view),
  remove: (g, who) => {
    if (who === 'stranger') throw new DhtchatError('CHAT_GROUP_BAD_MEMBER', 'not a member');
    calls.push(`remove ${g} ${who}`);
    return [member];
  },
  promote: (g, who) => record(`promote ${g} ${who}`, [member]),
  members: (g) => record(`members ${g}`, [member]),
  send: (g, text) => record(`send ${g} ${text}`, message),
  messages: (g, opts) => record(`messages ${g} ${JSON.stringify(opts)}`, [message]),
  markRead: (g) => record(`read ${g}`, 3),
  setTyping: (g, isTyping) => record(`typing ${g} ${isTyping}`, 2),
};

const events = new EventEmitter();
const service = {
  code: 'dhtchat:me',
  groups,
  sendFile: async (to: string, path: string) => record(`send-file ${to} ${path}`, { id: 'f1' }),
  sendFileToGroup: async (group: string, path: string) =>
    record(`send-file group ${group} ${path}`, { id: 'f2' }),
  on: (name: string, listener: (...args: unknown[]) => void) => events.on(name, listener),
  off: (name: string, listener: (...args: unknown[]) => void) => events.off(name, listener),
} as unknown as ChatService;

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}

describe('group API', () => {
  test('every route reaches the service with its arguments and answers JSON', async () => {
    const server = await startChatApiServer({ service, token: TOKEN });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      assert.deepEqual((await call(base, 'GET', '/v1/groups')).json, [view]);
      assert.deepEqual((await call(base, 'POST', '/v1/groups', { name: 'club' })).json, view);
      assert.equal(((await call(base, 'GET', '/v1/groups/invites')).json as unknown[]).length, 1);
      await call(base, 'POST', '/v1/groups/invite', { group: 'club', who: 'bob' });
      await call(base, 'POST', '/v1/groups/accept', { group: ID });
      assert.deepEqual((await call(base, 'POST', '/v1/groups/decline', { group: ID })).json, {});
      await call(base, 'POST', '/v1/groups/leave', { group: ID });
      await call(base, 'POST', '/v1/groups/remove', { group: 'club', who: 'bob' });
      await call(base, 'POST', '/v1/groups/promote', { group: 'club', who: 'bob' });
      assert.deepEqual((await call(base, 'GET', '/v1/groups/members?group=club')).json, [member]);
      assert.deepEqual(
        (await call(base, 'POST', '/v1/groups/messages', { group: 'club', text: 'hi' })).json,
        message,
      );
      await call(base, 'GET', `/v1/groups/messages?group=club&limit=5&before=${'AB'.repeat(32)}`);
      assert.deepEqual((await call(base, 'POST', '/v1/groups/read', { group: 'club' })).json, { read: 3 });
      assert.deepEqual((await call(base, 'POST', '/v1/groups/typing', { group: 'club' })).json, { sent: 2 });
      assert.deepEqual(calls, [
        'create club',
        'invite club bob',
        `accept ${ID}`,
        `decline ${ID}`,
        `leave ${ID}`,
        'remove club bob',
        'promote club bob',
        'members club',
        'send club hi',
        `messages club {"limit":5,"beforeId":"${'ab'.repeat(32)}"}`,
        'read club',
        'typing club true',
      ]);
    } finally {
      await server.close();
    }
  });

  test('errors: a missing field is 400 APP_API_BAD_REQUEST, a service error keeps its code', async () => {
    const server = await startChatApiServer({ service, token: TOKEN });
    const base = `http://127.0.0.1:${server.port}`;
    try {
      const missing = await call(base, 'POST', '/v1/groups/invite', { group: 'club' });
      assert.equal(missing.status, 400);
      assert.equal((missing.json as { error: { code: string } }).error.code, 'APP_API_BAD_REQUEST');
      const bad = await call(base, 'POST', '/v1/groups/remove', { group: 'club', who: 'stranger' });
      assert.deepEqual(bad, {
        status: 400,
        json: { error: { code: 'CHAT_GROUP_BAD_MEMBER', message: 'not a member' } },
      });
      const before = await call(base, 'GET', '/v1/groups/messages?group=club&before=123');
      assert.equal(before.status, 400);
      assert.equal((await call(base, 'GET', '/v1/groups/members')).status, 400, 'no group given');
    } finally {
      await server.close();
    }
  });

  test('POST /v1/files takes a group in place of a friend', async () => {
    const server = await startChatApiServer({ service, token: TOKEN });
    const base = `http://127.0.0.1:${server.port}`;
    calls.length = 0;
    try {
      assert.deepEqual((await call(base, 'POST', '/v1/files', { group: 'club', path: '/a.bin' })).json, {
        id: 'f2',
      });
      assert.deepEqual((await call(base, 'POST', '/v1/files', { to: 'bob', path: '/a.bin' })).json, {
        id: 'f1',
      });
      assert.equal((await call(base, 'POST', '/v1/files', { group: 7, path: '/a.bin' })).status, 400);
      assert.deepEqual(calls, ['send-file group club /a.bin', 'send-file bob /a.bin']);
    } finally {
      await server.close();
    }
  });

  test('group events stream like the others', async () => {
    const server = await startChatApiServer({ service, token: TOKEN });
    const controller = new AbortController();
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/v1/events`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: controller.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const deadline = Date.now() + 10_000;
      while (events.listenerCount('group_message') === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      events.emit('group_message', { group: ID, name: 'club', message });
      events.emit('group_member', { group: ID, code: 'dhtchat:x', change: 'added' });
      while (!text.includes('group_member') && Date.now() < deadline) {
        const { value } = await reader.read();
        text += new TextDecoder().decode(value);
      }
      assert.match(text, /data: \{"event":"group_message","group":"(cd)+","name":"club","message":\{/);
      assert.match(
        text,
        /data: \{"event":"group_member","group":"(cd)+","code":"dhtchat:x","change":"added"\}/,
      );
    } finally {
      controller.abort();
      await server.close();
    }
  });
});
