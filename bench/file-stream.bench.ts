/**
 * Issue 15 (files): what the file layer costs on top of the stream it runs on, in one process (both ends), so
 * that the figure is the layer's and not the neighbours': the same number of MiB through
 *   noise        a SecureStream over uTP on loopback UDP, 64 KiB writes (the floor: what any file layer pays);
 *   files-memory a PieceServer → Download over the same kind of stream (file channel), both on in-memory disks:
 *                the file frames, requests, hashing every piece, the bookkeeping;
 *   files-disk   the same on the real disk (node:fs): reads, pwrites, fsync-and-bitfield checkpoints.
 * Rounds alternate the three so load swings hit them alike; reported: MiB/s and CPU ms per MiB (process.cpuUsage,
 * sender + receiver, thread-pool work for the disk included), median over rounds, and the ratios.
 *
 * Run: node --import tsx bench/file-stream.bench.ts [--mib 128] [--rounds 3] [--only noise|files-memory|files-disk]
 * (--only with node --cpu-prof profiles one phase.)
 * Prints a table and then one JSON object. Each phase is bounded (60 s).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Download } from '../src/chat/files/download.ts';
import { MAX_FILE_FRAME_BYTES, MAX_REQUEST_FRAME_BYTES } from '../src/chat/files/file-frames.ts';
import { layoutFor, pieceLength, pieceOffset } from '../src/chat/files/file-layout.ts';
import { FileStream } from '../src/chat/files/file-stream.ts';
import type { FileSystem } from '../src/chat/files/file-system.ts';
import { fileRoot, pieceHash } from '../src/chat/files/hash-tree.ts';
import { nodeFileSystem } from '../src/chat/files/node-file-system.ts';
import { PieceServer } from '../src/chat/files/piece-server.ts';
import { SourceLink } from '../src/chat/files/source-link.ts';
import { identityFromSeed } from '../src/chat/identity.ts';
import { ChatStore } from '../src/chat/store/chat-store.ts';
import { SecureStream, UtpEndpoint, UtpStream } from '../src/net/index.ts';
import { cryptoRandom, nullLogger, systemClock, UdpTransport } from '../src/runtime/index.ts';
import { MemoryFileSystem } from '../test/chat/files/memory-file-system.ts';
import { intOption, stringOption, summarize } from './chat-bench-stats.ts';

const MIB = 1024 * 1024;
const totalMib = intOption('mib', 128);
const rounds = intOption('rounds', 3);
const only = stringOption('only');
const PHASE_LIMIT_MS = 60_000;
const receiver = identityFromSeed(Buffer.alloc(32, 1));
const sender = identityFromSeed(Buffer.alloc(32, 2));
const dir = mkdtempSync(join(tmpdir(), 'dhtchat-file-stream-bench-'));
const content = Buffer.alloc(totalMib * MIB);
for (let i = 0; i < content.length; i += 4096) content.writeUInt32BE(i, i);
const layout = layoutFor(content.length);
const hashes = Buffer.concat(
  Array.from({ length: layout.pieceCount }, (_, i) =>
    pieceHash(content.subarray(pieceOffset(layout, i), pieceOffset(layout, i) + pieceLength(layout, i))),
  ),
);
const root = fileRoot(layout, hashes);
writeFileSync(join(dir, 'source.bin'), content);

interface Sample {
  mibPerSecond: number;
  cpuMsPerMib: number;
}

/** A connected secure stream pair over a fresh uTP connection on loopback (channel 1, as file streams are). */
async function securePair(): Promise<{ client: SecureStream; server: SecureStream; close: () => void }> {
  const [a, b] = await Promise.all([
    UdpTransport.bind({ host: '127.0.0.1' }),
    UdpTransport.bind({ host: '127.0.0.1' }),
  ]);
  const clientEndpoint = new UtpEndpoint({ transport: a, clock: systemClock, random: cryptoRandom });
  const serverEndpoint = new UtpEndpoint({ transport: b, clock: systemClock, random: cryptoRandom });
  const accepted = new Promise<UtpStream>((resolve) =>
    serverEndpoint.listen((socket) => resolve(new UtpStream(socket))),
  );
  const client = new SecureStream(new UtpStream(clientEndpoint.connect(serverEndpoint.localAddress())), {
    isInitiator: true,
    identity: receiver.signing,
    remoteIdentityPublicKey: sender.publicKey,
    channel: 1,
  });
  const server = new SecureStream(await accepted, { isInitiator: false, identity: sender.signing });
  client.on('error', () => {});
  server.on('error', () => {});
  await Promise.all([client.handshake, server.handshake]);
  const close = (): void => {
    clientEndpoint.close();
    serverEndpoint.close();
  };
  return { client, server, close };
}

async function measure(run: () => Promise<void>): Promise<Sample> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const watchdog = setTimeout(() => {
    console.error(`a phase stalled after ${PHASE_LIMIT_MS} ms`);
    process.exit(2);
  }, PHASE_LIMIT_MS);
  await run();
  clearTimeout(watchdog);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { mibPerSecond: totalMib / seconds, cpuMsPerMib: (cpu.user + cpu.system) / 1000 / totalMib };
}

async function noise(): Promise<Sample> {
  const pair = await securePair();
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let received = 0;
  const finished = new Promise<void>((resolve) =>
    pair.server.on('data', (c: Buffer) => {
      received += c.length;
      if (received >= content.length) resolve();
    }),
  );
  // The receiver of the file is the dialler; here the bytes flow the same way as pieces do: server → client.
  const sample = await measure(async () => {
    for (let sent = 0; sent < content.length; sent += chunk.length) {
      if (!pair.client.write(chunk)) await once(pair.client, 'drain');
    }
    await finished;
  });
  pair.close();
  return sample;
}

let round = 0;
async function files(fs: FileSystem, sourcePath: string, downloadsDir: string): Promise<Sample> {
  const pair = await securePair();
  const transferId = Buffer.alloc(16, ++round);
  const modifiedMs = (await fs.stat(sourcePath))?.modifiedMs as number;
  const ctx = {
    identity: sender,
    clock: systemClock,
    random: cryptoRandom,
    logger: nullLogger,
    handshakeTimeoutMs: 5000,
  };
  new PieceServer(
    FileStream.accepted(
      ctx,
      pair.server,
      receiver.publicKey,
      { host: '127.0.0.1', port: 1 },
      MAX_REQUEST_FRAME_BYTES,
    ),
    {
      fs,
      clock: systemClock,
      logger: nullLogger,
      events: {
        resolve: () => ({ ok: true, layout, root, hashes, path: sourcePath, modifiedMs }),
        onOpened: () => {},
        onSent: () => {},
        onDone: () => {},
        onUnavailable: () => {},
        onMissing: () => {},
        onClose: () => {},
      },
    },
  );
  const store = ChatStore.open({
    path: join(dir, `store-${round}.sqlite`),
    ownPublicKey: receiver.publicKey,
    clock: systemClock,
    random: cryptoRandom,
  });
  const row = store.files.insert({
    id: transferId,
    peer: sender.publicKey,
    direction: 'incoming',
    name: `r${round}.bin`,
    sizeBytes: layout.sizeBytes,
    pieceBytes: layout.pieceBytes,
    root,
    state: 'offered',
  });
  const accepted = store.files.setAccepted(row.localId, {
    dir: downloadsDir,
    partPath: join(downloadsDir, `r${round}.bin.part`),
  });
  let done: () => void = () => {};
  const complete = new Promise<void>((resolve) => (done = resolve));
  const sample = await measure(async () => {
    const download = await Download.open({
      transfer: accepted,
      fs,
      rows: store.files,
      clock: systemClock,
      logger: nullLogger,
      events: {
        onProgress: () => {},
        onComplete: () => done(),
        onFailed: (r, d) => console.error('failed', r, d),
        onSourceClosed: () => {},
      },
    });
    download.attach(
      new SourceLink(
        FileStream.accepted(
          { ...ctx, identity: receiver },
          pair.client,
          sender.publicKey,
          { host: '127.0.0.1', port: 2 },
          MAX_FILE_FRAME_BYTES,
        ),
        transferId,
      ),
    );
    await complete;
  });
  store.close();
  pair.close();
  await fs.remove(join(downloadsDir, `r${round}.bin`));
  return sample;
}

const memory = new MemoryFileSystem();
memory.put('/src/source.bin', content);
await memory.makeDirectory('/dl');
const load0 = loadavg();
await noise(); // warm-up: JIT, socket buffers
const samples: Record<string, Sample[]> = { noise: [], 'files-memory': [], 'files-disk': [] };
for (let r = 0; r < rounds; r++) {
  const isRun = (name: string): boolean => only === undefined || only === name;
  if (isRun('noise')) samples['noise']?.push(await noise());
  if (isRun('files-memory')) samples['files-memory']?.push(await files(memory, '/src/source.bin', '/dl'));
  if (isRun('files-disk'))
    samples['files-disk']?.push(await files(nodeFileSystem, join(dir, 'source.bin'), dir));
  console.error(`round ${r + 1} of ${rounds} done`);
}
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]): number => Math.round(summarize(xs).p50 * 10) / 10;
const result: Record<string, unknown> = {
  bench: 'file-stream',
  date: new Date().toISOString(),
  node: process.version,
  mib: totalMib,
  rounds,
  loadAverage: [load0, loadavg()],
};
console.log('| phase | MiB/s (median) | CPU ms/MiB (median) | CPU vs noise |\n| --- | --- | --- | --- |');
const noiseCpu = median((samples['noise'] ?? []).map((s) => s.cpuMsPerMib));
for (const [name, list] of Object.entries(samples)) {
  const rate = median(list.map((s) => s.mibPerSecond));
  const cpu = median(list.map((s) => s.cpuMsPerMib));
  result[name] = {
    mibPerSecond: rate,
    cpuMsPerMib: cpu,
    samples: list.map((s) => [Math.round(s.mibPerSecond), Math.round(s.cpuMsPerMib * 100) / 100]),
  };
  console.log(`| ${name} | ${rate} | ${cpu} | ${Math.round((cpu / noiseCpu) * 100) / 100} |`);
}
console.log(JSON.stringify(result));
process.exit(0);
