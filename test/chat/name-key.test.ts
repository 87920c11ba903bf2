/**
 * Name keys (src/chat/name-key.ts): the skeleton and the NFKC case folding against ICU's own answers, then the
 * clashes that matter for contact names — case, look-alike scripts, digits for letters, invisible characters.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  areConfusable,
  builtInNameKeyTables,
  NAME_KEY_VERSION,
  nameKeys,
  nfkcCaseFold,
  parseCodePointTable,
  skeleton,
} from '../../src/chat/name-key.ts';
import { NAME_KEY_DATA_VERSION } from '../../src/chat/name-key-data.ts';

/**
 * [input, ICU 72.1 SpoofChecker.getSkeleton(input), ICU 72.1 nfkc_cf normalize(input)], printed by python3-icu
 * (Debian bookworm) — the same ICU the tables were generated from.
 */
const ICU_VECTORS: ReadonlyArray<readonly [string, string, string]> = [
  ['Alice', 'Alice', 'alice'],
  ['\u0410lice', 'Alice', '\u0430lice'],
  ['a1ice', 'alice', 'a1ice'],
  ['\u0440\u0430\u0443\u0440\u0430l', 'paypal', '\u0440\u0430\u0443\u0440\u0430l'],
  ['\u210cello', 'Hello', 'hello'],
  ['\ud835\udc01\ud835\udc28\ud835\udc1b', 'Bob', 'bob'],
  ['\u01c4emal', 'DZ\u030cernal', 'd\u017eemal'],
  ['\ufb01nance', 'finance', 'finance'],
  ['\u03a9mega', '\u03a9rnega', '\u03c9mega'],
  ['\u13daam', 'Sarn', '\u13daam'],
  ['\ua4daat', 'Cat', '\ua4daat'],
  ['\u216b', 'Xll', 'xii'],
  ['\u2474', '(l)', '(1)'],
  ['\u01f1', 'DZ', 'dz'],
  ['Stra\u00dfe', 'Stra\u00dfe', 'strasse'],
  ['\u03a3\u0391\u03a3', '\u01a9A\u01a9', '\u03c3\u03b1\u03c3'],
  ['\u0130stanbul', 'l\u0307stanbul', 'i\u0307stanbul'],
  ['\uff8a\uff9f\uff9d', '\uff8a\uff9f\uff9d', '\u30d1\u30f3'],
  ['\u24b6bc', '\u24b6bc', 'abc'],
  ['m', 'rn', 'm'],
  ['\u1e0b', 'd\u0307', '\u1e0b'],
  ['e\u0301\u0323', 'e\u0323\u0301', '\u1eb9\u0301'],
];

const clash = (a: string, b: string): boolean => areConfusable(nameKeys(a), nameKeys(b));

describe('name keys', () => {
  const tables = builtInNameKeyTables();

  test("skeleton and NFKC case folding agree with ICU's on every vector", () => {
    for (const [input, icuSkeleton, icuFolded] of ICU_VECTORS) {
      assert.equal(skeleton(input, tables.prototypes), icuSkeleton, `skeleton of ${JSON.stringify(input)}`);
      assert.equal(nfkcCaseFold(input, tables.caseFolding), icuFolded, `fold of ${JSON.stringify(input)}`);
    }
  });

  test('a friend "Alice" clashes with every way a stranger could write her name', () => {
    const impostors = [
      'alice',
      'ALICE',
      '\u0410lice', // Cyrillic А
      '\u0430lice', // Cyrillic а
      'a1ice', // digit one for l
      'AIice', // capital I for l
      'A\u200blice', // zero-width space inside
      '\uff21lice', // fullwidth A
      '\ud835\udc00lice', // mathematical bold A
      'Alic\u0435', // Cyrillic е at the end
    ];
    for (const impostor of impostors) assert.ok(clash('Alice', impostor), JSON.stringify(impostor));
  });

  test('case-sensitive look-alikes clash too ("Ian" and "lan"), distinct names do not', () => {
    assert.ok(clash('Ian', 'lan'));
    assert.ok(clash('B0b', 'bob'));
    assert.ok(clash('mary', 'rnary'));
    assert.ok(clash('Straße', 'STRASSE'));
    for (const [a, b] of [
      ['Alice', 'Alicia'],
      ['ian', 'lan'],
      ['Bob', 'Rob'],
      ['李', '季'],
      ['Zoë', 'Zoe 2'],
    ] as const) {
      assert.equal(clash(a, b), false, `${a} / ${b}`);
    }
  });

  test('keys are stable strings, and the version names the data and the engine', () => {
    assert.deepEqual(nameKeys('Аlice'), { folded: 'alice', skeletonFirst: 'alice' });
    assert.deepEqual(nameKeys('Ian'), { folded: 'ian', skeletonFirst: 'lan' });
    assert.ok(NAME_KEY_VERSION.includes(NAME_KEY_DATA_VERSION));
    assert.ok(NAME_KEY_VERSION.includes(`engine-unicode-${process.versions.unicode}`));
  });

  test('the table encoding: single entries, multi-code-point targets and runs', () => {
    const table = parseCodePointTable('41:61 6d:72.6e 1d400+3:41');
    assert.equal(table.get(0x41), 'a');
    assert.equal(table.get(0x6d), 'rn');
    assert.deepEqual(
      [0x1d400, 0x1d401, 0x1d402].map((cp) => table.get(cp)),
      ['A', 'B', 'C'],
    );
    assert.equal(table.get(0x1d403), undefined);
    // The built-in tables hold thousands of entries (a truncated file would pass the ICU vectors less often).
    assert.equal(tables.prototypes.get(0x0430), 'a');
    assert.equal(tables.caseFolding.get(0x1e9e), 'ss');
  });
});
