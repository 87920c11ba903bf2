/**
 * The web client's layer rule (docs/ARCHITECTURE.md, "Web client"): ui/ talks to the daemon over HTTP only, so
 * its sources import nothing from src/ (nor anything else outside ui/), and only the three packages it ships
 * with. Its API shapes are its own copy (ui/src/api/api-types.ts), checked against real daemons by the browser
 * tests.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const uiSrc = join(root, 'ui', 'src');
const PACKAGES = new Set(['preact', 'preact/hooks', '@preact/signals', 'uqr']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

test('ui/src imports only itself and its three packages', () => {
  const files = sources(uiSrc);
  assert.ok(files.length > 10);
  const violations: string[] = [];
  const pattern = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      const spec = (match[1] ?? match[2]) as string;
      const where = `${relative(root, file)} -> ${spec}`;
      if (spec.startsWith('.')) {
        if (relative(uiSrc, resolve(dirname(file), spec)).startsWith('..'))
          violations.push(`${where}: leaves ui/src`);
      } else if (!PACKAGES.has(spec)) {
        violations.push(`${where}: not one of ${[...PACKAGES].join(', ')}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the client has no inline script or style, and no markup parsed from strings', () => {
  const html = readFileSync(join(root, 'ui', 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script has a src');
  assert.doesNotMatch(html, /<style|\sstyle=/);
  for (const file of sources(uiSrc)) {
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(
      text,
      /dangerouslySetInnerHTML|innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
      file,
    );
    assert.doesNotMatch(text, /\beval\(|new Function\(/, file);
  }
});
