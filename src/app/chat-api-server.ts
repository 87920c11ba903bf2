/**
 * The daemon's local HTTP API: JSON over node:http, bound to 127.0.0.1 only, every request carrying
 * `Authorization: Bearer <token>` (32 random bytes from api.json, compared in constant time). Only the user who
 * can read the data dir can read the token, so other local users and web pages (which cannot set that header
 * cross-origin without a preflight we never answer) cannot drive the daemon. In front of the token, a second
 * wall (api-host-origin.ts) refuses with 403 any request whose Host is not the API's own address (DNS
 * rebinding) or that comes from another origin (CSRF); OPTIONS (a CORS preflight) is 405, and no answer ever
 * carries an Access-Control-* header.
 *
 *   GET  /v1/id                      -> {"code"}  (our code is being shown: requests are looked for fast a while)
 *   GET  /v1/contacts                -> [ContactView]          POST /v1/contacts {code,name?,message?} -> ContactView
 *   POST /v1/contacts/rename {who,name}          -> ContactView
 *   POST /v1/contacts/remove {who,forget?}       -> ContactView (as it was)
 *   GET  /v1/requests                -> [RequestView]
 *   POST /v1/requests/accept {who}   -> ContactView            POST /v1/requests/decline {who} -> {}
 *   POST /v1/block {who}             -> {}                     POST /v1/unblock {who} -> ContactView
 *   GET  /v1/blocked                 -> [ContactView]
 *   GET  /v1/profile                 -> {"name","code"}        POST /v1/profile {name} -> {"name","code"}
 *   GET  /v1/messages?with=X[&limit=N][&before=<id hex|ms>]   -> [MessageView]
 *   POST /v1/messages {to,text}      -> {"id","state"}
 *   GET  /v1/search?text=T[&with=X][&limit=N]                 -> [{"with",...MessageView}]
 *   POST /v1/read {who}              -> {}
 *   POST /v1/typing {who,isTyping?}  -> {"to":ContactView,"isSent"}   (isTyping defaults to true)
 *   GET  /v1/files                   -> [FileTransferView]     POST /v1/files {to,path} -> FileTransferView
 *   POST /v1/files {group,path}      -> FileTransferView       (a file offered to a group: its id or name)
 *   POST /v1/files/accept {id,to?}   -> FileTransferView       POST /v1/files/cancel {id} -> FileTransferView
 *   GET  /v1/groups                  -> [GroupView]             POST /v1/groups {name} -> GroupView
 *   GET  /v1/groups/invites          -> [GroupInviteView]
 *   POST /v1/groups/invite {group,who} -> GroupView              POST /v1/groups/accept {group} -> GroupView
 *   POST /v1/groups/decline {group}  -> {}                      POST /v1/groups/leave {group} -> GroupView
 *   POST /v1/groups/remove|promote {group,who}                  -> [GroupMemberView]
 *   GET  /v1/groups/members?group=X  -> [GroupMemberView]
 *   GET  /v1/groups/messages?group=X[&limit=N][&before=<id hex>] -> [GroupMessageView]
 *   POST /v1/groups/messages {group,text} -> GroupMessageView   POST /v1/groups/read {group} -> {"read"}
 *   POST /v1/groups/typing {group,isTyping?} -> {"sent"}          (members told)
 *   GET  /v1/events                  -> text/event-stream: one `data: {"event":name,...}` per chat event
 *   GET  /v1/backup                  -> {"owner":hex,"store":base64}: the store's backup rows (`dhtchat export`
 *                                       while the daemon holds the store's lock); never the identity's secret key
 * Errors: {"error":{"code","message"}} with 400 (our DhtchatError codes), 401, 403, 404, 405, 413 or 500.
 *
 * Events carry ids (`id: <boot>-<seq>`); a client that reconnects with `Last-Event-ID` gets what it missed, or a
 * `{"event":"reset"}` telling it to reload its state (web-client/event-log.ts). With a web client (`web`), paths
 * outside /v1/ are its pages, its session cookie stands in for the token, and it adds routes
 * (web-client/web-client.ts). Every answer carries nosniff, no-referrer and a CSP (web-client/security-headers.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DhtchatError, messageOf } from '../runtime/index.ts';
import { ForbiddenCode, forbiddenRequest } from './api-host-origin.ts';
import { CHAT_EVENT_NAMES, type ChatService, type GroupApi, type MessagePage } from './chat-api-types.ts';
import { EventLog } from './web-client/event-log.ts';
import { NON_PAGE_HEADERS } from './web-client/security-headers.ts';
import type { ApiAuth, WebClient } from './web-client/web-client.ts';

/** A message is at most 16 KiB of text; JSON escaping can grow it up to 6x. */
const MAX_BODY_BYTES = 128 * 1024;
/** Past this, an oversized body is not even drained. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
/** A comment line this often keeps an idle event stream from looking dead to proxies and clients. */
const EVENT_KEEPALIVE_MS = 15_000;
/** An event stream whose reader stopped reading is dropped once this much is buffered for it. */
const MAX_EVENT_BACKLOG_BYTES = 4 * 1024 * 1024;

export const ApiErrorCode = {
  unauthorized: 'APP_API_UNAUTHORIZED',
  forbiddenHost: ForbiddenCode.host,
  forbiddenOrigin: ForbiddenCode.origin,
  notFound: 'APP_API_NOT_FOUND',
  methodNotAllowed: 'APP_API_METHOD_NOT_ALLOWED',
  badRequest: 'APP_API_BAD_REQUEST',
  internal: 'APP_API_INTERNAL',
} as const;

export interface ChatApiServer {
  readonly port: number;
  /** Event streams open right now (GET /v1/events clients). */
  eventStreams(): number;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;
/** A route returns the JSON answer, or STREAMING when it has taken over the response itself. */
type Route = (body: Body, query: URLSearchParams, res: ServerResponse) => unknown;
const STREAMING = Symbol('streaming');

export async function startChatApiServer(options: {
  service: ChatService;
  token: string;
  port?: number;
  onError?: (error: unknown) => void;
  /** The store section of a backup (src/chat/backup-store-codec.ts); without it GET /v1/backup is a 404. */
  backup?: () => { owner: string; store: string };
  /** The web client (pages, login, session cookie, its routes); without it the server is the bare API. */
  web?: WebClient;
}): Promise<ChatApiServer> {
  const routes = routesFor(options.service);
  if (options.service.groups !== undefined) {
    for (const [key, route] of groupRoutes(options.service.groups)) routes.set(key, route);
  }
  const eventLog = new EventLog();
  const unsubscribe = logChatEvents(options.service, eventLog);
  const streams = { open: 0 };
  routes.set('GET /v1/events', (_b, _q, res) => streamEvents(eventLog, res, streams));
  const { backup } = options;
  if (backup !== undefined) routes.set('GET /v1/backup', () => backup());
  const expected = Buffer.from(`Bearer ${options.token}`);
  let port = 0;
  // Node would answer a request without Host with a bare 400; the wall answers it, as it answers a foreign one.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    void handle(req, res, { routes, expected, port, web: options.web }).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent) reply(res, 500, errorBody(ApiErrorCode.internal, 'internal error'));
    });
  });
  await listen(server, options.port ?? 0);
  port = (server.address() as AddressInfo).port;
  return {
    port,
    eventStreams: () => streams.open,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function routesFor(chat: ChatService): Map<string, Route> {
  const who = (body: Body): string => stringField(body, 'who');
  return new Map<string, Route>([
    [
      'GET /v1/id',
      () => {
        chat.noteCodeShown?.();
        return { code: chat.code };
      },
    ],
    ['GET /v1/contacts', () => chat.contacts()],
    [
      'POST /v1/contacts',
      (b) => chat.addFriend(stringField(b, 'code'), optionalStrings(b, ['name', 'message'])),
    ],
    ['POST /v1/contacts/rename', (b) => chat.rename(who(b), stringField(b, 'name'))],
    [
      'POST /v1/contacts/remove',
      (b) => chat.remove(who(b), { isHistoryForgotten: optionalBoolean(b, 'forget') ?? false }),
    ],
    ['GET /v1/requests', () => chat.requests()],
    ['POST /v1/requests/accept', (b) => chat.accept(who(b))],
    ['POST /v1/requests/decline', (b) => done(() => chat.decline(who(b)))],
    ['POST /v1/block', (b) => done(() => chat.block(who(b)))],
    ['POST /v1/unblock', (b) => chat.unblock(who(b))],
    ['GET /v1/blocked', () => chat.blocked()],
    ['GET /v1/profile', () => chat.profile()],
    ['POST /v1/profile', (b) => chat.setProfileName(stringField(b, 'name'))],
    ['GET /v1/messages', (_b, q) => chat.messages(queryField(q, 'with'), messagePage(q))],
    ['POST /v1/messages', (b) => chat.send(stringField(b, 'to'), stringField(b, 'text'))],
    [
      'GET /v1/search',
      (_b, q) => chat.search(queryField(q, 'text'), { ...optionalQuery(q, 'with'), ...limitOf(q) }),
    ],
    ['POST /v1/read', (b) => done(() => chat.markRead(who(b)))],
    ['POST /v1/typing', (b) => chat.setTyping(who(b), optionalBoolean(b, 'isTyping') ?? true)],
    ['GET /v1/files', () => chat.files()],
    [
      'POST /v1/files',
      (b) => {
        if (b['group'] === undefined) return chat.sendFile(stringField(b, 'to'), stringField(b, 'path'));
        if (chat.sendFileToGroup === undefined) {
          throw new DhtchatError(ApiErrorCode.notFound, 'this daemon serves no groups');
        }
        return chat.sendFileToGroup(stringField(b, 'group'), stringField(b, 'path'));
      },
    ],
    ['POST /v1/files/accept', (b) => chat.acceptFile(stringField(b, 'id'), optionalStrings(b, ['to']))],
    ['POST /v1/files/cancel', (b) => chat.cancelFile(stringField(b, 'id'))],
  ]);
}

function groupRoutes(groups: GroupApi): Map<string, Route> {
  const group = (body: Body): string => stringField(body, 'group');
  return new Map<string, Route>([
    ['GET /v1/groups', () => groups.list()],
    ['POST /v1/groups', (b) => groups.create(stringField(b, 'name'))],
    ['GET /v1/groups/invites', () => groups.invites()],
    ['POST /v1/groups/invite', (b) => groups.invite(group(b), stringField(b, 'who'))],
    ['POST /v1/groups/accept', (b) => groups.accept(group(b))],
    ['POST /v1/groups/decline', (b) => done(() => groups.decline(group(b)))],
    ['POST /v1/groups/leave', (b) => groups.leave(group(b))],
    ['POST /v1/groups/remove', (b) => groups.remove(group(b), stringField(b, 'who'))],
    ['POST /v1/groups/promote', (b) => groups.promote(group(b), stringField(b, 'who'))],
    ['GET /v1/groups/members', (_b, q) => groups.members(queryField(q, 'group'))],
    [
      'GET /v1/groups/messages',
      (_b, q) => {
        const before = q.get('before');
        if (before !== null && !/^[0-9a-f]{64}$/i.test(before)) {
          throw new DhtchatError(
            ApiErrorCode.badRequest,
            '"before" must be a group message id (64 hex digits)',
          );
        }
        return groups.messages(queryField(q, 'group'), {
          ...limitOf(q),
          ...(before === null ? {} : { beforeId: before.toLowerCase() }),
        });
      },
    ],
    ['POST /v1/groups/messages', (b) => groups.send(group(b), stringField(b, 'text'))],
    ['POST /v1/groups/read', (b) => ({ read: groups.markRead(group(b)) })],
    [
      'POST /v1/groups/typing',
      (b) => ({ sent: groups.setTyping(group(b), optionalBoolean(b, 'isTyping') ?? true) }),
    ],
  ]);
}

/** `limit` (digits) and `before`: a message id (32 hex digits) or a time (Unix ms, digits). */
function messagePage(query: URLSearchParams): MessagePage {
  const before = query.get('before');
  if (before === null) return limitOf(query);
  if (/^[0-9a-f]{32}$/i.test(before)) return { ...limitOf(query), beforeId: before.toLowerCase() };
  if (/^\d{1,16}$/.test(before)) return { ...limitOf(query), beforeMs: Number(before) };
  throw new DhtchatError(ApiErrorCode.badRequest, '"before" must be a message id (32 hex digits) or Unix ms');
}

function limitOf(query: URLSearchParams): { limit?: number } {
  const limit = query.get('limit');
  if (limit === null) return {};
  if (!/^\d{1,9}$/.test(limit)) throw new DhtchatError(ApiErrorCode.badRequest, '"limit" must be a number');
  return { limit: Number(limit) };
}

function optionalQuery(query: URLSearchParams, name: string): Record<string, string> {
  const value = query.get(name);
  return value === null ? {} : { [name]: value };
}

/** Every chat event, numbered, into the log the event streams read from; returns the way to stop. */
function logChatEvents(chat: ChatService, log: EventLog): () => void {
  const listeners = CHAT_EVENT_NAMES.map((name) => {
    const listener = (event: object): void => void log.append({ event: name, ...event });
    chat.on(name, listener);
    return [name, listener] as const;
  });
  return () => {
    for (const [name, listener] of listeners) chat.off(name, listener);
  };
}

/**
 * Server-sent events: every chat event as one `data:` line of JSON with its `id:`, until the client goes away.
 * The API's client is the data dir's owner, so message events carry the text (the daemon's log lines never do).
 * A reconnecting client (Last-Event-ID) first gets what it missed, or a `reset` event.
 */
function streamEvents(log: EventLog, res: ServerResponse, streams: { open: number }): typeof STREAMING {
  const lastEventId = res.req.headers['last-event-id'];
  res.writeHead(200, {
    ...NON_PAGE_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  // retry: how soon a browser's EventSource reconnects after the stream broke (its default is ~3 s).
  res.write(': dhtchat events\nretry: 1000\n\n');
  const write = (text: string): void => {
    if (res.writableLength > MAX_EVENT_BACKLOG_BYTES) res.destroy();
    else res.write(text);
  };
  const send = (event: { seq: number; json: string }): void =>
    write(`id: ${log.idOf(event)}\ndata: ${event.json}\n\n`);
  if (typeof lastEventId === 'string') {
    const resume = log.resume(lastEventId);
    if (resume.kind === 'reset') {
      // To this client only, under the latest id: its next reconnect resumes from here.
      write(`id: ${log.currentId()}\ndata: ${JSON.stringify({ event: 'reset', reason: resume.reason })}\n\n`);
    } else for (const event of resume.events) send(event);
  }
  const unsubscribe = log.subscribe(send);
  streams.open++;
  const keepalive = setInterval(() => write(': keepalive\n\n'), EVENT_KEEPALIVE_MS);
  keepalive.unref();
  res.on('close', () => {
    clearInterval(keepalive);
    unsubscribe();
    streams.open--;
  });
  return STREAMING;
}

/** Calls that return nothing answer an empty object. */
function done(action: () => void): Record<string, never> {
  action();
  return {};
}

interface HandleContext {
  readonly routes: Map<string, Route>;
  readonly expected: Buffer;
  readonly port: number;
  readonly web: WebClient | undefined;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HandleContext): Promise<void> {
  const { routes, web, port } = ctx;
  const forbidden = forbiddenRequest(req.headers, port);
  if (forbidden !== undefined) {
    req.resume();
    reply(res, 403, errorBody(forbidden.code, forbidden.message));
    return;
  }
  if (req.method === 'OPTIONS') {
    req.resume();
    reply(res, 405, errorBody(ApiErrorCode.methodNotAllowed, 'the API answers no CORS preflight'));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // Web client hook: its pages and login (no token: the page has none), behind the same wall.
  if (web !== undefined && !url.pathname.startsWith('/v1/')) {
    await web.servePage(req, res, url);
    return;
  }
  const key = `${req.method ?? 'GET'} ${url.pathname}`;
  // A route that reads the request's bytes itself (an upload) gets no JSON body read for it.
  const isRawBody = web?.takesRawBody(key) === true;
  const auth = authOf(req, ctx, isRawBody ? RAW_BODY_TYPE : JSON_BODY_TYPE);
  if (auth === undefined) {
    req.resume();
    reply(res, 401, errorBody(ApiErrorCode.unauthorized, 'missing or wrong API token'));
    return;
  }
  const webRoute = web?.apiRoute(key);
  const route: Route | undefined =
    webRoute === undefined
      ? routes.get(key)
      : (body, query) => webRoute({ body, query, pathname: url.pathname, req, res, auth, port });
  if (route === undefined) {
    req.resume();
    reply(res, 404, errorBody(ApiErrorCode.notFound, `no such API call: ${req.method} ${url.pathname}`));
    return;
  }
  let body: Body;
  try {
    body = req.method === 'POST' && !isRawBody ? await readJsonBody(req) : {};
  } catch (error) {
    const isTooLarge = error instanceof DhtchatError && error.message.includes('larger');
    reply(res, isTooLarge ? 413 : 400, errorBody(ApiErrorCode.badRequest, messageOf(error)));
    return;
  }
  try {
    const answer = await route(body, url.searchParams, res);
    // A route that wrote its own answer (a file download) has sent its headers.
    if (answer !== STREAMING && !res.headersSent) reply(res, 200, answer);
  } catch (error) {
    if (res.headersSent) res.destroy();
    else if (error instanceof DhtchatError) reply(res, 400, errorBody(error.code, error.message));
    else throw error;
  }
}

const JSON_BODY_TYPE = 'application/json';
const RAW_BODY_TYPE = 'application/octet-stream';

/**
 * The bearer token (CLI, bots), or the web client's session cookie. A cookie-borne POST must also say its body
 * is JSON (or, for an upload, raw bytes): an HTML form can send neither, and a page elsewhere could send them
 * only after a CORS preflight, which is never answered; so even a form that got past the Origin wall could not
 * act with the cookie.
 */
function authOf(req: IncomingMessage, ctx: HandleContext, bodyType: string): ApiAuth | undefined {
  const given = Buffer.from(req.headers.authorization ?? '');
  if (given.length === ctx.expected.length && timingSafeEqual(given, ctx.expected)) return 'token';
  if (ctx.web === undefined || !ctx.web.isSignedIn(req)) return undefined;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const isRightType = type === bodyType || type.startsWith(`${bodyType};`);
  return req.method === 'POST' && !isRightType ? undefined : 'cookie';
}

function readJsonBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Answer 413 once the client has finished sending (a reset mid-upload would hide the answer); a body
        // far past any sane size is cut off instead.
        chunks.length = 0;
        if (size > MAX_DRAIN_BYTES) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        reject(new DhtchatError(ApiErrorCode.badRequest, `request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      try {
        resolve(parseJsonBody(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** A request body as a JSON object (empty: {}); anything else throws APP_API_BAD_REQUEST, never another error. */
export function parseJsonBody(bytes: Buffer): Body {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8') || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('the body must be a JSON object');
    }
    return parsed as Body;
  } catch (error) {
    throw new DhtchatError(ApiErrorCode.badRequest, `bad JSON body: ${messageOf(error)}`);
  }
}

function stringField(body: Body, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') {
    throw new DhtchatError(ApiErrorCode.badRequest, `"${name}" must be a string`);
  }
  return value;
}

function optionalBoolean(body: Body, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new DhtchatError(ApiErrorCode.badRequest, `"${name}" must be true or false`);
}

function optionalStrings(body: Body, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) if (body[name] !== undefined) out[name] = stringField(body, name);
  return out;
}

function queryField(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (value === null) throw new DhtchatError(ApiErrorCode.badRequest, `query parameter "${name}" is missing`);
  return value;
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value ?? null);
  res.writeHead(status, {
    ...NON_PAGE_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // An answered call keeps its connection for the client's next (a bot sending thousands of messages pays no
    // TCP set-up per message; the CLI's fetch does not wait for an idle socket before exiting). A refused one
    // does not: nobody without the token holds a connection open.
    ...(status >= 400 ? { connection: 'close' } : {}),
  });
  res.end(text);
}

function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
