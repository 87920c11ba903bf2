import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyNatMapping } from '../../src/chat/nat-mapping.ts';

const lan = [{ host: '192.168.1.5', port: 6881 }];

test('our NAT mapping, from the ports DHT nodes saw us on', () => {
  assert.equal(classifyNatMapping(undefined, lan), 'unknown');
  assert.equal(classifyNatMapping({ host: '192.168.1.5', ports: [] }, lan), 'none', 'the voted host is ours');
  assert.equal(classifyNatMapping({ host: '203.0.113.9', ports: [6881] }, lan), 'unknown', 'one report');
  assert.equal(classifyNatMapping({ host: '203.0.113.9', ports: [6881, 6881, 6881] }, lan), 'keeps');
  // A stale report from before a re-mapping does not hide a port-keeping NAT.
  assert.equal(classifyNatMapping({ host: '203.0.113.9', ports: [7000, 6881, 6881, 6881] }, lan), 'keeps');
  assert.equal(
    classifyNatMapping({ host: '203.0.113.9', ports: [40001, 52113, 1999, 61002] }, lan),
    'randomises',
  );
  assert.equal(classifyNatMapping({ host: '203.0.113.9', ports: [7000, 7000, 6881, 6881] }, lan), 'unknown');
});
