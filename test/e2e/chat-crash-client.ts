/**
 * The honest chat client of the crash end-to-end test (chat-crash-e2e.test.ts): it sends through a daemon's
 * local API and survives that daemon being killed under it. A send whose HTTP call failed has an unknown
 * outcome (the daemon may have committed it and died before answering), so once the daemon is back the client
 * looks the text up in its own conversation and resends only if it is absent: never a blind resend.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { type JsonLinesProcess, type Message, messagesWith } from './chat-processes.ts';

/** How often one message is tried (and its lookup retried) before the client gives up. */
const MAX_SEND_TRIES = 5;
/** The longest a client waits for its daemon to be back after a kill. */
const BACK_MS = 40_000;

export interface Side {
  readonly label: string;
  readonly dir: string;
  code: string;
  peerCode: string;
  proc: JsonLinesProcess | undefined;
  /** Resolves while the daemon runs; replaced by a pending promise from the kill until the restart is ready. */
  up: Promise<void>;
  markUp: () => void;
  /** What the client knows it sent, in its order: the id the API returned (or found after a crash). */
  readonly sent: { text: string; id: string }[];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function bounded<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function newSide(label: string): Side {
  return {
    label,
    dir: mkdtempSync(join(tmpdir(), `dhtchat-${label.toLowerCase()}-`)),
    code: '',
    peerCode: '',
    proc: undefined,
    up: Promise.resolve(),
    markUp: () => {},
    sent: [],
  };
}

export interface Stats {
  failedCalls: number;
  failedLookups: number;
  foundAfterCrash: number;
  resent: number;
}

/** One send as an honest client does it: an unknown outcome is looked up after the restart, never blindly resent. */
export async function sendHonestly(side: Side, text: string, stats: Stats): Promise<void> {
  const errors: string[] = [];
  for (let attempt = 0; attempt < MAX_SEND_TRIES; attempt++) {
    try {
      const answer = (await callDaemon(side.dir, 'POST', '/v1/messages', { to: side.peerCode, text })) as {
        id: string;
      };
      side.sent.push({ text, id: answer.id });
      return;
    } catch (error) {
      errors.push(String(error));
      stats.failedCalls++;
      const found = await findOwn(side, text, errors, stats);
      if (found !== undefined) {
        stats.foundAfterCrash++;
        side.sent.push({ text, id: found.id });
        return;
      }
      stats.resent++;
    }
  }
  throw new Error(`${side.label} could not send "${text}": ${errors.join('; ')}`);
}

/** The client's own copy of text, looked up once the daemon is back (it may die again meanwhile: retried). */
async function findOwn(
  side: Side,
  text: string,
  errors: string[],
  stats: Stats,
): Promise<Message | undefined> {
  for (let attempt = 0; attempt < MAX_SEND_TRIES; attempt++) {
    await bounded(`${side.label}'s daemon back`, side.up, BACK_MS);
    let list: Message[];
    try {
      list = await messagesWith(side.dir, side.peerCode);
    } catch (error) {
      errors.push(String(error));
      stats.failedLookups++;
      await sleep(100);
      continue;
    }
    const mine = list.filter((m) => m.text === text);
    assert.ok(mine.length <= 1, `${side.label} holds "${text}" ${mine.length} times`);
    return mine[0];
  }
  throw new Error(`${side.label} could not list its messages: ${errors.join('; ')}`);
}

/** Where a sender is: wakes waiters when its send #n starts. */
export class Progress {
  #waiters: { n: number; wake: () => void }[] = [];
  #started = 0;
  get started(): number {
    return this.#started;
  }
  note(n: number): void {
    this.#started = n;
    const due = this.#waiters.filter((x) => x.n <= n);
    this.#waiters = this.#waiters.filter((x) => x.n > n);
    for (const w of due) w.wake();
  }
  reached(n: number): Promise<void> {
    if (this.#started >= n) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ n, wake }));
  }
}

export async function sendAll(
  side: Side,
  texts: readonly string[],
  paceMs: number,
  stats: Stats,
  progress?: Progress,
): Promise<void> {
  for (const [i, text] of texts.entries()) {
    const startMs = Date.now();
    progress?.note(i + 1);
    await sendHonestly(side, text, stats);
    await sleep(Math.max(0, paceMs - (Date.now() - startMs)));
  }
}
