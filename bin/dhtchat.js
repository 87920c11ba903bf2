#!/usr/bin/env node
// Entry point for `npx dhtchat`. `npm ci` builds dist/dhtchat.mjs (esbuild, the `prepare` script): it starts in
// ~0.2 s where compiling the TypeScript through tsx on every start takes ~0.7 s, which a user waits for at each
// daemon start and each CLI command. The bundle is used only while it is newer than every file under src/; an
// edited tree (or a missing bundle) runs from source through tsx, so the two can never disagree.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/dhtchat.mjs', import.meta.url));
const sources = fileURLToPath(new URL('../src/', import.meta.url));

function newestSourceMs() {
  let newest = 0;
  for (const entry of readdirSync(sources, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
  }
  return newest;
}

function isBundleFresh() {
  if (process.env.DHTCHAT_FROM_SOURCE === '1') return false;
  try {
    return statSync(bundle).mtimeMs >= newestSourceMs();
  } catch {
    return false;
  }
}

if (isBundleFresh()) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/app/cli.ts');
}
