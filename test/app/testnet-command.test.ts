/**
 * `dhtchat testnet --host H,…`: the nodes bind the hosts in turn (127.0.0.1 by default), the bootstrap address
 * printed is on the first, and a node elsewhere joins through it. Usage errors (not an IP) exit 2; an address this machine does not have
 * exits 1 with APP_TESTNET_BIND's message.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { DhtNode } from '../../src/dht/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { runCli } from '../helpers/cli-runner.ts';
import { type JsonLinesProcess, startJsonLines } from '../e2e/chat-processes.ts';

const running: JsonLinesProcess[] = [];
after(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

test('--host spreads the nodes over the addresses and a node joins through the printed bootstrap', {
  timeout: 60_000,
}, async () => {
  // 127.0.0.2 and .3 are loopback too, yet not the default: what is printed and found proves where nodes bind.
  const testnet = startJsonLines(['testnet', '--host', '127.0.0.2,127.0.0.3', '--nodes', '4', '--json']);
  running.push(testnet);
  const line = await testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 30_000);
  const bootstrap = String(line['bootstrap']);
  assert.match(bootstrap, /^127\.0\.0\.2:\d+$/);
  const transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  const node = new DhtNode({
    transport,
    clock: systemClock,
    random: cryptoRandom,
    allowPrivate: true,
    bootstrap: [{ host: '127.0.0.2', port: Number(bootstrap.split(':')[1]) }],
  });
  try {
    await node.start();
    const nodes = await node.findNode(node.id);
    assert.ok(nodes.length >= 4, `found ${nodes.length} testnet nodes`);
    const hosts = new Set(nodes.map((n) => n.address.host));
    assert.deepEqual(
      [...hosts].sort(),
      ['127.0.0.2', '127.0.0.3'],
      JSON.stringify(nodes.map((n) => n.address)),
    );
  } finally {
    node.close();
    transport.close();
  }
});

test('--host must be IP addresses (exit 2) that this machine has (exit 1)', async () => {
  const notIp = await runCli(['testnet', '--host', 'example.org', '--nodes', '1'], { timeoutMs: 20_000 });
  assert.equal(notIp.code, 2);
  assert.match(notIp.stderr, /^error: .*--host must be IP addresses, got "example\.org"/);
  // 203.0.113.0/24 is documentation space: no interface here holds it.
  const absent = await runCli(['testnet', '--host', '203.0.113.9', '--nodes', '1'], { timeoutMs: 20_000 });
  assert.equal(absent.code, 1);
  assert.equal(absent.stderr, 'error: cannot bind UDP 203.0.113.9:0\n');
});
