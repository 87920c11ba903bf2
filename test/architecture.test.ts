/**
 * The layer rule of docs/ARCHITECTURE.md, checked: imports only point down the layer table, and a file reaches
 * another layer only through that layer's index.ts. Also: protocol layers never touch the real world directly.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Lower rank = lower layer. A layer may import layers of strictly lower rank (and itself). */
const LAYER_RANK: Record<string, number> = {
  runtime: 0,
  wire: 1,
  crypto: 2,
  dht: 3,
  net: 3,
  bootstrap: 4,
  chat: 5,
  app: 6,
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function layerOf(path: string): string | undefined {
  const rel = relative(join(root, 'src'), path);
  if (rel.startsWith('..')) return undefined;
  return rel.split('/')[0];
}

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) specifiers.push((match[1] ?? match[2]) as string);
  return specifiers;
}

const files = sourceFiles(join(root, 'src'));

test('there are source files to check', () => {
  assert.ok(files.length > 5);
});

test('imports point down the layer table and cross layers only through index.ts', () => {
  const violations: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const to = layerOf(target);
      const where = `${relative(root, file)} -> ${spec}`;
      if (to === undefined) {
        violations.push(`${where}: leaves src/`);
        continue;
      }
      if (to === from) continue;
      const fromRank = LAYER_RANK[from];
      const toRank = LAYER_RANK[to];
      if (fromRank === undefined || toRank === undefined) {
        violations.push(`${where}: unknown layer`);
        continue;
      }
      if (toRank >= fromRank) violations.push(`${where}: ${from} may not import ${to}`);
      if (relative(join(root, 'src', to), target) !== 'index.ts') {
        violations.push(`${where}: must go through src/${to}/index.ts`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('protocol layers never call the real clock, timers, Math.random, dgram or console', () => {
  const forbidden = /\b(Date\.now\(|setTimeout\(|setInterval\(|Math\.random\(|console\.|from 'node:dgram')/;
  const violations: string[] = [];
  for (const file of files) {
    const layer = layerOf(file);
    if (layer === 'app' || layer === 'runtime') continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (forbidden.test(code)) violations.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(violations, []);
});
