/**
 * The browser's session: a random 32-byte id in an `HttpOnly; SameSite=Strict` cookie, set when a one-time login
 * link is opened (login-links.ts). HttpOnly keeps it out of the page's JavaScript (an injected script could not
 * read it); SameSite=Strict keeps other sites' pages from sending it. The API accepts it in place of the bearer
 * token (chat-api-server.ts), behind the same Host/Origin wall.
 *
 * Cookies are not isolated by port: every server on 127.0.0.1 receives them. So the cookie's name carries a tag
 * of the daemon's identity (two daemons of one user, as in the demo, do not overwrite each other's), and the
 * daemon keeps only SHA-256 hashes of the ids it issued (in the chat store, so a restarted daemon, on the API
 * port it used last, keeps its browser logged in). At most MAX_SESSIONS; one unused for SESSION_IDLE_MS expires.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_IDLE_MS = 30 * 24 * 60 * 60_000;
const MAX_SESSIONS = 16;
const SESSION_BYTES = 32;
/** A session's last use is written back at most this often (not on every request). */
const TOUCH_INTERVAL_MS = 60 * 60_000;

/** Where the session hashes survive a restart (the chat store's key-value table in the daemon). */
export interface SessionPersistence {
  load(): unknown;
  save(value: unknown): void;
}

interface Session {
  readonly hash: string;
  lastUsedMs: number;
}

export class WebSessions {
  /** The cookie's name: `dhtchat-` + 8 hex characters tied to this daemon's identity. */
  readonly cookieName: string;
  readonly #sessions: Session[];
  readonly #persistence: SessionPersistence | undefined;
  readonly #now: () => number;

  constructor(opts: { identityTag: string; persistence?: SessionPersistence; now?: () => number }) {
    this.cookieName = `dhtchat-${createHash('sha256').update(opts.identityTag).digest('hex').slice(0, 8)}`;
    this.#persistence = opts.persistence;
    this.#now = opts.now ?? Date.now;
    this.#sessions = parseSaved(this.#persistence?.load()).filter(
      (s) => s.lastUsedMs + SESSION_IDLE_MS > this.#now(),
    );
  }

  /** A new session: returns the Set-Cookie header value. */
  open(): string {
    const id = randomBytes(SESSION_BYTES).toString('hex');
    this.#sessions.push({ hash: hashOf(id), lastUsedMs: this.#now() });
    while (this.#sessions.length > MAX_SESSIONS) this.#sessions.shift();
    this.#save();
    return `${this.cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_IDLE_MS / 1000}`;
  }

  /** True when the Cookie header holds one of our live sessions (and notes its use). */
  isSignedIn(cookieHeader: string | undefined): boolean {
    const session = this.#find(cookieHeader);
    if (session === undefined) return false;
    const now = this.#now();
    if (session.lastUsedMs + SESSION_IDLE_MS <= now) {
      this.#drop(session);
      return false;
    }
    if (now - session.lastUsedMs > TOUCH_INTERVAL_MS) {
      session.lastUsedMs = now;
      this.#save();
    }
    return true;
  }

  /** Ends the session the Cookie header holds; returns the Set-Cookie value that clears it in the browser. */
  close(cookieHeader: string | undefined): string {
    const session = this.#find(cookieHeader);
    if (session !== undefined) this.#drop(session);
    return `${this.cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  #find(cookieHeader: string | undefined): Session | undefined {
    const id = cookieValue(cookieHeader, this.cookieName);
    if (id === undefined || !/^[0-9a-f]{64}$/.test(id)) return undefined;
    const hash = hashOf(id);
    // Hashes of random ids: comparing them reveals nothing useful about the id, so === is fine here.
    return this.#sessions.find((s) => s.hash === hash);
  }

  #drop(session: Session): void {
    this.#sessions.splice(this.#sessions.indexOf(session), 1);
    this.#save();
  }

  #save(): void {
    this.#persistence?.save(this.#sessions.map((s) => ({ hash: s.hash, lastUsedMs: s.lastUsedMs })));
  }
}

/** The value of one cookie in a Cookie header (`a=1; b=2`), if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function hashOf(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Saved sessions as written by #save; anything else (an old or damaged value) is dropped. */
function parseSaved(value: unknown): Session[] {
  if (!Array.isArray(value)) return [];
  const out: Session[] = [];
  for (const item of value.slice(-MAX_SESSIONS)) {
    const hash = (item as { hash?: unknown } | null)?.hash;
    const lastUsedMs = (item as { lastUsedMs?: unknown } | null)?.lastUsedMs;
    if (typeof hash === 'string' && /^[0-9a-f]{64}$/.test(hash) && Number.isSafeInteger(lastUsedMs)) {
      out.push({ hash, lastUsedMs: lastUsedMs as number });
    }
  }
  return out;
}
