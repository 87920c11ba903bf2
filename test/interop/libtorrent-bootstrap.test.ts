/**
 * Interop tier: a loopback DHT of dhtchat nodes built through `dhtchat bootstrap`, then a fresh dhtchat node and
 * a libtorrent node (Debian python3-libtorrent, test/interop/libtorrent_bootstrap.py) each join it with the
 * bootstrap server as their only contact. The server runs with --allow-private and a 300 ms ping delay, so the
 * network's nodes are verified (pinged, BEP 42-checked as if public) within a second.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { DhtNode, nodeIdForHost } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { LoopbackClient, type ServerProcess, sleep, startServer } from '../bootstrap/loopback-client.ts';
import { nodeAddresses } from '../bootstrap/server-harness.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, 'libtorrent_bootstrap.py');
const hasLibtorrent = spawnSync(PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' }).status === 0;
const NETWORK_SIZE = 8;

const transports: UdpTransport[] = [];

async function startDhtNode(server: { host: string; port: number }): Promise<DhtNode> {
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  transports.push(transport); // DhtNode.close() leaves the transport to its owner
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    id: nodeIdForHost('127.0.0.1', cryptoRandom),
    bootstrap: [server],
    allowPrivate: true,
  });
  await node.start();
  return node;
}

describe('bootstrapping through dhtchat bootstrap', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  const nodes: DhtNode[] = [];
  after(async () => {
    for (const n of nodes) n.close();
    for (const t of transports) t.close();
    await server?.stop();
  });

  test('a loopback network forms through the server', { timeout: 20_000 }, async () => {
    server = await startServer([
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--workers',
      '1',
      '--allow-private',
      '--ping-delay',
      '300ms',
      '--data-dir',
      mkdtempSync(join(tmpdir(), 'dhtchat-bs-interop-')),
      '--stats-interval',
      '1h',
    ]);
    for (let i = 0; i < NETWORK_SIZE; i++) nodes.push(await startDhtNode(server.address));
    await sleep(1500); // the server pings each node 300 ms after its first query
    const probe = await LoopbackClient.open({ id: nodeIdForHost('127.0.0.1', cryptoRandom), pong: 'silent' });
    const reply = await probe.query(server.address, 'find_node', { ro: true });
    probe.close();
    assert.ok(reply);
    assert.ok(nodeAddresses(reply).length >= NETWORK_SIZE, 'the server verified and hands out the network');
  });

  test('a fresh dhtchat node joins with the server as its only contact', { timeout: 15_000 }, async () => {
    const joiner = await startDhtNode(server.address);
    nodes.push(joiner);
    assert.ok(joiner.routingTableSize() >= 4, `routing table: ${joiner.routingTableSize()}`);
    const found = await joiner.findNode(cryptoRandom.bytes(20));
    assert.ok(found.length >= 4, `find_node found ${found.length}`);
  });

  test('a libtorrent node joins with the server as its only contact', {
    timeout: 40_000,
    skip: hasLibtorrent ? false : `${PYTHON} cannot import libtorrent`,
  }, async () => {
    const child = spawn(PYTHON, [SCRIPT, String(server.address.port), '4', '25'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['event'] === 'result') resolve(msg);
      });
      child.once('exit', (code) => reject(new Error(`libtorrent script exited ${code}`)));
    });
    child.kill();
    assert.ok((result['nodes'] as number) >= 4, `libtorrent routing table: ${JSON.stringify(result)}`);
  });
});
