import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeNodeFile,
  encodeNodeFile,
  loadNodes,
  type NodeStore,
  nodeFileName,
  saveNodes,
} from '../../src/bootstrap/index.ts';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { DhtchatError } from '../../src/runtime/index.ts';
import { makeServer } from './server-harness.ts';

function memoryStore(): NodeStore & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    read: (name) => files.get(name),
    write: (name, bytes) => void files.set(name, Buffer.from(bytes)),
  };
}

describe('persistence', () => {
  test('encode/decode round-trips and rejects foreign or torn files', () => {
    const entries = Buffer.alloc(52, 1);
    const file = encodeNodeFile(4, entries);
    assert.deepEqual(decodeNodeFile(4, file), entries);
    assert.equal(decodeNodeFile(6, file), undefined, 'wrong family');
    assert.equal(decodeNodeFile(4, file.subarray(0, file.length - 1)), undefined, 'torn entry');
    assert.equal(decodeNodeFile(4, Buffer.from('garbage!')), undefined);
  });

  test('a saved buffer is restored, keeping only BEP 42-valid entries', () => {
    const a = makeServer();
    const valid = Buffer.alloc(26 * 2);
    for (let i = 0; i < 2; i++) {
      nodeIdForHost(`1.2.3.${i + 1}`, a.random).copy(valid, i * 26);
      Buffer.from([1, 2, 3, i + 1, 0x1a, 0xe1]).copy(valid, i * 26 + 20);
    }
    assert.equal(a.server.importNodes(4, valid, 0), 2);
    const store = memoryStore();
    saveNodes(a.server, store, 3);
    assert.ok(store.files.has(nodeFileName(3, 4)) && store.files.has(nodeFileName(3, 6)));
    // Tamper: append an entry whose id is not valid for its IP.
    const tampered = Buffer.concat([
      Buffer.from(store.files.get(nodeFileName(3, 4))!),
      Buffer.alloc(26, 0x42),
    ]);
    store.files.set(nodeFileName(3, 4), tampered);
    const b = makeServer();
    assert.deepEqual(loadNodes(b.server, store, 3, 0), { nodes4: 2, nodes6: 0 });
    assert.deepEqual(b.server.exportNodes(4), valid);
  });

  test('a failing store becomes BOOTSTRAP_SAVE_FAILED', () => {
    const { server } = makeServer();
    const failing: NodeStore = {
      read: () => undefined,
      write: () => {
        throw new Error('disk full');
      },
    };
    assert.throws(
      () => saveNodes(server, failing, 0),
      (e: unknown) => e instanceof DhtchatError && e.code === 'BOOTSTRAP_SAVE_FAILED',
    );
  });
});
