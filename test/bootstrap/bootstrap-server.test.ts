import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AMPLIFICATION_LIMIT, TimeoutScheduler } from '../../src/bootstrap/index.ts';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { ManualClock } from '../../src/runtime/index.ts';
import type { BDict } from '../../src/wire/index.ts';
import { decode, makeServer, nodeAddresses, pong, query, type Sent } from './server-harness.ts';

const HOST = '127.0.0.1';

/** Runs the whole ping-before-add cycle for clients on HOST ports, all answering with valid ids. */
function verifyClients(ports: number[], h = makeServer()): ReturnType<typeof makeServer> {
  const { server, sent, random } = h;
  let now = 1_000_000;
  for (const port of ports)
    server.handlePacket(query('find_node', nodeIdForHost(HOST, random)), { host: HOST, port }, now++);
  sent.length = 0;
  now += 1000;
  server.handleTimeout(now);
  const pings = sent.splice(0);
  assert.equal(pings.length, ports.length);
  for (const ping of pings) {
    const tid = decode(ping.bytes)['t'] as Buffer;
    server.handlePacket(pong(nodeIdForHost(HOST, random), tid), { host: ping.host, port: ping.port }, now);
  }
  return h;
}

function lastReply(sent: Sent[]): BDict {
  const last = sent.at(-1);
  assert.ok(last, 'a reply was sent');
  return decode(last.bytes);
}

describe('BootstrapServer', () => {
  test('answers ping with ip and its id, and nothing else', () => {
    const { server, sent } = makeServer();
    server.handlePacket(query('ping', Buffer.alloc(20, 1), { tid: 'xy' }), { host: HOST, port: 4000 }, 0);
    const reply = lastReply(sent);
    assert.deepEqual(reply['ip'], Buffer.from([127, 0, 0, 1, 0x0f, 0xa0]));
    assert.deepEqual(reply['t'], Buffer.from('xy'));
    assert.deepEqual(reply['y'], Buffer.from('r'));
    assert.equal((reply['r'] as BDict)['nodes'], undefined);
    server.handlePacket(query('announce_peer', Buffer.alloc(20, 1)), { host: HOST, port: 4001 }, 0);
    server.handlePacket(Buffer.from('garbage'), { host: HOST, port: 4002 }, 0);
    assert.equal(sent.length, 1, 'no reply, no KRPC error to the rest');
    assert.equal(server.counters.invalidMessages, 2);
  });

  test('valid pongers are handed out; the cycle adds them and replies carry them round-robin', () => {
    const ports = Array.from({ length: 20 }, (_, i) => 5000 + i);
    const { server, sent, random } = verifyClients(ports);
    assert.equal(server.sizes().nodes4, 20);
    assert.equal(server.counters.validPongs, 20);
    server.handlePacket(
      query('find_node', nodeIdForHost(HOST, random)),
      { host: HOST, port: 9000 },
      2_000_000,
    );
    const handed = nodeAddresses(lastReply(sent));
    assert.equal(handed.length, 16);
    assert.ok(handed.every((a) => ports.includes(Number(a.split(':')[1]))));
    server.handlePacket(
      query('get_peers', nodeIdForHost(HOST, random)),
      { host: HOST, port: 9001 },
      2_000_001,
    );
    const next = nodeAddresses(lastReply(sent));
    assert.notDeepEqual(next.slice(0, 4), handed.slice(0, 4), 'round-robin moves on');
  });

  test('invalid ids never enter the buffer nor a reply, even as filler', () => {
    const { server, sent } = makeServer();
    const bad = Buffer.alloc(20, 0xaa);
    for (let i = 0; i < 5; i++)
      server.handlePacket(query('find_node', bad), { host: HOST, port: 6000 + i }, i);
    server.handleTimeout(5000);
    const pings = sent.filter((s) => (decode(s.bytes)['y'] as Buffer).toString() === 'q');
    for (const ping of pings) server.handlePacket(pong(bad, decode(ping.bytes)['t'] as Buffer), ping, 5000);
    assert.equal(server.counters.idFailures, 5);
    assert.equal(server.sizes().nodes4, 0);
    server.handlePacket(query('find_node', bad), { host: HOST, port: 6100 }, 6000);
    assert.deepEqual(nodeAddresses(lastReply(sent)), []);
  });

  test('with no-verify-id, any id that answers the ping is added', () => {
    const { server, sent } = makeServer({ isIdVerified: false });
    server.handlePacket(query('find_node', Buffer.alloc(20, 0xaa)), { host: HOST, port: 6200 }, 0);
    server.handleTimeout(1000);
    const ping = sent.at(-1)!;
    server.handlePacket(pong(Buffer.alloc(20, 0xaa), decode(ping.bytes)['t'] as Buffer), ping, 1000);
    assert.equal(server.sizes().nodes4, 1);
  });

  test('forged pongs never add: wrong cookie, wrong source port, stale secret', () => {
    const { server, sent, random } = makeServer();
    const id = nodeIdForHost(HOST, random);
    server.handlePacket(query('find_node', id), { host: HOST, port: 7000 }, 0);
    server.handleTimeout(1000);
    const tid = decode(sent.at(-1)!.bytes)['t'] as Buffer;
    server.handlePacket(pong(id, Buffer.from('abcd')), { host: HOST, port: 7000 }, 1000);
    server.handlePacket(pong(id, tid), { host: HOST, port: 7001 }, 1000);
    server.handlePacket(pong(id, tid), { host: HOST, port: 7000 }, 1000 + 20_000);
    assert.equal(server.counters.invalidPongs, 3);
    assert.equal(server.sizes().nodes4, 0);
    server.handlePacket(pong(id, tid), { host: HOST, port: 7000 }, 1000 + 9_000);
    assert.equal(server.sizes().nodes4, 1, 'the genuine pong, within the previous secret, is accepted');
  });

  test('ro queries are served but never queued', () => {
    const { server, sent, random } = makeServer();
    server.handlePacket(
      query('find_node', nodeIdForHost(HOST, random), { ro: true }),
      { host: HOST, port: 7100 },
      0,
    );
    assert.equal(sent.length, 1);
    assert.equal(server.sizes().queue4, 0);
    assert.equal(server.counters.readOnlyQueries, 1);
  });

  test('repeat requesters get 3 nodes, back-to-back repeats get nothing (ro excepted)', () => {
    const ports = Array.from({ length: 20 }, (_, i) => 5000 + i);
    const { server, sent, random } = verifyClients(ports);
    const id = nodeIdForHost(HOST, random);
    const a = { host: HOST, port: 9100 };
    const b = { host: HOST, port: 9101 };
    server.handlePacket(query('find_node', id), a, 3_000_000);
    assert.equal(nodeAddresses(lastReply(sent)).length, 16);
    const before = sent.length;
    server.handlePacket(query('find_node', id), a, 3_000_001);
    assert.equal(sent.length, before, 'back-to-back: dropped');
    server.handlePacket(query('find_node', id, { ro: true }), a, 3_000_002);
    assert.equal(sent.length, before + 1, 'ro is served even back-to-back');
    server.handlePacket(query('find_node', id), b, 3_000_003);
    server.handlePacket(query('find_node', id), a, 3_000_004);
    assert.equal(nodeAddresses(lastReply(sent)).length, 3, 'repeat: 3 nodes');
    assert.equal(server.counters.backToBack, 1);
  });

  test('want is honoured: n4, n6, both; default is the request family', () => {
    const { server, sent, random } = verifyClients([5000, 5001]);
    const id = nodeIdForHost(HOST, random);
    const ask = (port: number, want?: string[]): BDict => {
      server.handlePacket(
        query('find_node', id, { want, tid: 'wantwantwantwant' }),
        { host: HOST, port },
        4_000_000 + port,
      );
      return lastReply(sent)['r'] as BDict;
    };
    assert.ok(ask(9200)['nodes'] !== undefined && ask(9201)['nodes6'] === undefined);
    const v6only = ask(9202, ['n6']);
    assert.equal(v6only['nodes'], undefined);
    assert.ok(Buffer.isBuffer(v6only['nodes6']));
    const both = ask(9203, ['n4', 'n6']);
    assert.ok(Buffer.isBuffer(both['nodes']) && Buffer.isBuffer(both['nodes6']));
  });

  test('a reply is never more than AMPLIFICATION_LIMIT times its request', () => {
    const ports = Array.from({ length: 40 }, (_, i) => 5000 + i);
    const { server, sent, random } = verifyClients(ports);
    const id = nodeIdForHost(HOST, random);
    for (let i = 0; i < 40; i++) {
      const q = query(i % 2 ? 'get' : 'find_node', id, { want: i % 3 ? ['n4', 'n6'] : undefined, tid: 'a' });
      server.handlePacket(q, { host: HOST, port: 10_000 + i }, 5_000_000 + i);
      assert.ok(
        sent.at(-1)!.bytes.length <= AMPLIFICATION_LIMIT * q.length,
        `${sent.at(-1)!.bytes.length} vs ${q.length}`,
      );
    }
  });

  test('a fresh server tops replies up only from BEP 42-valid recent requesters', () => {
    const { server, sent, random } = makeServer();
    server.handlePacket(query('find_node', nodeIdForHost(HOST, random)), { host: HOST, port: 8000 }, 0);
    server.handlePacket(query('find_node', Buffer.alloc(20, 0xaa)), { host: HOST, port: 8001 }, 1);
    server.handlePacket(query('find_node', nodeIdForHost(HOST, random)), { host: HOST, port: 8002 }, 2);
    assert.deepEqual(nodeAddresses(lastReply(sent)).sort(), ['127.0.0.1:8000', '127.0.0.1:8002']);
    assert.ok(server.counters.fillerReplies >= 1);
  });

  test('drops sources it never serves; private sources only with allowPrivate', () => {
    const { server, sent } = makeServer({ isPrivateAllowed: false });
    for (const host of [HOST, '10.0.0.1', '0.0.0.0', '224.0.0.1']) {
      server.handlePacket(query('ping', Buffer.alloc(20)), { host, port: 1 }, 0);
    }
    server.handlePacket(query('ping', Buffer.alloc(20)), { host: '1.2.3.4', port: 0 }, 0);
    assert.equal(sent.length, 0);
    assert.equal(server.counters.invalidSources, 5);
    server.handlePacket(query('ping', Buffer.alloc(20)), { host: '1.2.3.4', port: 1 }, 0);
    assert.equal(sent.length, 1);
  });

  test('pings go out on time with no traffic (TimeoutScheduler on a ManualClock)', () => {
    const clock = new ManualClock(0);
    const { server, sent, random } = makeServer();
    const scheduler = new TimeoutScheduler(server, clock);
    server.handlePacket(
      query('find_node', nodeIdForHost(HOST, random)),
      { host: HOST, port: 8100 },
      clock.monotonicMs(),
    );
    scheduler.poke();
    sent.length = 0;
    clock.advance(999);
    assert.equal(sent.length, 0);
    clock.advance(1);
    assert.equal(sent.length, 1);
    assert.deepEqual(decode(sent[0]!.bytes)['q'], Buffer.from('ping'));
    assert.equal(server.counters.pingsSent, 1);
    scheduler.stop();
  });
});

describe('BootstrapServer cross-pollination', () => {
  test('asks the peer when the queue is nearly empty and queues the nodes it lists for verification', () => {
    const peer = { host: '127.0.0.9', port: 6881 };
    const { server, sent, random } = makeServer({ crossPollinate: peer, crossPollinateIntervalMs: 60_000 });
    assert.equal(server.nextTimeoutMs(), 0, 'due at once');
    server.handleTimeout(1000);
    const request = decode(sent.at(-1)!.bytes);
    assert.deepEqual(request['q'], Buffer.from('find_node'));
    assert.equal(sent.at(-1)!.host, peer.host);
    const listed = Buffer.alloc(26 * 2);
    for (let i = 0; i < 2; i++) {
      nodeIdForHost('127.0.0.1', random).copy(listed, i * 26);
      Buffer.from([127, 0, 0, 1, 0x30, 10 + i]).copy(listed, i * 26 + 20);
    }
    const reply = encodeReply(nodeIdForHost(peer.host, random), request['t'] as Buffer, listed);
    server.handlePacket(reply, peer, 1500);
    assert.equal(server.counters.crossPollinated, 2);
    assert.equal(server.sizes().queue4, 2, 'listed nodes wait for their own ping');
    assert.equal(server.sizes().nodes4, 1, 'only the peer itself, which answered our cookie, is added');
    assert.equal(server.nextTimeoutMs(), 2500, 'next: the queued pings');
  });
});

function encodeReply(id: Buffer, tid: Buffer, nodes: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('d1:rd2:id20:'),
    id,
    Buffer.from(`5:nodes${nodes.length}:`),
    nodes,
    Buffer.from('e1:t4:'),
    tid,
    Buffer.from('1:y1:re'),
  ]);
}

describe('BootstrapServer load shedding', () => {
  test('a shed reply is not counted and its output slot is reused', () => {
    const buffers: Buffer[] = [];
    let isShedding = true;
    const { server } = makeServer({
      sockets: [
        {
          family: 4,
          ownId: Buffer.alloc(20, 1),
          send: (bytes) => {
            buffers.push(bytes);
            return !isShedding;
          },
        },
      ],
    });
    server.handlePacket(query('ping', Buffer.alloc(20, 2)), { host: HOST, port: 100 }, 0);
    isShedding = false;
    server.handlePacket(query('ping', Buffer.alloc(20, 2)), { host: HOST, port: 101 }, 1);
    server.handlePacket(query('ping', Buffer.alloc(20, 2)), { host: HOST, port: 102 }, 2);
    assert.equal(server.counters.responses, 2);
    assert.equal(buffers[0], buffers[1], 'the shed slot was handed out again');
    assert.notEqual(buffers[1], buffers[2]);
  });
});
