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
    read: (name, onBytes) => {
      const bytes = files.get(name);
      if (bytes === undefined) return false;
      // Odd-sized pieces, so entries and the header are split across them.
      for (let at = 0; at < bytes.length; at += 7) onBytes(bytes.subarray(at, at + 7));
      return true;
    },
    write: (name, parts) => void files.set(name, Buffer.concat(parts)),
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

  test('a foreign file is skipped, a torn last entry dropped with the entries before it kept', () => {
    const a = makeServer();
    const valid = Buffer.alloc(26 * 3);
    for (let i = 0; i < 3; i++) {
      nodeIdForHost(`5.6.7.${i + 1}`, a.random).copy(valid, i * 26);
      Buffer.from([5, 6, 7, i + 1, 0x1a, 0xe1]).copy(valid, i * 26 + 20);
    }
    const store = memoryStore();
    store.files.set(nodeFileName(0, 4), Buffer.concat([encodeNodeFile(4, valid), Buffer.alloc(11, 1)]));
    store.files.set(nodeFileName(0, 6), encodeNodeFile(4, valid)); // an IPv4 file where IPv6 belongs
    const b = makeServer();
    assert.deepEqual(loadNodes(b.server, store, 0, 0), { nodes4: 3, nodes6: 0 });
    assert.deepEqual(b.server.exportNodes(4), valid);
  });

  test('a failing store becomes BOOTSTRAP_SAVE_FAILED', () => {
    const { server } = makeServer();
    const failing: NodeStore = {
      read: () => false,
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
