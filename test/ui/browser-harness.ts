/**
 * The browser side of the web client's tests: Debian's chromium driven by playwright-core, headless, one fresh
 * context (cookies, storage) per user, logged in with a one-time link from that user's daemon. Also: the build
 * the daemons serve (made once if missing or older than ui/), screenshots under test-output/screenshots/ for
 * review, and axe-core's accessibility check.
 *
 * Without /usr/bin/chromium the browser tests are skipped with that reason (CI installs the `chromium` package).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { callDaemon } from '../../src/app/chat-api-client.ts';
import { REPO_ROOT } from '../helpers/cli-runner.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';
export const SKIP_REASON = existsSync(CHROMIUM_PATH)
  ? undefined
  : `no ${CHROMIUM_PATH}: install Debian's chromium package (.ci/run does) to run the browser tests`;
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A user's browser tab, logged in to the daemon of dataDir. */
export interface ClientTab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** alert/confirm/prompt dialogs the page opened (an XSS payload that ran would open one). */
  readonly dialogs: string[];
  /** Uncaught page errors. */
  readonly errors: string[];
}

export async function loginUrl(dataDir: string): Promise<string> {
  return ((await callDaemon(dataDir, 'POST', '/v1/login-link', {})) as { url: string }).url;
}

export async function openClient(
  browser: Browser,
  dataDir: string,
  viewport: { width: number; height: number } = { width: 1100, height: 760 },
): Promise<ClientTab> {
  const context = await browser.newContext({ viewport, colorScheme: 'light' });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(await loginUrl(dataDir));
  return { context, page, dialogs, errors };
}

/** Past the first-run screens (a name is set with `init --name` in these tests). */
export async function skipOnboarding(page: Page): Promise<void> {
  const skip = page.getByRole('button', { name: 'Skip all' });
  const menu = page.getByRole('navigation', { name: 'Menu' });
  await skip.or(menu).first().waitFor({ timeout: 30_000 });
  if (await skip.isVisible()) await skip.click({ timeout: 5000 });
  await menu.waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core on the page as it is: the serious and critical violations, one line each (none expected). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (the page itself runs no
  // inline script; this is the test's own code).
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<AxeResult> } }).axe;
    const result = await axe.run();
    // A run that checked nothing would find nothing: make sure it looked.
    if (result.passes.length === 0) throw new Error('axe-core checked no rule on this page');
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`);
}

interface AxeResult {
  violations: AxeViolation[];
  passes: unknown[];
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Builds dist/ui once when it is missing or older than a file under ui/ (a developer's edited tree; CI's
 * `npm ci` has built it). Test files run in parallel, so one build at a time (a lock directory).
 */
export function ensureUiBuilt(): void {
  const index = join(REPO_ROOT, 'dist', 'ui', 'index.html');
  const isFresh = (): boolean =>
    existsSync(index) && statSync(index).mtimeMs >= newestMtimeMs(join(REPO_ROOT, 'ui'));
  if (isFresh()) return;
  const lock = join(REPO_ROOT, 'dist', '.ui-build-lock');
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} held for 2 minutes: remove it if no build runs`);
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (!isFresh()) {
      execFileSync(
        process.execPath,
        [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'ui/vite.config.ts'],
        {
          cwd: REPO_ROOT,
          stdio: 'ignore',
        },
      );
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}
