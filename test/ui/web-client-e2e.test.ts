/**
 * The web client in a real browser against real daemons on a loopback testnet, all from the UI: Alice and Bob
 * add each other by pasting codes, chat both ways, see delivered and read marks change and typing show; Bob's
 * daemon stops, Alice sends (the message waits in the DHT), Bob's daemon comes back and the message appears in
 * his still-open tab (the event stream reconnects, the client reloads). Every screen gets axe-core's check and a
 * screenshot (test-output/screenshots/), at 1100 px and at 360 px in the dark theme.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { decodeFriendCode } from '../../src/chat/index.ts';
import {
  type ChatDaemon,
  cliJson,
  dumpingLogs,
  type JsonLinesProcess,
  REQUEST_POLL_MS,
  STEP_MS,
  startChatDaemon,
  startPairOnTestnet,
  stopAll,
  waitForAnnouncement,
} from '../e2e/chat-processes.ts';
import {
  type ClientTab,
  ensureUiBuilt,
  launchBrowser,
  loginUrl,
  openClient,
  SKIP_REASON,
  screenshot,
  seriousA11yViolations,
  skipOnboarding,
} from './browser-harness.ts';

const running: JsonLinesProcess[] = [];
let browser: Browser | undefined;

before(() => {
  if (SKIP_REASON === undefined) ensureUiBuilt();
});

after(async () => {
  await browser?.close();
  await stopAll(running);
});

const violations: string[] = [];

/** axe-core on the screen, and a screenshot of it. */
async function review(page: Page, name: string): Promise<void> {
  for (const line of await seriousA11yViolations(page)) violations.push(`${name}: ${line}`);
  await screenshot(page, name);
}

function menuButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Menu' }).getByRole('button', { name: new RegExp(`^${name}`) });
}

function contactStatus(page: Page, name: string) {
  return page.locator('.contact-item', { hasText: name }).locator('.contact-status');
}

async function waitForStatus(page: Page, name: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  await contactStatus(page, name).filter({ hasText: pattern }).waitFor({ timeout: timeoutMs });
}

function ownBubble(page: Page, text: string) {
  return page.locator('.bubble.mine', { hasText: text });
}

async function waitForMark(page: Page, text: string, state: string, timeoutMs: number): Promise<void> {
  await ownBubble(page, text).locator(`.mark[data-state="${state}"]`).waitFor({ timeout: timeoutMs });
}

async function addFriend(page: Page, code: string, name: string, note?: string): Promise<void> {
  await menuButton(page, 'Add a friend').click();
  await page.getByLabel('Their friend code or link').fill(code);
  await page.getByLabel('Name for them (optional)').fill(name);
  if (note !== undefined) await page.getByLabel('A note with your request (optional)').fill(note);
  await page.getByRole('button', { name: 'Send request' }).click();
}

/** Presses Tab until the focused element's text starts with `text` (at most 60 times). */
async function tabTo(page: Page, text: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const focused = (await page.evaluate('document.activeElement?.textContent?.trim() ?? ""')) as string;
    if (focused.startsWith(text)) return;
  }
  throw new Error(`Tab never reached "${text}"`);
}

async function send(page: Page, text: string): Promise<void> {
  const composer = page.locator('#composer-text');
  await composer.fill(text);
  await composer.press('Enter');
}

test('two users add each other, chat, see marks and typing, and get a message sent while one was away', {
  skip: SKIP_REASON ?? false,
  timeout: 300_000,
}, async () => {
  await dumpingLogs(running, async () => {
    browser = await launchBrowser();
    const { bootstrap, alice, bob } = await startPairOnTestnet(running);
    const aliceDaemon = await startChatDaemon(alice.dir, bootstrap, running, { port: 0 });
    const a: ClientTab = await openClient(browser, alice.dir);

    // Alice (named at init) lands on the app; she pastes Bob's code (as `init` printed it) with a note.
    await skipOnboarding(a.page);
    await review(a.page, 'home');
    await menuButton(a.page, 'My friend code').click();
    await review(a.page, 'friend-code');
    const aliceCode = (await a.page.getByTestId('own-code').textContent()) ?? '';
    assert.equal(aliceCode, alice.code);
    await menuButton(a.page, 'Add a friend').click();
    await review(a.page, 'add-friend');
    // A typo is refused in the CLI's words (the checksum catches it).
    const typo = `${bob.code.slice(0, -3)}${bob.code.at(-3) === 'q' ? 'p' : 'q'}${bob.code.slice(-2)}`;
    await addFriend(a.page, typo, 'Bob');
    await a.page
      .getByRole('alert')
      .filter({ hasText: /checksum|typo/i })
      .waitFor();
    await addFriend(a.page, bob.code, 'Bob', 'hi Bob, it is Alice');
    await a.page.getByRole('heading', { name: 'Bob' }).waitFor();
    await waitForAnnouncement(bootstrap, decodeFriendCode(bob.code), aliceDaemon.port, STEP_MS);

    // Bob's daemon starts and finds her request; he sees it, then adds her back by pasting her code.
    let bobDaemon: ChatDaemon = await startChatDaemon(bob.dir, bootstrap, running, { port: 0 });
    const b: ClientTab = await openClient(browser, bob.dir);
    await skipOnboarding(b.page);
    await menuButton(b.page, 'Requests').click();
    await b.page
      .locator('.request-note', { hasText: 'hi Bob, it is Alice' })
      .waitFor({ timeout: REQUEST_POLL_MS });
    await review(b.page, 'requests');
    await addFriend(b.page, aliceCode, 'Alice');
    await waitForStatus(b.page, 'Alice', /^online$/, STEP_MS);
    await waitForStatus(a.page, 'Bob', /^online$/, STEP_MS);

    // Alice writes while Bob looks elsewhere: delivered, an unread count at Bob, then read once he opens it.
    await menuButton(b.page, 'Network').click();
    await a.page.locator('.contact-item', { hasText: 'Bob' }).click();
    await send(a.page, 'hello Bob');
    await waitForMark(a.page, 'hello Bob', 'delivered', STEP_MS);
    await b.page.locator('.contact-item', { hasText: 'Alice' }).locator('.badge', { hasText: '1' }).waitFor();
    await review(b.page, 'network');
    await b.page.locator('.contact-item', { hasText: 'Alice' }).click();
    await b.page.locator('.bubble.theirs', { hasText: 'hello Bob' }).waitFor();
    await waitForMark(a.page, 'hello Bob', 'read', STEP_MS);

    // Bob types: Alice sees it; he sends (with the keyboard): she gets it, and typing ends.
    await b.page.locator('#composer-text').pressSequentially('hi Al', { delay: 30 });
    await a.page.getByTestId('chat-status').filter({ hasText: 'typing…' }).waitFor({ timeout: STEP_MS });
    await review(a.page, 'conversation-typing');
    await b.page.locator('#composer-text').pressSequentially('ice!');
    await b.page.locator('#composer-text').press('Enter');
    await a.page.locator('.bubble.theirs', { hasText: 'hi Alice!' }).waitFor({ timeout: STEP_MS });
    await a.page
      .getByTestId('chat-status')
      .filter({ hasText: /^online$/ })
      .waitFor({ timeout: STEP_MS });
    await waitForMark(b.page, 'hi Alice!', 'read', STEP_MS);
    await review(b.page, 'conversation');

    // Bob's daemon stops; Alice's message waits in the DHT; his daemon comes back and his open tab shows it.
    await bobDaemon.proc.stop();
    await b.page.getByRole('status').filter({ hasText: 'Lost contact' }).waitFor({ timeout: STEP_MS });
    await waitForStatus(a.page, 'Bob', /away|offline/, STEP_MS);
    await send(a.page, 'sent while you were away');
    await waitForMark(a.page, 'sent while you were away', 'stored', STEP_MS);
    await review(a.page, 'conversation-stored');
    bobDaemon = await startChatDaemon(bob.dir, bootstrap, running);
    await b.page
      .locator('.bubble.theirs', { hasText: 'sent while you were away' })
      .waitFor({ timeout: 90_000 });
    await waitForMark(a.page, 'sent while you were away', 'read', STEP_MS);
    assert.equal(await b.page.getByRole('status').filter({ hasText: 'Lost contact' }).count(), 0);

    // The network panel and settings on Alice's side.
    await menuButton(a.page, 'Network').click();
    await a.page.locator('td[data-path="direct"]').first().waitFor({ timeout: STEP_MS });
    await review(a.page, 'network-friends');
    // The keyboard alone: Tab to the menu's Settings, Enter, and the focus lands on the screen's heading.
    await tabTo(a.page, 'Settings');
    await a.page.keyboard.press('Enter');
    await a.page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
    assert.equal(await a.page.evaluate('document.activeElement.textContent'), 'Settings');
    await review(a.page, 'settings');

    // Search finds an older message and shows it; the contact menu renames Bob.
    await a.page.locator('.contact-item', { hasText: 'Bob' }).click();
    await a.page.getByRole('button', { name: 'Search this conversation' }).click();
    await a.page.getByRole('searchbox', { name: 'Search this conversation' }).fill('HELLO');
    await a.page.locator('.search-hit', { hasText: 'hello Bob' }).click();
    await a.page.locator('.bubble.highlighted', { hasText: 'hello Bob' }).waitFor();
    await review(a.page, 'search');
    await a.page.getByRole('button', { name: /^About Bob/ }).click();
    await a.page.getByLabel('Your name for them').fill('Bobby');
    await a.page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
    await a.page.locator('.contact-item .contact-name', { hasText: /^Bobby$/ }).waitFor();

    // A first run without a name: the onboarding sets one (friends then get it), skips the passphrase, shows
    // the friend code.
    const carolDir = mkdtempSync(join(tmpdir(), 'dhtchat-carol-'));
    await cliJson(carolDir, 'init');
    const carolDaemon = await startChatDaemon(carolDir, bootstrap, running, { port: 0 });
    const c = await openClient(browser, carolDir);
    await c.page.getByRole('heading', { name: 'Welcome to dhtchat' }).waitFor();
    await c.page.getByText('Step 1 of 3').waitFor();
    await review(c.page, 'onboarding');
    await c.page.getByLabel('The name your friends see').fill('Carol');
    await c.page.getByRole('button', { name: 'Save name' }).click();
    await c.page.getByRole('heading', { name: 'A passphrase (optional)' }).waitFor();
    await review(c.page, 'onboarding-passphrase');
    await c.page.getByRole('button', { name: 'Skip this step' }).click();
    await c.page.getByRole('heading', { name: 'Your friend code' }).waitFor();
    await review(c.page, 'onboarding-code');
    await c.page.getByRole('button', { name: 'Start chatting' }).click();
    await c.page.getByRole('navigation', { name: 'Menu' }).waitFor();
    assert.deepEqual(await callDaemon(carolDir, 'GET', '/v1/profile'), {
      name: 'Carol',
      code: carolDaemon.code,
    });
    await c.context.close();
    await carolDaemon.proc.stop();

    // A phone-sized window in the dark theme: the list, then the conversation, one at a time.
    const phone = await browser.newContext({ viewport: { width: 360, height: 720 }, colorScheme: 'dark' });
    const small = await phone.newPage();
    await small.goto(await loginUrl(alice.dir));
    await small.locator('.contact-item', { hasText: 'Bobby' }).waitFor();
    await review(small, 'narrow-list-dark');
    await small.locator('.contact-item', { hasText: 'Bobby' }).click();
    await small.locator('.bubble.mine', { hasText: 'hello Bob' }).waitFor();
    assert.equal(await small.locator('.sidebar').isVisible(), false, 'one pane at a time at 360 px');
    const overflow = (await small.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
    assert.ok(overflow <= 0, `nothing wider than the screen (${overflow} px too wide)`);
    await review(small, 'narrow-conversation-dark');
    await small.getByRole('button', { name: 'Back to the list' }).click();
    await small.locator('.contact-item', { hasText: 'Bobby' }).waitFor();

    assert.deepEqual(violations, []);
    assert.deepEqual([...a.dialogs, ...b.dialogs], []);
    assert.deepEqual([...a.errors, ...b.errors], []);
  });
});
