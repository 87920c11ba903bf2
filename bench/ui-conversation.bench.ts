/**
 * The web client's size and speed, in Debian's chromium (headless, playwright-core) against a real daemon:
 *
 *   - initial load: the JavaScript and CSS index.html pulls in, raw, gzip and brotli (what the daemon serves);
 *   - opening a conversation of 10,000 messages (seeded into the store over 28 days, so with day separators):
 *     from the click on the contact to the newest message drawn, the page reloaded before each run;
 *   - scrolling it from the newest to the oldest message at 800 px a frame (a fast flick, every page of 200
 *     loaded on the way), then back down: every frame's interval, and the most rows the DOM ever held;
 *   - send → "sent": from the Enter key to the message's ✓ (the daemon accepted it; the friend is offline here).
 *
 * Frame times and the open and send times are taken inside the page (performance.now, requestAnimationFrame,
 * a MutationObserver), so the DevTools protocol's own latency is not in them.
 *
 * Run: node --import tsx bench/ui-conversation.bench.ts [--messages 10000] [--runs 10] [--sends 20]
 * Prints a JSON object, then a table. The machine's load shows in the frame times: note `uptime` with them.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { readPublicKey } from '../src/app/chat-data-dir.ts';
import { ChatStore, generateIdentity } from '../src/chat/index.ts';
import { cryptoRandom, ManualClock } from '../src/runtime/index.ts';
import { cliJson, type JsonLinesProcess, startJsonLines, stopAll } from '../test/e2e/chat-processes.ts';
import { REPO_ROOT } from '../test/helpers/cli-runner.ts';
import { ensureUiBuilt, launchBrowser, openClient, skipOnboarding } from '../test/ui/browser-harness.ts';
import { intOption, printTable, type Summary, summarize } from './chat-bench-stats.ts';

const MESSAGES = intOption('messages', 10_000);
const RUNS = intOption('runs', 10);
const SENDS = intOption('sends', 20);
const SPAN_MS = 28 * 24 * 60 * 60_000;

ensureUiBuilt();
const bundle = bundleSizes();

const running: JsonLinesProcess[] = [];
const browser = await launchBrowser();
try {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-bench-ui-'));
  await cliJson(dir, 'init', '--name', 'Alice');
  const { firstId, lastId } = await seedConversation(dir);
  const daemon = startJsonLines([
    '--data-dir',
    dir,
    'daemon',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    '127.0.0.1:9',
    '--allow-private',
  ]);
  running.push(daemon);
  await daemon.waitFor((l) => l['event'] === 'ready', 60_000);
  const { page } = await openClient(browser, dir);
  await skipOnboarding(page);

  const openMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    await page.goto(new URL('/', page.url()).href);
    await page.locator('.contact-item', { hasText: 'Bob' }).waitFor();
    openMs.push((await page.evaluate(openConversation(lastId))) as number);
  }
  process.stderr.write(`open: ${openMs.map((ms) => Math.round(ms)).join(', ')} ms\n`);

  const up = (await page.evaluate(scrollUntil(firstId, -800))) as ScrollRun;
  const down = (await page.evaluate(scrollUntil(lastId, 800))) as ScrollRun;
  process.stderr.write(`scrolled: up ${Math.round(up.ms)} ms, down ${Math.round(down.ms)} ms\n`);

  await page.evaluate(sendTimer());
  const sendMs: number[] = [];
  for (let i = 0; i < SENDS; i++) {
    const text = `bench send ${i}`;
    const measured = page.evaluate(`window.__timeSend(${JSON.stringify(text)})`);
    await page.locator('#composer-text').fill(text);
    await page.locator('#composer-text').press('Enter');
    sendMs.push((await measured) as number);
  }
  process.stderr.write(`sends: ${sendMs.map((ms) => Math.round(ms)).join(', ')} ms\n`);

  const frames = [...up.frames, ...down.frames];
  const result = {
    date: new Date().toISOString(),
    chromium: browser.version(),
    messages: MESSAGES,
    bundle,
    openMs: summarize(openMs),
    scroll: {
      framesUp: up.frames.length,
      framesDown: down.frames.length,
      secondsUp: Math.round(up.ms / 100) / 10,
      isTopReached: up.isReached,
      isBottomReached: down.isReached,
      maxRowsInDom: Math.max(up.maxRows, down.maxRows),
      framesOver50Ms: frames.filter((f) => f > 50).length,
      frameMs: summarize(frames),
      // Up: 49 pages of 200 arrive on the way. Down: everything is loaded, only the window moves.
      frameMsUp: summarize(up.frames),
      frameMsDown: summarize(down.frames),
    },
    sendToSentMs: summarize(sendMs),
  };
  console.log(JSON.stringify(result));
  console.log();
  console.log(
    `initial load: ${bundle.jsGzipBytes} B gzip JS (${bundle.jsBytes} B raw, ${bundle.jsBrotliBytes} B brotli), ` +
      `${bundle.cssGzipBytes} B gzip CSS`,
  );
  console.log(
    `scroll over ${MESSAGES} messages: top ${up.isReached ? 'reached' : 'NOT reached'} in ${result.scroll.secondsUp} s, ` +
      `${frames.length} frames, ${result.scroll.framesOver50Ms} over 50 ms, at most ${result.scroll.maxRowsInDom} rows in the DOM`,
  );
  const rows: Record<string, Summary> = {
    'open 10k conversation': result.openMs,
    'scroll up (paging) frame': result.scroll.frameMsUp,
    'scroll down frame': result.scroll.frameMsDown,
    'send → sent mark': result.sendToSentMs,
  };
  printTable(rows, ['n', 'p50', 'p95', 'p99', 'max']);
} finally {
  await browser.close();
  await stopAll(running);
}

interface ScrollRun {
  frames: number[];
  maxRows: number;
  ms: number;
  isReached: boolean;
}

/** Alice's store gets a friend Bob and MESSAGES messages, both ways, over four weeks; all read. */
async function seedConversation(dir: string): Promise<{ firstId: string; lastId: string }> {
  const { publicKey } = await readPublicKey(dir);
  const bob = generateIdentity(cryptoRandom).publicKey;
  const startMs = Date.now() - SPAN_MS;
  const clock = new ManualClock(startMs);
  const store = ChatStore.open({
    path: join(dir, 'chat.sqlite'),
    ownPublicKey: publicKey,
    clock,
    random: cryptoRandom,
  });
  const ids: string[] = [];
  try {
    store.transaction(() => {
      store.contacts.upsert(bob, 'accepted', 'Bob');
      for (let i = 0; i < MESSAGES; i++) {
        const createdMs = startMs + Math.floor((i * SPAN_MS) / MESSAGES);
        clock.advance(Math.max(0, createdMs - clock.wallMs()));
        const text = textFor(i);
        if (i % 2 === 0) {
          const message = store.messages.enqueue(bob, text);
          store.messages.advance(message.id, 'read');
          ids.push(message.id.toString('hex'));
        } else {
          const id = cryptoRandom.bytes(16);
          store.messages.receive({ id, conversation: bob, text, createdMs, senderSeq: i, via: 'session' });
          ids.push(id.toString('hex'));
        }
      }
      store.messages.markIncomingRead(bob);
    });
  } finally {
    store.close();
  }
  return { firstId: ids[0] ?? '', lastId: ids.at(-1) ?? '' };
}

function textFor(i: number): string {
  if (i % 13 === 0)
    return `message ${i}: ${'a longer one that wraps over several lines of the bubble. '.repeat(6)}`;
  if (i % 5 === 0) return `message ${i}: see https://example.com/${i} when you can`;
  return `message ${i}: ${['ok', 'see you at eight', 'ha, yes', 'on my way', 'did you get the file?'][i % 5]}`;
}

/** In the page: click Bob, wait until the newest message is drawn (and one more frame, painted). */
function openConversation(lastId: string): string {
  return `(async () => {
    const t0 = performance.now();
    [...document.querySelectorAll('.contact-item')].find((b) => b.textContent.includes('Bob')).click();
    for (;;) {
      await new Promise((r) => requestAnimationFrame(r));
      if (document.querySelector('[data-message-id="${lastId}"]')) break;
      if (performance.now() - t0 > 60000) return -1;
    }
    await new Promise((r) => requestAnimationFrame(r));
    return performance.now() - t0;
  })()`;
}

/** In the page: scroll by stepPx a frame until the message id is drawn (or 3 minutes); every frame timed. */
function scrollUntil(id: string, stepPx: number): string {
  return `(async () => {
    const el = document.querySelector('.message-scroller');
    const frames = [];
    let maxRows = 0;
    const t0 = performance.now();
    let last = t0;
    let isReached = false;
    while (performance.now() - t0 < 180000) {
      el.scrollTop = el.scrollTop + ${stepPx};
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      frames.push(now - last);
      last = now;
      maxRows = Math.max(maxRows, el.querySelectorAll('.row').length);
      if (document.querySelector('[data-message-id="${id}"]')) { isReached = true; break; }
    }
    return { frames, maxRows, ms: performance.now() - t0, isReached };
  })()`;
}

/** In the page: window.__timeSend(text) resolves with ms from the Enter key to that message's ✓ (sent). */
function sendTimer(): string {
  return `window.__timeSend = (text) => new Promise((resolve) => {
  let t0 = 0;
  const onKey = (e) => {
    if (e.key !== 'Enter') return;
    t0 = performance.now();
    document.removeEventListener('keydown', onKey, true);
  };
  document.addEventListener('keydown', onKey, true);
  const observer = new MutationObserver(() => {
    for (const bubble of document.querySelectorAll('.bubble.mine')) {
      if (bubble.querySelector('.message-text')?.textContent !== text) continue;
      if (!bubble.querySelector('.mark[data-state="queued"]')) continue;
      observer.disconnect();
      resolve(performance.now() - t0);
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  setTimeout(() => resolve(-1), 30000);
})`;
}

/** The assets index.html loads at start, and their sizes as served (raw, gzip -9, brotli -11). */
function bundleSizes(): Record<string, number | string[]> {
  const ui = join(REPO_ROOT, 'dist', 'ui');
  const html = readFileSync(join(ui, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(js|css))"/g)];
  const sizes = { js: [0, 0, 0], css: [0, 0, 0] };
  for (const [, path, kind] of refs) {
    const bytes = readFileSync(join(ui, path as string));
    const totals = sizes[kind as 'js' | 'css'];
    totals[0] = (totals[0] ?? 0) + statSync(join(ui, path as string)).size;
    totals[1] = (totals[1] ?? 0) + gzipSync(bytes, { level: 9 }).length;
    totals[2] = (totals[2] ?? 0) + brotliCompressSync(bytes).length;
  }
  return {
    files: refs.map((r) => r[1] as string),
    jsBytes: sizes.js[0] ?? 0,
    jsGzipBytes: sizes.js[1] ?? 0,
    jsBrotliBytes: sizes.js[2] ?? 0,
    cssBytes: sizes.css[0] ?? 0,
    cssGzipBytes: sizes.css[1] ?? 0,
  };
}
