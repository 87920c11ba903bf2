/**
 * Chat store throughput on a real file (the VM's disk): writes are one transaction each, returned after COMMIT
 * (the write-ahead rule), with synchronous=FULL (the default: fsync of the WAL per commit) and NORMAL (for
 * comparison only); then batched writes, the dedupe path, state moves, and outbox queries.
 * Run: node --import tsx bench/chat-store.bench.ts   (prints a JSON object, then a table)
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatStore } from '../src/chat/store/chat-store.ts';
import { ManualClock, SeededRandom } from '../src/runtime/index.ts';

const ME = Buffer.alloc(32, 0xaa);
const FRIENDS = Array.from({ length: 10 }, (_, i) => Buffer.alloc(32, i + 1));
const TEXT = 'x'.repeat(100);
const DURATION_MS = 1500;

interface Measured {
  perSec: number;
  p50Us: number;
  p99Us: number;
  count: number;
}

function measure(
  fn: (i: number) => void,
  durationMs = DURATION_MS,
  maxCount = Number.POSITIVE_INFINITY,
): Measured {
  const latencies: number[] = [];
  const start = performance.now();
  let i = 0;
  while (performance.now() - start < durationMs && i < maxCount) {
    const t0 = performance.now();
    fn(i++);
    latencies.push((performance.now() - t0) * 1000);
  }
  const elapsedS = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    perSec: Math.round(latencies.length / elapsedS),
    p50Us: at(0.5),
    p99Us: at(0.99),
    count: latencies.length,
  };
}

function withStore<R>(synchronous: 'FULL' | 'NORMAL', fn: (store: ChatStore) => R): R {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-'));
  const store = ChatStore.open({
    path: join(dir, 'chat.sqlite'),
    ownPublicKey: ME,
    clock: new ManualClock(),
    random: new SeededRandom('bench'),
    synchronous,
  });
  try {
    store.transaction(() => {
      FRIENDS.forEach((key, i) => {
        store.contacts.upsert(key, 'accepted', `friend${i}`);
      });
    });
    return fn(store);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const friend = (i: number): Buffer => FRIENDS[i % FRIENDS.length] as Buffer;

const enqueueFull = withStore('FULL', (s) => measure((i) => s.messages.enqueue(friend(i), TEXT)));
const enqueueNormal = withStore('NORMAL', (s) => measure((i) => s.messages.enqueue(friend(i), TEXT)));
const batched = withStore('FULL', (s) => {
  const batch = measure((i) =>
    s.transaction(() => {
      for (let k = 0; k < 100; k++) s.messages.enqueue(friend(i), TEXT);
    }),
  );
  return { ...batch, perSec: batch.perSec * 100 };
});
const receive = withStore('FULL', (s) => {
  const random = new SeededRandom('ids');
  const ids: Buffer[] = [];
  const fresh = measure((i) => {
    const id = random.bytes(16);
    ids.push(id);
    s.messages.receive({ id, conversation: friend(i), text: TEXT, createdMs: i, via: 'session' });
  });
  const duplicate = measure((i) => {
    const id = ids[i % ids.length] as Buffer;
    s.messages.receive({ id, conversation: friend(i), text: TEXT, createdMs: i, via: 'session' });
  });
  return { fresh, duplicate };
});
const outbox = withStore('FULL', (s) => {
  // 10 friends × 1,000 messages, 200 of each still undelivered (the rest delivered or read).
  const pending: Buffer[] = [];
  s.transaction(() => {
    for (let n = 0; n < 10_000; n++) {
      const m = s.messages.enqueue(friend(n), TEXT);
      if (Math.floor(n / FRIENDS.length) % 5 === 0) pending.push(m.id);
      else s.messages.advance(m.id, n % 2 === 0 ? 'delivered' : 'read');
    }
  });
  // Each pending message moves once (queued→stored), so every measured call really writes.
  const advance = measure(
    (i) => s.messages.advance(pending[i] as Buffer, 'stored'),
    DURATION_MS,
    pending.length,
  );
  return {
    oneFriend: measure((i) => s.messages.outbox(friend(i), 100)),
    all: measure(() => s.messages.outbox(undefined, 2000)),
    listLast50: measure((i) => s.messages.listForCli(friend(i), { limit: 50 })),
    advance,
  };
});

/** open() cost (lock, quick_check, WAL, migration check) on a database of 50,000 messages. */
function measureOpen(): { messages: number; fileBytes: number; openMsMedian: number } {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-'));
  const options = { path: join(dir, 'chat.sqlite'), ownPublicKey: ME, clock: new ManualClock() };
  try {
    const store = ChatStore.open({ ...options, random: new SeededRandom('open') });
    store.transaction(() => {
      FRIENDS.forEach((key, i) => {
        store.contacts.upsert(key, 'accepted', `friend${i}`);
      });
      for (let n = 0; n < 50_000; n++) store.messages.enqueue(friend(n), TEXT);
    });
    store.close();
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t0 = performance.now();
      ChatStore.open({ ...options, random: new SeededRandom(k) }).close();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return {
      messages: 50_000,
      fileBytes: statSync(options.path).size,
      openMsMedian: Math.round((times[2] ?? 0) * 10) / 10,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const open = measureOpen();

const rows: [string, Measured][] = [
  ['enqueue, 1 commit each, synchronous=FULL (default)', enqueueFull],
  ['enqueue, 1 commit each, synchronous=NORMAL', enqueueNormal],
  ['enqueue, 100 per transaction, FULL (per message)', batched],
  ['receive new (insert-or-ignore), FULL', receive.fresh],
  ['receive duplicate (dedupe, no write), FULL', receive.duplicate],
  ['advance state (1 commit), FULL', outbox.advance],
  ['outbox(friend, 100) of 200 pending (10k msgs)', outbox.oneFriend],
  ['outbox() all 2,000 pending (10k msgs)', outbox.all],
  ['listForCli(friend, last 50)', outbox.listLast50],
];
console.log(
  JSON.stringify({
    benchmark: 'chat-store',
    node: process.version,
    textBytes: TEXT.length,
    open,
    results: Object.fromEntries(rows.map(([name, m]) => [name, m])),
  }),
);
console.log('');
console.log('| operation | ops/s | p50 µs | p99 µs |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, m] of rows) {
  console.log(`| ${name} | ${m.perSec.toLocaleString('en-US')} | ${m.p50Us} | ${m.p99Us} |`);
}
console.log('');
console.log(
  `open() of ${open.messages.toLocaleString('en-US')} messages (${(open.fileBytes / 1e6).toFixed(1)} MB): median ${open.openMsMedian} ms`,
);
