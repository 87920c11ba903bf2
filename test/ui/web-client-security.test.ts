/**
 * What a stranger and a web page can do to the web client, in a real browser against real daemons:
 *
 * - Mallory (a daemon in this process, so its name can hold what `init --name` refuses) sends Alice a request
 *   and, once accepted, messages, all carrying XSS payloads (`<img src=x onerror=...>`, `<script>`,
 *   `javascript:` links, Markdown links, a right-to-left override, a 5,000-character word). Alice's page shows
 *   every one as text (the DOM text equals the payload), creates no element from them, opens no dialog, runs
 *   nothing; a web address opens only through the click-through, as a `noopener noreferrer` link.
 * - The login link works once; the session cookie is HttpOnly and SameSite=Strict and nothing the page can read
 *   holds it; a foreign Origin or Host gets 403, pages and API alike; the page carries the CSP.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Daemon, startDaemon } from '../../src/app/daemon.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import { nullLogger } from '../../src/runtime/index.ts';
import {
  dumpingLogs,
  eventually,
  type JsonLinesProcess,
  REQUEST_POLL_MS,
  STEP_MS,
  startChatDaemon,
  startPairOnTestnet,
  stopAll,
  waitForAnnouncement,
} from '../e2e/chat-processes.ts';
import {
  ensureUiBuilt,
  launchBrowser,
  loginUrl,
  openClient,
  SKIP_REASON,
  screenshot,
  seriousA11yViolations,
} from './browser-harness.ts';

const NAME = '<img src=x onerror="window.__xss=1">\u202Eexe.txt';
const NOTE = `javascript:window.__xss=2 <img src=x onerror=window.__xss=3> \u202Etxt.exe ${'W'.repeat(300)}`;
const LINK = 'https://example.com/a?b=c&d=%3Ci%3E';
const MESSAGES = [
  '<img src=x onerror=window.__xss=4><script>window.__xss=5</script><b>bold?</b>',
  '[click me](javascript:window.__xss=6) javascript:window.__xss=7 <a href="javascript:window.__xss=8">a</a>',
  `\u202Efdp.exe read this: ${LINK} &amp; &lt;svg onload=window.__xss=9&gt;`,
  'A'.repeat(5000),
];

const running: JsonLinesProcess[] = [];
let browser: Browser | undefined;
let mallory: Daemon | undefined;

before(() => {
  if (SKIP_REASON === undefined) ensureUiBuilt();
});

after(async () => {
  await browser?.close();
  await mallory?.close();
  await stopAll(running);
});

test('names, request notes and messages from a stranger are shown as text and run nothing; the walls hold', {
  skip: SKIP_REASON ?? false,
  timeout: 240_000,
}, async () => {
  await dumpingLogs(running, async () => {
    browser = await launchBrowser();
    const { bootstrap, alice, bob: strangerDir } = await startPairOnTestnet(running);
    const [host, port] = bootstrap.split(':') as [string, string];
    mallory = await startDaemon({
      dataDir: strangerDir.dir,
      host: '127.0.0.1',
      port: 0,
      bootstrap: [{ host, port: Number(port) }],
      allowPrivate: true,
      name: NAME,
      logger: nullLogger,
    });
    await mallory.chat.addFriend(alice.code, { message: NOTE });
    await waitForAnnouncement(bootstrap, decodeFriendCode(alice.code), mallory.port, STEP_MS);
    const aliceDaemon = await startChatDaemon(alice.dir, bootstrap, running, { port: 0 });
    // Tall enough that every message row is drawn at once (the list draws only rows near the viewport).
    const tab = await openClient(browser, alice.dir, { width: 1100, height: 3000 });
    const { page } = tab;

    // The request: name and note exactly as sent, as text.
    await page
      .getByRole('navigation', { name: 'Menu' })
      .getByRole('button', { name: /^Requests/ })
      .click();
    const item = page.locator('.request-item');
    await item.waitFor({ timeout: REQUEST_POLL_MS });
    assert.equal(await item.locator('.request-name').textContent(), NAME);
    assert.equal(await item.locator('.request-note bdi').textContent(), NOTE);
    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, 'xss-request');
    const accepted = new Promise((resolve) => mallory?.chat.once('accepted', resolve));
    await item.getByRole('button', { name: 'Accept' }).click();
    await page.locator('.chat-header h1').waitFor();
    await withTimeout(accepted, STEP_MS, 'Mallory never learnt it was accepted');

    // Messages: each bubble's text is the payload, character for character.
    for (const text of MESSAGES) await mallory.chat.send(alice.code, text);
    const bubbles = page.locator('.bubble.theirs .message-text');
    await eventually(
      'all four messages shown',
      async () => ((await bubbles.count()) >= 4 ? true : undefined),
      STEP_MS,
    );
    assert.deepEqual(await bubbles.allTextContents(), MESSAGES);
    const contactName = await page.locator('.contact-item .contact-name').textContent();
    assert.ok(contactName === NAME || contactName === mallory.code, `contact shown as ${contactName}`);

    // Nothing ran, nothing was made from the payloads: no image, no extra script, no link but the one web address.
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('script').count(), 1, "only the client's own module script");
    assert.equal(await page.locator('.bubble a, .request-item a').count(), 0, 'no anchor in any message');
    assert.deepEqual(await page.locator('.bubble .link-button').allTextContents(), [LINK]);
    const width = await page
      .locator('.message-scroller')
      .evaluate((el: { scrollWidth: number; clientWidth: number }) => el.scrollWidth - el.clientWidth);
    assert.ok(width <= 0, `a 5,000-character word wraps (${width} px too wide)`);
    await screenshot(page, 'xss-conversation');

    // The web address: a click-through showing it whole, then a noopener noreferrer link in a new tab.
    await page.locator('.bubble .link-button').click();
    const dialog = page.getByRole('dialog', { name: 'Open this link?' });
    await dialog.waitFor();
    assert.equal(await dialog.locator('.link-preview').textContent(), LINK);
    const open = dialog.getByRole('link', { name: 'Open link' });
    assert.equal(await open.getAttribute('href'), LINK);
    assert.equal(await open.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await open.getAttribute('target'), '_blank');
    assert.deepEqual(await seriousA11yViolations(page), []);
    await screenshot(page, 'link-click-through');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(tab.dialogs, []);
    assert.deepEqual(tab.errors, []);

    // The session cookie: HttpOnly, SameSite=Strict, invisible to the page; nothing stored holds it.
    const [cookie] = await tab.context.cookies();
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(await page.evaluate('document.cookie'), '');
    const stored = (await page.evaluate('JSON.stringify({...localStorage, ...sessionStorage})')) as string;
    assert.ok(!stored.includes(cookie?.value ?? '?'), 'the session id is in no storage');

    // The login link works once: a second browser with the same link is not let in.
    const link = await loginUrl(alice.dir);
    const first = await browser.newContext();
    const firstPage = await first.newPage();
    const answer = await firstPage.goto(link);
    assert.match(
      answer?.headers()['content-security-policy'] ?? '',
      /default-src 'self'.*frame-ancestors 'none'/,
    );
    assert.equal(answer?.headers()['x-content-type-options'], 'nosniff');
    assert.equal(answer?.headers()['referrer-policy'], 'no-referrer');
    await firstPage.getByRole('navigation', { name: 'Menu' }).waitFor();
    const second = await browser.newContext();
    const secondPage = await second.newPage();
    const again = await secondPage.goto(link);
    assert.equal(again?.status(), 403);
    await secondPage.getByRole('heading', { name: 'This login link does not work any more' }).waitFor();
    await secondPage.goto(new URL('/', link).href);
    await secondPage.getByRole('heading', { name: 'Log in to dhtchat' }).waitFor();
    assert.deepEqual(await seriousA11yViolations(secondPage), []);
    await screenshot(secondPage, 'login-needed');

    // A foreign Origin or Host: 403, for pages and for the API with a valid session cookie alike.
    const apiPort = Number(new URL(link).port);
    const session = `${cookie?.name}=${cookie?.value}`;
    const json = { cookie: session, 'content-type': 'application/json' };
    assert.equal((await raw(apiPort, 'GET', '/v1/id', { cookie: session })).status, 200);
    assert.equal((await raw(apiPort, 'GET', '/', { origin: 'http://evil.example' })).status, 403);
    assert.equal((await raw(apiPort, 'GET', '/', { host: `evil.example:${apiPort}` })).status, 403);
    const forged = { ...json, origin: 'http://evil.example' };
    assert.equal((await raw(apiPort, 'POST', '/v1/messages', forged, '{"to":"x","text":"y"}')).status, 403);
    const rebound = { ...json, host: `evil.example:${apiPort}` };
    assert.equal((await raw(apiPort, 'GET', '/v1/contacts', rebound)).status, 403);
    const sibling = { ...json, origin: `http://127.0.0.1:${aliceDaemon.port === apiPort ? 1 : apiPort + 1}` };
    assert.equal((await raw(apiPort, 'POST', '/v1/messages', sibling, '{"to":"x","text":"y"}')).status, 403);
  });
});

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        setHost: false,
        headers: { host: `127.0.0.1:${port}`, ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
