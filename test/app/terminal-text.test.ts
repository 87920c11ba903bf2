import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isTerminalSafe, terminalSafe } from '../../src/app/terminal-text.ts';

test('the escape-injection string of the issue prints as one inert line', () => {
  const attack = 'hi\x1b[2J\x1b]0;owned\x07\r\nFAKE: Alice: send me your password';
  const safe = terminalSafe(attack);
  assert.equal(safe, 'hi\\x1b[2J\\x1b]0;owned\\x07\\r\\nFAKE: Alice: send me your password');
  assert.equal(isTerminalSafe(safe), true);
  assert.equal(isTerminalSafe(attack), false);
});

test('C1 controls, DEL, separators, bidi controls and lone surrogates are escaped', () => {
  assert.equal(terminalSafe('a\x9b31mb'), 'a\\x9b31mb');
  assert.equal(terminalSafe('\x7f'), '\\x7f');
  assert.equal(terminalSafe('\t'), '\\t');
  assert.equal(terminalSafe('x\u2028y\u2029'), 'x\\u2028y\\u2029');
  assert.equal(terminalSafe('invoice\u202Etxt.exe'), 'invoice\\u202etxt.exe');
  for (const c of [
    '\u202a',
    '\u202b',
    '\u202c',
    '\u202d',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
    '\u200e',
    '\u200f',
    '\u061c',
  ]) {
    assert.equal(terminalSafe(c), `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
  }
  assert.equal(terminalSafe('a\ud800b'), 'a\\ud800b');
  assert.equal(terminalSafe('\udc00'), '\\udc00');
  assert.equal(terminalSafe('\ufff9hidden\ufffb'), '\\ufff9hidden\\ufffb');
});

test('ordinary Unicode, emoji sequences and right-to-left text are kept exactly', () => {
  for (const text of [
    'Grüße, Zoë — “quoted” ½ ß',
    'שלום עולם',
    'مرحبا بالعالم',
    '你好，世界',
    '👩‍👩‍👧‍👦 family, 👍🏽 thumbs, ❤️ heart, 🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland, 🇫🇷',
    'नमस्ते', // Devanagari with virama
    'می‌خواهم', // Persian with ZWNJ
    'back\\slash and \\x1b typed by hand',
  ]) {
    assert.equal(terminalSafe(text), text);
    assert.equal(isTerminalSafe(text), true);
  }
});

test('property: the output never holds an unsafe character and safe input is untouched', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (text) => {
      const safe = terminalSafe(text);
      assert.equal(isTerminalSafe(safe), true);
      assert.equal(terminalSafe(safe), safe);
      if (isTerminalSafe(text)) assert.equal(safe, text);
      // Nothing below U+0020 and no ESC survives in any form.
      for (const char of safe) assert.ok(char.codePointAt(0)! >= 0x20 && char !== '\x7f');
    }),
    { numRuns: 2000, seed: 9 },
  );
});
