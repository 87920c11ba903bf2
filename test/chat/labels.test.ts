import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABELS } from '../../src/chat/index.ts';

test('labels: distinct, ASCII without NUL, namespaced and versioned', () => {
  const values = Object.values(LABELS);
  assert.equal(new Set(values).size, values.length);
  for (const label of values) {
    assert.match(label, /^dhtchat\/[a-z0-9/-]+\/v\d+$/, label);
    assert.ok(!label.includes('\0'));
  }
  assert.equal(LABELS.pair, 'dhtchat/pair/v1', 'docs/PROTOCOL.md "Pair secret" names this salt');
});
