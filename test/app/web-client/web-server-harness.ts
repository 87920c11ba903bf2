/** The API server's tests' shared parts: a chat service that does nothing, raw requests, logging in. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import type { ChatService } from '../../../src/app/chat-api-types.ts';
import type { WebClient } from '../../../src/app/web-client/web-client.ts';

export const TOKEN = 'ab'.repeat(32);
export const events = new EventEmitter();
const contact = (who: string) =>
  ({ name: who, code: who, presence: 'offline', lastSeen: null, profileName: null }) as const;
export const service: ChatService = {
  on: (name, listener) => events.on(name, listener),
  off: (name, listener) => events.off(name, listener),
  code: 'dhtchat:me',
  addFriend: async (code) => contact(code),
  requests: () => [],
  accept: async (who) => contact(who),
  decline: () => {},
  block: () => {},
  unblock: (who) => contact(who),
  contacts: () => [],
  blocked: () => [],
  rename: (who) => contact(who),
  remove: (who) => contact(who),
  profile: () => ({ name: null, code: 'dhtchat:me' }),
  setProfileName: async (name) => ({ name, code: 'dhtchat:me' }),
  send: async () => ({ id: '00'.repeat(16), state: 'queued' }),
  messages: () => [],
  search: () => [],
  markRead: () => {},
  setTyping: (who) => ({ to: contact(who), isSent: true }),
  sendFile: () => Promise.reject(new Error('not used by the web client tests')),
  files: () => [],
  acceptFile: () => Promise.reject(new Error('not used by the web client tests')),
  cancelFile: () => Promise.reject(new Error('not used by the web client tests')),
};

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The answer's bytes (a download). */
  body: Buffer;
}

/** One request with exactly these headers (Host defaults to the server's own). */
export function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        setHost: false,
        headers: { host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body.toString(), body });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens a login link; answers the Cookie header value to send back. */
export async function logIn(port: number, web: WebClient): Promise<string> {
  const url = new URL(web.loginUrl(port));
  const answer = await get(port, `${url.pathname}${url.search}`, { 'sec-fetch-site': 'none' });
  assert.equal(answer.status, 303);
  assert.equal(answer.headers['location'], '/');
  const setCookie = String(answer.headers['set-cookie']);
  return setCookie.split(';')[0] ?? '';
}
