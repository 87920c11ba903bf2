/**
 * Acceptance of `dhtchat bootstrap` on 127.0.0.1 with short timers (--allow-private: loopback is held to BEP 42
 * as if public and keyed by address and port). One server process runs the whole ping-before-add cycle in about
 * a second; clients answer its pings honestly, with invalid ids, never, or with forged pongs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNodeIdValidForHost, nodeIdForHost } from '../../src/dht/index.ts';
import { SeededRandom } from '../../src/runtime/index.ts';
import type { BDict } from '../../src/wire/index.ts';
import {
  LoopbackClient,
  type PongBehaviour,
  type ServerProcess,
  sleep,
  startServer,
} from './loopback-client.ts';
import { nodeAddresses } from './server-harness.ts';

const random = new SeededRandom('bootstrap-loopback');
const validId = (): Buffer => nodeIdForHost('127.0.0.1', random);
const invalidId = (): Buffer => {
  const id = validId();
  id[0] = id[0]! ^ 0xff;
  return id;
};

const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-bootstrap-'));
const ARGS = [
  '--port',
  '0',
  '--host',
  '127.0.0.1',
  '--workers',
  '1',
  '--allow-private',
  '--data-dir',
  dataDir,
  '--ping-delay',
  '300ms',
  '--secret-rotate',
  '1s',
  '--response-size',
  '4',
  '--stats-interval',
  '1h',
  '--nodes',
  '1000',
];

describe('dhtchat bootstrap on loopback', () => {
  let server: ServerProcess;
  const clients: LoopbackClient[] = [];
  const handedOut = new Set<string>();
  /** Clients with a BEP 42-valid id that answer pings honestly and were pinged: the ones to hand out. */
  const honest = (): LoopbackClient[] =>
    clients.filter(
      (c) =>
        (c.options.pong ?? 'valid') === 'valid' &&
        c.pingsReceived > 0 &&
        isNodeIdValidForHost(c.options.id, '127.0.0.1'),
    );
  const open = async (id: Buffer, pong: PongBehaviour = 'valid'): Promise<LoopbackClient> => {
    const c = await LoopbackClient.open({ id, pong });
    clients.push(c);
    return c;
  };
  const ask = async (c: LoopbackClient, method = 'find_node', extra = {}): Promise<BDict | undefined> => {
    const reply = await c.query(server.address, method, extra);
    if (reply !== undefined) for (const a of nodeAddresses(reply)) handedOut.add(a);
    return reply;
  };

  before(async () => {
    server = await startServer(ARGS);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  const good: LoopbackClient[] = [];
  const never: LoopbackClient[] = [];

  test('only valid pongers are handed out, once the buffer holds more than a response', async () => {
    for (let i = 0; i < 8; i++) good.push(await open(validId()));
    const invalid = [await open(invalidId()), await open(invalidId()), await open(invalidId())];
    const silent = [await open(validId(), 'silent'), await open(validId(), 'silent')];
    const forged = [
      await open(validId(), 'wrong-cookie'),
      await open(validId(), 'wrong-port'),
      await open(validId(), 'late'),
    ];
    never.push(...invalid, ...silent, ...forged);
    for (const c of [...good, ...invalid, ...silent, ...forged])
      assert.ok(await ask(c), 'every query is answered');
    // 300 ms ping delay, then the late forger answers after 2.1 s: past both secrets (1 s rotation).
    await sleep(2600);
    for (const c of [...good, ...never]) assert.equal(c.pingsReceived, 1, `port ${c.port} pinged once`);
    const handedLater = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const fresh = await open(validId(), 'silent');
      const reply = await ask(fresh);
      assert.ok(reply);
      const nodes = nodeAddresses(reply);
      assert.equal(nodes.length, 4);
      for (const a of nodes) handedLater.add(a);
    }
    const goodAddresses = good.map((c) => `127.0.0.1:${c.port}`).sort();
    assert.deepEqual([...handedLater].sort(), goodAddresses, 'exactly the verified nodes, round-robin');
    for (const c of invalid)
      assert.ok(!handedOut.has(`127.0.0.1:${c.port}`), 'invalid ids never, at any size');
  });

  test('ro clients are served but never queued', async () => {
    const ro = await open(validId());
    const reply = await ask(ro, 'get_peers', { ro: true });
    assert.ok(reply);
    await sleep(700);
    assert.equal(ro.pingsReceived, 0);
  });

  test('repeat IPs get 3 nodes; back-to-back repeats get nothing, except ro', async () => {
    const x = await open(validId());
    const y = await open(validId());
    assert.equal(nodeAddresses((await ask(x))!).length, 4);
    assert.equal(await x.query(server.address, 'find_node', {}, 400), undefined, 'back-to-back: no reply');
    assert.ok(await ask(x, 'find_node', { ro: true }), 'ro is answered even back-to-back');
    await ask(y);
    const repeat = await ask(x);
    assert.ok(repeat);
    assert.equal(nodeAddresses(repeat).length, 3);
  });

  test('want is honoured', async () => {
    const c = await open(validId());
    const v6 = (await ask(c, 'find_node', { want: ['n6'] }))!['r'] as BDict;
    assert.equal(v6['nodes'], undefined);
    assert.ok(Buffer.isBuffer(v6['nodes6']));
    const c2 = await open(validId());
    const both = (await ask(c2, 'get', { want: ['n4', 'n6'] }))!['r'] as BDict;
    assert.ok(Buffer.isBuffer(both['nodes']) && Buffer.isBuffer(both['nodes6']));
    const c3 = await open(validId());
    const ping = (await ask(c3, 'ping'))!;
    assert.deepEqual(ping['ip'], Buffer.from([127, 0, 0, 1, c3.port >> 8, c3.port & 0xff]));
    assert.equal((ping['r'] as BDict)['nodes'], undefined);
  });

  test('SIGHUP prints a stats line with the counters', async () => {
    await sleep(700); // let the pings of the last clients go out and come back
    const line = server.nextLine((l) => l['event'] === 'stats');
    server.child.kill('SIGHUP');
    const stats = await line;
    assert.ok((stats['validPongs'] as number) >= 8);
    assert.ok((stats['idFailures'] as number) >= 3);
    assert.ok((stats['invalidPongs'] as number) >= 3);
    assert.equal(stats['nodes4'], honest().length, 'every valid ponger and nobody else');
  });

  test('a restart keeps the verified nodes', async () => {
    assert.equal(await server.stop(), 0, 'clean exit on SIGTERM');
    assert.ok(readdirSync(dataDir).some((f) => f.endsWith('-v4.bin')));
    server = await startServer(ARGS);
    const c = await open(validId(), 'silent');
    const reply = await ask(c);
    assert.ok(reply);
    const goodAddresses = new Set(honest().map((g) => `127.0.0.1:${g.port}`));
    const nodes = nodeAddresses(reply);
    assert.equal(nodes.length, 4);
    assert.ok(
      nodes.every((a) => goodAddresses.has(a)),
      'restored nodes are the verified ones',
    );
  });
});
