/**
 * A child process for the cross-process tests (run with `node --import tsx`):
 *   hold <db>    opens the store, prints "ready", then for each stdin line "insert" queues a message and prints
 *                its id; exits when stdin closes.
 *   insert <db>  opens the store, prints "ready", then writes messages in a tight loop, printing each id only
 *                after the call that committed it returned; a parent kill -9's it at a random moment. Every
 *                7th write is a 'process-crash' commit (not fsync'd): it must survive kill -9 all the same.
 * Bounded: insert stops after 200,000 messages or 20 s, whichever is first.
 */
import { createInterface } from 'node:readline';
import { ChatStore } from '../../../src/chat/store/chat-store.ts';
import { cryptoRandom, systemClock } from '../../../src/runtime/index.ts';

const ME = Buffer.alloc(32, 0xaa);
const BOB = Buffer.alloc(32, 0xb0);

const [mode, path] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: store-child.ts hold|insert <db>');
const store = ChatStore.open({
  path,
  ownPublicKey: ME,
  clock: systemClock,
  random: cryptoRandom,
  lockWaitMs: 2000,
});
if (store.contacts.get(BOB) === undefined) store.contacts.upsert(BOB, 'accepted', 'bob');
process.stdout.write('ready\n');

if (mode === 'hold') {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'insert')
      process.stdout.write(`${store.messages.enqueue(BOB, 'from holder').id.toString('hex')}\n`);
  });
  lines.on('close', () => {
    store.close();
  });
} else {
  const startMs = performance.now();
  for (let i = 0; i < 200_000 && performance.now() - startMs < 20_000; i++) {
    const text = `message ${i} ${'x'.repeat(cryptoRandom.int(2000))}`;
    let id: Buffer;
    if (i % 3 === 2) {
      id = cryptoRandom.bytes(16);
      store.messages.receive({ id, conversation: BOB, text, createdMs: i, via: 'session' });
    } else if (i % 7 === 1) {
      id = store.transaction(() => store.messages.enqueue(BOB, text).id, 'process-crash');
    } else {
      id = store.messages.enqueue(BOB, text).id;
      if (i % 5 === 0) store.messages.advance(id, 'delivered');
    }
    // Synchronous on Linux pipes: once printed, the parent holds the id even if we die on the next line.
    process.stdout.write(`${id.toString('hex')}\n`);
  }
  store.close();
}
