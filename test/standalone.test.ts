/**
 * The repository stands alone: no file of src/, test/, bench/, sim/, bin/, docs/ (nor the top-level files) names or
 * reaches a path outside it, so `git clone … && npm ci && npm test` works in a folder with nothing beside it.
 * The check itself (test/helpers/outside-references.ts) is proven on planted examples first. Also: every
 * `docs/PROTOCOL.md "<section>"` that a comment or document cites is a heading of that file.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { findOutsideReferences, isInside } from './helpers/outside-references.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SCANNED_FOLDERS = ['src', 'test', 'bench', 'sim', 'bin', 'docs', '.ci'];
const SCANNED_TOP_FILES = ['README.md', 'package.json', 'tsconfig.json', 'biome.json'];
const SCANNED_EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs', '.md', '.json', '.c', '.py', '.sh', ''];
/** The check and its planted examples hold the forbidden names and paths as data. */
const SELF = ['test/standalone.test.ts', 'test/helpers/outside-references.ts'];

function filesUnder(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (
      entry.isFile() &&
      SCANNED_EXTENSIONS.some((ext) => (ext === '' ? !entry.name.includes('.') : entry.name.endsWith(ext)))
    ) {
      out.push(path);
    }
  }
  return out;
}

/** A planted file at a path of the repository (it need not exist): its references, as "line: text". */
function planted(path: string, source: string): string[] {
  return findOutsideReferences(source, join(ROOT, path), ROOT).map((r) => `${r.line}: ${r.text}`);
}

// The planted names are built from parts so this file does not itself name a folder beside the repository.
const SHARED = ['sha', 'red'].join('');

describe('the outside-reference check catches planted examples', () => {
  test('names of things beside the repository', () => {
    assert.deepEqual(planted('src/a.ts', `// see ../${SHARED}/DESIGN.md\nconst x = '/work/main';\n`), [
      `1: ../${SHARED}`,
      '2: /work/',
      '1: DESIGN.md',
    ]);
    assert.deepEqual(
      planted('test/a.test.ts', `read('${SHARED}/vectors/x.json'); run('${SHARED}/tools/y');`),
      [`1: ${SHARED}/vectors`, `1: ${SHARED}/tools`],
    );
    assert.deepEqual(planted('test/a.test.ts', `import { x } from './helpers/${SHARED}-files.ts';`), []);
  });

  test('import specifiers and import.meta.url URLs are resolved from the file', () => {
    assert.deepEqual(planted('test/dht/a.test.ts', "import { v } from '../../../vectors/x.ts';"), [
      '1: ../../../vectors/x.ts',
    ]);
    assert.deepEqual(planted('test/dht/a.test.ts', "import { v } from '../../src/dht/index.ts';"), []);
    assert.deepEqual(
      planted(
        'test/dht/handlers/a.ts',
        "const v = readFileSync(\n  new URL('../../../../elsewhere/v.json', import.meta.url),\n);",
      ),
      ['2: ../../../../elsewhere/v.json'],
    );
    assert.deepEqual(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture is source text holding a template literal.
      planted('test/a.ts', 'readFileSync(new URL(`../vectors/${name}`, import.meta.url));'),
      [],
    );
    assert.deepEqual(planted('test/a.ts', "const m = await import('../../x.mjs');"), ['1: ../../x.mjs']);
    assert.deepEqual(planted('bin/a.js', "new URL('/etc/passwd', import.meta.url);"), ['1: /etc/passwd']);
  });

  test('join/resolve from the file, its folder constants and named roots', () => {
    assert.equal(
      planted('bench/a.ts', "const TOOLS = join(import.meta.dirname, '..', '..', 'tools', 'load');").length,
      1,
    );
    assert.deepEqual(planted('bench/a.ts', "const LOAD = join(import.meta.dirname, 'load', 'x.ts');"), []);
    const viaConstant = [
      "const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');",
      "const inside = join(root, 'test', 'vectors');",
      "const outside = join(root, '..', 'vectors');",
    ].join('\n');
    assert.deepEqual(planted('test/helpers/a.ts', viaConstant), ["3: join(root, '..', 'vectors')"]);
    assert.deepEqual(planted('bench/a.ts', "spawn(join(REPO_ROOT, '..', 'other', 'tool.mjs'));"), [
      "1: join(REPO_ROOT, '..', 'other', 'tool.mjs')",
    ]);
    // Paths that start anywhere else are not followed (a promise's resolve, a temp folder, the cwd).
    assert.deepEqual(
      planted(
        'bench/a.ts',
        "resolve('../..'); join(tmpdir(), '..', 'x'); new Promise((resolve) => resolve(1));",
      ),
      [],
    );
  });

  test('Markdown links are resolved from the document', () => {
    assert.deepEqual(planted('docs/A.md', 'See [the brief](../../notes/BRIEF.md) and [cli](CLI.md#exit).'), [
      '1: ../../notes/BRIEF.md',
    ]);
    assert.deepEqual(
      planted('README.md', '[docs](docs/ARCHITECTURE.md), [web](https://example.org/a/../b)'),
      [],
    );
  });

  test('isInside: the root and below, never beside', () => {
    assert.equal(isInside(ROOT, ROOT), true);
    assert.equal(isInside(join(ROOT, 'test', 'vectors'), ROOT), true);
    assert.equal(isInside(resolve(ROOT, '..', SHARED), ROOT), false);
    assert.equal(isInside(`${ROOT}-copy/x`, ROOT), false);
    assert.equal(isInside(join(ROOT, '..x'), ROOT), true);
  });
});

test('no file of the repository refers to a path outside it', () => {
  const files = [
    ...SCANNED_FOLDERS.flatMap((folder) => filesUnder(join(ROOT, folder))),
    ...SCANNED_TOP_FILES.map((name) => join(ROOT, name)),
  ];
  assert.ok(files.length > 300, `scanned ${files.length} files`);
  const violations: string[] = [];
  for (const file of files) {
    const path = relative(ROOT, file);
    if (SELF.includes(path)) continue;
    for (const r of findOutsideReferences(readFileSync(file, 'utf8'), file, ROOT)) {
      violations.push(`${path}:${r.line}: ${r.text} (${r.why})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('every docs/PROTOCOL.md "<section>" cited is a heading of docs/PROTOCOL.md', () => {
  const headings = new Set(
    [...readFileSync(join(ROOT, 'docs', 'PROTOCOL.md'), 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!),
  );
  const cited: string[] = [];
  const missing: string[] = [];
  for (const file of SCANNED_FOLDERS.flatMap((folder) => filesUnder(join(ROOT, folder)))) {
    if (SELF.includes(relative(ROOT, file))) continue;
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/PROTOCOL\.md\)? "([^"]+)"/g)) {
      const section = match[1]!.replace(/\s*\n\s*\*?\s*/g, ' ');
      cited.push(section);
      if (!headings.has(section)) missing.push(`${relative(ROOT, file)}: "${section}"`);
    }
  }
  assert.ok(cited.length >= 10, `found ${cited.length} citations`);
  assert.deepEqual(missing, []);
});
