/** Which text in a message becomes a link (ui/src/lib/link-split.ts): http(s) only, the text kept whole. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWebUrl, splitLinks } from '../../../ui/src/lib/link-split.ts';

const joined = (text: string): string =>
  splitLinks(text)
    .map((p) => (p.kind === 'text' ? p.text : p.url))
    .join('');

test('http and https addresses become links; sentence punctuation after them stays text', () => {
  assert.deepEqual(splitLinks('see https://example.com/a?b=1, then http://x.org.'), [
    { kind: 'text', text: 'see ' },
    { kind: 'url', url: 'https://example.com/a?b=1' },
    { kind: 'text', text: ', then ' },
    { kind: 'url', url: 'http://x.org' },
    { kind: 'text', text: '.' },
  ]);
});

test('javascript:, data:, file: and Markdown links stay plain text', () => {
  for (const text of [
    'javascript:alert(1)',
    '[click](javascript:alert(1))',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    '<a href="javascript:x">a</a>',
  ]) {
    assert.deepEqual(splitLinks(text), [{ kind: 'text', text }], text);
  }
});

test('the parts always join back to the exact text', () => {
  for (const text of [
    '',
    'plain',
    'a https://b.c/d e',
    'https://x.y/<script>',
    'x'.repeat(20_000) + 'https://a.b',
  ]) {
    assert.equal(joined(text), text);
  }
  assert.equal(isWebUrl('https://example.com'), true);
  assert.equal(isWebUrl('javascript:alert(1)'), false);
  assert.equal(isWebUrl('https://'), false);
});
