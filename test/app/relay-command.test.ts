/**
 * `dhtchat relay` as a process on a loopback testnet: the listening line first, an announce that storage nodes
 * took, found by a DHT lookup on the day's relay topic; two halves joined through it exchange bytes; SIGTERM
 * closes it with its counters; a bad --max-pairs is a usage error.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { relayTopic, relayTopicDays } from '../../src/chat/index.ts';
import { DhtNode } from '../../src/dht/index.ts';
import { joinRelay, UtpEndpoint } from '../../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { type JsonLinesProcess, eventually, startJsonLines, stopAll } from '../e2e/chat-processes.ts';
import { runCli } from '../helpers/cli-runner.ts';

const running: JsonLinesProcess[] = [];
after(() => stopAll(running));

test('dhtchat relay: announced on the relay topic, joins two halves, reports on SIGTERM', {
  timeout: 120_000,
}, async () => {
  const testnet = startJsonLines(['testnet', '--nodes', '12', '--json']);
  running.push(testnet);
  const formed = await testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000);
  const bootstrap = formed['bootstrap'] as string;
  const relay = startJsonLines([
    'relay',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    bootstrap,
    '--allow-private',
  ]);
  running.push(relay);
  const listening = await relay.waitFor(() => true, 20_000);
  assert.equal(listening['event'], 'listening');
  const port = listening['port'] as number;
  const announced = await relay.waitFor((l) => l['event'] === 'announced', 60_000);
  assert.ok((announced['stored'] as number) > 0, JSON.stringify(announced));

  const [host, bootPort] = bootstrap.split(':') as [string, string];
  const sockets = await Promise.all([0, 1, 2].map(() => UdpTransport.bind({ host: '127.0.0.1', port: 0 })));
  const [lookupSocket, aSocket, bSocket] = sockets as [UdpTransport, UdpTransport, UdpTransport];
  const node = new DhtNode({
    transport: lookupSocket,
    clock: systemClock,
    random: cryptoRandom,
    bootstrap: [{ host, port: Number(bootPort) }],
    allowPrivate: true,
    readOnly: true,
  });
  const a = new UtpEndpoint({ transport: aSocket, clock: systemClock, random: cryptoRandom });
  const b = new UtpEndpoint({ transport: bSocket, clock: systemClock, random: cryptoRandom });
  try {
    await node.start();
    await eventually(
      'the relay on the relay topic',
      async () => {
        const days = relayTopicDays(Date.now());
        const found = await Promise.all(days.map((d) => node.getPeers(relayTopic(d))));
        return found.some((r) => r.peers.some((p) => p.port === port)) ? true : undefined;
      },
      30_000,
    );
    const token = cryptoRandom.bytes(32);
    const relayAddress = { host: '127.0.0.1', port };
    const [streamA, streamB] = await Promise.all([
      joinRelay({ utp: a, relay: relayAddress, join: { role: 0, tokens: [token] }, clock: systemClock })
        .matched,
      joinRelay({ utp: b, relay: relayAddress, join: { role: 1, tokens: [token] }, clock: systemClock })
        .matched,
    ]);
    const received = new Promise<string>((resolve) =>
      streamB.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    streamB.resume();
    streamA.write('through the relay process');
    assert.equal(await received, 'through the relay process');
    streamA.destroy();
    streamB.destroy();
  } finally {
    node.close();
    a.close();
    b.close();
    for (const s of sockets) s.close();
  }
  assert.equal(await relay.stop('SIGTERM'), 0);
  const closed = relay.lines.find((l) => l['event'] === 'closed');
  assert.ok(closed !== undefined, 'a closed line');
  assert.equal(closed['matches'], 1);
  assert.ok((closed['bytesRelayed'] as number) >= 'through the relay process'.length);
});

test('dhtchat relay: --max-pairs out of range is a usage error', async () => {
  const result = await runCli(['relay', '--max-pairs', '0']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--max-pairs is 1-100000/);
});
