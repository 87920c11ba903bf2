import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeKrpc } from '../../src/dht/krpc-codec.ts';
import type { KrpcQuery, KrpcResponse, OutgoingQuery } from '../../src/dht/krpc-message.ts';
import { type KrpcRemoteError, RpcManager, type RpcManagerOptions } from '../../src/dht/rpc-manager.ts';
import { DhtchatError, ManualClock, SeededRandom, type UdpAddress } from '../../src/runtime/index.ts';

const ownId = Buffer.alloc(20, 1);
const peer: UdpAddress = { host: '10.0.0.2', port: 6881 };
const other: UdpAddress = { host: '10.0.0.3', port: 6881 };
const ping: OutgoingQuery = { method: 'ping' };

interface Sent {
  query: KrpcQuery;
  to: UdpAddress;
  bytes: Buffer;
}

function setup(opts: Partial<RpcManagerOptions> = {}) {
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const timedOut: UdpAddress[] = [];
  const rpc = new RpcManager({
    clock,
    random: new SeededRandom('rpc'),
    send(bytes, to) {
      const d = decodeKrpc(bytes);
      assert.ok(d.ok && d.message.kind === 'query');
      sent.push({ query: d.message, to, bytes });
    },
    complete: (q, tid) => ({ ...q, kind: 'query', tid, id: ownId, readOnly: false, want: [] }) as KrpcQuery,
    onTimeout: (to) => timedOut.push(to),
    ...opts,
  });
  return { clock, sent, rpc, timedOut };
}

const answer = (tid: Buffer): KrpcResponse => ({ kind: 'response', tid, id: Buffer.alloc(20, 9) });

describe('rpc-manager', () => {
  test('a response with the right tid from the queried address resolves the query', async () => {
    const { sent, rpc } = setup();
    const p = rpc.query(peer, ping);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.query.tid.length, 2);
    assert.deepEqual(sent[0]!.to, peer);
    assert.ok(rpc.handleAnswer(answer(sent[0]!.query.tid), peer));
    const r = await p;
    assert.equal(r.id[0], 9);
    assert.equal(rpc.outstandingCount, 0);
    assert.equal(rpc.stats.responses, 1);
  });

  test('the same tid from another address is ignored', async () => {
    const { clock, sent, rpc } = setup();
    const p = rpc.query(peer, ping);
    assert.equal(rpc.handleAnswer(answer(sent[0]!.query.tid), other), undefined);
    assert.equal(rpc.handleAnswer(answer(sent[0]!.query.tid), { host: peer.host, port: 1 }), undefined);
    assert.equal(rpc.stats.unmatched, 2);
    clock.advance(3_000);
    await assert.rejects(p, (e: DhtchatError) => e.code === 'DHT_QUERY_TIMEOUT');
  });

  test('timeout rejects with DHT_QUERY_TIMEOUT and reports the node', async () => {
    const { clock, rpc, timedOut } = setup({ timeoutMs: 2_000 });
    const p = rpc.query(peer, ping);
    clock.advance(1_999);
    assert.equal(rpc.outstandingCount, 1);
    clock.advance(1);
    await assert.rejects(p, (e: DhtchatError) => e instanceof DhtchatError && e.code === 'DHT_QUERY_TIMEOUT');
    assert.deepEqual(timedOut, [peer]);
    assert.equal(rpc.stats.timeouts, 1);
  });

  test('one retry resends the same bytes, and a late answer to it still matches', async () => {
    const { clock, sent, rpc } = setup({ timeoutMs: 1_000, retries: 1 });
    const p = rpc.query(peer, { method: 'find_node', target: Buffer.alloc(20, 7) });
    clock.advance(1_000);
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1]!.bytes, sent[0]!.bytes);
    rpc.handleAnswer(answer(sent[0]!.query.tid), peer);
    await p;
    assert.equal(rpc.stats.resent, 1);
  });

  test('retries are bounded to one', async () => {
    const { clock, sent, rpc } = setup({ timeoutMs: 1_000, retries: 5 });
    const p = rpc.query(peer, ping);
    clock.advance(10_000);
    await assert.rejects(p);
    assert.equal(sent.length, 2);
  });

  test('a KRPC error rejects with DHT_QUERY_ERROR carrying the remote code', async () => {
    const { sent, rpc } = setup();
    const p = rpc.query(peer, ping);
    rpc.handleAnswer({ kind: 'error', tid: sent[0]!.query.tid, code: 301, message: 'cas mismatch' }, peer);
    await assert.rejects(p, (e: KrpcRemoteError) => e.code === 'DHT_QUERY_ERROR' && e.krpcCode === 301);
  });

  test('excess queries wait for a slot; beyond the queue they are rejected', async () => {
    const { clock, sent, rpc } = setup({ maxOutstanding: 2, maxQueued: 1, timeoutMs: 1_000 });
    const a = rpc.query(peer, ping);
    const b = rpc.query(other, ping);
    const c = rpc.query(peer, ping);
    const d = rpc.query(peer, ping);
    await assert.rejects(d, (e: DhtchatError) => e.code === 'DHT_TOO_MANY_QUERIES');
    assert.equal(sent.length, 2);
    assert.equal(rpc.queuedCount, 1);
    rpc.handleAnswer(answer(sent[0]!.query.tid), peer);
    await a;
    assert.equal(sent.length, 3, 'the queued query took the freed slot');
    clock.advance(1_000);
    await assert.rejects(b);
    await assert.rejects(c);
    assert.equal(rpc.stats.rejectedBusy, 1);
  });

  test('4-byte tids, distinct per outstanding query', () => {
    const { sent, rpc } = setup({ tidBytes: 4 });
    for (let i = 0; i < 50; i++) rpc.query(peer, ping).catch(() => {});
    const tids = new Set(sent.map((s) => s.query.tid.toString('hex')));
    assert.equal(tids.size, 50);
    assert.ok(sent.every((s) => s.query.tid.length === 4));
    rpc.close();
  });

  test('close rejects everything with DHT_CLOSED and later queries too', async () => {
    const { rpc } = setup({ maxOutstanding: 1 });
    const a = rpc.query(peer, ping);
    const b = rpc.query(peer, ping);
    rpc.close();
    await assert.rejects(a, (e: DhtchatError) => e.code === 'DHT_CLOSED');
    await assert.rejects(b, (e: DhtchatError) => e.code === 'DHT_CLOSED');
    await assert.rejects(rpc.query(peer, ping), (e: DhtchatError) => e.code === 'DHT_CLOSED');
  });

  test('a query over 1024 bytes is refused locally (a put, which carries an item: over 1452)', async () => {
    const { sent, rpc } = setup();
    const put = (vLength: number): OutgoingQuery => ({
      method: 'put',
      token: Buffer.alloc(4),
      v: Buffer.alloc(vLength),
      vBytes: Buffer.alloc(0),
    });
    await assert.rejects(rpc.query(peer, put(1500)), (e: DhtchatError) => e.code === 'DHT_PACKET_TOO_BIG');
    const longNote: OutgoingQuery = {
      method: 'dhtchat_forward',
      to: { host: '10.0.0.1', port: 1 },
      note: Buffer.alloc(1100),
    };
    await assert.rejects(rpc.query(peer, longNote), (e: DhtchatError) => e.code === 'DHT_PACKET_TOO_BIG');
    assert.equal(sent.length, 0);
    void rpc.query(peer, put(1100)).catch(() => undefined);
    assert.equal(sent.length, 1, 'a 1,100-byte v goes out');
  });
});
