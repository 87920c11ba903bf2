/**
 * Adversarial tier, issue 11 §4: a stranger abuses a real `dhtchat relay` process while two friends run a Noise
 * session through it.
 *
 *   127.1.0.1 (Alice) ─┐                                 ┌─ 127.66.0.1..40 (Mallory: halves, one /24)
 *   127.2.0.1 (Bob)   ─┼── uTP ──> relay 127.0.0.1:<port> ┼─ 127.68.0.1 + 127.67.0.1 (Mallory's own pair,
 *                      │                                 │   pushing bytes as fast as uTP takes them)
 *
 * - Halves: Mallory joins 30 times from one host, then 3 times from each of 40 hosts of one /24. The relay keeps
 *   at most 8 from the host and 32 from the subnet waiting (the rest are refused), whatever she sends.
 * - Bytes: Mallory's pair is held to the per-pair rate (256 KiB/s per direction, 512 KiB burst).
 * - Meanwhile Alice and Bob, matched on their token, echo messages with a round trip under ROUND_TRIP_BOUND_MS.
 * Every loop is bounded in count and time, and every socket is closed at the end.
 */
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { after, test } from 'node:test';
import { ed25519FromSeed } from '../../src/crypto/index.ts';
import { encodeRelayFrame, joinRelay, SecureStream, UtpEndpoint, UtpStream } from '../../src/net/index.ts';
import { cryptoRandom, systemClock, UdpTransport } from '../../src/runtime/index.ts';
import { type JsonLinesProcess, startJsonLines, stopAll } from '../e2e/chat-processes.ts';

const ROUND_TRIP_BOUND_MS = 1500;
const PAIR_BYTES_PER_SEC = 256 * 1024;
const PAIR_BURST_BYTES = 512 * 1024;
const PUSH_MS = 4000;
const running: JsonLinesProcess[] = [];
const endpoints: UtpEndpoint[] = [];
after(async () => {
  for (const e of endpoints.splice(0)) e.close();
  await stopAll(running);
});

async function endpointAt(host: string): Promise<UtpEndpoint> {
  const transport = await UdpTransport.bind({ host, port: 0 });
  const utp = new UtpEndpoint({ transport, clock: systemClock, random: cryptoRandom });
  endpoints.push(utp);
  return utp;
}

interface Half {
  /** The relay's first answer: waiting, refused:<reason>, or what happened instead. */
  readonly answer: string;
  /** The relay still holds the stream (a half evicted by uTP admission or refused is closed). */
  isHeld(): boolean;
}

/** Opens a half from utp with a fresh token; resolves with the relay's first answer. */
function rawHalf(utp: UtpEndpoint, relay: { host: string; port: number }): Promise<Half> {
  return new Promise((resolve) => {
    let stream: UtpStream;
    try {
      stream = new UtpStream(utp.connect(relay), { allowHalfOpen: true });
    } catch {
      resolve({ answer: 'no-slot', isHeld: () => false });
      return;
    }
    let isOpen = true;
    const half = (answer: string): Half => ({ answer, isHeld: () => isOpen && answer === 'waiting' });
    const timer = setTimeout(() => resolve(half('none')), 5000);
    stream.on('error', () => {});
    stream.on('end', () => {
      isOpen = false;
    });
    stream.on('close', () => {
      isOpen = false;
      resolve(half('closed'));
    });
    stream.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(half(chunk[2] === 0x57 ? 'waiting' : chunk[2] === 0x58 ? `refused:${chunk[3]}` : 'other'));
    });
    stream.write(encodeRelayFrame({ type: 'join', join: { role: 0, tokens: [cryptoRandom.bytes(32)] } }));
  });
}

async function echoRoundTrips(a: Duplex, b: Duplex, count: number): Promise<number[]> {
  b.on('data', (chunk: Buffer) => b.write(chunk));
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const startMs = Date.now();
    const echoed = new Promise<void>((resolve) => a.once('data', () => resolve()));
    a.write(`ping ${i}`);
    await echoed;
    times.push(Date.now() - startMs);
  }
  return times;
}

test('relay abuse: halves capped per host and subnet, a pair held to its rate, friends unaffected', {
  timeout: 120_000,
}, async (t) => {
  const relayProc = startJsonLines([
    'relay',
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--bootstrap',
    '127.0.0.1:9',
  ]);
  running.push(relayProc);
  const listening = await relayProc.waitFor((l) => l['event'] === 'listening', 20_000);
  const relay = { host: '127.0.0.1', port: listening['port'] as number };

  // The friends meet first and set up their end-to-end session.
  const alice = ed25519FromSeed(Buffer.alloc(32, 0xa1));
  const bob = ed25519FromSeed(Buffer.alloc(32, 0xb0));
  const token = cryptoRandom.bytes(32);
  const [aliceUtp, bobUtp] = await Promise.all([endpointAt('127.1.0.1'), endpointAt('127.2.0.1')]);
  const [streamA, streamB] = await Promise.all([
    joinRelay({ utp: aliceUtp, relay, join: { role: 0, tokens: [token] }, clock: systemClock }).matched,
    joinRelay({ utp: bobUtp, relay, join: { role: 1, tokens: [token] }, clock: systemClock }).matched,
  ]);
  const secureA = new SecureStream(streamA, {
    isInitiator: true,
    identity: alice,
    remoteIdentityPublicKey: bob.publicKey,
  });
  const secureB = new SecureStream(streamB, { isInitiator: false, identity: bob });
  streamA.resume();
  streamB.resume();
  await Promise.all([secureA.handshake, secureB.handshake]);
  const quiet = await echoRoundTrips(secureA, secureB, 5);

  // Halves from one host, then from many hosts of one /24.
  const oneHost = await endpointAt('127.66.0.1');
  const fromHost = await Promise.all(Array.from({ length: 30 }, () => rawHalf(oneHost, relay)));
  await new Promise((r) => setTimeout(r, 300));
  const heldFromHost = fromHost.filter((h) => h.isHeld()).length;
  assert.ok(heldFromHost <= 8, `one host holds ${heldFromHost} halves`);
  const answers = fromHost.map((h) => h.answer);
  assert.ok(answers.includes('refused:2'), `one host is refused (source limit): ${answers.join(',')}`);
  const subnet = await Promise.all(Array.from({ length: 40 }, (_, i) => endpointAt(`127.66.0.${i + 2}`)));
  const fromSubnet = (
    await Promise.all(subnet.flatMap((utp) => [0, 1, 2].map(() => rawHalf(utp, relay))))
  ).concat(fromHost);
  await new Promise((r) => setTimeout(r, 300));
  const heldFromSubnet = fromSubnet.filter((h) => h.isHeld()).length;
  assert.ok(heldFromSubnet <= 32, `the /24 holds ${heldFromSubnet} halves`);
  assert.ok(heldFromSubnet >= 8, `the /24 does get its share: ${heldFromSubnet}`);

  // Mallory's own pair pushes bytes as fast as it can, while the friends keep talking.
  const [m1, m2] = await Promise.all([endpointAt('127.68.0.1'), endpointAt('127.67.0.1')]);
  const mToken = cryptoRandom.bytes(32);
  const [pushSide, sinkSide] = await Promise.all([
    joinRelay({ utp: m1, relay, join: { role: 0, tokens: [mToken] }, clock: systemClock }).matched,
    joinRelay({ utp: m2, relay, join: { role: 1, tokens: [mToken] }, clock: systemClock }).matched,
  ]);
  let sunk = 0;
  sinkSide.on('data', (chunk: Buffer) => {
    sunk += chunk.length;
  });
  sinkSide.on('error', () => {});
  pushSide.on('error', () => {});
  sinkSide.resume();
  const pushStartMs = Date.now();
  const chunk = Buffer.alloc(64 * 1024, 0x6d);
  let isPushing = true;
  const push = (): void => {
    while (isPushing && Date.now() - pushStartMs < PUSH_MS && pushSide.write(chunk));
    if (isPushing && Date.now() - pushStartMs < PUSH_MS) pushSide.once('drain', push);
  };
  push();
  const underAttack = await echoRoundTrips(secureA, secureB, 10);
  await new Promise((r) => setTimeout(r, Math.max(0, PUSH_MS - (Date.now() - pushStartMs))));
  isPushing = false;
  const pushedMs = Date.now() - pushStartMs;
  const allowed = (PAIR_BYTES_PER_SEC * pushedMs) / 1000 + PAIR_BURST_BYTES;
  assert.ok(sunk > 0, 'the pair did move bytes');
  assert.ok(
    sunk <= allowed * 1.1,
    `Mallory's pair moved ${sunk} bytes in ${pushedMs} ms (allowed ${Math.round(allowed)})`,
  );
  const worst = Math.max(...underAttack);
  assert.ok(
    worst < ROUND_TRIP_BOUND_MS,
    `friends' round trips under attack: ${underAttack.join(', ')} ms (quiet: ${quiet.join(', ')})`,
  );

  t.diagnostic(
    `held: ${heldFromHost} from one host, ${heldFromSubnet} from the /24; Mallory's pair ${sunk} bytes in ` +
      `${pushedMs} ms; friends' round trips quiet ${quiet.join('/')} ms, under attack ${underAttack.join('/')} ms`,
  );
  pushSide.destroy();
  sinkSide.destroy();
  secureA.destroy();
  secureB.destroy();
  assert.equal(await relayProc.stop('SIGTERM'), 0);
  const closed = relayProc.lines.find((l) => l['event'] === 'closed') as
    | { refused: Record<string, number> }
    | undefined;
  assert.ok(closed !== undefined);
  assert.ok((closed.refused['sourceLimit'] ?? 0) > 0, JSON.stringify(closed));
});
