/**
 * The API server with its web client, in-process: pages and their headers, the one-time login link and the
 * session cookie in place of the token, the Host/Origin wall in front of pages too, event ids and resume.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { startChatApiServer } from '../../../src/app/chat-api-server.ts';
import { events, get, logIn, service, TOKEN } from './web-server-harness.ts';
import { uiFiles } from '../../../src/app/web-client/ui-files.ts';
import { WebClient } from '../../../src/app/web-client/web-client.ts';

function builtUi(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-ui-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dhtchat</title>');
  writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app-1234.js.br'), 'BROTLI');
  writeFileSync(join(dir, 'assets', 'app-1234.js.gz'), 'GZIP');
  writeFileSync(join(dir, 'secret.key'), 'not served: unknown type');
  return dir;
}

async function withWebServer(
  run: (port: number, web: WebClient) => Promise<void>,
  uiDir: string = builtUi(),
): Promise<void> {
  const web = new WebClient({
    identityTag: 'dhtchat:me',
    ui: uiFiles(uiDir),
    network: () => ({
      dht: {
        nodes: 0,
        nodesV4: 0,
        nodesV6: 0,
        externalAddress: null,
        udpPort: 1,
        queriesSent: 0,
        queriesResent: 0,
        queriesReceived: 0,
        lookups: 0,
      },
      nat: { behaviour: 'unknown', observedEndpoint: null, introducers: [] },
      strangers: { active: 0, limit: 64 },
      friends: [],
    }),
    unread: () => ({ 'dhtchat:bob': 2 }),
    passphrase: { state: async () => ({ isProtected: false }), change: async () => ({ isProtected: true }) },
  });
  const server = await startChatApiServer({ service, token: TOKEN, web });
  try {
    await run(server.port, web);
  } finally {
    await server.close();
  }
}

describe('pages', () => {
  test('the client is served with a strict CSP, nosniff, no-referrer and no framing', async () => {
    await withWebServer(async (port) => {
      const page = await get(port, '/');
      assert.equal(page.status, 200);
      assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(page.headers['cache-control'], 'no-cache');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      const csp = String(page.headers['content-security-policy']);
      for (const part of [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
      ]) {
        assert.ok(csp.includes(part), part);
      }
      assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    });
  });

  test('hashed assets are immutable and come precompressed when the browser takes it', async () => {
    await withWebServer(async (port) => {
      const br = await get(port, '/assets/app-1234.js', { 'accept-encoding': 'gzip, deflate, br' });
      assert.equal(br.headers['content-encoding'], 'br');
      assert.equal(br.text, 'BROTLI');
      assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
      const gz = await get(port, '/assets/app-1234.js', { 'accept-encoding': 'gzip' });
      assert.equal(gz.headers['content-encoding'], 'gzip');
      const plain = await get(port, '/assets/app-1234.js');
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.equal(plain.text, 'console.log(1)');
    });
  });

  test('nothing outside the build, no unknown types, no dot files, no writes', async () => {
    await withWebServer(async (port) => {
      for (const path of [
        '/secret.key',
        '/../package.json',
        '/assets/%2e%2e/%2e%2e/package.json',
        '/..%2fpackage.json',
        '/.env',
        '/nope.js',
      ]) {
        assert.equal((await get(port, path)).status, 404, path);
      }
      assert.equal((await get(port, '/', {}, 'POST')).status, 405);
    });
  });

  test('without a build, the page says to run npm run build', async () => {
    await withWebServer(
      async (port) => {
        const page = await get(port, '/');
        assert.equal(page.status, 503);
        assert.match(page.text, /npm run build/);
      },
      mkdtempSync(join(tmpdir(), 'dhtchat-no-ui-')),
    );
  });

  test('a foreign Host or Origin gets 403 on pages and on the login link too', async () => {
    await withWebServer(async (port, web) => {
      const url = new URL(web.loginUrl(port));
      const login = `${url.pathname}${url.search}`;
      assert.equal((await get(port, '/', { host: `attacker.example:${port}` })).status, 403);
      assert.equal((await get(port, login, { host: `attacker.example:${port}` })).status, 403);
      assert.equal((await get(port, login, { origin: 'http://attacker.example' })).status, 403);
      assert.equal((await get(port, login, { 'sec-fetch-site': 'cross-site' })).status, 403);
      // The link was not spent by the refused attempts.
      assert.equal((await get(port, login)).status, 303);
    });
  });
});

describe('login and the session cookie', () => {
  test('the login link works once', async () => {
    await withWebServer(async (port, web) => {
      const url = new URL(web.loginUrl(port));
      const first = await get(port, `${url.pathname}${url.search}`);
      assert.equal(first.status, 303);
      const setCookie = String(first.headers['set-cookie']);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      const second = await get(port, `${url.pathname}${url.search}`);
      assert.equal(second.status, 403);
      assert.equal(second.headers['set-cookie'], undefined);
      assert.match(second.text, /npx dhtchat web/);
      assert.equal((await get(port, '/login?token=zz')).status, 403);
      const unspent = new URL(web.loginUrl(port));
      assert.equal((await get(port, `${unspent.pathname}${unspent.search}`, {}, 'HEAD')).status, 405);
      assert.equal(
        (await get(port, `${unspent.pathname}${unspent.search}`)).status,
        303,
        'a HEAD does not spend it',
      );
    });
  });

  test('the cookie stands in for the token; a cookie POST must be JSON; logout ends it', async () => {
    await withWebServer(async (port, web) => {
      assert.equal((await get(port, '/v1/id')).status, 401);
      const cookie = await logIn(port, web);
      const id = await get(port, '/v1/id', { cookie });
      assert.equal(id.status, 200);
      assert.deepEqual(JSON.parse(id.text), { code: 'dhtchat:me' });
      assert.deepEqual(JSON.parse((await get(port, '/v1/unread', { cookie })).text), { 'dhtchat:bob': 2 });
      const body = JSON.stringify({ to: 'bob', text: 'hi' });
      assert.equal((await get(port, '/v1/messages', { cookie }, 'POST', body)).status, 401);
      const asForm = { cookie, 'content-type': 'application/x-www-form-urlencoded' };
      assert.equal((await get(port, '/v1/messages', asForm, 'POST', body)).status, 401);
      const asJson = { cookie, 'content-type': 'application/json' };
      assert.equal((await get(port, '/v1/messages', asJson, 'POST', body)).status, 200);
      // A login link is for the token's holder (the CLI), not for a page.
      const link = await get(port, '/v1/login-link', asJson, 'POST', '{}');
      assert.equal(JSON.parse(link.text).error.code, 'APP_API_FORBIDDEN_TOKEN_ONLY');
      const out = await get(port, '/v1/logout', asJson, 'POST', '{}');
      assert.match(String(out.headers['set-cookie']), /Max-Age=0/);
      assert.equal((await get(port, '/v1/id', { cookie })).status, 401);
    });
  });

  test('the bearer token makes login links; JSON answers carry nosniff and a none CSP', async () => {
    await withWebServer(async (port) => {
      const answer = await get(port, '/v1/login-link', { authorization: `Bearer ${TOKEN}` }, 'POST', '{}');
      assert.equal(answer.status, 200);
      assert.match(
        JSON.parse(answer.text).url,
        new RegExp(`^http://127\\.0\\.0\\.1:${port}/login\\?token=[0-9a-f]{64}$`),
      );
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.equal(answer.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
    });
  });
});

/** Reads an event stream until `count` events arrived; answers their ids and data. */
function readEvents(
  port: number,
  count: number,
  headers: Record<string, string>,
  onOpen: () => void,
): Promise<{ id: string; data: Record<string, unknown> }[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/events',
        headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      },
      (res) => {
        const out: { id: string; data: Record<string, unknown> }[] = [];
        let pending = '';
        res.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          let end = pending.indexOf('\n\n');
          while (end >= 0) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id !== undefined && data !== undefined) out.push({ id, data: JSON.parse(data) });
            end = pending.indexOf('\n\n');
          }
          if (out.length >= count) {
            req.destroy();
            resolve(out);
          }
        });
        onOpen();
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

describe('event ids and resume', () => {
  test('events carry ids; Last-Event-ID replays what was missed; an unknown boot gets reset', async () => {
    await withWebServer(async (port) => {
      const first = await readEvents(port, 2, {}, () => {
        events.emit('typing', { code: 'dhtchat:bob', isTyping: true });
        events.emit('typing', { code: 'dhtchat:bob', isTyping: false });
      });
      assert.match(first[0]?.id ?? '', /^[0-9a-f]{8}-1$/);
      const lastId = first[0]?.id ?? '';
      // Missed while away: the second event, then one more.
      events.emit('state', { with: 'dhtchat:bob', id: 'aa', state: 'read' });
      const resumed = await readEvents(port, 2, { 'last-event-id': lastId }, () => {});
      assert.deepEqual(
        resumed.map((e) => e.data['event']),
        ['typing', 'state'],
      );
      assert.equal(resumed[0]?.data['isTyping'], false);
      const reset = await readEvents(port, 1, { 'last-event-id': '00000000-5' }, () => {});
      assert.deepEqual(reset[0]?.data, { event: 'reset', reason: 'restarted' });
    });
  });
});
