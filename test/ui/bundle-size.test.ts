/**
 * The web client's initial load stays small (issue 12: at most 150 KB of compressed JavaScript): the scripts
 * index.html pulls in, gzipped as the daemon serves them. A size, not a speed: counted, never timed. The build
 * also leaves a brotli and a gzip twin next to each text file, which the daemon serves as they are.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../helpers/cli-runner.ts';
import { ensureUiBuilt } from './browser-harness.ts';

const MAX_INITIAL_JS_GZIP_BYTES = 150 * 1024;
const ui = join(REPO_ROOT, 'dist', 'ui');

before(() => ensureUiBuilt());

test('the initial JavaScript is at most 150 KB gzipped, and ships precompressed', () => {
  const html = readFileSync(join(ui, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map(
    (m) => m[1],
  );
  assert.ok(scripts.length >= 1, 'index.html loads a script');
  let gzipBytes = 0;
  for (const script of scripts) {
    const file = join(ui, script as string);
    gzipBytes += gzipSync(readFileSync(file), { level: 9 }).length;
    assert.ok(existsSync(`${file}.br`) && existsSync(`${file}.gz`), `${script} has its .br and .gz twins`);
  }
  assert.ok(gzipBytes <= MAX_INITIAL_JS_GZIP_BYTES, `${gzipBytes} bytes of gzipped JavaScript at start`);
});

test('the page loads nothing from elsewhere: every script and style is under /assets/', () => {
  const html = readFileSync(join(ui, 'index.html'), 'utf8');
  for (const match of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    const ref = match[1] ?? '';
    assert.ok(ref.startsWith('/assets/') || ref === 'data:,', `${ref} is the client's own`);
  }
});
