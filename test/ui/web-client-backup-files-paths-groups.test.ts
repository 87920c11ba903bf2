/**
 * The web client's second round in a real browser against real daemons on a loopback testnet (Alice and Bob,
 * friends and online): the identity backup downloaded from settings imports with `dhtchat import` into an empty
 * data dir; contacts and the network panel say how each friend is reached, and a pending request its state; a
 * file picked in Alice's tab is uploaded, offered, accepted in Bob's tab with progress, saved from his browser
 * byte for byte, and its staged copy deleted; a declined offer shows as declined; Alice makes a group, invites
 * Bob, he joins from his tab, they write both ways with "delivered to N of M · read by R" and typing, she makes him
 * an admin, and he leaves. Each screen gets axe-core's
 * check and a screenshot (test-output/screenshots/).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { encodeFriendCode, generateIdentity } from '../../src/chat/index.ts';
import { cryptoRandom } from '../../src/runtime/index.ts';
import {
  dumpingLogs,
  eventually,
  type FriendsOnTestnet,
  type JsonLinesProcess,
  STEP_MS,
  startFriendsOnTestnet,
  stopAll,
} from '../e2e/chat-processes.ts';
import { runCli } from '../helpers/cli-runner.ts';
import {
  type ClientTab,
  ensureUiBuilt,
  launchBrowser,
  openClient,
  SKIP_REASON,
  screenshot,
  seriousA11yViolations,
  skipOnboarding,
} from './browser-harness.ts';

const running: JsonLinesProcess[] = [];
let browser: Browser | undefined;
let friends: FriendsOnTestnet | undefined;
let aliceTab: ClientTab | undefined;
let bobTab: ClientTab | undefined;

before(async () => {
  if (SKIP_REASON !== undefined) return;
  ensureUiBuilt();
  await dumpingLogs(running, async () => {
    [browser, friends] = await Promise.all([launchBrowser(), startFriendsOnTestnet(running)]);
    [aliceTab, bobTab] = await Promise.all([
      openClient(browser, friends.alice.dir),
      openClient(browser, friends.bob.dir),
    ]);
    await Promise.all([skipOnboarding(aliceTab.page), skipOnboarding(bobTab.page)]);
  });
});

after(async () => {
  await browser?.close();
  await stopAll(running);
});

/** The scene the before hook set up (only called when the browser tests run). */
function scene(): { friends: FriendsOnTestnet; alice: ClientTab; bob: ClientTab } {
  if (friends === undefined || aliceTab === undefined || bobTab === undefined) {
    throw new Error('the scene was not set up');
  }
  return { friends, alice: aliceTab, bob: bobTab };
}

async function review(page: Page, name: string): Promise<void> {
  assert.deepEqual(await seriousA11yViolations(page), [], name);
  await screenshot(page, name);
}

function menuButton(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Menu' }).getByRole('button', { name: new RegExp(`^${name}`) });
}

test('the backup downloaded from settings imports with dhtchat import into an empty data dir', {
  skip: SKIP_REASON ?? false,
  timeout: 120_000,
}, async () => {
  const { friends, alice } = scene();
  const { page } = alice;
  await menuButton(page, 'Settings').click();
  const form = page.locator('form[aria-labelledby="backup-title"]');
  await form.getByLabel('Passphrase for the backup file', { exact: true }).fill('a backup pass');
  await form.getByLabel('Passphrase for the backup file again').fill('another');
  await form.getByRole('button', { name: 'Download backup' }).click();
  await form.getByRole('alert').filter({ hasText: 'The two passphrases differ.' }).waitFor();
  await form.getByLabel('Passphrase for the backup file again').fill('a backup pass');
  await review(page, 'settings-backup');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    form.getByRole('button', { name: 'Download backup' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^dhtchat-backup-\d{4}-\d\d-\d\d\.dat$/);
  const file = join(mkdtempSync(join(tmpdir(), 'dhtchat-backup-file-')), download.suggestedFilename());
  await download.saveAs(file);
  assert.ok(readFileSync(file).length > 0);

  const restoredDir = mkdtempSync(join(tmpdir(), 'dhtchat-restored-'));
  const imported = await runCli(['--data-dir', restoredDir, 'import', file, '--json'], {
    env: { DHTCHAT_BACKUP_PASSPHRASE: 'a backup pass', DHTCHAT_PASSPHRASE: '' },
  });
  assert.equal(imported.code, 0, imported.stderr);
  const summary = JSON.parse(imported.stdout) as { code: string; name: string; rows: Record<string, number> };
  assert.equal(summary.code, friends.alice.code);
  assert.equal(summary.name, 'Alice');
  assert.ok((summary.rows['contacts'] ?? 0) >= 1, `Bob is in the backup: ${imported.stdout}`);
  assert.deepEqual(alice.errors, []);
});

test('contacts and the network panel say how a friend is reached; a pending request says it was sent', {
  skip: SKIP_REASON ?? false,
  timeout: 120_000,
}, async () => {
  const { friends, alice } = scene();
  const { page } = alice;
  const bob = page.locator('.contact-item', { hasText: 'bob' });
  const contacts = (await callDaemon(friends.alice.dir, 'GET', '/v1/contacts')) as {
    code: string;
    path: string;
  }[];
  const path = contacts.find((c) => c.code === friends.bob.code)?.path;
  const words: Record<string, string> = {
    direct: 'direct',
    punched: 'hole-punched',
    mapped: 'via your router’s mapping',
    relayed: 'relayed',
    dht: 'through the DHT',
  };
  assert.ok(path !== undefined && words[path] !== undefined, `Bob's path at Alice: ${path}`);
  await bob.locator('.contact-path', { hasText: words[path] }).waitFor({ timeout: STEP_MS });
  await bob.click();
  await page
    .getByTestId('chat-path')
    .filter({ hasText: `Reached ${words[path]}` })
    .waitFor();

  // Someone never online: the request stays "sent" (their daemon has not received it).
  const nobody = encodeFriendCode(generateIdentity(cryptoRandom).publicKey);
  await menuButton(page, 'Add a friend').click();
  await page.getByLabel('Their friend code or link').fill(nobody);
  await page.getByLabel('Name for them (optional)').fill('Nobody');
  await page.getByRole('button', { name: 'Send request' }).click();
  const pending = page.locator('.contact-item', { hasText: 'Nobody' });
  await pending.locator('.contact-status', { hasText: /^request sent$/ }).waitFor({ timeout: STEP_MS });
  assert.equal(await pending.locator('.contact-path').count(), 0, 'a pending request has no path');

  await menuButton(page, 'Network').click();
  const row = page.locator('.friend-paths tr', { hasText: 'bob' });
  await row.locator(`td[data-path="${path}"]`).waitFor({ timeout: STEP_MS });
  await page.getByTestId('strangers').waitFor();
  await review(page, 'network-paths');
  assert.deepEqual(alice.errors, []);
});

test('a file picked in the browser is offered, accepted, saved byte for byte; an offer declined', {
  skip: SKIP_REASON ?? false,
  timeout: 180_000,
}, async () => {
  const { friends, alice, bob } = scene();
  const content = randomBytes(3 * 1024 * 1024 + 17);
  const fileName = 'report <b>\u202Etxt.exe';
  await alice.page.locator('.contact-item', { hasText: 'bob' }).click();
  const pick = async (name: string, buffer: Buffer): Promise<void> => {
    const [chooser] = await Promise.all([
      alice.page.waitForEvent('filechooser'),
      alice.page.getByRole('button', { name: 'Send a file to bob' }).click(),
    ]);
    await chooser.setFiles({ name, mimeType: 'application/octet-stream', buffer });
  };
  await pick(fileName, content);
  const outgoing = alice.page.locator('.transfer-item[data-direction="outgoing"]', { hasText: 'report' });
  await outgoing.waitFor({ timeout: STEP_MS });
  assert.equal(await outgoing.locator('.transfer-name bdi').textContent(), 'report _b__txt.exe');
  await review(alice.page, 'conversation-file-offered');

  // Bob: the menu counts the offer; the Files screen has it with Accept and Decline.
  await menuButton(bob.page, 'Files').filter({ hasText: '1 offered to you' }).waitFor({ timeout: STEP_MS });
  await menuButton(bob.page, 'Files').click();
  const offer = bob.page.locator('.transfer-item[data-state="offered"]', { hasText: 'report' });
  await offer.waitFor();
  await review(bob.page, 'files-offer');
  await offer.getByRole('button', { name: 'Accept' }).click();
  const received = bob.page.locator('.transfer-item[data-state="complete"]', { hasText: 'report' });
  await received.waitFor({ timeout: STEP_MS });
  await review(bob.page, 'files-received');
  const [download] = await Promise.all([
    bob.page.waitForEvent('download', { timeout: STEP_MS }),
    received.getByRole('link', { name: /^Save/ }).click(),
  ]);
  const saved = join(mkdtempSync(join(tmpdir(), 'dhtchat-saved-')), 'saved');
  await download.saveAs(saved);
  assert.ok(readFileSync(saved).equals(content), 'the saved file is the one Alice picked');
  await outgoing.and(alice.page.locator('[data-state="complete"]')).waitFor({ timeout: STEP_MS });

  // The staged copy on Alice's daemon goes once the transfer is complete.
  const uploads = join(friends.alice.dir, 'uploads');
  await eventually(
    'the staged upload deleted',
    async () => (!existsSync(uploads) || readdirSync(uploads).length === 0 ? true : undefined),
    STEP_MS,
  );

  // A second offer, declined by Bob: Alice sees it declined.
  await pick('unwanted.bin', randomBytes(1000));
  const unwanted = bob.page.locator('.transfer-item[data-state="offered"]', { hasText: 'unwanted.bin' });
  await unwanted.getByRole('button', { name: 'Decline' }).click({ timeout: STEP_MS });
  await alice.page
    .locator('.transfer-item[data-state="declined"]', { hasText: 'unwanted.bin' })
    .waitFor({ timeout: STEP_MS });
  await review(alice.page, 'conversation-files');

  // Phone-sized and dark: Bob's Files screen alone in the window, still passing axe (contrast included).
  await bob.page.setViewportSize({ width: 360, height: 720 });
  await bob.page.emulateMedia({ colorScheme: 'dark' });
  await bob.page.locator('.transfer-item', { hasText: 'report' }).waitFor();
  assert.equal(await bob.page.locator('.sidebar').isVisible(), false, 'one pane at a time at 360 px');
  const overflow = await bob.page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
  assert.ok((overflow as number) <= 0, `no sideways scrolling (${overflow} px)`);
  await review(bob.page, 'files-narrow-dark');
  await bob.page.setViewportSize({ width: 1100, height: 760 });
  await bob.page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(alice.errors, []);
  assert.deepEqual(bob.errors, []);
  assert.deepEqual([...alice.dialogs, ...bob.dialogs], []);
});

test('a group: made, a friend invited and joining, messages both ways with delivery and read counts, promote, leave', {
  skip: SKIP_REASON ?? false,
  timeout: 180_000,
}, async () => {
  const { alice, bob } = scene();
  const name = 'Club <img src=x onerror=alert(1)>';
  await menuButton(alice.page, 'Groups').click();
  await alice.page.getByLabel('Name of the group (every member sees it)').fill(name);
  await alice.page.getByRole('button', { name: 'Make group' }).click();
  const title = alice.page.locator('#group-title');
  await title.waitFor();
  assert.equal(await title.textContent(), name);
  await alice.page.getByRole('button', { name: 'Members', exact: true }).click();
  await alice.page.getByLabel('Invite a friend').selectOption({ label: 'bob' });
  await alice.page.getByRole('button', { name: 'Invite', exact: true }).click();
  await review(alice.page, 'group-members');

  // Bob: the invite, named as Alice named the group, from Alice; he joins.
  await menuButton(bob.page, 'Groups')
    .filter({ hasText: /invites/ })
    .waitFor({ timeout: STEP_MS });
  await menuButton(bob.page, 'Groups').click();
  const invite = bob.page.locator('.invite-item');
  await invite.waitFor();
  assert.equal(await invite.locator('.request-name').textContent(), name);
  await review(bob.page, 'groups-invite');
  await invite.getByRole('button', { name: 'Join' }).click();
  await bob.page.getByTestId('group-status').filter({ hasText: '2 members' }).waitFor({ timeout: STEP_MS });
  await alice.page.getByTestId('group-status').filter({ hasText: '2 members' }).waitFor({ timeout: STEP_MS });

  // Alice writes; Bob, who has it open, reads it: her mark goes to delivered to 1 of 1, read by 1.
  const composer = alice.page.locator('#group-composer-text');
  await composer.fill('hello club');
  await composer.press('Enter');
  await bob.page.locator('.bubble.theirs', { hasText: 'hello club' }).waitFor({ timeout: STEP_MS });
  assert.equal(await bob.page.locator('.bubble.theirs .sender').first().textContent(), 'Alice');
  await alice.page
    .locator('.bubble.mine', { hasText: 'hello club' })
    .locator('.group-mark', { hasText: 'delivered to 1 of 1 · read by 1' })
    .waitFor({ timeout: STEP_MS });
  await bob.page.locator('#group-composer-text').pressSequentially('hi');
  await alice.page.locator('.typing-line', { hasText: 'is typing' }).waitFor({ timeout: STEP_MS });
  await bob.page.locator('#group-composer-text').press('Enter');
  await alice.page.locator('.bubble.theirs', { hasText: 'hi' }).waitFor({ timeout: STEP_MS });
  await review(alice.page, 'group-conversation');

  // A file to the group: Alice picks it in the group; Bob's conversation shows the offer and takes him to Files,
  // where he accepts it; the file he saves is hers byte for byte. Then he goes back to the group.
  const groupFile = randomBytes(256 * 1024 + 5);
  const [groupChooser] = await Promise.all([
    alice.page.waitForEvent('filechooser'),
    alice.page.getByRole('button', { name: `Send a file to ${name}` }).click(),
  ]);
  await groupChooser.setFiles({
    name: 'club-notes.bin',
    mimeType: 'application/octet-stream',
    buffer: groupFile,
  });
  const offerLine = bob.page.locator('.bubble.theirs .group-file', { hasText: 'club-notes.bin' });
  await offerLine.waitFor({ timeout: STEP_MS });
  await alice.page
    .locator('.bubble.mine .group-file', { hasText: 'club-notes.bin' })
    .waitFor({ timeout: STEP_MS });
  await offerLine.getByRole('button', { name: 'Accept it in Files' }).click();
  const groupOffer = bob.page.locator('.transfer-item[data-state="offered"]', { hasText: 'club-notes.bin' });
  await groupOffer.waitFor({ timeout: STEP_MS });
  await groupOffer.getByRole('button', { name: 'Accept' }).click();
  const groupReceived = bob.page.locator('.transfer-item[data-state="complete"]', {
    hasText: 'club-notes.bin',
  });
  await groupReceived.waitFor({ timeout: STEP_MS });
  const [groupDownload] = await Promise.all([
    bob.page.waitForEvent('download', { timeout: STEP_MS }),
    groupReceived.getByRole('link', { name: /^Save/ }).click(),
  ]);
  const groupSaved = join(mkdtempSync(join(tmpdir(), 'dhtchat-saved-')), 'saved');
  await groupDownload.saveAs(groupSaved);
  assert.ok(readFileSync(groupSaved).equals(groupFile), 'the saved file is the one Alice sent the group');
  await menuButton(bob.page, 'Groups').click();
  await bob.page
    .getByRole('list', { name: 'Your groups' })
    .locator('.contact-item', { hasText: name })
    .click();
  await bob.page.locator('.bubble.theirs', { hasText: 'hello club' }).waitFor({ timeout: STEP_MS });

  // Alice makes Bob an admin (his list says so), then Bob leaves: his composer gives way to a note, and Alice's
  // group is hers alone again.
  await alice.page.getByRole('button', { name: /^Make admin bob/ }).click();
  await bob.page.getByRole('button', { name: 'Members', exact: true }).click();
  await bob.page
    .locator('.member-item', { hasText: 'You' })
    .filter({ hasText: 'admin' })
    .waitFor({ timeout: STEP_MS });
  await bob.page.getByRole('button', { name: 'Leave group' }).click();
  await bob.page.getByRole('button', { name: 'Leave for good' }).click();
  await bob.page.locator('.group-ended').waitFor({ timeout: STEP_MS });
  assert.equal(await bob.page.locator('#group-composer-text').count(), 0);
  await alice.page
    .getByTestId('group-status')
    .filter({ hasText: /^1 member$/ })
    .waitFor({ timeout: STEP_MS });
  await review(bob.page, 'group-left');
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  assert.deepEqual([...alice.dialogs, ...bob.dialogs], []);
});
