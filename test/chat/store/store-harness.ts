/**
 * Shared setup for the chat store tests: a fresh temporary directory per test, a store on a ManualClock and a
 * SeededRandom, and fixed keys for "me" and a few friends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatStore, type ChatStoreOptions } from '../../../src/chat/store/chat-store.ts';
import { ManualClock, SeededRandom } from '../../../src/runtime/index.ts';

export const ME = Buffer.alloc(32, 0xaa);
export const BOB = Buffer.alloc(32, 0xb0);
export const CAROL = Buffer.alloc(32, 0xc0);

export interface Harness {
  readonly dir: string;
  readonly path: string;
  readonly clock: ManualClock;
  readonly random: SeededRandom;
  readonly store: ChatStore;
  reopen(): ChatStore;
  cleanup(): void;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dhtchat-store-'));
}

export function openStore(path: string, extra: Partial<ChatStoreOptions> = {}): ChatStore {
  return ChatStore.open({
    path,
    ownPublicKey: ME,
    clock: new ManualClock(),
    random: new SeededRandom('store'),
    lockWaitMs: 50,
    ...extra,
  });
}

/** A store with BOB and CAROL as accepted contacts. */
export function makeHarness(seed = 'store-test'): Harness {
  const dir = tempDir();
  const path = join(dir, 'chat.sqlite');
  const clock = new ManualClock();
  const random = new SeededRandom(seed);
  const options = { path, ownPublicKey: ME, clock, random, lockWaitMs: 50 };
  let store = ChatStore.open(options);
  store.contacts.upsert(BOB, 'accepted', 'bob');
  store.contacts.upsert(CAROL, 'accepted', 'carol');
  const harness: Harness = {
    dir,
    path,
    clock,
    random,
    get store() {
      return store;
    },
    reopen() {
      store.close();
      store = ChatStore.open(options);
      return store;
    },
    cleanup() {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** The DhtchatError code thrown by fn (assert.throws with a code matcher, spelled once). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}
