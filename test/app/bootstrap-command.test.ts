/**
 * `dhtchat bootstrap` as a program: bad flags give one line and exit code 2; with --workers 2 the cluster
 * primary prints one listening line, the workers answer on the shared port, and SIGTERM saves every worker's
 * buffer and exits 0.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { cryptoRandom } from '../../src/runtime/index.ts';
import { type BDict, decodeBencode } from '../../src/wire/index.ts';
import { LoopbackClient, sleep, startServer } from '../bootstrap/loopback-client.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'dhtchat.js');

describe('dhtchat bootstrap command line', () => {
  test('bad flags: one line on stderr, exit code 2', () => {
    for (const args of [
      ['--ping-delay', '5x'],
      ['--workers', '0'],
      ['--port', '70000'],
      ['--response-size', '0'],
      ['--version', 'D-1'],
      ['--host', 'not-an-ip'],
      ['--ipv6', '1.2.3.4'],
      ['--x-pollinate', 'nohostport'],
      ['--secret-rotate', '0s'],
    ]) {
      const r = spawnSync(process.execPath, [BIN, 'bootstrap', ...args], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${args.join(' ')}`);
      assert.match(r.stderr, /^error: /);
    }
  });

  test('--workers 2: one listening line, answers, saves each worker buffer on SIGTERM', {
    timeout: 40_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-bs-cluster-'));
    const server = await startServer([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--workers',
      '2',
      '--allow-private',
      '--data-dir',
      dataDir,
      '--stats-interval',
      '1h',
      '--ping-delay',
      '300ms',
    ]);
    const listening = server.lines[0]!;
    assert.deepEqual(Object.keys(listening), ['event', 'host', 'port', 'id', 'workers']);
    assert.equal(listening['workers'], 2);
    const client = await LoopbackClient.open({
      id: nodeIdForHost('127.0.0.1', cryptoRandom),
      pong: 'silent',
    });
    try {
      for (let i = 0; i < 5; i++)
        assert.ok(await client.query(server.address, 'ping', { ro: true }, 2000), 'answered');
    } finally {
      client.close();
    }
    // Pongs may reach the other worker than the one that pinged: cookies verify in every worker.
    const nodes = await Promise.all(
      Array.from({ length: 6 }, () => LoopbackClient.open({ id: nodeIdForHost('127.0.0.1', cryptoRandom) })),
    );
    try {
      for (const n of nodes) assert.ok(await n.query(server.address, 'find_node', {}, 2000));
      await sleep(1500);
    } finally {
      for (const n of nodes) n.close();
    }
    const stats = server.nextLine((l) => l['event'] === 'stats');
    server.child.kill('SIGHUP');
    const line = await stats;
    assert.equal(line['responses'], 11, 'stats summed over the workers');
    assert.equal(line['validPongs'], 6);
    assert.equal(line['invalidPongs'], 0);
    assert.equal(line['nodes4'], 6);
    assert.equal(await server.stop(), 0);
    const files = readdirSync(dataDir).sort();
    assert.deepEqual(files, [
      'bootstrap-nodes-0-v4.bin',
      'bootstrap-nodes-0-v6.bin',
      'bootstrap-nodes-1-v4.bin',
      'bootstrap-nodes-1-v6.bin',
    ]);
  });
});

test('--ipv6 ::1 serves IPv6 on the same port, with the requester in ip and nodes6 by default', {
  timeout: 30_000,
}, async () => {
  const server = await startServer([
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--ipv6',
    '::1',
    '--workers',
    '1',
    '--allow-private',
    '--data-dir',
    mkdtempSync(join(tmpdir(), 'dhtchat-bs-v6-')),
    '--stats-interval',
    '1h',
  ]);
  const socket = dgram.createSocket('udp6');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '::1', () => resolve()));
    const reply = new Promise<Buffer>((resolve) => socket.once('message', (m) => resolve(m)));
    socket.send(
      Buffer.from(
        'd1:ad2:id20:AAAAAAAAAAAAAAAAAAAA6:target20:BBBBBBBBBBBBBBBBBBBBe1:q9:find_node1:t2:xy1:y1:qe',
      ),
      server.address.port,
      '::1',
    );
    const decoded = decodeBencode(await reply);
    assert.ok(decoded.ok);
    const m = decoded.value as BDict;
    const ip = m['ip'] as Buffer;
    assert.equal(ip.length, 18);
    assert.equal(ip.readUInt16BE(16), socket.address().port);
    assert.ok(Buffer.isBuffer((m['r'] as BDict)['nodes6']));
  } finally {
    socket.close();
    await server.stop();
  }
});
