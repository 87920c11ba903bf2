/**
 * Chat users in the lab: a data dir each, `dhtchat daemon` inside the user's host namespace, client commands
 * run in the same namespace (the daemon's API listens on that namespace's 127.0.0.1), and what the daemons'
 * JSON log lines say about the session between two friends.
 *
 *   alice's host ns: dhtchat daemon (UDP on 0.0.0.0:port, API on 127.0.0.1) ◄── `dhtchat send` run there too
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIdentity } from '../../src/app/chat-data-dir.ts';
import { CHAT_DATABASE_FILE, ChatStore } from '../../src/chat/index.ts';
import { cryptoRandom, systemClock } from '../../src/runtime/index.ts';
import { CLI_PATH, runCli } from '../helpers/cli-runner.ts';
import { type Line, type NsProcess, runNodeInNs } from './processes.ts';
import type { Lab } from './topology.ts';

const READY_TIMEOUT_MS = 60_000;
const CLIENT_TIMEOUT_MS = 30_000;

export interface LabUser {
  readonly name: string;
  readonly dir: string;
  readonly code: string;
}

/** A fresh data dir with an identity (`init --name`). remove() deletes the dir. */
export async function initUser(name: string): Promise<LabUser & { remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), `dhtchat-lab-${name}-`));
  const init = await runCli(['--data-dir', dir, 'init', '--name', name, '--json'], { timeoutMs: 30_000 });
  assert.equal(init.code, 0, init.stderr);
  const { code } = JSON.parse(init.stdout) as { code: string };
  return { name, dir, code, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes the friendship into both stores, as `accept` would (the daemons are not running yet). */
export async function befriendInStores(a: LabUser, b: LabUser): Promise<void> {
  await addFriend(a.dir, b.dir, b.name);
  await addFriend(b.dir, a.dir, a.name);
}

async function addFriend(dir: string, friendDir: string, friendName: string): Promise<void> {
  const { identity } = await loadIdentity(dir);
  const friend = await loadIdentity(friendDir);
  const store = ChatStore.open({
    path: join(dir, CHAT_DATABASE_FILE),
    ownPublicKey: identity.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  try {
    store.contacts.upsert(friend.identity.publicKey, 'accepted', friendName);
  } finally {
    store.close();
  }
}

export interface LabDaemon {
  readonly user: LabUser;
  readonly ns: string;
  readonly proc: NsProcess;
  readonly port: number;
  /** Date.now() when its ready line arrived. */
  readonly readyAtMs: number;
}

/** Starts `dhtchat daemon` for user inside ns and waits for its ready line. */
export async function startDaemon(
  lab: Lab,
  user: LabUser,
  ns: string,
  bootstrap: string,
  opts: { port?: number } = {},
): Promise<LabDaemon> {
  const args = [CLI_PATH, '--data-dir', user.dir, 'daemon', '--bootstrap', bootstrap, '--allow-private'];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  const proc = lab.spawn(user.name, ns, process.execPath, args, { env: { DHTCHAT_LOG_LEVEL: 'debug' } });
  const ready = await proc.waitFor((l) => l['event'] === 'ready', READY_TIMEOUT_MS, 'ready line');
  return {
    user,
    ns,
    proc,
    port: ready['port'] as number,
    readyAtMs: proc.arrivedAtMs[proc.lines.indexOf(ready)] ?? Date.now(),
  };
}

/** `dhtchat send` in the daemon's namespace; resolves with the message id. */
export async function send(from: LabDaemon, to: string, text: string): Promise<string> {
  const out = await runNodeInNs(
    from.ns,
    [CLI_PATH, '--data-dir', from.user.dir, 'send', to, text, '--json'],
    CLIENT_TIMEOUT_MS,
  );
  return (JSON.parse(out.trim()) as { id: string }).id;
}

/** `dhtchat <args> --json` in the daemon's namespace (add, requests, accept, …). */
export async function client(d: LabDaemon, ...args: string[]): Promise<unknown> {
  const out = await runNodeInNs(
    d.ns,
    [CLI_PATH, '--data-dir', d.user.dir, ...args, '--json'],
    CLIENT_TIMEOUT_MS,
  );
  return JSON.parse(out.trim());
}

/** The ids of the messages the daemon logged as received from `fromCode`, in arrival order, with times. */
export function received(d: LabDaemon, fromCode: string): Array<{ id: string; atMs: number; path: Path }> {
  const out: Array<{ id: string; atMs: number; path: Path }> = [];
  let path: Path = 'dht';
  d.proc.lines.forEach((line, i) => {
    path = pathAfter(line, fromCode, path);
    if (line['event'] === 'message' && line['from'] === fromCode && typeof line['id'] === 'string') {
      out.push({ id: line['id'], atMs: d.proc.arrivedAtMs[i] ?? 0, path });
    }
  });
  return out;
}

/**
 * How a message travelled, as the receiving daemon logs it: its `path` events (direct, punched and mapped are
 * all `direct` here; `relayed` through a relay, issue 11 §4), else `direct` while a session was up (its last
 * presence event for the sender said online), `dht` otherwise (the offline mailbox).
 */
export type Path = 'direct' | 'relayed' | 'dht';

/** The path after one log line, for the friend `code` (presence first; a path event, which follows it, wins). */
function pathAfter(line: Line, code: string, path: Path): Path {
  if (line['code'] !== code) return path;
  if (line['event'] === 'presence') return line['presence'] === 'online' ? 'direct' : 'dht';
  if (line['event'] !== 'path') return path;
  const logged = line['path'];
  if (logged === 'relayed') return 'relayed';
  return logged === null || logged === 'dht' ? 'dht' : 'direct';
}

/**
 * The daemon's sessions with friendCode as logged, in order: each new path it reached them on, with its time.
 * From its `path` events; a daemon that logs none (an older one) counts a session (presence online) as direct.
 */
export function sessionPaths(d: LabDaemon, friendCode: string): Array<{ path: Path; atMs: number }> {
  const out: Array<{ path: Path; atMs: number }> = [];
  const isPathLogged = d.proc.lines.some((l) => l['event'] === 'path' && l['code'] === friendCode);
  let path: Path = 'dht';
  d.proc.lines.forEach((line, i) => {
    if (line['code'] !== friendCode) return;
    if (isPathLogged ? line['event'] !== 'path' : line['event'] !== 'presence') return;
    const next = pathAfter(line, friendCode, path);
    if (next !== path && next !== 'dht') out.push({ path: next, atMs: d.proc.arrivedAtMs[i] ?? 0 });
    path = next;
  });
  return out;
}

/** True once the daemon logged that friendCode is online (a session is up). */
export function isOnlineWith(d: LabDaemon, friendCode: string): boolean {
  let isOnline = false;
  for (const line of d.proc.lines) {
    if (line['event'] === 'presence' && line['code'] === friendCode) isOnline = line['presence'] === 'online';
  }
  return isOnline;
}

export function firstLine(
  d: LabDaemon,
  pred: (line: Line) => boolean,
): { line: Line; atMs: number } | undefined {
  const i = d.proc.lines.findIndex(pred);
  return i < 0 ? undefined : { line: d.proc.lines[i]!, atMs: d.proc.arrivedAtMs[i] ?? 0 };
}
