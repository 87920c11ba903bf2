/**
 * `dhtchat dht node` as a process: the listening line comes first, logs are JSON lines, SIGTERM saves the routing
 * table and exits 0, and a restarted node rejoins from its data dir after its bootstrap node is gone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROUTING_TABLE_FILE } from '../../src/app/data-dir.ts';
import { type NodeProcess, startNodeProcess } from '../helpers/cli-runner.ts';

const running: NodeProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
});

async function start(args: string[]): Promise<NodeProcess> {
  const p = await startNodeProcess(['--port', '0', '--host', '127.0.0.1', '--allow-private', ...args]);
  running.push(p);
  return p;
}

test('dht node: listening line, JSON logs, save on SIGTERM, rejoin from the data dir', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dhtchat-node-'));
  // A dead bootstrap address keeps the first node off DNS and the default routers.
  const first = await start(['--bootstrap', '127.0.0.1:9', '--data-dir', join(root, 'first')]);
  assert.deepEqual(Object.keys(first.events[0]!), ['event', 'host', 'port', 'id']);
  assert.equal(first.host, '127.0.0.1');
  assert.ok(first.port > 0);
  assert.match(first.id, /^[0-9a-f]{40}$/);

  const boot = ['--bootstrap', `127.0.0.1:${first.port}`];
  // b joins first, so that the first node lists it to c and d, whose joins then query it: b learns about them.
  // (All three at once, the first node knew none of them yet: b could end with the first node alone.)
  const b = await start([...boot, '--data-dir', join(root, 'b')]);
  await b.waitFor((e) => e['event'] === 'bootstrapped');
  const others = [
    b,
    ...(await Promise.all(['c', 'd'].map((name) => start([...boot, '--data-dir', join(root, name)])))),
  ];
  for (const p of others) {
    const joined = await p.waitFor((e) => e['event'] === 'bootstrapped');
    assert.ok((joined['nodes'] as number) >= 1, JSON.stringify(joined));
  }

  assert.equal(await b.stop('SIGTERM'), 0);
  const closed = b.events.find((e) => e['event'] === 'closed');
  assert.ok(closed !== undefined, 'a closed event');
  assert.ok((closed['nodes'] as number) >= 2, JSON.stringify(closed));
  assert.ok(existsSync(join(root, 'b', ROUTING_TABLE_FILE)));
  for (const line of b.events) assert.equal(typeof line['event'] === 'string' || 'msg' in line, true);

  // The bootstrap node goes away; b restarts from its saved table alone.
  assert.equal(await first.stop('SIGINT'), 0);
  const again = await start([...boot, '--data-dir', join(root, 'b')]);
  assert.equal(again.id, b.id, 'the saved id is kept');
  const rejoined = await again.waitFor((e) => e['event'] === 'bootstrapped');
  assert.ok((rejoined['nodes'] as number) >= 1, JSON.stringify(rejoined));
});

test('dht node: an unreadable saved table is ignored with a warning after the listening line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dhtchat-node-'));
  writeFileSync(join(dir, ROUTING_TABLE_FILE), 'not a routing table');
  const p = await start(['--bootstrap', '127.0.0.1:9', '--data-dir', dir]);
  assert.equal(p.events[0]!['event'], 'listening');
  await p.waitFor((e) => e['level'] === 'warn' && /saved/.test(String(e['msg'])));
  assert.equal(await p.stop('SIGTERM'), 0);
  // The exit overwrote it with a readable table.
  assert.notEqual(readFileSync(join(dir, ROUTING_TABLE_FILE), 'utf8'), 'not a routing table');
});
