import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseWriter } from '../../src/bootstrap/response-writer.ts';
import { type BDict, decodeBencode } from '../../src/wire/index.ts';

const ownId = Buffer.alloc(20, 0x11);
const version = Buffer.from([0x44, 0x43, 0, 1]);

function decode(bytes: Buffer): BDict {
  const r = decodeBencode(bytes);
  assert.ok(r.ok, 'strictly decodable');
  return r.value as BDict;
}

test('a reply decodes strictly to ip, r.id, nodes, nodes6, t, v, y', () => {
  const writer = new ResponseWriter(ownId, version);
  const out = Buffer.alloc(1500);
  const addr = Buffer.from([1, 2, 3, 4, 0x1a, 0xe1]);
  let pos = writer.beginReply(out, addr, 0, 6);
  const nodes = Buffer.alloc(52, 7);
  pos = writer.writeNodesKey(out, pos, false, nodes.length);
  pos += nodes.copy(out, pos);
  const nodes6 = Buffer.alloc(38, 8);
  pos = writer.writeNodesKey(out, pos, true, nodes6.length);
  pos += nodes6.copy(out, pos);
  const tid = Buffer.from('xyz');
  const length = writer.finishReply(out, pos, tid, 0, 3);
  const m = decode(out.subarray(0, length));
  assert.deepEqual(m['ip'], addr);
  assert.deepEqual((m['r'] as BDict)['id'], ownId);
  assert.deepEqual((m['r'] as BDict)['nodes'], nodes);
  assert.deepEqual((m['r'] as BDict)['nodes6'], nodes6);
  assert.deepEqual(m['t'], tid);
  assert.deepEqual(m['v'], version);
  assert.deepEqual(m['y'], Buffer.from('r'));
  assert.equal(writer.replyOverheadBytes(6, 3), length - 52 - 38 - 7 - 3 - 8 - 3);
});

test('a ping without version and a find_node decode strictly', () => {
  const writer = new ResponseWriter(ownId);
  const out = Buffer.alloc(1500);
  const addr = Buffer.alloc(18, 0x20);
  const cookie = Buffer.from([1, 2, 3, 4]);
  const ping = decode(out.subarray(0, writer.writePing(out, addr, 0, 18, cookie)));
  assert.deepEqual(ping['q'], Buffer.from('ping'));
  assert.deepEqual(ping['t'], cookie);
  assert.deepEqual(ping['ip'], addr);
  assert.deepEqual((ping['a'] as BDict)['id'], ownId);
  assert.equal(ping['v'], undefined);
  const findNode = decode(out.subarray(0, writer.writeFindNode(out, Buffer.alloc(20, 3), cookie)));
  assert.deepEqual(findNode['q'], Buffer.from('find_node'));
  assert.equal(((findNode['a'] as BDict)['want'] as Buffer[]).length, 2);
});
