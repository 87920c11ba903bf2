/** A sender's file name made safe: traversal, separators, NUL and controls, bidi, reserved names, long names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SAFE_NAME_BYTES, numberedName, safeFileName } from '../../../src/chat/files/safe-name.ts';
import { SeededRandom } from '../../../src/runtime/index.ts';

test('only the last path component survives, whatever the separator', () => {
  assert.equal(safeFileName('../../etc/passwd'), 'passwd');
  assert.equal(safeFileName('..\\x'), 'x');
  assert.equal(safeFileName('..\\..\\Windows\\System32\\drivers\\etc\\hosts'), 'hosts');
  assert.equal(safeFileName('/absolute/path.txt'), 'path.txt');
  assert.equal(safeFileName('C:\\boot.ini'), 'boot.ini');
  assert.equal(safeFileName('C:boot.ini'), 'C_boot.ini', 'a drive-relative name loses its colon');
  assert.equal(safeFileName('dir/'), 'dir');
  for (const empty of ['', '.', '..', '...', '/', '\\', '../..', ' ', '. .']) {
    assert.equal(safeFileName(empty), 'file', JSON.stringify(empty));
  }
});

test('NUL, controls, bidi overrides and zero-width characters become "_"', () => {
  assert.equal(safeFileName('a\u0000b'), 'a_b');
  assert.equal(safeFileName('line\nbreak\r.txt'), 'line_break_.txt');
  assert.equal(safeFileName('\u001b[31mred.txt'), '_[31mred.txt');
  assert.equal(safeFileName('invoice\u202efdp.exe'), 'invoice_fdp.exe', 'RLO cannot disguise .exe');
  assert.equal(safeFileName('a\u2066b\u2069c'), 'a_b_c');
  assert.equal(safeFileName('zero\u200bwidth'), 'zero_width');
  assert.equal(safeFileName('del\u007f'), 'del_');
  assert.equal(safeFileName('c1\u0085'), 'c1_');
  assert.equal(safeFileName('sep\u2028x'), 'sep_x');
  assert.equal(safeFileName('private\ue000'), 'private_');
  assert.equal(safeFileName('what?<>|*"'), 'what______');
  assert.equal(safeFileName('tab\there'), 'tab_here');
  assert.equal(safeFileName('nbsp\u00a0name'), 'nbsp name');
});

test('no hidden or dot names, no trailing dots or spaces; other scripts, emoji and NFC kept', () => {
  assert.equal(safeFileName('.bashrc'), 'bashrc');
  assert.equal(safeFileName('  spaced  '), 'spaced');
  assert.equal(safeFileName('trailing.'), 'trailing');
  assert.equal(safeFileName('photo 😀 фото 写真.jpg'), 'photo 😀 фото 写真.jpg');
  assert.equal(safeFileName('cafe\u0301.txt'), 'caf\u00e9.txt');
});

test('Windows device names are never created as such', () => {
  for (const name of ['CON', 'con.txt', 'NUL', 'nul.tar.gz', 'COM1', 'lpt9.log', 'PRN', 'AUX.c', 'COM¹']) {
    assert.equal(safeFileName(name), `_${name}`, name);
  }
  assert.equal(safeFileName('console.txt'), 'console.txt');
  assert.equal(safeFileName('com10'), 'com10');
});

test('long names are cut between code points within the limit, keeping the extension', () => {
  const long = `${'é'.repeat(400)}.pdf`;
  const safe = safeFileName(long);
  assert.ok(Buffer.byteLength(safe) <= MAX_SAFE_NAME_BYTES);
  assert.ok(safe.endsWith('é.pdf'));
  assert.equal(safeFileName('😀'.repeat(100)).length % 2, 0, 'no half surrogate pair');
  const noExtension = safeFileName('x'.repeat(300));
  assert.equal(noExtension, 'x'.repeat(MAX_SAFE_NAME_BYTES));
});

test('numbered alternatives: "name (n).ext", archives as "name (n).tar.gz"', () => {
  assert.equal(numberedName('report.pdf', 0), 'report.pdf');
  assert.equal(numberedName('report.pdf', 1), 'report (1).pdf');
  assert.equal(numberedName('archive.tar.gz', 2), 'archive (2).tar.gz');
  assert.equal(numberedName('README', 3), 'README (3)');
  assert.equal(numberedName('bashrc', 1), 'bashrc (1)');
});

test('property: whatever the input, the name is one safe component of bounded size', () => {
  const random = new SeededRandom('safe-name');
  const alphabet = ['a', '.', '/', '\\', '\u0000', '\u202e', ' ', 'é', '😀', ':', '\n', 'C', 'O', 'N'];
  for (let i = 0; i < 2000; i++) {
    let raw = '';
    const length = random.int(300);
    for (let j = 0; j < length; j++) raw += alphabet[random.int(alphabet.length)];
    const safe = safeFileName(raw);
    assert.ok(safe.length > 0);
    assert.ok(Buffer.byteLength(safe) <= MAX_SAFE_NAME_BYTES, raw);
    assert.ok(!/[/\\\u0000-\u001f\u202e:]/u.test(safe), JSON.stringify(safe));
    assert.ok(!safe.startsWith('.') && !safe.endsWith('.') && !safe.endsWith(' '), JSON.stringify(safe));
    assert.ok(safe !== '..' && !/^(con|nul)(\.|$)/i.test(safe));
    assert.equal(safeFileName(safe), safe, 'idempotent');
  }
});
