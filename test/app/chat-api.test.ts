/**
 * The daemon's local HTTP API in-process: the Host/Origin wall, token check, routing, body limits, error mapping,
 * api.json.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { describe, test } from 'node:test';
import { callDaemon, followDaemonEvents } from '../../src/app/chat-api-client.ts';
import { startChatApiServer } from '../../src/app/chat-api-server.ts';
import type { ChatService, FileTransferView } from '../../src/app/chat-api-types.ts';
import { readApiFile, removeApiFile, writeApiFile } from '../../src/app/chat-data-dir.ts';
import { DhtchatError } from '../../src/runtime/index.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const TOKEN = 'ef'.repeat(32);

const events = new EventEmitter();
const SAMPLE_TRANSFER: FileTransferView = {
  id: 'ab'.repeat(16),
  with: 'dhtchat:bob',
  direction: 'incoming',
  name: 'report.pdf',
  size: 1234,
  state: 'offered',
  bytesDone: 0,
  bytesPerSec: 0,
  reason: null,
  path: null,
  createdAt: 1,
  group: null,
  sources: [],
};
const typingCalls: string[] = [];
let codeShownCount = 0;
const service: ChatService = {
  on: (name, listener) => events.on(name, listener),
  off: (name, listener) => events.off(name, listener),
  code: 'dhtchat:me',
  noteCodeShown: () => {
    codeShownCount++;
  },
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
  sendFile: async (to, path) => ({ ...SAMPLE_TRANSFER, with: to, name: path.split('/').pop() ?? '' }),
  files: () => [SAMPLE_TRANSFER],
  acceptFile: async (id, opts) => ({ ...SAMPLE_TRANSFER, id, state: 'accepted', path: opts?.to ?? null }),
  cancelFile: async () => {
    throw new DhtchatError('FILE_UNKNOWN_TRANSFER', 'no file transfer ab12');
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

/** Emits a presence event every few ms until the stream delivered one (it connects asynchronously). */
async function emitUntilSeen(seen: unknown[], name: 'presence'): Promise<void> {
  const endMs = Date.now() + 10_000;
  while (seen.length === 0) {
    if (Date.now() > endMs) throw new Error('the event stream never delivered an event');
    events.emit(name, { code: 'dhtchat:bob', presence: 'online', lastSeen: 1 });
    await new Promise((r) => setTimeout(r, 20));
  }
}

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
      const shownBefore = codeShownCount;
      const ok = await fetch(`${base}/v1/id`, { headers: auth });
      assert.deepEqual(await ok.json(), { code: 'dhtchat:me' });
      assert.equal(codeShownCount, shownBefore + 1, 'GET /v1/id tells the service the code is being shown');
      await fetch(`${base}/v1/profile`, { headers: auth });
      assert.equal(codeShownCount, shownBefore + 1, 'GET /v1/profile does not');
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

  test('an answered call keeps its connection for the next one; an error answer closes it', async () => {
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const call = (path: string, headers: Record<string, string>) =>
        new Promise<{ status: number; connection: string | undefined; isReused: boolean }>(
          (resolve, reject) => {
            const req = request({ agent, host: '127.0.0.1', port, path, headers }, (res) => {
              res.resume();
              res.on('end', () =>
                resolve({
                  status: res.statusCode ?? 0,
                  connection: res.headers.connection,
                  isReused: req.reusedSocket,
                }),
              );
            });
            req.on('error', reject);
            req.end();
          },
        );
      try {
        const first = await call('/v1/id', auth);
        const second = await call('/v1/contacts', auth);
        assert.deepEqual(first, { status: 200, connection: 'keep-alive', isReused: false });
        assert.deepEqual(second, { status: 200, connection: 'keep-alive', isReused: true });
        const refused = await rawRequest(port, { host: `127.0.0.1:${port}`, path: '/v1/id' });
        assert.equal(refused.status, 401);
        assert.equal(refused.headers.connection, 'close');
        const unknown = await call('/v1/nope', auth);
        assert.deepEqual(unknown, { status: 404, connection: 'close', isReused: true });
      } finally {
        agent.destroy();
      }
    });
  });
});

describe('the Host and Origin wall, in front of the token', () => {
  test('a foreign, missing or wrong-port Host is 403 (DNS rebinding), even with the token', async () => {
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      for (const host of [
        `attacker.example:${port}`,
        undefined,
        `127.0.0.1:${port + 1}`,
        '127.0.0.1',
        `localhost:${port}.attacker.example`,
        `127.0.0.2:${port}`,
      ]) {
        const answer = await rawRequest(port, { ...(host === undefined ? {} : { host }), headers: auth });
        assert.equal(answer.status, 403, `Host ${host}`);
        assert.equal(answer.code, 'APP_API_FORBIDDEN_HOST', `Host ${host}`);
      }
      // Before the token: a rebinding page without it learns nothing about the token either.
      assert.equal(
        (await rawRequest(port, { host: `attacker.example:${port}` })).code,
        'APP_API_FORBIDDEN_HOST',
      );
    });
  });

  test("the API's own Host names pass, in any case", async () => {
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
        assert.equal((await rawRequest(port, { host, headers: auth })).status, 200, `Host ${host}`);
      }
    });
  });

  test('a foreign or null Origin, or a cross-site fetch, is 403 (CSRF); its own origin passes', async () => {
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      const host = `127.0.0.1:${port}`;
      const refused: Record<string, string>[] = [
        { origin: 'http://attacker.example' },
        { origin: 'null' },
        { origin: `http://localhost:${port + 1}` },
        { origin: `https://127.0.0.1:${port}` },
        { origin: `http://127.0.0.1:${port}, http://attacker.example` },
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
      ];
      for (const headers of refused) {
        const answer = await rawRequest(port, { host, headers: { ...auth, ...headers } });
        assert.equal(answer.status, 403, JSON.stringify(headers));
        assert.equal(answer.code, 'APP_API_FORBIDDEN_ORIGIN', JSON.stringify(headers));
      }
      const passed: Record<string, string>[] = [
        { origin: `http://127.0.0.1:${port}` },
        { origin: `http://localhost:${port}` },
        { origin: `http://[::1]:${port}`, 'sec-fetch-site': 'same-origin' },
        { 'sec-fetch-site': 'none' },
      ];
      for (const headers of passed) {
        const answer = await rawRequest(port, { host, headers: { ...auth, ...headers } });
        assert.equal(answer.status, 200, JSON.stringify(headers));
      }
    });
  });

  test('a CORS preflight is never answered: 405, or 403 from a foreign origin, no Access-Control-* header', async () => {
    await withServer(async (base) => {
      const port = Number(new URL(base).port);
      const host = `127.0.0.1:${port}`;
      const preflight = {
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      };
      const own = await rawRequest(port, { host, method: 'OPTIONS', headers: preflight });
      assert.equal(own.status, 405);
      assert.equal(own.code, 'APP_API_METHOD_NOT_ALLOWED');
      const foreign = await rawRequest(port, {
        host,
        method: 'OPTIONS',
        path: '/v1/messages',
        headers: { ...preflight, origin: 'http://attacker.example' },
      });
      assert.equal(foreign.status, 403);
      for (const answer of [own, foreign]) {
        const cors = Object.keys(answer.headers).filter((h) => h.startsWith('access-control-'));
        assert.deepEqual(cors, []);
      }
    });
  });
});

describe('file transfer routes', () => {
  test('GET /v1/files, POST /v1/files, /v1/files/accept and /v1/files/cancel; a file event on the stream', async () => {
    await withServer(async (base) => {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: auth,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      assert.deepEqual((await call('GET', '/v1/files')).json, [SAMPLE_TRANSFER]);
      const sent = await call('POST', '/v1/files', { to: 'bob', path: '/home/me/a.txt' });
      assert.equal(sent.status, 200);
      assert.equal(sent.json['name'], 'a.txt');
      assert.equal((await call('POST', '/v1/files', { to: 'bob' })).status, 400, 'path missing');
      const accepted = await call('POST', '/v1/files/accept', { id: 'abab', to: '/tmp/x' });
      assert.equal(accepted.json['state'], 'accepted');
      assert.equal(accepted.json['path'], '/tmp/x');
      assert.equal((await call('POST', '/v1/files/accept', { id: 'abab', to: 5 })).status, 400);
      const canceled = await call('POST', '/v1/files/cancel', { id: 'ab12' });
      assert.equal(canceled.status, 400);
      assert.deepEqual(canceled.json, {
        error: { code: 'FILE_UNKNOWN_TRANSFER', message: 'no file transfer ab12' },
      });
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

  test('GET /v1/events streams chat events to followDaemonEvents; streams add no listeners of their own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-api-'));
    await withServer(async (base) => {
      await writeApiFile(dir, { port: Number(new URL(base).port), token: TOKEN, pid: process.pid });
      const stop = new AbortController();
      const seen: Record<string, unknown>[] = [];
      const followed = followDaemonEvents(
        dir,
        (e) => {
          seen.push(e);
          if (e['event'] === 'state') stop.abort();
        },
        stop.signal,
      );
      // The server's event log listens from the start; the stream is up once an event gets through.
      await emitUntilSeen(seen, 'presence');
      seen.length = 0;
      events.emit('typing', { code: 'dhtchat:bob', isTyping: true });
      events.emit('file', SAMPLE_TRANSFER);
      events.emit('state', { with: 'dhtchat:bob', id: 'ab', state: 'delivered' });
      assert.equal(await followed, 'stopped');
      assert.deepEqual(
        seen.filter((e) => e['event'] !== 'presence'),
        [
          { event: 'typing', code: 'dhtchat:bob', isTyping: true },
          { event: 'file', ...SAMPLE_TRANSFER },
          { event: 'state', with: 'dhtchat:bob', id: 'ab', state: 'delivered' },
        ],
      );
      assert.equal(events.listenerCount('typing'), 1, "one listener, the server's event log");
    });
    assert.equal(events.listenerCount('state'), 0, 'a closed server listens no more');
  });

  test("followDaemonEvents ends with 'daemon-gone' when the daemon closes the stream", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dhtchat-api-'));
    const server = await startChatApiServer({ service, token: TOKEN });
    await writeApiFile(dir, { port: server.port, token: TOKEN, pid: process.pid });
    const seen: unknown[] = [];
    const followed = followDaemonEvents(dir, (e) => void seen.push(e), new AbortController().signal);
    await emitUntilSeen(seen, 'presence');
    await server.close();
    assert.equal(await followed, 'daemon-gone');
    assert.deepEqual(seen.at(-1), {
      event: 'presence',
      code: 'dhtchat:bob',
      presence: 'online',
      lastSeen: 1,
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
