/** The daemon's local HTTP API in-process: token check, routing, body limits, error mapping, api.json. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { callDaemon, followDaemonEvents } from '../../src/app/chat-api-client.ts';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import type { ChatService } from '../../src/app/chat-api-types.ts';
import { readApiFile, removeApiFile, writeApiFile } from '../../src/app/chat-data-dir.ts';
import { DhtchatError } from '../../src/runtime/index.ts';

const TOKEN = 'ef'.repeat(32);

const events = new EventEmitter();
const typingCalls: string[] = [];
const service: ChatService = {
  on: (name, listener) => events.on(name, listener),
  off: (name, listener) => events.off(name, listener),
  code: 'dhtchat:me',
  addFriend: async (code) => ({ name: 'x', code, presence: 'offline', lastSeen: null, profileName: null }),
  requests: () => [],
  accept: async () => {
    throw new DhtchatError('CHAT_UNKNOWN_REQUEST', 'no request from "x"');
  },
  decline: () => {},
  block: () => {},
  unblock: () => unknownContact(),
  contacts: () => [],
  blocked: () => [],
  rename: () => unknownContact(),
  remove: () => unknownContact(),
  profile: () => ({ name: null, code: 'dhtchat:me' }),
  setProfileName: async (name) => ({ name, code: 'dhtchat:me' }),
  send: async () => ({ id: '00'.repeat(16), state: 'queued' }),
  messages: () => [],
  search: () => [],
  markRead: () => {},
  setTyping: (who, isTyping) => {
    typingCalls.push(`${who} ${isTyping}`);
    return {
      to: { name: who, code: 'dhtchat:x', presence: 'online', lastSeen: null, profileName: null },
      isSent: true,
    };
  },
};

function unknownContact(): never {
  throw new DhtchatError('CHAT_UNKNOWN_FRIEND', 'no contact "x"');
}

async function withServer(run: (base: string) => Promise<void>): Promise<void> {
  const server = await startChatApiServer({ service, token: TOKEN });
  try {
    await run(`http://127.0.0.1:${server.port}`);
  } finally {
    await server.close();
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('chat API server', () => {
  test('rejects a missing or wrong token with 401', async () => {
    await withServer(async (base) => {
      const variants: Record<string, string>[] = [
        {},
        { authorization: `Bearer ${'00'.repeat(32)}` },
        { authorization: TOKEN },
      ];
      for (const headers of variants) {
        const res = await fetch(`${base}/v1/contacts`, { headers });
        assert.equal(res.status, 401);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'APP_API_UNAUTHORIZED');
      }
    });
  });

  test('routes, 404, bad bodies, oversized bodies, and DhtchatErrors as 400 with their code', async () => {
    await withServer(async (base) => {
      const ok = await fetch(`${base}/v1/id`, { headers: auth });
      assert.deepEqual(await ok.json(), { code: 'dhtchat:me' });
      assert.equal((await fetch(`${base}/v1/nope`, { headers: auth })).status, 404);
      const post = (path: string, body: string) =>
        fetch(`${base}${path}`, { method: 'POST', headers: auth, body });
      assert.equal((await post('/v1/messages', '{not json')).status, 400);
      assert.equal((await post('/v1/messages', '[1]')).status, 400);
      const missing = await post('/v1/messages', '{"to":"bob"}');
      assert.equal(missing.status, 400);
      assert.match(((await missing.json()) as { error: { message: string } }).error.message, /"text"/);
      assert.equal(
        (await post('/v1/messages', JSON.stringify({ to: 'b', text: 'x'.repeat(200_000) }))).status,
        413,
      );
      const refused = await post('/v1/requests/accept', '{"who":"x"}');
      assert.equal(refused.status, 400);
      assert.deepEqual(await refused.json(), {
        error: { code: 'CHAT_UNKNOWN_REQUEST', message: 'no request from "x"' },
      });
      const sent = await post('/v1/messages', '{"to":"bob","text":"hi"}');
      assert.deepEqual(await sent.json(), { id: '00'.repeat(16), state: 'queued' });
    });
  });
});

describe('typing and the event stream', () => {
  test('POST /v1/typing passes isTyping (default true) and rejects a non-boolean', async () => {
    await withServer(async (base) => {
      const post = (body: unknown) =>
        fetch(`${base}/v1/typing`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      typingCalls.length = 0;
      assert.equal((await post({ who: 'bob' })).status, 200);
      assert.equal((await post({ who: 'bob', isTyping: false })).status, 200);
      assert.equal((await post({ who: 'bob', isTyping: 'yes' })).status, 400);
      assert.deepEqual(typingCalls, ['bob true', 'bob false']);
    });
  });

  test('GET /v1/events streams chat events to followDaemonEvents, and unsubscribes when it stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-api-'));
    await withServer(async (base) => {
      await writeApiFile(dir, { port: Number(new URL(base).port), token: TOKEN, pid: process.pid });
      const stop = new AbortController();
      const seen: Record<string, unknown>[] = [];
      const followed = followDaemonEvents(
        dir,
        (e) => {
          seen.push(e);
          if (seen.length === 2) stop.abort();
        },
        stop.signal,
      );
      while (events.listenerCount('typing') === 0) await new Promise((r) => setTimeout(r, 5));
      events.emit('typing', { code: 'dhtchat:bob', isTyping: true });
      events.emit('state', { with: 'dhtchat:bob', id: 'ab', state: 'delivered' });
      await followed;
      assert.deepEqual(seen, [
        { event: 'typing', code: 'dhtchat:bob', isTyping: true },
        { event: 'state', with: 'dhtchat:bob', id: 'ab', state: 'delivered' },
      ]);
      while (events.listenerCount('typing') > 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(events.listenerCount('state'), 0);
    });
  });
});

describe('api.json and the client', () => {
  test('written 0600, read back, removed only by its owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-api-'));
    await writeApiFile(dir, { port: 1234, token: TOKEN, pid: 42 });
    assert.equal(statSync(join(dir, 'api.json')).mode & 0o777, 0o600);
    assert.deepEqual(await readApiFile(dir), { port: 1234, token: TOKEN, pid: 42 });
    await removeApiFile(dir, 'another token');
    assert.notEqual(await readApiFile(dir), undefined, 'a newer daemon keeps its file');
    await removeApiFile(dir, TOKEN);
    assert.equal(await readApiFile(dir), undefined);
  });

  test('the client maps daemon errors to DhtchatError and a wrong token to APP_NO_DAEMON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-api-'));
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      await writeApiFile(dir, { port, token: TOKEN, pid: process.pid });
      assert.deepEqual(await callDaemon(dir, 'GET', '/v1/contacts'), []);
      await assert.rejects(callDaemon(dir, 'POST', '/v1/requests/accept', { who: 'x' }), {
        code: 'CHAT_UNKNOWN_REQUEST',
      });
      await writeApiFile(dir, { port, token: '11'.repeat(32), pid: process.pid });
      await assert.rejects(callDaemon(dir, 'GET', '/v1/contacts'), { code: 'APP_NO_DAEMON' });
    });
  });
});
