/**
 * What names and search cost: computing a name's keys (NFKC, case folding, UTS #39 skeleton), resolving a name
 * argument against the contacts (indexed keys), and `search` (a full scan of the history with a JS lower()) per
 * message stored. Run: node --import tsx bench/chat-names-search.bench.ts   (prints a JSON object, then a table)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nameKeys } from '../src/chat/name-key.ts';
import { resolveWho } from '../src/chat/session/contact-resolver.ts';
import { ChatStore } from '../src/chat/store/chat-store.ts';
import { ManualClock, SeededRandom } from '../src/runtime/index.ts';

const ME = Buffer.alloc(32, 0xaa);
const CONTACTS = 500;
const MESSAGES = 100_000;
const RUNS = 20;

/** Median of `runs` timings of fn, in ms. */
function medianMs(fn: () => unknown, runs = RUNS): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}

const names = Array.from({ length: CONTACTS }, (_, i) => `Friend ${i} Ünïcødé`);
const keyUs =
  (medianMs(() => {
    for (const name of names) nameKeys(name);
  }, 10) *
    1000) /
  names.length;

const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-names-'));
const random = new SeededRandom('bench-names');
const store = ChatStore.open({
  path: join(dir, 'chat.sqlite'),
  ownPublicKey: ME,
  clock: new ManualClock(),
  random,
  synchronous: 'NORMAL',
});
try {
  const keys = names.map(() => random.bytes(32));
  store.transaction(() => {
    names.forEach((name, i) => {
      store.contacts.upsert(keys[i] as Buffer, 'accepted', name);
    });
  });
  store.transaction(() => {
    for (let i = 0; i < MESSAGES; i++) {
      store.messages.enqueue(
        keys[i % 10] as Buffer,
        `message ${i}: the quick brown fox jumps over the lazy dog`,
      );
    }
  });
  const resolveUs = medianMs(() => resolveWho(store, 'FRIEND 250 ÜNÏCØDÉ'), 200) * 1000;
  const searchAllMs = medianMs(() => store.messages.search('LAZY DOG 99999', { limit: 50 }), 5);
  const searchOneMs = medianMs(
    () => store.messages.search('no such text', { conversation: keys[0] as Buffer, limit: 50 }),
    5,
  );
  const result = {
    nameKeysUs: Number(keyUs.toFixed(1)),
    resolveByLookAlikeUs: Math.round(resolveUs),
    contacts: CONTACTS,
    messages: MESSAGES,
    searchAllMs: Math.round(searchAllMs),
    searchNsPerMessage: Math.round((searchAllMs * 1e6) / MESSAGES),
    searchOneConversationMs: Math.round(searchOneMs),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(
    [
      '| what | cost |',
      '| --- | --- |',
      `| name keys of one name | ${result.nameKeysUs} µs |`,
      `| resolve a name by look-alike among ${CONTACTS} contacts | ${result.resolveByLookAlikeUs} µs |`,
      `| search all ${MESSAGES} messages (no match) | ${result.searchAllMs} ms (${result.searchNsPerMessage} ns/message) |`,
      `| search one conversation (${MESSAGES / 10} messages) | ${result.searchOneConversationMs} ms |`,
    ].join('\n') + '\n',
  );
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
