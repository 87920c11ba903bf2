/**
 * The web client's side of the daemon's HTTP server (chat-api-server.ts calls it through three hooks):
 *
 * - pages: everything outside /v1/ — `GET /login?token=` (a one-time link: sets the session cookie, then 303 to
 *   `/`), and the built client's files (ui-files.ts);
 * - sign-in: a request carrying a live session cookie is as good as one with the bearer token;
 * - its API routes, beside the chat routes:
 *
 *   POST /v1/login-link              -> {"url"}           a fresh one-time login link (bearer token only: `dhtchat web`)
 *   POST /v1/logout                  -> {}                ends this browser's session (clears the cookie)
 *   GET  /v1/network                 -> NetworkView       (network-view.ts)
 *   GET  /v1/unread                  -> {"<code>": n}     incoming messages not read yet, per friend (only n > 0)
 *   GET  /v1/passphrase              -> {"isProtected"}
 *   POST /v1/passphrase {current?, passphrase} -> {"isProtected"}   ("" removes it; passphrase-change.ts)
 *   POST /v1/backup/export {passphrase, current?} -> the encrypted backup file as an attachment
 *                                    (backup-download.ts; `current`: identity.dat's passphrase, when it has one)
 *   POST /v1/files/upload?to=&name=  -> FileTransferView  (raw body; file-routes.ts)
 *   GET  /v1/files/<id>/content      -> a received file as an attachment (file-routes.ts)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DhtchatError } from '../../runtime/index.ts';
import type { BackupDownload } from './backup-download.ts';
import { sendDownload } from './download-response.ts';
import { CONTENT_ROUTE, contentRoute, UPLOAD_ROUTE, uploadRoute, type WebFiles } from './file-routes.ts';
import { LoginLinks } from './login-links.ts';
import type { NetworkView } from './network-view.ts';
import type { PassphraseState } from './passphrase-change.ts';
import { simplePage } from './simple-page.ts';
import { sendPage, type UiFiles, uiFiles } from './ui-files.ts';
import { type SessionPersistence, WebSessions } from './web-sessions.ts';

/** How the request proved it may use the API. */
export type ApiAuth = 'token' | 'cookie';

export interface WebRouteContext {
  readonly body: Record<string, unknown>;
  readonly query: URLSearchParams;
  /** The request's path (for routes with an id in it). */
  readonly pathname: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly auth: ApiAuth;
  /** The API server's port (for links to itself). */
  readonly port: number;
}

/** The JSON answer; a route that wrote its own answer (a download) returns nothing. */
export type WebRoute = (ctx: WebRouteContext) => unknown;

export interface WebClientOptions {
  /** Ties the session cookie's name to this identity (the friend code). */
  readonly identityTag: string;
  readonly sessions?: SessionPersistence;
  readonly ui?: UiFiles;
  readonly network: () => NetworkView;
  readonly unread: () => Record<string, number>;
  readonly passphrase: {
    state(): Promise<PassphraseState>;
    change(current: string | undefined, next: string): Promise<PassphraseState>;
  };
  /** The sealed backup file (backup-download.ts); without it POST /v1/backup/export is a 404. */
  readonly backup?: (passphrase: string, current: string | undefined) => Promise<BackupDownload>;
  /** Uploads and downloads of files (file-routes.ts); without it those routes are 404s. */
  readonly files?: WebFiles;
  readonly now?: () => number;
}

export class WebClient {
  readonly ui: UiFiles;
  readonly #links: LoginLinks;
  readonly #sessions: WebSessions;
  readonly #routes: Map<string, WebRoute>;
  /** Routes with an id in the path. */
  readonly #patternRoutes: (readonly [RegExp, WebRoute])[] = [];
  /** A passphrase change or a backup export is running: each costs scrypt runs (tens of MiB, ~1 s of CPU). */
  #isKeyJobRunning = false;

  constructor(opts: WebClientOptions) {
    this.ui = opts.ui ?? uiFiles();
    this.#links = new LoginLinks(opts.now);
    this.#sessions = new WebSessions({
      identityTag: opts.identityTag,
      ...(opts.sessions === undefined ? {} : { persistence: opts.sessions }),
      ...(opts.now === undefined ? {} : { now: opts.now }),
    });
    this.#routes = new Map<string, WebRoute>([
      [
        'POST /v1/login-link',
        ({ auth, port }) => {
          if (auth !== 'token') throw forbidden('a login link is made for the bearer token only');
          return { url: this.loginUrl(port) };
        },
      ],
      [
        'POST /v1/logout',
        ({ req, res }) => {
          res.setHeader('set-cookie', this.#sessions.close(req.headers.cookie));
          return {};
        },
      ],
      ['GET /v1/network', () => opts.network()],
      ['GET /v1/unread', () => opts.unread()],
      ['GET /v1/passphrase', () => opts.passphrase.state()],
      [
        'POST /v1/passphrase',
        ({ body }) =>
          this.#oneKeyJob(
            new DhtchatError('APP_PASSPHRASE_BUSY', 'the identity key is being sealed: wait for it'),
            () => opts.passphrase.change(optionalString(body, 'current'), requiredString(body, 'passphrase')),
          ),
      ],
    ]);
    const { backup } = opts;
    if (backup !== undefined) {
      this.#routes.set('POST /v1/backup/export', ({ body, res }) =>
        this.#oneKeyJob(
          new DhtchatError('APP_BACKUP_BUSY', 'a backup is being made: wait for it'),
          async () => {
            const file = await backup(requiredString(body, 'passphrase'), optionalString(body, 'current'));
            sendDownload(res, file.fileName, file.bytes);
            return undefined;
          },
        ),
      );
    }
    if (opts.files !== undefined) {
      this.#routes.set(UPLOAD_ROUTE, uploadRoute(opts.files));
      this.#patternRoutes.push([CONTENT_ROUTE, contentRoute(opts.files)]);
    }
  }

  /** A fresh one-time login link to the client on this port. */
  loginUrl(port: number): string {
    return `http://127.0.0.1:${port}/login?token=${this.#links.create()}`;
  }

  isSignedIn(req: IncomingMessage): boolean {
    return this.#sessions.isSignedIn(req.headers.cookie);
  }

  apiRoute(key: string): WebRoute | undefined {
    return this.#routes.get(key) ?? this.#patternRoutes.find(([pattern]) => pattern.test(key))?.[1];
  }

  /** Whether the route reads the request's bytes itself (an upload) rather than a JSON body. */
  takesRawBody(key: string): boolean {
    return key === UPLOAD_ROUTE && this.#routes.has(key);
  }

  /** Any request outside /v1/ (the wall in front has already checked Host and Origin). */
  async servePage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    req.resume();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendPage(res, 405, simplePage('Not allowed', 'Pages here are only read.'), { allow: 'GET, HEAD' });
      return;
    }
    if (url.pathname === '/login') {
      // Only a GET spends a link: a HEAD (a link preview, a checker) must not use it up.
      if (req.method === 'GET') this.#login(res, url.searchParams.get('token') ?? '');
      else sendPage(res, 405, simplePage('Not allowed', 'Open the link in a browser.'), { allow: 'GET' });
      return;
    }
    await this.ui.serve(req, res, url.pathname);
  }

  /** One scrypt job at a time, whichever route asks: a second is refused with busy (a tab cannot queue many). */
  async #oneKeyJob<T>(busy: DhtchatError, job: () => Promise<T>): Promise<T> {
    if (this.#isKeyJobRunning) throw busy;
    this.#isKeyJobRunning = true;
    try {
      return await job();
    } finally {
      this.#isKeyJobRunning = false;
    }
  }

  #login(res: ServerResponse, token: string): void {
    if (!this.#links.consume(token)) {
      sendPage(
        res,
        403,
        simplePage(
          'This login link does not work any more',
          'A login link works once, for an hour. For a new one, run: npx dhtchat web (add --open to open it).',
        ),
      );
      return;
    }
    res.writeHead(303, {
      location: '/',
      'set-cookie': this.#sessions.open(),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'content-length': 0,
    });
    res.end();
  }
}

function forbidden(message: string): DhtchatError {
  return new DhtchatError('APP_API_FORBIDDEN_TOKEN_ONLY', message);
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new DhtchatError('APP_API_BAD_REQUEST', `"${name}" must be a string`);
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  return body[name] === undefined ? undefined : requiredString(body, name);
}
