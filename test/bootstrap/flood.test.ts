/**
 * Flood: `dhtchat bootstrap` under far more find_node queries than it can answer, for 30 s, from 64 source
 * ports on 16 source IPs (127.0.0.2 - 127.0.0.17), most of them with ids that are not BEP 42-valid. The server
 * must stay up, keep its RSS bounded, and answer a normal client right afterwards.
 *
 * The offered rate is 200,000 queries/s from the C generator of ../shared/tools/dht-load (built with cc into a
 * temp dir), about 10× what one worker sustains on a 2-vCPU VM (docs/BENCHMARKS.md); without cc, a Node
 * generator offers what it can (~100k/s). The rate reached is printed.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { nodeIdForHost } from '../../src/dht/index.ts';
import { cryptoRandom } from '../../src/runtime/index.ts';
import { LoopbackClient, type ServerProcess, sleep, startServer } from './loopback-client.ts';
import { nodeAddresses } from './server-harness.ts';

const FLOOD_SECONDS = 30;
const OFFERED_PER_S = 200_000;
const RSS_LIMIT_MB = 400;
const BLAST_SOURCE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'shared',
  'tools',
  'dht-load',
  'udp-blast.c',
);

let server: ServerProcess | undefined;
after(async () => {
  await server?.stop();
});

test(`bootstrap server survives a ${FLOOD_SECONDS} s flood`, { timeout: 90_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dhtchat-flood-'));
  server = await startServer([
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--workers',
    '1',
    '--allow-private',
    '--data-dir',
    dataDir,
    '--nodes',
    '200000',
    '--ping-queue',
    '100000',
    '--ping-delay',
    '2s',
    '--stats-interval',
    '1h',
  ]);
  const pid = server.child.pid!;
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(rssMb(pid)), 500);
  const blast = buildBlast();
  const started = Date.now();
  let rateNote: string;
  if (blast !== undefined) {
    const out = await run(blast, [
      '-t',
      '127.0.0.1',
      '-p',
      String(server.address.port),
      '-q',
      'find_node',
      '-n',
      '64',
      '-i',
      '127.0.0.2',
      '-k',
      '16',
      '-R',
      String(OFFERED_PER_S),
      '-s',
      String(FLOOD_SECONDS),
      '-g',
      '200',
    ]);
    rateNote = out.trim().split('\n').at(-1)!;
  } else {
    rateNote = `node generator: ${(await nodeFlood(server.address.port, FLOOD_SECONDS)).toFixed(0)} queries/s`;
  }
  clearInterval(sampler);
  console.log(
    `flood: ${rateNote}; ${((Date.now() - started) / 1000).toFixed(1)} s; max RSS ${Math.max(...rssSamples).toFixed(0)} MB`,
  );

  assert.equal(server.child.exitCode, null, 'still running');
  assert.ok(Math.max(...rssSamples) < RSS_LIMIT_MB, `RSS stayed under ${RSS_LIMIT_MB} MB`);
  // Serves normally afterwards: a fresh client is answered promptly, with the requester's address.
  await sleep(300);
  const client = await LoopbackClient.open({ id: nodeIdForHost('127.0.0.1', cryptoRandom), pong: 'silent' });
  try {
    const reply = await client.query(server.address, 'find_node', {}, 2000);
    assert.ok(reply, 'answered after the flood');
    assert.deepEqual(reply['ip'], Buffer.from([127, 0, 0, 1, client.port >> 8, client.port & 0xff]));
    assert.ok(
      nodeAddresses(reply).every((a) => !a.startsWith('127.0.0.') || a.startsWith('127.0.0.1:')),
      'flooders with invalid ids are not handed out',
    );
  } finally {
    client.close();
  }
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)/.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

function buildBlast(): string | undefined {
  if (!existsSync(BLAST_SOURCE)) return undefined;
  const out = join(mkdtempSync(join(tmpdir(), 'dhtchat-blast-')), 'udp-blast');
  try {
    execFileSync('cc', ['-O2', '-o', out, BLAST_SOURCE], { stdio: 'ignore' });
    return out;
  } catch {
    return undefined;
  }
}

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
}

/** Fallback generator: as many find_node queries as one Node loop can send; returns the rate reached. */
async function nodeFlood(port: number, seconds: number): Promise<number> {
  const sockets = await Promise.all(
    Array.from({ length: 64 }, (_, i) => {
      const s = dgram.createSocket('udp4');
      s.on('error', () => {});
      s.on('message', () => {});
      return new Promise<dgram.Socket>((resolve) => s.bind(0, `127.0.0.${2 + (i % 16)}`, () => resolve(s)));
    }),
  );
  const query = Buffer.from(
    'd1:ad2:id20:XXXXXXXXXXXXXXXXXXXX6:target20:YYYYYYYYYYYYYYYYYYYYe1:q9:find_node1:t4:TTTT1:y1:qe',
  );
  const endMs = Date.now() + seconds * 1000;
  let sent = 0;
  while (Date.now() < endMs) {
    for (let k = 0; k < 512; k++) sockets[(sent + k) % sockets.length]!.send(query, port, '127.0.0.1');
    sent += 512;
    await new Promise((r) => setImmediate(r));
  }
  for (const s of sockets) s.close();
  return sent / seconds;
}
