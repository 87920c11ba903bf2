import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MessageKind, ParsedMessage, parseMessage, QueryMethod } from '../../src/bootstrap/request-parser.ts';
import { type BValue, encodeBencode } from '../../src/wire/index.ts';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const id = Buffer.alloc(20, 0x41);

function parse(bytes: Buffer): ParsedMessage {
  const out = new ParsedMessage();
  parseMessage(bytes, bytes.length, out);
  return out;
}

function dict(entries: Record<string, BValue>): Buffer {
  const d = Object.create(null) as Record<string, BValue>;
  Object.assign(d, entries);
  return encodeBencode(d);
}

describe('parseMessage', () => {
  test('reads the four queries, tid, id, want and ro', () => {
    for (const [q, method] of [
      ['ping', QueryMethod.ping],
      ['find_node', QueryMethod.findNode],
      ['get_peers', QueryMethod.getPeers],
      ['get', QueryMethod.get],
      ['announce_peer', QueryMethod.other],
    ] as const) {
      const bytes = dict({
        a: dict2({ id, target: Buffer.alloc(20), want: [b('n6'), b('n4'), b('xx')] }),
        q: b(q),
        t: b('ab'),
        y: b('q'),
        ro: 1,
      });
      const m = parse(bytes);
      assert.equal(m.kind, MessageKind.query, q);
      assert.equal(m.method, method);
      assert.equal(bytes.subarray(m.tidOffset, m.tidOffset + m.tidLength).toString(), 'ab');
      assert.deepEqual(bytes.subarray(m.idOffset, m.idOffset + 20), id);
      assert.equal(m.hasWant && m.wantsV4 && m.wantsV6, true);
      assert.equal(m.isReadOnly, true);
    }
  });

  test('reads a pong and nodes', () => {
    const nodes = Buffer.alloc(52, 1);
    const bytes = dict({
      ip: Buffer.alloc(6),
      r: dict2({ id, nodes }),
      t: b('abcd'),
      y: b('r'),
      v: b('LT12'),
    });
    const m = parse(bytes);
    assert.equal(m.kind, MessageKind.response);
    assert.equal(m.tidLength, 4);
    assert.equal(m.nodesLength, 52);
    assert.equal(m.isReadOnly, false);
  });

  test('rejects malformed and inconsistent messages', () => {
    const bad = [
      '',
      'd',
      'de',
      'le',
      'i1e',
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:y1:qe', // no t
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t0:1:y1:qe', // empty t
      'd1:ad2:id19:AAAAAAAAAAAAAAAAAAAe1:q4:ping1:t1:x1:y1:qe', // short id
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t1:x1:y1:re', // y=r with q
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t1:xe', // no y
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t1:x1:y1:qex', // trailing byte
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t01:x1:y1:qe', // leading zero length
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t1:x1:t1:y1:y1:qe', // duplicate t
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA1:xi-0ee1:q4:ping1:t1:x1:y1:qe', // -0
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA1:xi01ee1:q4:ping1:t1:x1:y1:qe', // leading zero int
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA1:xlllllleeeeeee1:q4:ping1:t1:x1:y1:qe', // too deep
      'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAAe1:q4:ping1:t99:x1:y1:qe', // length past the end
      'd1:a4:spam1:q4:ping1:t1:x1:y1:qe', // a not a dict
    ];
    for (const s of bad) assert.equal(parse(b(s)).kind, MessageKind.invalid, s);
  });

  test('accepts unsorted keys and skips unknown values', () => {
    const s = 'd1:y1:q1:t2:xy1:q9:find_node1:ad6:targetli1eli2eee2:id20:AAAAAAAAAAAAAAAAAAAAe1:zd1:ai3eee';
    const m = parse(b(s));
    assert.equal(m.kind, MessageKind.query);
    assert.equal(m.method, QueryMethod.findNode);
    assert.equal(m.hasWant, false);
  });

  test('caps tokens: a message with more than 100 values is invalid', () => {
    const many = 'l' + 'i1e'.repeat(120) + 'e';
    const s = `d1:ad2:id20:AAAAAAAAAAAAAAAAAAAA1:x${many}e1:q4:ping1:t1:x1:y1:qe`;
    assert.equal(parse(b(s)).kind, MessageKind.invalid);
  });
});

function dict2(entries: Record<string, BValue>): Record<string, BValue> {
  const d = Object.create(null) as Record<string, BValue>;
  Object.assign(d, entries);
  return d;
}
