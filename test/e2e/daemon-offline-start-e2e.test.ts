/**
 * The offline start (issue 9 §3): a daemon started while the DHT cannot be reached says so — in plain words on a
 * terminal, in JSON lines otherwise — and joins by itself, without a restart, once a bootstrap node comes up.
 * The "network coming back" is `dhtchat testnet --port P` started on the port the daemon was told about.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { hasPtyRunner, type PtyProcess, startOnPty } from '../helpers/pty-runner.ts';
import { dumpingLogs, type JsonLinesProcess, startJsonLines, stopAll } from './chat-processes.ts';

/** The bound: joined within 30 s of the network coming back. */
const JOIN_BOUND_MS = 30_000;
const noPty = hasPtyRunner() ? false : 'needs util-linux `script` for a pseudo-terminal';
/** What a `.invalid` name gets: NXDOMAIN where DNS answers, no answer where there is no network at all. */
const CANNOT_RESOLVE = String.raw`(name not found \(a typo, or no network\?\)|DNS did not answer \(no network\?\))`;

const running: JsonLinesProcess[] = [];
const terminals: PtyProcess[] = [];
after(async () => {
  await Promise.all(terminals.map((t) => t.stop()));
  await stopAll(running);
});

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), 'dhtchat-offline-'));
}

/** A UDP port nobody listens on now (bound and released; the testnet takes it later). */
async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

function daemonArgs(dir: string, bootstrap: string, ...more: string[]): string[] {
  return [
    '--data-dir',
    dir,
    'daemon',
    '--init',
    '--host',
    '127.0.0.1',
    '--allow-private',
    '--bootstrap',
    bootstrap,
    ...more,
  ];
}

/** Starts `dhtchat testnet --port P` and waits until it has formed (its bootstrap node answers from the start). */
async function startTestnet(port: number): Promise<void> {
  const testnet = startJsonLines(['testnet', '--port', String(port), '--nodes', '8', '--json']);
  running.push(testnet);
  const formed = await testnet.waitFor((l) => typeof l['bootstrap'] === 'string', 60_000);
  assert.equal(formed['bootstrap'], `127.0.0.1:${port}`);
}

describe('a daemon started with no reachable DHT', { skip: noPty }, () => {
  test('on a terminal: says the router name cannot be resolved, in plain words', async () => {
    const daemon = startOnPty(daemonArgs(dataDir(), 'unresolvable.invalid:6881'));
    terminals.push(daemon);
    await daemon.waitFor(/^dhtchat — your friend code is dhtchat:[a-z2-7]{58}$/m, 30_000);
    await daemon.waitFor(
      new RegExp(`^cannot reach the DHT: unresolvable\\.invalid: ${CANNOT_RESOLVE}; retrying in 1 s$`, 'm'),
      30_000,
    );
    // Retried, with a longer wait, by itself.
    await daemon.waitFor(/retrying in 2 s$/m, 30_000);
    assert.doesNotMatch(daemon.text(), /[{}]"event"/, 'no JSON on a terminal');
    assert.equal(await daemon.stop(), 0);
    assert.match(daemon.text(), /^stopped \(SIGTERM\)$/m);
  });

  test('on a terminal: cannot reach the DHT, then joins a bootstrap node that comes up later, without a restart', async () => {
    const port = await unusedUdpPort();
    const daemon = startOnPty(daemonArgs(dataDir(), `unresolvable.invalid:6881,127.0.0.1:${port}`));
    terminals.push(daemon);
    await dumpingLogs(running, async () => {
      await daemon.waitFor(
        new RegExp(`^cannot resolve unresolvable\\.invalid: ${CANNOT_RESOLVE}$`, 'm'),
        30_000,
      );
      await daemon.waitFor(
        /^cannot reach the DHT: no DHT node answered \(asked 1 bootstrap address\); retrying in \d+ s$/m,
        30_000,
      );
      assert.doesNotMatch(daemon.text(), /on the DHT/);
      await startTestnet(port);
      const [, nodes] = await daemon.waitFor(/^on the DHT: (\d+) nodes?$/m, JOIN_BOUND_MS);
      assert.ok(Number(nodes) > 0, `joined with ${nodes} nodes`);
      assert.equal(daemon.child.exitCode, null, 'the same daemon, still running');
      assert.equal(daemon.text().match(/^dhtchat — /gm)?.length, 1, 'started once');
    });
  });

  test('--json on a terminal: JSON lines, ready first, then the join failures as JSON', async () => {
    const daemon = startOnPty(daemonArgs(dataDir(), 'unresolvable.invalid:6881', '--json'));
    terminals.push(daemon);
    await daemon.waitFor(/"event":"join_failed"/, 30_000);
    const lines = daemon.text().trim().split('\n');
    const ready = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(ready['event'], 'ready');
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['event'] === 'join_failed');
    assert.match(String(failed?.['reason']), new RegExp(`^unresolvable\\.invalid: ${CANNOT_RESOLVE}$`));
    assert.equal(failed?.['retryInMs'], 1000);
  });
});

describe('a daemon started with no reachable DHT, stdout not a terminal', () => {
  test('logs JSON lines (ready first), join_failed with the retry delay, then rejoined once a bootstrap node is up', async () => {
    const port = await unusedUdpPort();
    const daemon = startJsonLines(daemonArgs(dataDir(), `unresolvable.invalid:6881,127.0.0.1:${port}`));
    running.push(daemon);
    await dumpingLogs(running, async () => {
      const failed = await daemon.waitFor((l) => l['event'] === 'join_failed', 30_000);
      assert.equal(daemon.lines[0]?.['event'], 'ready');
      assert.equal(failed['reason'], 'no DHT node answered (asked 1 bootstrap address)');
      assert.equal(typeof failed['retryInMs'], 'number');
      const unresolved = daemon.lines.find((l) => l['event'] === 'resolve_failed');
      assert.equal(unresolved?.['host'], 'unresolvable.invalid');
      const bootstrapped = await daemon.waitFor((l) => l['event'] === 'bootstrapped', 30_000);
      assert.equal(bootstrapped['nodes'], 0);
      await startTestnet(port);
      const rejoined = await daemon.waitFor((l) => l['event'] === 'rejoined', JOIN_BOUND_MS);
      assert.ok(Number(rejoined['nodes']) > 0, JSON.stringify(rejoined));
      assert.ok(
        daemon.lines.every((l) => l['unparsed'] === undefined),
        'every line is JSON',
      );
    });
  });
});
