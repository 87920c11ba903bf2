/**
 * The web client's second round in a real browser against real daemons on a loopback testnet (Alice and Bob,
 * friends and online): the identity backup downloaded from settings imports with `dhtchat import` into an empty
 * data dir; each screen gets axe-core's check and a screenshot (test-output/screenshots/).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  dumpingLogs,
  type FriendsOnTestnet,
  type JsonLinesProcess,
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

before(async () => {
  if (SKIP_REASON !== undefined) return;
  ensureUiBuilt();
  await dumpingLogs(running, async () => {
    [browser, friends] = await Promise.all([launchBrowser(), startFriendsOnTestnet(running)]);
    aliceTab = await openClient(browser, friends.alice.dir);
    await skipOnboarding(aliceTab.page);
  });
});

after(async () => {
  await browser?.close();
  await stopAll(running);
});

/** The scene the before hook set up (only called when the browser tests run). */
function scene(): { friends: FriendsOnTestnet; alice: ClientTab } {
  if (friends === undefined || aliceTab === undefined) throw new Error('the scene was not set up');
  return { friends, alice: aliceTab };
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
