/**
 * The RFC 4787 classification rules of nat-classification.ts, on hand-made observations (no namespaces: this
 * runs everywhere; nat-kinds.test.ts runs the probes for real).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFiltering, classifyMapping, isPortPreserving } from './nat-classification.ts';

const local = '192.168.1.10:4000';

test('mapping: none, endpoint-independent, address-dependent, address-and-port-dependent', () => {
  assert.equal(classifyMapping({ local, viaA1: local, viaA2: local, viaB1: local }), 'none');
  const same = '198.19.1.1:4000';
  assert.equal(classifyMapping({ local, viaA1: same, viaA2: same, viaB1: same }), 'endpoint-independent');
  assert.equal(
    classifyMapping({ local, viaA1: same, viaA2: same, viaB1: '198.19.1.1:5000' }),
    'address-dependent',
  );
  assert.equal(
    classifyMapping({ local, viaA1: same, viaA2: '198.19.1.1:6000', viaB1: '198.19.1.1:5000' }),
    'address-and-port-dependent',
  );
  // One endpoint seen as ours but not the others is a NAT all the same (a mapping happened).
  assert.equal(classifyMapping({ local, viaA1: local, viaA2: local, viaB1: same }), 'address-dependent');
});

test('filtering: what got in decides, the other address first', () => {
  assert.equal(classifyFiltering({ otherAddress: true, otherPort: true }), 'endpoint-independent');
  assert.equal(classifyFiltering({ otherAddress: true, otherPort: false }), 'endpoint-independent');
  assert.equal(classifyFiltering({ otherAddress: false, otherPort: true }), 'address-dependent');
  assert.equal(classifyFiltering({ otherAddress: false, otherPort: false }), 'address-and-port-dependent');
});

test('port preservation compares the first mapping with the local port', () => {
  const viaB1 = '198.19.1.1:5';
  assert.equal(isPortPreserving({ local, viaA1: '198.19.1.1:4000', viaA2: '198.19.1.1:4000', viaB1 }), true);
  assert.equal(isPortPreserving({ local, viaA1: '198.19.1.1:4001', viaA2: '198.19.1.1:4001', viaB1 }), false);
});
